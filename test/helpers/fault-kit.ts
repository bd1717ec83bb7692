/**
 * Shared pieces of the fault suite (test/integration/fault-*.test.ts): an SSH session a test can
 * hook into at an exact command, a job-service "app" on the testbed with a recording tray, lookups
 * of the scheduler by job name (the test's own marker, whatever the code under test does), and a
 * slurmctld restart done the way the testbed does it.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ClusterService } from '../../main/core/cluster/cluster-service.js';
import { SshSession, type ExecOptions, type ExecResult } from '../../main/core/cluster/ssh-session.js';
import type { Core } from '../../main/core/index.js';
import { createJobService, type JobService } from '../../main/core/jobs/index.js';
import { JobsRuntime } from '../../main/core/jobs/jobs-runtime.js';
import { createLogger } from '../../main/core/log/logger.js';
import { systemClock, type Notification } from '../../main/core/ports.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import type { FinalizeResult } from '../../main/core/store/job-store.js';
import type { TestbedInfo } from '../testbed/testbed-info.js';
import { RecordingPrompt, testbedTarget } from '../testbed/ssh-kit.js';
import { testbedCore } from './testbed-core.js';
import { until as waitUntil } from './wait.js';

const execFileAsync = promisify(execFile);

export const FIXTURE_SCRIPTS = path.join(import.meta.dirname, '..', 'fixtures', 'slurm', 'scripts');

export function fixtureScript(name: string): { name: string; content: Buffer } {
  return { name, content: fs.readFileSync(path.join(FIXTURE_SCRIPTS, name)) };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something other than null/undefined/false (every 500 ms by default: faults move fast). */
export function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 500): Promise<T> {
  return waitUntil(what, fn, timeoutMs, everyMs);
}

/**
 * A hook that sees every command before it runs. It may run the command itself (through `run`,
 * the real session's exec, possibly with other argv or options) and return the result, or return
 * undefined to let the command run as usual.
 */
export type ExecHook = (argv: readonly string[], opts: ExecOptions, run: (argv: readonly string[], opts: ExecOptions) => Promise<ExecResult>) => Promise<ExecResult | undefined> | ExecResult | undefined;

/** A real SshSession to the testbed with a seam at exec: the place a fault is injected. */
export class FaultSession extends SshSession {
  hook: ExecHook | null = null;
  readonly programs: string[] = [];

  override async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.programs.push(argv[0] ?? '');
    const hook = this.hook;
    if (hook) {
      const r = await hook(argv, opts, (a, o) => super.exec(a, o));
      if (r !== undefined) return r;
    }
    return super.exec(argv, opts);
  }
}

export function faultSession(tb: TestbedInfo, remoteDir: string): FaultSession {
  return new FaultSession({
    target: testbedTarget(tb, { remoteDir }),
    prompt: new RecordingPrompt(),
    vault: { get: async () => null, save: async () => undefined },
    logger: createLogger({ registry: new SecretRegistry() }),
  });
}

export interface FaultApp {
  core: Core;
  session: FaultSession;
  cluster: ClusterService;
  jobs: JobService;
  rt: JobsRuntime;
  /** Every tray notification the runtime delivered, in order. */
  notes: Notification[];
  /** Notifications for one job. */
  notesFor(jobKey: string): Notification[];
  close(): Promise<void>;
}

/**
 * A job service and runtime (events stream, dispatcher with a recording tray, no poll timer: tests
 * tick themselves) over a FaultSession, with the store and settings of a core of its own.
 */
export async function faultApp(tb: TestbedInfo, remoteDir: string, opts: { start?: boolean } = {}): Promise<FaultApp> {
  const core = testbedCore(tb, { settings: { 'cluster.remoteDir': remoteDir, 'cluster.pollSeconds': 30 } });
  const session = faultSession(tb, remoteDir);
  const cluster = new ClusterService(session, { remoteDir });
  const jobs = createJobService({ db: core.db(), cluster: () => cluster, settings: () => core.settings.settings(), logger: core.logger });
  const notes: Notification[] = [];
  const rt = new JobsRuntime({
    jobs, session: () => session, channels: { tray: { notify: async (n) => { notes.push(n); } } }, settings: () => core.settings.settings(), clock: systemClock,
    logger: core.logger, pollMs: 3_600_000,
  });
  if (opts.start !== false) {
    await rt.start();
    await rt.watcher.ready;
  }
  return {
    core, session, cluster, jobs, rt, notes,
    notesFor: (k) => notes.filter((n) => n.id.startsWith(`hpc-relay:job:${k}:`)),
    async close() {
      await rt.stop().catch(() => undefined);
      session.close();
      await core.close();
    },
  };
}

/**
 * Resolves when the job is final in the store (whoever noticed it); with `tickEveryMs` the test
 * plays the poll timer by calling the runtime's tick directly.
 */
export function finalIn(app: Pick<FaultApp, 'jobs' | 'rt'>, key: string, timeoutMs: number, tickEveryMs?: number): Promise<FinalizeResult | null> {
  const { jobs, rt } = app;
  return new Promise((resolve, reject) => {
    if (jobs.store.get(key)?.final) return resolve(null);
    const ticker = tickEveryMs ? setInterval(() => { void rt.tickNow(); }, tickEveryMs) : undefined;
    const done = () => { clearTimeout(timer); clearInterval(ticker); jobs.tracker.off('final', on); };
    const timer = setTimeout(() => { done(); reject(new Error(`job ${key} did not end within ${timeoutMs / 1000} s (state ${jobs.store.get(key)?.state})`)); }, timeoutMs);
    const on = (r: FinalizeResult) => {
      if (r.job.jobKey !== key) return;
      done();
      resolve(r);
    };
    jobs.tracker.on('final', on);
    // It may have become final between the check above and the listener.
    if (jobs.store.get(key)?.final) { done(); resolve(null); }
  });
}

/** A plain SshSession (no hooks) for looking at the cluster from outside the code under test. */
export function probeCluster(tb: TestbedInfo): ClusterService {
  return new ClusterService(new SshSession({
    target: testbedTarget(tb),
    prompt: new RecordingPrompt(),
    vault: { get: async () => null, save: async () => undefined },
    logger: createLogger({ registry: new SecretRegistry() }),
  }));
}

/**
 * Every SLURM job id (base ids, arrays folded) whose job name is `name`, from the controller's
 * queue (all states, so jobs that ended within MinJobAge count) and from accounting: the test's
 * own marker, independent of how the code under test tags its jobs.
 */
export async function jobIdsNamed(probe: ClusterService, name: string): Promise<string[]> {
  const q = await probe.run(['squeue', '--me', '-t', 'all', '-h', '-n', name, '-o', '%F'], { timeoutMs: 30_000, idempotent: true });
  const a = await probe.run(['sacct', '-X', '-n', '-P', '-S', 'now-6hours', '--name', name, '-o', 'JobID'], { timeoutMs: 30_000, idempotent: true });
  const ids = [...q.split('\n'), ...a.split('\n')].map((l) => l.trim().split('_')[0] ?? '').filter((l) => /^\d+$/.test(l));
  return [...new Set(ids)].sort();
}

/** sacct's State of one job (empty while accounting does not know it yet). */
export async function sacctState(probe: ClusterService, jobId: string): Promise<string> {
  const out = await probe.run(['sacct', '-X', '-n', '-P', '-o', 'State', '-j', jobId], { timeoutMs: 30_000, idempotent: true });
  return out.trim().split('\n')[0]?.trim() ?? '';
}

const TESTBED_DIR = process.env['HPC_RELAY_TESTBED_DIR'] ?? '/var/tmp/hpc-relay-testbed';

/** slurmctld's pid from the testbed's pid file (null when it is not running). */
export function slurmctldPid(): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(TESTBED_DIR, 'run', 'slurmctld.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/** Whether this process may kill and start the testbed's daemons (root, as `sudo up.sh` runs). */
export function canRestartSlurm(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0 && slurmctldPid() !== null;
}

/**
 * Stops slurmctld with `signal` and waits until it is gone. SIGTERM is a restart as an admin does
 * it (the controller saves its state on the way out). SIGKILL is a crash: it loses the state
 * changes since the last save, and on this single-node testbed a job started just before then
 * runs twice ("Duplicate jobid", node drained) — SLURM's behaviour, harmful to the shared testbed.
 */
export async function stopSlurmctld(signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const pid = slurmctldPid();
  if (pid === null) throw new Error('slurmctld is not running (no live pid in the testbed pid file)');
  process.kill(pid, signal);
  await until('slurmctld to exit', () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 15_000, 100);
  return pid;
}

/**
 * Starts slurmctld exactly as test/testbed/up.sh's ensure_slurmctld does (`setsid
 * /usr/sbin/slurmctld`, stdio to the testbed's log, no -c: it recovers its saved state) and waits
 * for `scontrol ping` to say UP. Not up.sh itself: it serialises on the testbed's lock, which a
 * concurrent run's up.sh may hold for minutes while it waits on the very controller that is down.
 */
export async function startSlurmctld(timeoutMs = 60_000): Promise<void> {
  const log = fs.openSync(path.join(TESTBED_DIR, 'log', 'slurmctld.stdout'), 'a');
  try {
    const child = spawn('setsid', ['/usr/sbin/slurmctld'], { stdio: ['ignore', log, log] });
    const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('exit', (c) => resolve(c)); });
    if (code !== 0) throw new Error(`setsid /usr/sbin/slurmctld exited ${code} (see ${TESTBED_DIR}/log/slurmctld.log)`);
  } finally {
    fs.closeSync(log);
  }
  await until('slurmctld to answer scontrol ping', async () => {
    const r = await execFileAsync('scontrol', ['ping'], { timeout: 15_000 }).catch(() => ({ stdout: '' }));
    return /\bUP\b/.test(r.stdout);
  }, timeoutMs, 500);
}

/**
 * The reason the testbed's node is drained, or null when it is not. A drain matching `resume`
 * (what SLURM itself does after a controller restart, e.g. "Duplicate jobid") is undone at once:
 * the testbed is shared.
 */
export async function drainedNode(node: string, resume: RegExp = /Duplicate jobid/): Promise<string | null> {
  const { stdout } = await execFileAsync('sinfo', ['-h', '-n', node, '-o', '%T|%E'], { timeout: 30_000 });
  const [state = '', reason = ''] = stdout.trim().split('\n')[0]?.split('|') ?? [];
  if (!/^drain/.test(state)) return null;
  if (resume.test(reason)) await execFileAsync('scontrol', ['update', `NodeName=${node}`, 'State=RESUME'], { timeout: 30_000 });
  return reason || state;
}

/** A unique tag for this run, for job names and remote directories. */
export function runTag(label: string): string {
  return `fault-${label}-${process.pid}-${Date.now().toString(36)}`;
}

/** Removes `$HOME/hpc-relay-it/<tag>` on the cluster (best effort): where a run's remote directories live. */
export async function removeRemoteRun(tb: TestbedInfo, tag: string): Promise<void> {
  if (!/^fault-[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`not a fault run tag: ${tag}`);
  const probe = probeCluster(tb);
  try {
    await probe.exec(['sh', '-c', 'rm -rf -- "$HOME/hpc-relay-it/$1"', 'sh', tag], { timeoutMs: 60_000 });
  } catch {
    // best effort
  } finally {
    probe.close();
  }
}
