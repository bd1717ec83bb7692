/**
 * Doctor checks of what job tracking relies on, on the real cluster:
 * - slurm.eventsFile: a tiny job, submitted through the same wrapper every relay job gets, ends on
 *   a compute node; the line its EXIT trap appends must show up in `<remoteDir>/events.log` on the
 *   login node within a bounded time. It does not when the remote dir is not on a filesystem the
 *   compute nodes share (node-local /tmp, a login-only scratch), and then ends are only noticed at
 *   the poll tick.
 * - slurm.accounting: whether sacct works. Where accounting is off (`AccountingStorageType=
 *   accounting_storage/none`) or unreachable, the tracker reads ends from `scontrol show job`,
 *   which has no peak memory and forgets a job MinJobAge after it ended: a warning, not a failure.
 */
import type { ClusterService } from '../cluster/cluster-service.js';
import { parseEventLine } from '../jobs/completion-watcher.js';
import type { JobService } from '../jobs/job-service.js';
import { PROBE_JOB_NAME } from '../jobs/job-tracker.js';
import { systemClock, type Clock } from '../ports.js';
import { sbatchArgv, sbatchFailure, parseSbatchParsable } from '../slurm/sbatch.js';
import { accountingUnavailable } from '../slurm/scontrol-parser.js';
import { buildWrapper } from '../slurm/wrapper-script.js';
import type { CheckResult, DoctorCheck } from './doctor.js';

export interface SlurmCheckDeps {
  cluster: () => ClusterService;
  jobs: () => JobService;
  clock?: Clock;
  /** How long the probe may take, queue wait included (default 90 s). */
  probeTimeoutMs?: number;
  /** After the probe left the queue, how long its line may take to show up (default 20 s). */
  probeGraceMs?: number;
  pollMs?: number;
  /**
   * Passing probe results by cluster and directory, so a window or Slack doctor run every few
   * minutes does not submit a job each time (a pass is kept PROBE_CACHE_MS; failures never are).
   */
  probeCache?: Map<string, { at: number; result: CheckResult }>;
}

export const PROBE_CACHE_MS = 60 * 60_000;

export const PROBE_SCRIPT = `#!/bin/sh
# HPC Relay doctor probe: prints the node it ran on. The wrapper around it appends
# "<job id> <exit code> <time>" to the events file when it ends, like for every relay job.
hostname
`;

const sleep = (clock: Clock, ms: number) => new Promise<void>((r) => { clock.setTimeout(r, ms); });

export function slurmChecks(d: SlurmCheckDeps): DoctorCheck[] {
  return [eventsFileCheck(d), accountingCheck(d)];
}

export function eventsFileCheck(d: SlurmCheckDeps): DoctorCheck {
  return {
    id: 'slurm.eventsFile',
    title: 'Job ends reach the app within seconds',
    async run() {
      const clock = d.clock ?? systemClock;
      const cluster = d.cluster();
      const jobs = d.jobs();
      const files = jobs.files;
      const remoteDir = await jobs.remoteDir();
      const cacheKey = JSON.stringify([cluster.ssh.target.host, cluster.ssh.target.port, cluster.ssh.target.user, remoteDir]);
      const cached = d.probeCache?.get(cacheKey);
      if (cached && clock.now() - cached.at < PROBE_CACHE_MS) {
        return { ...cached.result, message: `${cached.result.message} (checked ${Math.max(1, Math.round((clock.now() - cached.at) / 60_000))} min ago)` };
      }
      const events = await jobs.eventsPath();
      const dir = `${remoteDir}/doctor`;
      const from = await files.touchSize(events);
      await files.ensureDir(dir);
      const { wrapper } = buildWrapper(PROBE_SCRIPT, 'probe.sh');
      await files.upload(`${dir}/probe.sh`, PROBE_SCRIPT, { executable: true });
      await files.upload(`${dir}/relay-wrapper.sh`, wrapper, { executable: true });
      const argv = sbatchArgv({
        sbatchArgs: ['--time=1', '--ntasks=1', '--mem=100M'], wrapperPath: `${dir}/relay-wrapper.sh`, eventsPath: events, scriptPath: `${dir}/probe.sh`, scriptArgs: [],
        chdir: dir, stdoutPattern: `${dir}/probe-%j.out`, stderrPattern: `${dir}/probe-%j.err`, jobName: PROBE_JOB_NAME,
      });
      const sub = await cluster.exec(argv, { timeoutMs: 60_000 });
      if (sub.code !== 0) throw sbatchFailure(sub.stderr || sub.stdout, sub.code);
      const jobId = parseSbatchParsable(sub.stdout);
      const started = clock.now();
      const deadline = started + (d.probeTimeoutMs ?? 90_000);
      const cleanup = () => cluster.exec(['rm', '-f', '--', `${dir}/probe-${jobId}.out`, `${dir}/probe-${jobId}.err`], { timeoutMs: 30_000 }).catch(() => undefined);
      let leftQueueAt: number | null = null;
      let waiting = '';
      let lastQueueLook = 0;
      for (;;) {
        const [r] = await files.readRanges([{ path: events, offset: from, cap: 1024 * 1024 }]);
        const line = (r?.data.toString('utf8') ?? '').split('\n').map(parseEventLine).find((e) => e?.jobKey === jobId);
        if (line) {
          const secs = ((clock.now() - started) / 1000).toFixed(1);
          const [out] = await files.readRanges([{ path: `${dir}/probe-${jobId}.out`, offset: 0, cap: 256 }]);
          const node = out?.data.toString('utf8').split('\n')[0]?.trim();
          await cleanup();
          const result: CheckResult = {
            ok: true,
            message: `A test job (${jobId}) ended${node ? ` on ${node}` : ''} and its line reached ${events} on the login node ${secs} s after submission (exit ${line.exitCode}).`,
          };
          d.probeCache?.set(cacheKey, { at: clock.now(), result });
          return result;
        }
        const now = clock.now();
        if (now - lastQueueLook >= 3_000) {
          lastQueueLook = now;
          const q = await cluster.exec(['squeue', '--noheader', '-j', jobId, '--format=%T|%r'], { timeoutMs: 30_000 });
          const row = q.code === 0 ? q.stdout.trim() : '';
          if (row) waiting = row.replace('|', ': ');
          else leftQueueAt ??= now;
        }
        if (leftQueueAt !== null && now - leftQueueAt > (d.probeGraceMs ?? 20_000)) {
          await cleanup();
          return {
            ok: false,
            message: `A test job (${jobId}) ran and ended, but the line its wrapper appends to ${events} never reached the login node: the compute nodes do not write to the same ${remoteDir} the login node reads. Job ends are then noticed only at the poll tick (cluster.pollSeconds), not within seconds.`,
            fix: 'Set cluster.remoteDir to a directory on a filesystem the compute nodes share with the login node (your home or a shared scratch), e.g. `hpc-relay config set cluster.remoteDir \'$HOME/hpc-relay\'`.',
          };
        }
        if (now > deadline) {
          await cluster.exec(['scancel', jobId], { timeoutMs: 30_000 }).catch(() => undefined);
          await cleanup();
          // Busy queues are normal: not knowing is not failing.
          return {
            ok: true,
            warning: true,
            message: `Not checked: the test job (${jobId}) was still waiting in the queue after ${Math.round((now - started) / 1000)} s${waiting ? ` (${waiting})` : ''}, so it was cancelled.`,
            fix: 'Run `hpc-relay doctor` again when the queue is quieter.',
          };
        }
        await sleep(clock, d.pollMs ?? 1_000);
      }
    },
  };
}

export function accountingCheck(d: SlurmCheckDeps): DoctorCheck {
  return {
    id: 'slurm.accounting',
    title: 'SLURM accounting (sacct)',
    async run() {
      const cluster = d.cluster();
      const cfg = await cluster.exec(['scontrol', 'show', 'config'], { timeoutMs: 30_000, idempotent: true });
      const storage = /^AccountingStorageType\s*=\s*(\S+)/m.exec(cfg.stdout)?.[1] ?? null;
      const minJobAge = /^MinJobAge\s*=\s*(\d+)/m.exec(cfg.stdout)?.[1] ?? null;
      const sacct = await cluster.exec(['sacct', '--noheader', '-X', '--parsable2', '--format=JobID', '-j', '1'], { timeoutMs: 30_000, idempotent: true });
      const sacctError = sacct.code === 0 ? null : (sacct.stderr.trim() || sacct.stdout.trim() || `exit ${sacct.code ?? sacct.signal}`).split('\n').slice(-2).join(' ');
      const forgets = `it forgets a job ${minJobAge ? `${minJobAge} s (MinJobAge)` : 'MinJobAge'} after it ends, so a job that ended while HPC Relay was off for longer is known only from its events-file line (exit code, no peak memory)`;
      if (storage === 'accounting_storage/none' || (sacctError && accountingUnavailable(sacctError) === 'off')) {
        return {
          ok: true,
          warning: true,
          message: `Accounting is off on this cluster (AccountingStorageType=${storage ?? 'accounting_storage/none'}): HPC Relay reads how jobs ended from \`scontrol show job\` instead. That has no peak memory (MaxRSS), and ${forgets}.`,
          fix: 'Nothing to do on your side; cluster admins turn accounting on with slurmdbd (AccountingStorageType=accounting_storage/slurmdbd).',
        };
      }
      if (sacctError) {
        return {
          ok: true,
          warning: true,
          message: `sacct fails (${sacctError}). Until it works, HPC Relay reads how jobs ended from \`scontrol show job\`: no peak memory, and ${forgets}.`,
          fix: 'Ask your cluster admins whether slurmdbd is up; `hpc-relay exec -- sacct -X -j 1` shows the error.',
        };
      }
      return { ok: true, message: `Accounting is on (${storage ?? 'sacct works'}): final states, exit codes and peak memory come from sacct.` };
    },
  };
}

