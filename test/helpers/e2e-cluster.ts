/**
 * The job side of the relay on the testbed with a cluster the test can bend: every remote command
 * goes to the real testbed over the core's one SSH session, except the ones a rule answers (a
 * cluster whose sacct says accounting is off, a controller that forgot a job). Every command is
 * recorded by program, so tests can count what a tick sent.
 */
import { ClusterService } from '../../main/core/cluster/cluster-service.js';
import type { ExecOptions, ExecResult } from '../../main/core/cluster/ssh-session.js';
import type { Core } from '../../main/core/index.js';
import { createJobService, type JobService } from '../../main/core/jobs/index.js';
import { JobsRuntime, type JobsRuntimeDeps } from '../../main/core/jobs/jobs-runtime.js';
import { systemClock, type Notification } from '../../main/core/ports.js';
import type { FinalizeResult } from '../../main/core/store/job-store.js';
import type { TestbedInfo } from '../testbed/testbed-info.js';
import { testbedCore } from './testbed-core.js';

/** Answers a command instead of the cluster (undefined: let the cluster answer). */
export type Rule = (argv: readonly string[]) => ExecResult | undefined;

export class BendableCluster extends ClusterService {
  /** argv of every command, in order (answered by a rule or not). */
  readonly commands: string[][] = [];
  readonly rules: Rule[] = [];

  private answer(argv: readonly string[]): ExecResult | undefined {
    this.commands.push([...argv]);
    for (const rule of this.rules) {
      const r = rule(argv);
      if (r) return r;
    }
    return undefined;
  }

  override exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    const r = this.answer(argv);
    return r ? Promise.resolve(r) : super.exec(argv, opts);
  }

  override async run(argv: readonly string[], opts?: ExecOptions): Promise<string> {
    const r = this.answer(argv);
    if (!r) return super.run(argv, opts);
    // As ClusterService.run reports a failure (the program's own stderr in the message).
    if (r.code !== 0) throw new Error(`\`${argv[0]}\` failed on the cluster (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}.`);
    return r.stdout;
  }

  /** Programs since `from` (an index into commands), by name: `{ squeue: 1, sh: 1 }`. */
  count(from = 0): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.commands.slice(from)) out[c[0] ?? ''] = (out[c[0] ?? ''] ?? 0) + 1;
    return out;
  }
}

/** sacct as on a cluster with AccountingStorageType=accounting_storage/none. */
export const accountingOff: Rule = (argv) => (argv[0] === 'sacct' ? { stdout: '', stderr: 'sacct: error: Slurm accounting storage is disabled\n', code: 1, signal: null, truncated: false } : undefined);

export interface JobsApp {
  core: Core;
  cluster: BendableCluster;
  jobs: JobService;
  rt: JobsRuntime;
  notes: Notification[];
  stop(): Promise<void>;
}

/**
 * A core with its own remote dir and store, a job service over a BendableCluster and the jobs
 * runtime running (events stream, dispatcher with a recording tray); no poll tick unless the test
 * calls rt.tickNow().
 */
export async function startJobsApp(tb: TestbedInfo, remoteDir: string, rules: Rule[] = [], runtime: Pick<JobsRuntimeDeps, 'watcher'> = {}): Promise<JobsApp> {
  const core = testbedCore(tb, { settings: { 'cluster.remoteDir': remoteDir } });
  const base = core.cluster();
  const cluster = new BendableCluster(base.ssh, { remoteDir: base.ssh.target.remoteDir });
  cluster.rules.push(...rules);
  const jobs = createJobService({ db: core.db(), cluster: () => cluster, settings: () => core.settings.settings(), logger: core.logger });
  const notes: Notification[] = [];
  const rt = new JobsRuntime({
    jobs, session: () => cluster.ssh, channels: { tray: { notify: async (n) => { notes.push(n); } } }, settings: () => core.settings.settings(), clock: systemClock,
    logger: core.logger, pollMs: 3_600_000, ...runtime,
  });
  await rt.start();
  await rt.watcher.ready;
  return {
    core, cluster, jobs, rt, notes,
    async stop() {
      await rt.stop();
      const dir = await cluster.remoteDir().catch(() => null);
      if (dir) await base.exec(['rm', '-rf', '--', dir]).catch(() => undefined);
      await core.close();
    },
  };
}

/** Resolves with the job's finalisation (null if it was already final); with `tick`, the test plays the poll timer. */
export function finalOf(app: JobsApp, key: string, timeoutMs: number, tick?: { everyMs: number }): Promise<FinalizeResult | null> {
  return new Promise((resolve, reject) => {
    if (app.jobs.store.get(key)?.final) return resolve(null);
    const ticker = tick ? setInterval(() => { void app.rt.tickNow(); }, tick.everyMs) : undefined;
    const done = () => { clearTimeout(timer); clearInterval(ticker); app.jobs.tracker.off('final', on); };
    const timer = setTimeout(() => { done(); reject(new Error(`job ${key} did not end within ${timeoutMs / 1000} s (state ${app.jobs.store.get(key)?.state})`)); }, timeoutMs);
    const on = (r: FinalizeResult) => {
      if (r.job.jobKey !== key) return;
      done();
      resolve(r);
    };
    app.jobs.tracker.on('final', on);
  });
}

/** A script submission: `#!/bin/sh` and the body. */
export function shScript(name: string, body: string): { name: string; content: string } {
  return { name, content: `#!/bin/sh\n${body}\n` };
}
