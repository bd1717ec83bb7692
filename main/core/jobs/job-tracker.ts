import { EventEmitter } from 'node:events';
import type { ClusterService } from '../cluster/cluster-service.js';
import type { Clock, Logger } from '../ports.js';
import { composeJobEnd } from '../notify/job-messages.js';
import { describeError } from '../errors.js';
import { parseSacct, sacctArgv, type SacctJob, type SacctRecord } from '../slurm/sacct-parser.js';
import { accountingUnavailable, parseScontrolJobs, scontrolJobsArgv } from '../slurm/scontrol-parser.js';
import { SQUEUE_ARGV, parseSqueue } from '../slurm/squeue-parser.js';
import { expandArraySpec, isFinalState } from '../slurm/slurm-values.js';
import { classify, type TriageMode } from '../slurm/triage.js';
import type { FinalizeResult, JobRow, JobStore, SubmissionRow, SweepEndOptions, Transition, TransitionSource } from '../store/job-store.js';
import type { SweepFacts } from '../store/sweep-facts.js';
import { keptOutputPaths, OutputPathLearner } from './output-paths.js';
import type { RemoteFiles } from './remote-files.js';

export interface TrackerOptions {
  mode: TriageMode;
  /** Outbox channels for job ends, e.g. ['tray'] or ['tray', 'slack']. */
  channels: string[];
  /** Sweeps are announced once, when their last task ends (see FinalizeOptions.sweep); absent: per task. */
  sweep?: SweepEndOptions;
}

export interface TrackerDeps {
  cluster: () => ClusterService;
  store: JobStore;
  files: RemoteFiles;
  clock: Clock;
  logger: Logger;
  options: () => TrackerOptions;
}

export interface TickReport {
  /** Scheduler commands this tick sent: one squeue, and one sacct when any job is unfinished. */
  squeueCalls: number;
  sacctCalls: number;
  /** Where accounting is off: one command running `scontrol show job` for the jobs that left the queue. */
  scontrolCalls: number;
  /** Other remote commands (the output tails of jobs that failed, all in one read; where jobs submitted elsewhere write their output). */
  otherCalls: number;
  adopted: string[];
  transitions: Transition[];
  finalized: FinalizeResult[];
}

/** How long sacct is left alone after it said accounting is off (then asked again), or that it cannot reach slurmdbd. */
const ACCOUNTING_OFF_RECHECK_MS = 30 * 60_000;
const ACCOUNTING_UNREACHABLE_RECHECK_MS = 5 * 60_000;

/** A job's name that the queue never adopts: the doctor's probe (see doctor/slurm-checks.ts). */
export const PROBE_JOB_NAME = 'hpc-relay-doctor-probe';

/** The bytes of a failed job's output read for triage (slurmstepd writes its OOM notes at the end). */
const TRIAGE_TAIL_BYTES = 16 * 1024;

/** `slurm-%j.out` / `slurm-%A_%a.out` for one job or task. */
export function logPath(pattern: string, job: Pick<JobRow, 'jobKey' | 'baseId' | 'arrayTask'>): string {
  return pattern.replace(/%(j|A|a|%)/g, (_m, c: string) => {
    if (c === 'j') return job.jobKey;
    if (c === 'A') return job.baseId;
    if (c === 'a') return job.arrayTask === null ? '4294967294' : String(job.arrayTask);
    return '%';
  });
}

export function logPaths(sub: SubmissionRow, job: Pick<JobRow, 'jobKey' | 'baseId' | 'arrayTask'>): { stdout: string; stderr: string } {
  return { stdout: logPath(sub.stdoutPattern, job), stderr: logPath(sub.stderrPattern, job) };
}

/**
 * Keeps the store in step with the scheduler, with cluster etiquette: a tick is exactly one
 * `squeue --me` (which also adopts jobs submitted outside the app) and one `sacct` for every
 * unfinished job together, whatever their number. sacct is the source of truth for how a job
 * ended; the events file only says *when* to ask it (reconcile). Operations run one at a time.
 */
export class JobTracker extends EventEmitter<{ transition: [Transition]; final: [FinalizeResult] }> {
  private queue: Promise<unknown> = Promise.resolve();
  /** Until when job ends are read from `scontrol show job` because sacct said accounting is off or unreachable. */
  private scontrolUntil = 0;

  private readonly outputPaths: OutputPathLearner;

  constructor(private readonly deps: TrackerDeps) {
    super();
    this.outputPaths = new OutputPathLearner({ store: deps.store, cluster: deps.cluster, clock: deps.clock });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One scheduler check for every job: callable directly (tests, `hpc-relay jobs`) or on the poll timer. */
  tick(): Promise<TickReport> {
    return this.serial(async () => {
      const { store, clock } = this.deps;
      const report: TickReport = { squeueCalls: 0, sacctCalls: 0, scontrolCalls: 0, otherCalls: 0, adopted: [], transitions: [], finalized: [] };
      // The doctor's probe job is the relay's own test, not the user's: never adopted.
      const rows = parseSqueue(await this.deps.cluster().run(SQUEUE_ARGV, { timeoutMs: 60_000, maxOutputBytes: 32 * 1024 * 1024 })).filter((r) => r.name !== PROBE_JOB_NAME);
      report.squeueCalls = 1;
      const q = store.observeQueue(rows, clock.now());
      report.adopted = q.adopted;
      report.transitions.push(...q.transitions);
      for (const t of q.transitions) this.emit('transition', t);
      const open = store.unfinished();
      const inQueue = new Set(rows.map((r) => r.key));
      // Where jobs submitted elsewhere write, asked before their ends are applied: the triage of
      // one that failed reads its log like an app job's (cuda-oom, an exception's signature).
      const learned = await this.outputPaths.learn(open.filter((j) => !inQueue.has(j.jobKey))).catch((e: unknown) => {
        this.deps.logger.warn('could not ask where jobs submitted elsewhere write their output', { error: describeError(e) });
        return { asked: 1, kept: 0 };
      });
      if (learned.asked > 0) report.otherCalls++;
      if (open.length > 0) {
        const recs = await this.accounting(open, report, (j) => !inQueue.has(j.jobKey));
        if (recs.via === 'scontrol') recs.records.push(...this.forgotten(open, recs.records, inQueue));
        await this.apply(recs.records, recs.via, (key) => !inQueue.has(key), report);
      }
      return report;
    });
  }

  /**
   * The sweep `jobKey` belongs to, when it is a task of an array HPC Relay submitted and that sweep
   * is now over (every task ended, no triage resubmit still to run); null otherwise. Read on a
   * task's 'final' event, it says whether that end was the sweep's last.
   */
  endedSweep(jobKey: string): SweepFacts | null {
    const j = this.deps.store.get(jobKey);
    if (!j || j.arrayTask === null || j.submissionId === null) return null;
    return this.deps.store.sweepOver(j.sweepId, this.deps.clock.now()) ? this.deps.store.sweepFacts(j.sweepId) : null;
  }

  /** Whether job ends are read from `scontrol show job` now (accounting off or unreachable). */
  get accountingOff(): boolean {
    return this.deps.clock.now() < this.scontrolUntil;
  }

  /**
   * How the given jobs stand: one sacct for all of them, or, where accounting is off or
   * unreachable (sacct says so), one `scontrol show job` command for those `ended` picks (the
   * jobs that left the queue; the queue already says how the others are doing).
   */
  private async accounting(jobs: readonly JobRow[], report: TickReport, ended: (j: JobRow) => boolean = () => true): Promise<{ records: SacctRecord[]; via: 'sacct' | 'scontrol' }> {
    if (!this.accountingOff) {
      try {
        report.sacctCalls++;
        return { records: parseSacct(await this.deps.cluster().run(sacctArgv(jobs.map((j) => j.baseId)), { timeoutMs: 120_000, maxOutputBytes: 64 * 1024 * 1024 })), via: 'sacct' };
      } catch (e) {
        const why = accountingUnavailable(describeError(e));
        if (!why) throw e;
        this.scontrolUntil = this.deps.clock.now() + (why === 'off' ? ACCOUNTING_OFF_RECHECK_MS : ACCOUNTING_UNREACHABLE_RECHECK_MS);
        this.deps.logger.warn(why === 'off' ? 'accounting is off on this cluster: job ends are read from `scontrol show job`' : 'sacct cannot reach the accounting database: job ends are read from `scontrol show job` for now', {
          error: describeError(e),
        });
      }
    }
    const asked = jobs.filter(ended);
    if (asked.length === 0) return { records: [], via: 'scontrol' };
    report.scontrolCalls++;
    const out = await this.deps.cluster().run(scontrolJobsArgv(asked.map((j) => j.baseId)), { timeoutMs: 120_000, maxOutputBytes: 64 * 1024 * 1024 });
    return { records: parseScontrolJobs(out), via: 'scontrol' };
  }

  /**
   * Jobs that left the queue and that the controller has forgotten too (they ended more than
   * MinJobAge ago, while HPC Relay was off): with accounting off, their events-file line is all
   * there is. It gives the exit code; the state follows from it (0: COMPLETED, else FAILED).
   * A job with no line stays open (nothing is invented) and the log says so.
   */
  private forgotten(open: readonly JobRow[], recs: readonly SacctRecord[], inQueue: ReadonlySet<string>): SacctJob[] {
    const seen = new Set(recs.flatMap((r) => (r.kind === 'job' ? [r.key] : [])));
    const ranges = recs.flatMap((r) => (r.kind === 'range' ? [r.baseId] : []));
    const out: SacctJob[] = [];
    for (const j of open) {
      if (inQueue.has(j.jobKey) || seen.has(j.jobKey) || ranges.includes(j.baseId)) continue;
      const line = this.deps.store.events(j.jobKey).filter((e) => e.kind === 'exit-trap').at(-1);
      const code = typeof line?.detail.exitCode === 'number' ? line.detail.exitCode : null;
      if (code === null) {
        this.deps.logger.warn('a job left the queue and the controller forgot it, with no events-file line: its end is unknown', { job: j.jobKey });
        continue;
      }
      const bySignal = code > 128 && code < 160;
      out.push({
        kind: 'job', key: j.jobKey, baseId: j.baseId, arrayTask: j.arrayTask, name: j.name, state: code === 0 ? 'COMPLETED' : 'FAILED', cancelledBy: null,
        exitCode: bySignal ? 0 : code, signal: bySignal ? code - 128 : 0, elapsedSec: j.elapsedSec, maxRssBytes: null, reqMemBytes: j.reqMemBytes,
        timeLimitSec: j.timeLimitSec, nodeList: j.nodeList, start: j.startedAt, end: j.endedAt, steps: [],
      });
    }
    return out;
  }

  /**
   * One sacct for the given jobs (all unfinished ones when `keys` is null), outside the tick: after
   * an events-file line, a cancel, a start or a reconnect. Returns the keys that are still open.
   */
  reconcile(keys: readonly string[] | null, source: TransitionSource): Promise<{ stillOpen: string[]; finalized: FinalizeResult[] }> {
    return this.serial(async () => {
      const { store } = this.deps;
      const targets = keys === null ? store.unfinished() : keys.map((k) => store.get(k)).filter((j): j is JobRow => j !== null && !j.final);
      const report: TickReport = { squeueCalls: 0, sacctCalls: 0, scontrolCalls: 0, otherCalls: 0, adopted: [], transitions: [], finalized: [] };
      if (targets.length > 0) {
        const recs = await this.accounting(targets, report);
        // Without a queue listing, accounting may only move a job forward (PENDING -> RUNNING).
        await this.apply(recs.records, source, (key, state) => state === 'RUNNING' && store.get(key)?.state === 'PENDING', report);
      }
      return { stillOpen: targets.filter((t) => !store.get(t.jobKey)?.final).map((t) => t.jobKey), finalized: report.finalized };
    });
  }

  /** Task records for tracked tasks that sacct still folds into a range (never started, e.g. cancelled while pending). */
  private expandRanges(recs: readonly SacctRecord[]): SacctJob[] {
    const singles = recs.filter((r): r is SacctJob => r.kind === 'job');
    const seen = new Set(singles.map((r) => r.key));
    const out = [...singles];
    for (const r of recs) {
      if (r.kind !== 'range') continue;
      const idx = new Set(expandArraySpec(r.spec) ?? []);
      for (const j of this.deps.store.byBaseId(r.baseId)) {
        if (j.final || j.arrayTask === null || seen.has(j.jobKey) || !idx.has(j.arrayTask)) continue;
        const { spec: _spec, kind: _kind, ...rest } = r;
        out.push({ ...rest, kind: 'job', key: j.jobKey, baseId: r.baseId, arrayTask: j.arrayTask });
      }
    }
    return out;
  }

  private async apply(recs: readonly SacctRecord[], source: TransitionSource, updateState: (key: string, state: string) => boolean, report: TickReport): Promise<void> {
    const { store, clock } = this.deps;
    const finals: SacctJob[] = [];
    for (const rec of this.expandRanges(recs)) {
      const known = store.get(rec.key);
      if (known?.final) continue;
      // A pending array cancelled whole: for a moment slurmdbd has a record under the array's own
      // id (named "allocation", seen on the testbed's 22.05) before the range record
      // (`123_[0-2]`) replaces it. It is not a job: the tasks end when the range record comes.
      if (!known && rec.arrayTask === null && store.byBaseId(rec.baseId).some((j) => j.arrayTask !== null)) continue;
      if (isFinalState(rec.state)) {
        if (!known) store.observeAccounting(rec, source, clock.now());
        finals.push(rec);
        continue;
      }
      const t = store.observeAccounting(rec, source, clock.now(), updateState(rec.key, rec.state));
      if (t) { report.transitions.push(t); this.emit('transition', t); }
    }
    if (finals.length === 0) return;
    const logs = await this.failureLogs(finals, report);
    const { mode, channels, sweep } = this.deps.options();
    for (const rec of finals) {
      const r = store.finalize(rec, {
        source, now: clock.now(), classification: classify({ state: rec.state, exitCode: rec.exitCode, signal: rec.signal, logText: logs.get(rec.key) ?? '' }), mode, channels, compose: composeJobEnd,
        ...(sweep ? { sweep } : {}),
      });
      if (!r) continue;
      report.finalized.push(r);
      report.transitions.push(r.transition);
      this.emit('transition', r.transition);
      this.emit('final', r);
    }
  }

  /** The ends of stdout and stderr of every app job that did not complete, in one remote read. */
  private async failureLogs(finals: readonly SacctJob[], report: TickReport): Promise<Map<string, string>> {
    const { store } = this.deps;
    const wanted: { key: string; path: string }[] = [];
    for (const rec of finals) {
      if (rec.state === 'COMPLETED') continue;
      const job = store.get(rec.key);
      const sub = job?.submissionId ? store.submission(job.submissionId) : null;
      // A job submitted elsewhere: where the scheduler said it writes (kept while it ran).
      const p = job && sub ? logPaths(sub, job) : job ? keptOutputPaths(store, job.jobKey) : null;
      if (!p) continue;
      wanted.push({ key: rec.key, path: p.stdout });
      if (p.stderr !== p.stdout) wanted.push({ key: rec.key, path: p.stderr });
    }
    const out = new Map<string, string>();
    if (wanted.length === 0) return out;
    try {
      const res = await this.deps.files.readRanges(wanted.map((w) => ({ path: w.path, offset: -TRIAGE_TAIL_BYTES, cap: TRIAGE_TAIL_BYTES })));
      report.otherCalls++;
      res.forEach((r, i) => {
        const key = wanted[i]?.key;
        if (key) out.set(key, `${out.get(key) ?? ''}${r.data.toString('utf8')}\n`);
      });
    } catch (e) {
      this.deps.logger.warn('could not read the output of failed jobs for triage', { error: (e as Error).message });
    }
    return out;
  }
}
