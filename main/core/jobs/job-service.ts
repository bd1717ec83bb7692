import { createHash, randomUUID } from 'node:crypto';
import type { ClusterService } from '../cluster/cluster-service.js';
import type { ExecResult } from '../cluster/ssh-session.js';
import type { Settings } from '../config/settings-types.js';
import { RelayError, describeError, isRelayError, storeProblem } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import {
  MARKER_SACCT_ARGV, MARKER_SQUEUE_ARGV, getOption, hasOption, checkSbatchArgs, jobIdWithMarker, parseSbatchParsable, sbatchArgv, sbatchFailure, setOption, submissionMarker,
} from '../slurm/sbatch.js';
import { keyMetric } from '../slurm/metrics-parser.js';
import { outputPathsArgv, parseOutputPaths } from '../slurm/scontrol-parser.js';
import { expandArraySpec, parseDuration, parseJobRef, parseMemory } from '../slurm/slurm-values.js';
import { buildWrapper, directive } from '../slurm/wrapper-script.js';
import type { RenderedJob } from '../templates/types.js';
import type { JobRow, JobStore, SubmissionRow, SubmittedJobMeta } from '../store/job-store.js';
import type { MetricsStore } from '../store/metrics-store.js';
import type { OutboxStore } from '../store/outbox-store.js';
import type { SweepEndOptions } from '../store/job-store.js';
import { composeSweepEnd } from '../notify/sweep-messages.js';
import { JobTracker, logPaths, type TickReport } from './job-tracker.js';
import { JobMetrics, METRICS_CHUNK_BYTES } from './job-metrics.js';
import { keptOutputPaths, OUTPUT_PATHS_EVENT, type OutputPaths } from './output-paths.js';
import type { RemoteFiles } from './remote-files.js';
import { ROLLOUT_MIN_TASKS, RolloutStore, Rollouts, type RolloutMode } from './rollout.js';
import { runTriageActions, type TriageOutcome } from './triage-runner.js';

/** Renders a template into sbatch data for a job directory; the templates module provides it. */
export interface TemplateRenderer {
  render(templateId: string, params: Record<string, string>, workDir: string): RenderedJob | Promise<RenderedJob>;
}

/** An intent younger than this may belong to an sbatch still running (its timeout is 120 s; findSubmitted waits 7 s more). */
const INTENT_SETTLE_MS = 3 * 60_000;
/** Without accounting to ask, an intent no queue lists after this long never ran. */
const INTENT_FORGET_MS = 24 * 3_600_000;

export interface JobServiceDeps {
  cluster: () => ClusterService;
  store: JobStore;
  outbox: OutboxStore;
  metrics: MetricsStore;
  files: RemoteFiles;
  settings: () => Settings;
  clock: Clock;
  logger: Logger;
  templates?: TemplateRenderer;
}

export type { BestMetric, JobStats, JobSummary, TailResult } from './job-types.js';
import type { BestMetric, JobStats, JobSummary, TailResult } from './job-types.js';



export interface SubmitResult {
  jobId: string;
  name?: string;
  /** Every job or task key created (one for a plain job). */
  jobIds: string[];
  /** For a staged sweep: the task indexes of each stage, the first (the canary) already released. */
  stages?: number[][];
}


export interface ResubmitChanges {
  mem?: string;
  time?: string;
  partition?: string;
  params?: Record<string, string>;
}

export interface ScriptSubmission {
  /** The script's file name (its basename is kept remotely). */
  name: string;
  content: string | Buffer;
  sbatchArgs?: string[];
  scriptArgs?: string[];
  params?: Record<string, unknown>;
  /** For an array of 4+ tasks: 'staged' runs task 0 first, then 1–2, then the rest (see rollout.ts); default 'all'. */
  rollout?: RolloutMode;
}

interface Prepared {
  kind: 'template' | 'script';
  source: string;
  scriptName: string;
  script: string | Buffer;
  files: { name: string; content: Buffer }[];
  sbatchArgs: string[];
  scriptArgs: string[];
  params: Record<string, unknown>;
  defaultName: string;
  rollout: RolloutMode;
  /** A rendered grid's values per array task. */
  taskParams?: Record<string, string>[];
}

const TAIL_CAP_BYTES = 256 * 1024;

function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  return !clean || clean === 'relay-wrapper.sh' ? 'job.sh' : clean.slice(0, 100);
}

/** SLURM's `exit:signal` once the job has ended (sacct prints 0:0 for running jobs too). */
function exitText(j: JobRow): string | null {
  return !j.final || j.exitCode === null ? null : `${j.exitCode}:${j.signal ?? 0}`;
}

/**
 * Submit, list, cancel, resubmit, tail and stats for the user's SLURM jobs. Every remote command
 * is an argv array; script parameters reach the script as its arguments and resources as sbatch
 * options, never as shell text.
 */
export class JobService {
  readonly tracker: JobTracker;
  readonly metricsReader: JobMetrics;
  /** Staged rollouts of sweeps: the jobs runtime advances them as tasks end. */
  readonly rollouts: Rollouts;
  private eventsReady: { dir: string; path: Promise<string> } | null = null;
  /**
   * A sweep is announced once, when its last task ends; a sweep whose staged rollout stopped is
   * not (its ROLLOUT_HALTED notification already said how it ended).
   */
  readonly sweepEnd: SweepEndOptions = { compose: (facts, last) => (this.rollouts.halted(last.baseId) ? null : composeSweepEnd(facts)) };

  constructor(private readonly deps: JobServiceDeps) {
    this.tracker = new JobTracker({
      cluster: deps.cluster, store: deps.store, files: deps.files, clock: deps.clock, logger: deps.logger,
      options: () => ({ mode: deps.settings().triage.mode, channels: this.channels(), sweep: this.sweepEnd }),
    });
    this.metricsReader = new JobMetrics({ store: deps.store, metrics: deps.metrics, files: deps.files, clock: deps.clock });
    this.rollouts = new Rollouts({
      store: deps.store, rollouts: new RolloutStore(deps.store.db), outbox: deps.outbox, cluster: deps.cluster, clock: deps.clock, logger: deps.logger,
      channels: () => this.channels(),
    });
  }

  /** Outbox channels for job ends, as the settings stand now. */
  private channels(): string[] {
    const s = this.deps.settings();
    return [...(s.notify.tray ? ['tray'] : []), ...(s.notify.slack && s.slack.enabled ? ['slack'] : [])];
  }

  get store(): JobStore {
    return this.deps.store;
  }

  get outbox(): OutboxStore {
    return this.deps.outbox;
  }

  get metrics(): MetricsStore {
    return this.deps.metrics;
  }

  get files(): RemoteFiles {
    return this.deps.files;
  }

  get clock(): Clock {
    return this.deps.clock;
  }

  /** cluster.remoteDir as an absolute path on the cluster (the cluster service resolves it once). */
  remoteDir(): Promise<string> {
    return this.deps.files.resolveDir();
  }

  /** `<remoteDir>/events.log`, created on first use: the file every job's wrapper appends to. */
  async eventsPath(): Promise<string> {
    const dir = await this.remoteDir();
    if (this.eventsReady?.dir !== dir) {
      const path = `${dir}/events.log`;
      const ready = this.deps.files.touchSize(path).then(() => path);
      this.eventsReady = { dir, path: ready };
      ready.catch(() => { if (this.eventsReady?.path === ready) this.eventsReady = null; });
    }
    return this.eventsReady.path;
  }

  /** One scheduler check for every job, then staged sweeps move on where their stage has ended. */
  async refresh(): Promise<TickReport> {
    await this.recoverSubmissions().catch((e: unknown) => {
      this.deps.logger.warn('could not look for unrecorded submissions yet', { error: describeError(e) });
    });
    const report = await this.tracker.tick();
    await this.rollouts.advance();
    // A sweep whose last task failed and whose triage resubmit failed too ends here.
    for (const id of this.deps.store.settleSweeps({ now: this.deps.clock.now(), channels: this.channels(), sweep: this.sweepEnd })) {
      this.deps.logger.info('sweep finished (its last resubmit did not run)', { sweep: id });
    }
    return report;
  }

  /** The user's own sbatch script, with optional sbatch options and script arguments. */
  async submitScript(s: ScriptSubmission): Promise<SubmitResult> {
    const scriptName = safeFileName(s.name);
    return this.submitPrepared({
      kind: 'script', source: s.name, scriptName, script: s.content, files: [], sbatchArgs: s.sbatchArgs ?? [], scriptArgs: s.scriptArgs ?? [], params: s.params ?? {}, defaultName: scriptName,
      rollout: s.rollout ?? 'all',
    });
  }

  /**
   * A template by id: the templates module validates the values and renders it for the job
   * directory. A sweep of 4+ tasks rolls out in stages unless `rollout: 'all'` (canary first).
   */
  async submit(templateId: string, params: Record<string, string>, opts: { rollout?: RolloutMode } = {}): Promise<SubmitResult> {
    const renderer = this.deps.templates;
    if (!renderer) throw new RelayError('JOB_ACTION_REFUSED', 'Templates are not available in this build.', { fix: 'Submit a script file instead: hpc-relay submit ./job.sh.' });
    const id = randomUUID();
    const jobDir = `${await this.remoteDir()}/jobs/${id}`;
    const r = await renderer.render(templateId, params, jobDir);
    return this.submitRendered(r, { id, jobDir }, undefined, opts.rollout ?? 'staged');
  }

  async submitRendered(r: RenderedJob, at?: { id: string; jobDir: string }, lineage?: { sweepId: string; resubmitOf: string }, rollout: RolloutMode = 'all'): Promise<SubmitResult> {
    return this.submitPrepared({
      kind: 'template', source: r.templateId, scriptName: safeFileName(`${r.templateId}.slurm`), script: r.script, files: r.files, sbatchArgs: r.sbatchArgs, scriptArgs: r.scriptArgs,
      params: r.params, defaultName: r.jobName, rollout, ...(r.array ? { taskParams: r.array.tasks } : {}),
    }, at, lineage);
  }

  private async submitPrepared(p: Prepared, at?: { id: string; jobDir: string }, lineage?: { sweepId: string; resubmitOf: string }): Promise<SubmitResult> {
    checkSbatchArgs(p.sbatchArgs);
    const scriptText = typeof p.script === 'string' ? p.script : p.script.toString('utf8');
    const { wrapper, directives } = buildWrapper(scriptText, p.scriptName);
    for (const f of p.files) {
      if (safeFileName(f.name) !== f.name) throw new RelayError('JOB_SCRIPT_INVALID', `The job file name "${f.name}" is not a plain file name.`, { fix: 'Use names of letters, digits, dots, dashes and underscores.' });
    }
    const id = at?.id ?? randomUUID();
    const jobDir = at?.jobDir ?? `${await this.remoteDir()}/jobs/${id}`;
    const events = await this.eventsPath();
    const files = this.deps.files;
    await files.ensureDir(jobDir);
    const scriptPath = `${jobDir}/${p.scriptName}`;
    const wrapperPath = `${jobDir}/relay-wrapper.sh`;
    await files.upload(scriptPath, p.script, { executable: true });
    for (const f of p.files) await files.upload(`${jobDir}/${f.name}`, f.content);
    await files.upload(wrapperPath, wrapper, { executable: true });
    return this.sbatch({
      id, kind: p.kind, source: p.source, params: p.params, scriptHash: createHash('sha256').update(p.script).digest('hex'), sbatchArgs: p.sbatchArgs, scriptArgs: p.scriptArgs,
      remoteDir: jobDir, scriptPath, wrapperPath, events, headerArray: directive(directives, '--array'), headerName: directive(directives, '--job-name'),
      headerPartition: directive(directives, '--partition'), headerMem: directive(directives, '--mem'), headerTime: directive(directives, '--time'), defaultName: p.defaultName,
      sweepId: lineage?.sweepId ?? id, resubmitOf: lineage?.resubmitOf ?? null, rollout: p.rollout, ...(p.taskParams ? { taskParams: p.taskParams } : {}),
    });
  }

  private async sbatch(x: {
    id: string; kind: 'template' | 'script'; source: string; params: Record<string, unknown>; scriptHash: string; sbatchArgs: string[]; scriptArgs: string[]; remoteDir: string;
    scriptPath: string; wrapperPath: string; events: string; headerArray: string | null; headerName: string | null; headerPartition: string | null;
    headerMem: string | null; headerTime: string | null; defaultName: string; sweepId: string; resubmitOf: string | null; asked?: { reqMemBytes: number | null; timeLimitSec: number | null };
    rollout?: RolloutMode; taskParams?: Record<string, string>[];
  }): Promise<SubmitResult> {
    const arraySpec = getOption(x.sbatchArgs, '--array') ?? x.headerArray;
    const pattern = arraySpec ? `${x.remoteDir}/slurm-%A_%a` : `${x.remoteDir}/slurm-%j`;
    const named = hasOption(x.sbatchArgs, '--job-name') || x.headerName !== null;
    const tasks = arraySpec ? expandArraySpec(arraySpec) : null;
    // A staged sweep is submitted held (the record keeps the options without --hold, for resubmits).
    const staged = x.rollout === 'staged' && tasks !== null && tasks.length >= ROLLOUT_MIN_TASKS && !hasOption(x.sbatchArgs, '--hold');
    const argv = sbatchArgv({
      sbatchArgs: staged ? [...x.sbatchArgs, '--hold'] : x.sbatchArgs, wrapperPath: x.wrapperPath, eventsPath: x.events, scriptPath: x.scriptPath, scriptArgs: x.scriptArgs, chdir: x.remoteDir,
      stdoutPattern: `${pattern}.out`, stderrPattern: `${pattern}.err`, jobName: named ? null : x.defaultName, marker: submissionMarker(x.id),
    });
    const name = getOption(x.sbatchArgs, '--job-name') ?? x.headerName ?? x.defaultName;
    const mem = getOption(x.sbatchArgs, '--mem') ?? x.headerMem;
    const time = getOption(x.sbatchArgs, '--time') ?? x.headerTime;
    const meta: SubmittedJobMeta = {
      name, tasks, partition: getOption(x.sbatchArgs, '--partition') ?? x.headerPartition,
      reqMemBytes: (mem === null ? null : parseMemory(mem)) ?? x.asked?.reqMemBytes ?? null,
      timeLimitSec: (time === null ? null : parseDuration(time)) ?? x.asked?.timeLimitSec ?? null,
      ...(x.taskParams ? { taskParams: x.taskParams } : {}),
    };
    const pending: Omit<SubmissionRow, 'baseId'> = {
      id: x.id, kind: x.kind, source: x.source, params: x.params, scriptHash: x.scriptHash, sbatchArgs: x.sbatchArgs, scriptArgs: x.scriptArgs, remoteDir: x.remoteDir,
      scriptPath: x.scriptPath, wrapperPath: x.wrapperPath, stdoutPattern: `${pattern}.out`, stderrPattern: `${pattern}.err`, arraySpec, sweepId: x.sweepId,
      resubmitOf: x.resubmitOf, submittedAt: this.deps.clock.now(),
    };
    // Written before sbatch: if the process dies (or the database refuses the record) after sbatch
    // ran, the next refresh finds the job by its marker and records it as ours. A database that
    // cannot take this refuses the submit before anything reaches the cluster.
    try {
      this.deps.store.recordIntent(x.id, { submission: pending, job: meta, createdAt: pending.submittedAt });
    } catch (e) {
      const p = storeProblem(e);
      if (!p) throw e;
      throw new RelayError('STORE_FAILED', `HPC Relay could not save to its database (hpc-relay.db): ${p.reason}, so nothing was submitted.`, { fix: `${p.remedy}, then submit again.`, cause: e });
    }
    let baseId: string;
    try {
      baseId = await this.runSbatch(argv, submissionMarker(x.id));
    } catch (e) {
      // Refused by sbatch (non-zero exit): nothing was submitted. Otherwise (interrupted, timed out, an
      // unreadable answer) it may have been: the intent stays for the next refresh to look up.
      if (isRelayError(e, 'JOB_SUBMIT_FAILED')) this.deps.store.dropIntent(x.id);
      throw e;
    }
    let jobs: JobRow[];
    try {
      jobs = this.deps.store.recordSubmission({ ...pending, baseId, submittedAt: this.deps.clock.now() }, meta);
    } catch (e) {
      // The job exists on the cluster: say so, or the user (or Slack, or the agent) submits it again.
      const p = storeProblem(e);
      if (!p) throw e;
      this.deps.logger.error('job submitted but not recorded', { jobId: baseId, error: describeError(e) });
      throw new RelayError('STORE_FAILED', `Job ${baseId} was submitted, but HPC Relay could not record it: ${p.reason}.`, {
        fix: `${p.remedy}; do not submit it again: once the database can be written, the next refresh (\`hpc-relay jobs\`) finds it by its marker and lists it.`,
        cause: e,
      });
    }
    this.deps.logger.info('job submitted', { jobId: baseId, kind: x.kind, source: x.source, tasks: jobs.length, ...(staged ? { rollout: 'staged' } : {}) });
    // The canary goes out now; a release that fails here is tried again at the next tick.
    const plan = staged && tasks ? await this.rollouts.start(baseId, x.id, tasks).catch((e: unknown) => {
      this.deps.logger.warn('could not release the canary of a staged sweep yet', { jobId: baseId, error: describeError(e) });
      return null;
    }) : null;
    return { jobId: baseId, name, jobIds: jobs.map((j) => j.jobKey), ...(plan ? { stages: plan.stages } : {}) };
  }

  /**
   * Runs sbatch and returns the job id. When the connection drops while sbatch runs, nobody knows
   * whether the job was submitted: it is looked up by the submission's marker (in its comment)
   * instead of being submitted blindly again, and sbatch runs once more only when the scheduler
   * has no job with that marker.
   */
  private async runSbatch(argv: readonly string[], marker: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      let r: ExecResult;
      try {
        r = await this.deps.cluster().exec(argv, { timeoutMs: 120_000 });
      } catch (e) {
        if (!isRelayError(e, 'SSH_COMMAND_INTERRUPTED')) throw e;
        this.deps.logger.warn('the connection dropped while sbatch ran; looking for its job on the scheduler', { marker });
        const found = await this.findSubmitted(marker).catch((err: unknown) => {
          this.deps.logger.warn('could not look for the interrupted submission', { marker, error: describeError(err) });
          throw e;
        });
        if (found !== null) return found;
        if (attempt > 0) throw e;
        this.deps.logger.info('no job from the interrupted sbatch on the scheduler; submitting again', { marker });
        continue;
      }
      if (r.code !== 0) throw sbatchFailure(r.stderr || r.stdout, r.code);
      return parseSbatchParsable(r.stdout);
    }
  }

  /**
   * Submissions whose sbatch may have run but which were never recorded (the process was killed
   * between sbatch and the record, the link dropped twice, or the database refused the record):
   * each is looked up by its marker once it is old enough that no sbatch can still be running for
   * it, recorded as HPC Relay's own when a job carries it (an adopted row is claimed), and
   * forgotten when none does. Costs nothing when there is none; one squeue and one sacct otherwise.
   */
  async recoverSubmissions(): Promise<string[]> {
    const now = this.deps.clock.now();
    const due = this.deps.store.intents().filter((i) => now - i.createdAt >= INTENT_SETTLE_MS);
    if (due.length === 0) return [];
    const cluster = this.deps.cluster();
    const queued = await cluster.run([...MARKER_SQUEUE_ARGV], { timeoutMs: 60_000, idempotent: true, maxOutputBytes: 32 * 1024 * 1024 });
    const accounted = await cluster.run([...MARKER_SACCT_ARGV], { timeoutMs: 60_000, idempotent: true, maxOutputBytes: 64 * 1024 * 1024 }).catch((e: unknown) => {
      this.deps.logger.warn('sacct could not be asked for unrecorded submissions', { error: describeError(e) });
      return null;
    });
    const recovered: string[] = [];
    for (const i of due) {
      const marker = submissionMarker(i.id);
      const baseId = jobIdWithMarker(queued, marker) ?? (accounted === null ? null : jobIdWithMarker(accounted, marker));
      if (baseId !== null) {
        this.deps.store.recordSubmission({ ...i.submission, baseId }, i.job);
        this.deps.logger.info('recorded a submission found by its marker', { jobId: baseId, submission: i.id });
        recovered.push(baseId);
      } else if (accounted !== null || now - i.createdAt >= INTENT_FORGET_MS) {
        // Neither the queue nor a day of accounting has it: sbatch never ran.
        this.deps.store.dropIntent(i.id);
        this.deps.logger.info('an unrecorded submission never reached the scheduler', { submission: i.id });
      }
    }
    return recovered;
  }

  /**
   * The id of the job carrying `marker`: the queue (every state) first, then accounting. Asked a
   * few times over some seconds, as an sbatch cut off mid-request may still reach the controller.
   */
  private async findSubmitted(marker: string): Promise<string | null> {
    const cluster = this.deps.cluster();
    for (const delay of [0, 2_000, 5_000]) {
      if (delay > 0) await new Promise<void>((r) => { this.deps.clock.setTimeout(r, delay); });
      const queued = jobIdWithMarker(await cluster.run([...MARKER_SQUEUE_ARGV], { timeoutMs: 60_000, idempotent: true, maxOutputBytes: 32 * 1024 * 1024 }), marker);
      if (queued !== null) return queued;
      // Accounting as well, for a job that already left the queue; a SLURM without SubmitLine only has the queue.
      const accounted = await cluster.run([...MARKER_SACCT_ARGV], { timeoutMs: 60_000, idempotent: true, maxOutputBytes: 64 * 1024 * 1024 }).then(
        (out) => jobIdWithMarker(out, marker),
        (e: unknown) => { this.deps.logger.warn('sacct could not be asked for the interrupted submission', { marker, error: describeError(e) }); return null; },
      );
      if (accounted !== null) return accounted;
    }
    return null;
  }

  /** The job, the array task, or every task of the array a bare id names (a USAGE or JOB_NOT_FOUND error otherwise). */
  jobsOf(jobId: string): JobRow[] {
    const ref = parseJobRef(jobId);
    if (!ref) throw new RelayError('USAGE', `"${jobId}" is not a SLURM job id.`, { fix: 'Give a job id such as 12345 or an array task such as 12345_7 (see `hpc-relay jobs`).' });
    const one = this.deps.store.get(ref.key);
    if (one) return [one];
    const all = ref.arrayTask === null ? this.deps.store.byBaseId(ref.baseId) : [];
    if (all.length > 0) return all;
    throw new RelayError('JOB_NOT_FOUND', `HPC Relay does not know job ${jobId}.`, { fix: 'Run `hpc-relay jobs` to refresh the list (it adopts jobs submitted outside the app), then try again.' });
  }

  /** One job or array task; an array's bare id with several tasks is refused (which one's log, or stats, would be a guess). */
  job(jobId: string): JobRow {
    const all = this.jobsOf(jobId);
    const [j] = all;
    if (all.length > 1 && j) {
      const tasks = all.map((t) => t.jobKey);
      throw new RelayError('USAGE', `Job ${jobId} is an array of ${all.length} tasks (${tasks[0]} to ${tasks.at(-1)}): name one task, e.g. ${j.jobKey}.`, {
        fix: 'See its tasks with `hpc-relay jobs --tasks` (in Slack: `status`).',
      });
    }
    return j as JobRow;
  }

  async listJobs(): Promise<JobSummary[]> {
    const subs = new Map<string, SubmissionRow | null>();
    return this.deps.store.list().map((j) => {
      let sub = j.submissionId ? subs.get(j.submissionId) : null;
      if (j.submissionId && sub === undefined) { sub = this.deps.store.submission(j.submissionId); subs.set(j.submissionId, sub); }
      const where = j.state === 'PENDING' ? j.reason : j.nodeList;
      const best = this.bestMetric(j.jobKey);
      return {
        jobId: j.jobKey, name: j.name, state: j.state, elapsedSec: j.elapsedSec, exitCode: exitText(j), adopted: j.adopted, final: j.final,
        ...(j.partition ? { partition: j.partition } : {}), ...(where ? { where } : {}), ...(sub?.kind === 'template' ? { templateId: sub.source } : {}),
        ...(best ? { best } : {}),
      };
    });
  }

  /** The best value of the job's key metric among the metrics read so far; null when it has none. */
  bestMetric(jobId: string): BestMetric | null {
    const ext = this.deps.metrics.extremes(jobId);
    const key = keyMetric(ext.map((e) => e.series));
    const e = key ? ext.find((x) => x.series === key.name) : undefined;
    if (!key || !e) return null;
    return { series: key.name, ...(key.goal === 'max' ? e.max : e.min) };
  }

  async stats(jobId: string): Promise<JobStats> {
    const j = this.job(jobId);
    return {
      jobId: j.jobKey, name: j.name, state: j.state, exitCode: exitText(j), elapsedSec: j.elapsedSec, timeLimitSec: j.timeLimitSec, maxRssBytes: j.maxRssBytes, reqMemBytes: j.reqMemBytes,
      ...(j.nodeList ? { nodeList: j.nodeList } : {}),
    };
  }

  /** scancel, then one sacct so the list shows CANCELLED without waiting for the tick. */
  async cancel(jobId: string): Promise<void> {
    const jobs = this.jobsOf(jobId);
    const open = jobs.filter((j) => !j.final);
    if (open.length === 0) throw new RelayError('JOB_ACTION_REFUSED', `Job ${jobId} already ended (${jobs[0]?.state}).`, { fix: 'Nothing to cancel; see `hpc-relay jobs`.' });
    const target = parseJobRef(jobId)?.key ?? jobId;
    await this.deps.cluster().run(['scancel', target], { timeoutMs: 60_000 });
    for (const j of open) this.deps.store.noteCancelRequested(j.jobKey, this.deps.clock.now());
    for (const delay of [300, 1_000, 2_000]) {
      await new Promise<void>((r) => { this.deps.clock.setTimeout(r, delay); });
      const { stillOpen } = await this.tracker.reconcile(open.map((j) => j.jobKey), 'cancel');
      if (stillOpen.length === 0) break;
    }
  }

  /**
   * The same script again, in the same job directory, with changed resources: `--mem`, `--time`,
   * `--partition` replace what it had (a task of an array is resubmitted alone). Changed
   * parameters re-render the template into a new directory.
   */
  async resubmit(jobId: string, changes: ResubmitChanges): Promise<SubmitResult> {
    const jobs = this.jobsOf(jobId);
    const first = jobs[0] as JobRow;
    const sub = first.submissionId ? this.deps.store.submission(first.submissionId) : null;
    if (!sub) throw new RelayError('JOB_ACTION_REFUSED', `Job ${jobId} was not submitted by HPC Relay, so it cannot resubmit it.`, { fix: 'Resubmit it the way you submitted it, or submit the script with `hpc-relay submit`.' });
    let args = [...sub.sbatchArgs];
    if (changes.mem !== undefined) {
      if (parseMemory(changes.mem) === null) throw new RelayError('USAGE', `--mem ${JSON.stringify(changes.mem)} is not a memory size.`, { fix: 'Use a size such as 8G or 16000M.' });
      args = setOption(args, '--mem', changes.mem);
    }
    if (changes.time !== undefined) {
      if (parseDuration(changes.time) === null) throw new RelayError('USAGE', `--time ${JSON.stringify(changes.time)} is not a time limit.`, { fix: 'Use a limit such as 04:00:00 or 1-00:00:00.' });
      args = setOption(args, '--time', changes.time);
    }
    if (changes.partition !== undefined) {
      if (!/^[A-Za-z0-9_.-]+$/.test(changes.partition)) throw new RelayError('USAGE', `--partition ${JSON.stringify(changes.partition)} is not a partition name.`, { fix: 'Use a name from `hpc-relay exec -- sinfo`.' });
      args = setOption(args, '--partition', changes.partition);
    }
    const single = parseJobRef(jobId)?.arrayTask ?? (jobs.length === 1 ? first.arrayTask : null);
    if (single !== null && single !== undefined) args = setOption(args, '--array', String(single));
    const lineage = { sweepId: sub.sweepId, resubmitOf: jobs.length === 1 ? first.jobKey : first.baseId };
    if (changes.params && Object.keys(changes.params).length > 0) {
      if (sub.kind !== 'template' || !this.deps.templates) throw new RelayError('JOB_ACTION_REFUSED', `Job ${jobId} is a script, not a template, so it has no parameters to change.`, { fix: 'Change the script and submit it again, or change only --mem, --time or --partition.' });
      const id = randomUUID();
      const jobDir = `${await this.remoteDir()}/jobs/${id}`;
      const merged = { ...Object.fromEntries(Object.entries(sub.params).map(([k, v]) => [k, String(v)])), ...changes.params };
      const r = await this.deps.templates.render(sub.source, merged, jobDir);
      const resources = [changes.mem && `--mem=${changes.mem}`, changes.time && `--time=${changes.time}`, changes.partition && `--partition=${changes.partition}`].filter((a): a is string => Boolean(a));
      let rArgs = r.sbatchArgs;
      for (const a of resources) rArgs = setOption(rArgs, a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1));
      return this.submitRendered({ ...r, sbatchArgs: rArgs }, { id, jobDir }, lineage);
    }
    // The wrapper and script are already in the job directory; the wrapper still carries the
    // script's #SBATCH header, so an array spec from the header is in the record, not the options.
    const headerArray = getOption(sub.sbatchArgs, '--array') === null ? sub.arraySpec : null;
    return this.sbatch({
      id: randomUUID(), kind: sub.kind, source: sub.source, params: sub.params, scriptHash: sub.scriptHash, sbatchArgs: args, scriptArgs: sub.scriptArgs, remoteDir: sub.remoteDir,
      scriptPath: sub.scriptPath, wrapperPath: sub.wrapperPath, events: await this.eventsPath(), headerArray, headerName: null, headerPartition: null, headerMem: null, headerTime: null,
      asked: { reqMemBytes: first.reqMemBytes, timeLimitSec: first.timeLimitSec }, defaultName: first.name || 'job', ...lineage,
    });
  }

  /**
   * Where the job's output goes. HPC Relay's own jobs: from their submission. A job submitted
   * elsewhere (adopted): the controller says (`scontrol show job`, while the job runs and for
   * MinJobAge after it ended), and the answer is kept with the job so its output can still be read
   * once the controller has forgotten it.
   */
  async outputPaths(jobId: string): Promise<OutputPaths> {
    const j = this.job(jobId);
    const sub = j.submissionId ? this.deps.store.submission(j.submissionId) : null;
    if (sub) return logPaths(sub, j);
    const kept = keptOutputPaths(this.deps.store, j.jobKey);
    if (kept) return kept;
    const r = await this.deps.cluster().exec(outputPathsArgv(j.jobKey), { timeoutMs: 30_000 });
    const paths = r.code === 0 ? parseOutputPaths(r.stdout) : null;
    if (!paths) {
      throw new RelayError('JOB_OUTPUT_UNKNOWN', `Job ${j.jobKey} was submitted outside HPC Relay, and the scheduler no longer says where its output went.`, {
        fix: 'Read the file its #SBATCH --output names, e.g. `hpc-relay exec -- tail -n 50 PATH`.',
      });
    }
    this.deps.store.addEvent(j.jobKey, OUTPUT_PATHS_EVENT, paths, this.deps.clock.now());
    return paths;
  }

  /**
   * Reads a job's metric files to their end now (at most `maxReads` chunks of 256 KB; of a longer
   * log, its last part): for a job submitted elsewhere, whose log nobody read while it ran, once its
   * output path is known. Returns the points added.
   */
  catchUpMetrics(jobId: string, maxReads = 32): Promise<number> {
    return this.catchUpMetricsOf([jobId], maxReads);
  }

  /**
   * catchUpMetrics for several jobs (a terminal array's tasks), each round one remote command for
   * all of them: the sizes of the logs not read yet, then reads until every file is read to its
   * end or `maxReads` rounds are done. Returns the points added.
   */
  async catchUpMetricsOf(jobIds: readonly string[], maxReads = 32): Promise<number> {
    const jobs = jobIds.map((id) => this.job(id));
    const budget = maxReads * METRICS_CHUNK_BYTES;
    const fresh = jobs.flatMap((j) => {
      const kept = j.submissionId ? null : keptOutputPaths(this.deps.store, j.jobKey);
      return kept && this.deps.metrics.cursor(j.jobKey, kept.stdout).offset === 0 ? [{ j, path: kept.stdout }] : [];
    });
    if (fresh.length > 0) {
      // A log longer than the reads allow: its end is what counts (the final numbers), so read
      // the last part, from the first whole line in it.
      const probes = await this.deps.files.readRanges(fresh.map((f) => ({ path: f.path, offset: -1, cap: 1 })));
      probes.forEach((probe, i) => {
        const f = fresh[i];
        if (f && probe.size && probe.size > budget) this.deps.metrics.setCursor(f.j.jobKey, f.path, { offset: probe.size - budget, state: { partial: '', skipLine: true } });
      });
    }
    let added = 0;
    let open = jobs.map((j) => j.jobKey);
    for (let i = 0; i < maxReads && open.length > 0; i++) {
      const read = await this.metricsReader.refresh(open);
      added += read.reduce((n, r) => n + r.added, 0);
      open = read.filter((r) => r.bytesRead > 0).map((r) => r.jobKey);
    }
    return added;
  }

  /** The last `lines` lines of the job's output, from at most the last 256 KB of the file. */
  async tail(jobId: string, lines = 20, stream: 'stdout' | 'stderr' = 'stdout'): Promise<TailResult> {
    const j = this.job(jobId);
    const path = (await this.outputPaths(j.jobKey))[stream];
    const [r] = await this.deps.files.readRanges([{ path, offset: -TAIL_CAP_BYTES, cap: TAIL_CAP_BYTES }]);
    if (!r || r.size === null) return { jobId: j.jobKey, lines: [], path, truncated: false };
    const all = r.data.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    // The first line was cut by the byte cap: leave that fragment out, unless it is all there is
    // (one line longer than the cap, such as a 10 MB line: its newest part beats "no output yet").
    if (r.start > 0 && all.length > 1) all.shift();
    const out = lines > 0 ? all.slice(-lines) : [];
    return { jobId: j.jobKey, lines: out, path, truncated: r.start > 0 || out.length < all.length };
  }

  /** New output since `offset` (at most `cap` bytes): what a live view reads on each refresh. */
  async readOutput(jobId: string, offset: number, stream: 'stdout' | 'stderr' = 'stdout', cap = 64 * 1024): Promise<{ text: string; nextOffset: number; size: number | null; bytesRead: number }> {
    const path = (await this.outputPaths(jobId))[stream];
    const [r] = await this.deps.files.readRanges([{ path, offset, cap }]);
    if (!r || r.size === null) return { text: '', nextOffset: offset, size: null, bytesRead: 0 };
    return { text: r.data.toString('utf8'), nextOffset: r.start + r.data.length, size: r.size, bytesRead: r.data.length };
  }

  /** Runs the triage actions decided at finalize time (bumps, resubmits, halts), each at most once. */
  runTriageActions(): Promise<TriageOutcome[]> {
    return runTriageActions({ store: this.deps.store, clock: this.deps.clock, logger: this.deps.logger, mode: () => this.deps.settings().triage.mode, cluster: this.deps.cluster, resubmit: (k, c) => this.resubmit(k, c) });
  }
}
