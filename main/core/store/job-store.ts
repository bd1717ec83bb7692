import type { SacctJob } from '../slurm/sacct-parser.js';
import type { SqueueRow } from '../slurm/squeue-parser.js';
import { isFinalState } from '../slurm/slurm-values.js';
import { decide, type Classification, type FailureClass, type TriageDecision, type TriageMode } from '../slurm/triage.js';
import type { Db } from './database.js';
import { SWEEP_FINISHED, TASK_PARAMS_EVENT, readSweepFacts, sweepAnchor, type SweepFacts } from './sweep-facts.js';

/** What noticed a state change: the app's own action, the queue, accounting, or the events file. */
export type TransitionSource = 'submit' | 'squeue' | 'sacct' | 'scontrol' | 'events' | 'adopt' | 'cancel';

export interface JobRow {
  jobKey: string;
  baseId: string;
  arrayTask: number | null;
  submissionId: string | null;
  sweepId: string;
  name: string;
  partition: string | null;
  state: string;
  reason: string | null;
  final: boolean;
  exitCode: number | null;
  signal: number | null;
  cancelledBy: number | null;
  elapsedSec: number | null;
  maxRssBytes: number | null;
  reqMemBytes: number | null;
  timeLimitSec: number | null;
  nodeList: string | null;
  startedAt: string | null;
  endedAt: string | null;
  failureClass: string | null;
  failureSignature: string | null;
  adopted: boolean;
  firstSeenAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface SubmissionRow {
  id: string;
  kind: 'template' | 'script';
  source: string;
  params: Record<string, unknown>;
  scriptHash: string;
  sbatchArgs: string[];
  scriptArgs: string[];
  remoteDir: string;
  scriptPath: string;
  wrapperPath: string;
  stdoutPattern: string;
  stderrPattern: string;
  baseId: string;
  arraySpec: string | null;
  sweepId: string;
  resubmitOf: string | null;
  submittedAt: number;
}

/** What recordSubmission needs besides the submission row. */
export interface SubmittedJobMeta {
  name: string;
  tasks: number[] | null;
  partition: string | null;
  reqMemBytes?: number | null;
  timeLimitSec?: number | null;
  /** A rendered grid's values per array task (index = task id): kept as each task's `task-params` event. */
  taskParams?: Record<string, string>[] | null;
}

/** A submission whose sbatch may have run but which was not recorded (see SUBMISSION_INTENTS_V3). */
export interface SubmissionIntent {
  submission: Omit<SubmissionRow, 'baseId'>;
  job: SubmittedJobMeta;
  createdAt: number;
}

export interface Transition {
  jobKey: string;
  from: string | null;
  to: string;
  source: TransitionSource;
  at: number;
}

export interface TriageActionRow {
  id: number;
  sweepId: string;
  jobKey: string;
  failureClass: FailureClass;
  action: string;
  detail: Record<string, unknown>;
  status: 'pending' | 'done' | 'failed';
}

export interface OutboxMessage {
  title: string;
  body: string;
  payload: Record<string, unknown>;
}

export interface FinalizeOptions {
  source: TransitionSource;
  now: number;
  classification: Classification;
  mode: TriageMode;
  /** Channels that get an outbox row, e.g. ['tray', 'slack']. */
  channels: readonly string[];
  /** The notification text for the final job and the triage decision. */
  compose: (job: JobRow, decision: TriageDecision) => OutboxMessage;
  /**
   * Sweeps (the tasks of an array HPC Relay submitted): a task that COMPLETED is not announced on
   * its own (its rows are written already delivered), and the end of the sweep's last task writes
   * one SWEEP_FINISHED row per channel with `compose`'s text (null: none, e.g. a halted rollout
   * already said how the sweep ended). Without it every task is a job of its own.
   */
  sweep?: SweepEndOptions;
}

export interface SweepEndOptions {
  compose: (facts: SweepFacts, last: JobRow) => OutboxMessage | null;
}

/** A claimed triage resubmit with no outcome after this long was lost to a crash: the sweep no longer waits for it. */
export const LOST_TRIAGE_ACTION_MS = 15 * 60_000;

export interface FinalizeResult {
  job: JobRow;
  decision: TriageDecision;
  transition: Transition;
}

interface RawJob {
  job_key: string; base_id: string; array_task: number | null; submission_id: string | null; sweep_id: string; name: string; partition: string | null;
  state: string; reason: string | null; final: number; exit_code: number | null; signal: number | null; cancelled_by: number | null;
  elapsed_sec: number | null; max_rss_bytes: number | null; req_mem_bytes: number | null; time_limit_sec: number | null; node_list: string | null;
  started_at: string | null; ended_at: string | null; failure_class: string | null; failure_signature: string | null; adopted: number;
  first_seen_at: number; updated_at: number; finished_at: number | null;
}

interface RawSubmission {
  id: string; kind: 'template' | 'script'; source: string; params: string; script_hash: string; sbatch_args: string; script_args: string; remote_dir: string;
  script_path: string; wrapper_path: string; stdout_pattern: string; stderr_pattern: string; base_id: string; array_spec: string | null; sweep_id: string;
  resubmit_of: string | null; submitted_at: number;
}

function toJob(r: RawJob): JobRow {
  return {
    jobKey: r.job_key, baseId: r.base_id, arrayTask: r.array_task, submissionId: r.submission_id, sweepId: r.sweep_id, name: r.name, partition: r.partition,
    state: r.state, reason: r.reason, final: r.final === 1, exitCode: r.exit_code, signal: r.signal, cancelledBy: r.cancelled_by, elapsedSec: r.elapsed_sec,
    maxRssBytes: r.max_rss_bytes, reqMemBytes: r.req_mem_bytes, timeLimitSec: r.time_limit_sec, nodeList: r.node_list, startedAt: r.started_at, endedAt: r.ended_at,
    failureClass: r.failure_class, failureSignature: r.failure_signature, adopted: r.adopted === 1, firstSeenAt: r.first_seen_at, updatedAt: r.updated_at, finishedAt: r.finished_at,
  };
}

function toSubmission(r: RawSubmission): SubmissionRow {
  return {
    id: r.id, kind: r.kind, source: r.source, params: JSON.parse(r.params) as Record<string, unknown>, scriptHash: r.script_hash,
    sbatchArgs: JSON.parse(r.sbatch_args) as string[], scriptArgs: JSON.parse(r.script_args) as string[], remoteDir: r.remote_dir, scriptPath: r.script_path,
    wrapperPath: r.wrapper_path, stdoutPattern: r.stdout_pattern, stderrPattern: r.stderr_pattern, baseId: r.base_id, arraySpec: r.array_spec, sweepId: r.sweep_id,
    resubmitOf: r.resubmit_of, submittedAt: r.submitted_at,
  };
}

const AUTO_ACTIONS = ['bump-mem', 'bump-time', 'resubmit'];

/**
 * Jobs, their transitions and events, submissions and triage actions. Every change that must
 * happen together (a final state, its transition, its outbox rows, its triage decision) is one
 * IMMEDIATE transaction, so the daemon and a CLI working on the same file never both act.
 */
export class JobStore {
  constructor(readonly db: Db) {}

  /**
   * The submission and its job rows (one per array task when the tasks are known). `reqMemBytes` and
   * `timeLimitSec` are what was asked for: sacct reports them only a moment after a job is
   * accounted, and a short job can end before that.
   */
  recordSubmission(s: SubmissionRow, job: SubmittedJobMeta): JobRow[] {
    return this.db.transaction(() => {
      this.db.prepare(`INSERT INTO submissions (id, kind, source, params, script_hash, sbatch_args, script_args, remote_dir, script_path, wrapper_path,
        stdout_pattern, stderr_pattern, base_id, array_spec, sweep_id, resubmit_of, submitted_at)
        VALUES (@id, @kind, @source, @params, @scriptHash, @sbatchArgs, @scriptArgs, @remoteDir, @scriptPath, @wrapperPath,
        @stdoutPattern, @stderrPattern, @baseId, @arraySpec, @sweepId, @resubmitOf, @submittedAt)`).run({
        ...s, params: JSON.stringify(s.params), sbatchArgs: JSON.stringify(s.sbatchArgs), scriptArgs: JSON.stringify(s.scriptArgs),
      });
      this.db.prepare('INSERT OR IGNORE INTO sweeps (id) VALUES (?)').run(s.sweepId);
      this.db.prepare('DELETE FROM submission_intents WHERE id = ?').run(s.id);
      // A job the queue listed before the submission was recorded (a recovered intent) was adopted: it is ours after all.
      this.db.prepare('UPDATE jobs SET submission_id = ?, sweep_id = ?, adopted = 0 WHERE base_id = ? AND submission_id IS NULL').run(s.id, s.sweepId, s.baseId);
      const keys = s.arraySpec === null ? [{ key: s.baseId, task: null }] : (job.tasks ?? []).map((t) => ({ key: `${s.baseId}_${t}`, task: t }));
      const hasParams = this.db.prepare('SELECT 1 FROM job_events WHERE job_key = ? AND kind = ?');
      for (const k of keys) {
        const params = k.task === null ? undefined : job.taskParams?.[k.task];
        if (params && !hasParams.get(k.key, TASK_PARAMS_EVENT)) this.addEvent(k.key, TASK_PARAMS_EVENT, { params }, s.submittedAt);
        if (this.get(k.key)) continue;
        this.insertJob({ key: k.key, baseId: s.baseId, arrayTask: k.task, submissionId: s.id, sweepId: s.sweepId, name: job.name, partition: job.partition, state: 'PENDING', timeLimitSec: job.timeLimitSec ?? null, reqMemBytes: job.reqMemBytes ?? null, adopted: false, now: s.submittedAt }, 'submit');
      }
      return this.db.prepare('SELECT * FROM jobs WHERE base_id = ? AND submission_id = ? ORDER BY array_task').all(s.baseId, s.id).map((r) => toJob(r as RawJob));
    }).immediate();
  }

  /** Written before sbatch runs; recordSubmission removes it (see SUBMISSION_INTENTS_V3). */
  recordIntent(id: string, intent: SubmissionIntent): void {
    this.db.prepare('INSERT INTO submission_intents (id, submission, job, created_at) VALUES (?, ?, ?, ?)')
      .run(id, JSON.stringify(intent.submission), JSON.stringify(intent.job), intent.createdAt);
  }

  /** sbatch refused it (nothing was submitted), or no job carries its marker: nothing to recover. */
  dropIntent(id: string): void {
    this.db.prepare('DELETE FROM submission_intents WHERE id = ?').run(id);
  }

  /** Submissions left between sbatch and their record, oldest first. */
  intents(): (SubmissionIntent & { id: string })[] {
    const rows = this.db.prepare('SELECT id, submission, job, created_at FROM submission_intents ORDER BY created_at, id').all() as { id: string; submission: string; job: string; created_at: number }[];
    return rows.map((r) => ({ id: r.id, submission: JSON.parse(r.submission) as SubmissionIntent['submission'], job: JSON.parse(r.job) as SubmittedJobMeta, createdAt: r.created_at }));
  }

  private insertJob(j: { key: string; baseId: string; arrayTask: number | null; submissionId: string | null; sweepId: string; name: string; partition: string | null; state: string; reason?: string | null; elapsedSec?: number | null; timeLimitSec?: number | null; reqMemBytes?: number | null; adopted: boolean; now: number }, source: TransitionSource): Transition {
    this.db.prepare(`INSERT INTO jobs (job_key, base_id, array_task, submission_id, sweep_id, name, partition, state, reason, elapsed_sec, time_limit_sec, req_mem_bytes, adopted, first_seen_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(j.key, j.baseId, j.arrayTask, j.submissionId, j.sweepId, j.name, j.partition, j.state, j.reason ?? null, j.elapsedSec ?? null, j.timeLimitSec ?? null, j.reqMemBytes ?? null, j.adopted ? 1 : 0, j.now, j.now);
    return this.addTransition({ jobKey: j.key, from: null, to: j.state, source, at: j.now });
  }

  private addTransition(t: Transition): Transition {
    this.db.prepare('INSERT INTO job_transitions (job_key, from_state, to_state, source, at) VALUES (?, ?, ?, ?, ?)').run(t.jobKey, t.from, t.to, t.source, t.at);
    return t;
  }

  get(key: string): JobRow | null {
    const r = this.db.prepare('SELECT * FROM jobs WHERE job_key = ?').get(key) as RawJob | undefined;
    return r ? toJob(r) : null;
  }

  /** Jobs of one submission (or of one SLURM job id, for arrays), task order. */
  byBaseId(baseId: string): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE base_id = ? ORDER BY array_task').all(baseId) as RawJob[]).map(toJob);
  }

  /** Newest first: by first sighting, then SLURM id, then task. */
  list(limit = 500): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY first_seen_at DESC, CAST(base_id AS INTEGER) DESC, array_task LIMIT ?').all(limit) as RawJob[]).map(toJob);
  }

  unfinished(): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE final = 0 ORDER BY CAST(base_id AS INTEGER), array_task').all() as RawJob[]).map(toJob);
  }

  sweepJobs(sweepId: string): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE sweep_id = ? ORDER BY CAST(base_id AS INTEGER), array_task').all(sweepId) as RawJob[]).map(toJob);
  }

  submission(id: string): SubmissionRow | null {
    const r = this.db.prepare('SELECT * FROM submissions WHERE id = ?').get(id) as RawSubmission | undefined;
    return r ? toSubmission(r) : null;
  }

  submissionByBaseId(baseId: string): SubmissionRow | null {
    const r = this.db.prepare('SELECT * FROM submissions WHERE base_id = ?').get(baseId) as RawSubmission | undefined;
    return r ? toSubmission(r) : null;
  }

  transitions(key: string): Transition[] {
    const rows = this.db.prepare('SELECT job_key, from_state, to_state, source, at FROM job_transitions WHERE job_key = ? ORDER BY id').all(key) as { job_key: string; from_state: string | null; to_state: string; source: TransitionSource; at: number }[];
    return rows.map((r) => ({ jobKey: r.job_key, from: r.from_state, to: r.to_state, source: r.source, at: r.at }));
  }

  /** Transitions after a given row id, for `watch`: [rowId, transition] pairs. */
  transitionsSince(afterId: number): { id: number; t: Transition }[] {
    const rows = this.db.prepare('SELECT id, job_key, from_state, to_state, source, at FROM job_transitions WHERE id > ? ORDER BY id').all(afterId) as { id: number; job_key: string; from_state: string | null; to_state: string; source: TransitionSource; at: number }[];
    return rows.map((r) => ({ id: r.id, t: { jobKey: r.job_key, from: r.from_state, to: r.to_state, source: r.source, at: r.at } }));
  }

  lastTransitionId(): number {
    return (this.db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM job_transitions').get() as { id: number }).id;
  }

  addEvent(key: string, kind: string, detail: Record<string, unknown>, at: number): void {
    this.db.prepare('INSERT INTO job_events (job_key, kind, detail, at) VALUES (?, ?, ?, ?)').run(key, kind, JSON.stringify(detail), at);
  }

  events(key: string): { kind: string; detail: Record<string, unknown>; at: number }[] {
    const rows = this.db.prepare('SELECT kind, detail, at FROM job_events WHERE job_key = ? ORDER BY id').all(key) as { kind: string; detail: string; at: number }[];
    return rows.map((r) => ({ kind: r.kind, detail: JSON.parse(r.detail) as Record<string, unknown>, at: r.at }));
  }

  /**
   * What one `squeue --me` says: updates known jobs (never a final one: the queue can lag behind
   * accounting), adopts the ones HPC Relay did not know (attached to its own submission when the
   * SLURM id is one it submitted, e.g. array tasks it could not list up front).
   */
  observeQueue(rows: readonly SqueueRow[], now: number): { adopted: string[]; transitions: Transition[] } {
    return this.db.transaction(() => {
      const adopted: string[] = [];
      const transitions: Transition[] = [];
      for (const r of rows) {
        const known = this.get(r.key);
        if (!known) {
          const sub = this.submissionByBaseId(r.baseId);
          transitions.push(this.insertJob({
            key: r.key, baseId: r.baseId, arrayTask: r.arrayTask, submissionId: sub?.id ?? null, sweepId: sub?.sweepId ?? `adopted:${r.baseId}`, name: r.name, partition: r.partition,
            state: r.state, reason: r.reason, elapsedSec: r.elapsedSec, timeLimitSec: r.timeLimitSec, adopted: !sub, now,
          }, sub ? 'squeue' : 'adopt'));
          if (!sub) adopted.push(r.key);
          continue;
        }
        if (known.final) continue;
        this.db.prepare('UPDATE jobs SET name = ?, partition = ?, state = ?, reason = ?, elapsed_sec = ?, time_limit_sec = COALESCE(?, time_limit_sec), updated_at = ? WHERE job_key = ?')
          .run(r.name, r.partition, r.state, r.reason, r.elapsedSec, r.timeLimitSec, now, r.key);
        if (known.state !== r.state) transitions.push(this.addTransition({ jobKey: r.key, from: known.state, to: r.state, source: 'squeue', at: now }));
      }
      return { adopted, transitions };
    }).immediate();
  }

  /**
   * Accounting for a job that has not ended (or that sacct lists before HPC Relay knew it):
   * numbers and state, no notification. A job not yet known is adopted from accounting.
   * `updateState` false keeps the state squeue reported (accounting can lag behind the queue).
   */
  observeAccounting(rec: SacctJob, source: TransitionSource, now: number, updateState = true): Transition | null {
    return this.db.transaction(() => {
      const known = this.get(rec.key);
      if (!known) {
        const sub = this.submissionByBaseId(rec.baseId);
        // A job first seen already ended enters as PENDING, so that finalize records how it ended.
        const state = isFinalState(rec.state) ? 'PENDING' : rec.state;
        return this.insertJob({ key: rec.key, baseId: rec.baseId, arrayTask: rec.arrayTask, submissionId: sub?.id ?? null, sweepId: sub?.sweepId ?? `adopted:${rec.baseId}`, name: rec.name, partition: null, state, adopted: !sub, now }, sub ? source : 'adopt');
      }
      if (known.final || isFinalState(rec.state)) return null;
      this.updateNumbers(rec, now);
      if (!updateState) return null;
      this.db.prepare('UPDATE jobs SET state = ? WHERE job_key = ?').run(rec.state, rec.key);
      return known.state === rec.state ? null : this.addTransition({ jobKey: rec.key, from: known.state, to: rec.state, source, at: now });
    }).immediate();
  }

  private updateNumbers(rec: SacctJob, now: number): void {
    this.db.prepare(`UPDATE jobs SET exit_code = ?, signal = ?, cancelled_by = ?, elapsed_sec = COALESCE(?, elapsed_sec), max_rss_bytes = COALESCE(?, max_rss_bytes),
      req_mem_bytes = COALESCE(?, req_mem_bytes), time_limit_sec = COALESCE(?, time_limit_sec), node_list = COALESCE(?, node_list), started_at = COALESCE(?, started_at),
      ended_at = COALESCE(?, ended_at), updated_at = ? WHERE job_key = ?`)
      .run(rec.exitCode, rec.signal, rec.cancelledBy, rec.elapsedSec, rec.maxRssBytes, rec.reqMemBytes, rec.timeLimitSec, rec.nodeList, rec.start, rec.end, now, rec.key);
  }

  /**
   * The one place a job becomes final: its numbers, the transition, the triage decision (made
   * here, inside the transaction, against what the sweep has already used) and one outbox row per
   * channel. Returns null when the job is unknown or already final: someone else got there first.
   */
  finalize(rec: SacctJob, o: FinalizeOptions): FinalizeResult | null {
    return this.db.transaction((): FinalizeResult | null => {
      const known = this.get(rec.key);
      if (!known || known.final) return null;
      this.updateNumbers(rec, o.now);
      const sig = o.classification.signature;
      this.db.prepare('UPDATE jobs SET state = ?, final = 1, finished_at = ?, failure_class = ?, failure_signature = ? WHERE job_key = ?')
        .run(rec.state, o.now, o.classification.failureClass, sig, rec.key);
      const job = this.get(rec.key) as JobRow;
      const transition = this.addTransition({ jobKey: rec.key, from: known.state, to: rec.state, source: o.source, at: o.now });

      const sweep = this.db.prepare('SELECT halted_at FROM sweeps WHERE id = ?').get(job.sweepId) as { halted_at: number | null } | undefined;
      const acted = this.db.prepare(`SELECT failure_class FROM triage_actions WHERE sweep_id = ? AND action IN (${AUTO_ACTIONS.map(() => '?').join(',')})`).all(job.sweepId, ...AUTO_ACTIONS) as { failure_class: FailureClass }[];
      const same = sig === null ? 0 : (this.db.prepare('SELECT count(*) AS n FROM jobs WHERE sweep_id = ? AND final = 1 AND failure_signature = ?').get(job.sweepId, sig) as { n: number }).n;
      let decision = decide(o.classification, o.mode, { halted: Boolean(sweep?.halted_at), actedOn: new Set(acted.map((a) => a.failure_class)), sameSignatureFailures: same }, job);
      if (!job.submissionId && AUTO_ACTIONS.includes(decision.action)) {
        decision = { action: 'notify', failureClass: decision.failureClass, reason: `${decision.reason.split(':')[0]}; it was not submitted by HPC Relay, so HPC Relay cannot resubmit it.` };
      }
      if (decision.action === 'halt') {
        this.db.prepare('INSERT INTO sweeps (id, halted_at, halt_reason) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET halted_at = COALESCE(halted_at, excluded.halted_at), halt_reason = COALESCE(halt_reason, excluded.halt_reason)')
          .run(job.sweepId, o.now, decision.reason);
      }
      if (decision.action !== 'none' && decision.action !== 'notify') {
        this.db.prepare("INSERT INTO triage_actions (sweep_id, job_key, failure_class, action, detail, status, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)")
          .run(job.sweepId, job.jobKey, decision.failureClass, decision.action, JSON.stringify({ changes: decision.changes ?? {}, reason: decision.reason }), o.now);
      }
      const msg = o.compose(job, decision);
      // A task of a sweep not yet announced that COMPLETED, or was cancelled (cancelling a 100-task
      // array must not send 100 messages), is told in the sweep's one notification: its rows are
      // written done (delivered_at set, never attempted), so nothing delivers them. A failure is
      // still told as it happens.
      const inSweep = o.sweep !== undefined && this.openSweepTask(job);
      const folded = inSweep && (job.state === 'COMPLETED' || job.state.startsWith('CANCELLED'));
      const insert = this.db.prepare('INSERT OR IGNORE INTO notification_outbox (job_key, final_state, channel, title, body, payload, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const ch of o.channels) insert.run(job.jobKey, job.state, ch, msg.title, msg.body, JSON.stringify(msg.payload), o.now, folded ? o.now : null);
      if (inSweep && o.sweep) this.closeSweep(job.sweepId, job, { now: o.now, channels: o.channels, sweep: o.sweep });
      return { job, decision, transition };
    }).immediate();
  }

  /**
   * A task of an array whose sweep has not been announced as finished yet: one HPC Relay
   * submitted, or one submitted from a terminal (adopted; `squeue --array` lists every task not
   * yet ended, and accounting the ones before, so the whole array is known before its tasks are
   * finalized). A terminal's 100-task array is then one message, like the app's own.
   */
  private openSweepTask(job: JobRow): boolean {
    if (job.arrayTask === null) return false;
    const anchor = sweepAnchor(this.db, job.sweepId);
    return anchor !== null && !this.db.prepare('SELECT 1 FROM notification_outbox WHERE job_key = ? AND final_state = ?').get(anchor, SWEEP_FINISHED);
  }

  /**
   * Writes the sweep's SWEEP_FINISHED rows when it is over: every job of it final and no triage
   * resubmit of it still to run (pending, or claimed and not finished for less than
   * LOST_TRIAGE_ACTION_MS). Runs inside the caller's transaction; rows are unique per (anchor
   * task, SWEEP_FINISHED, channel), so a sweep is announced once however often this runs.
   */
  private closeSweep(sweepId: string, last: JobRow, o: { now: number; channels: readonly string[]; sweep: SweepEndOptions }): boolean {
    if (!this.sweepOver(sweepId, o.now)) return false;
    const facts = readSweepFacts(this.db, sweepId);
    if (!facts) return false;
    const msg = o.sweep.compose(facts, last);
    if (!msg) return false;
    const insert = this.db.prepare('INSERT OR IGNORE INTO notification_outbox (job_key, final_state, channel, title, body, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    let n = 0;
    for (const ch of o.channels) n += insert.run(facts.anchorKey, SWEEP_FINISHED, ch, msg.title, msg.body, JSON.stringify(msg.payload), o.now).changes;
    return n > 0;
  }

  /**
   * Sweeps whose end no task's finalize could announce: the last task failed and triage's
   * resubmit of it failed too (or was lost to a crash). Each is announced once here (on the poll
   * tick); returns their ids.
   */
  settleSweeps(o: { now: number; channels: readonly string[]; sweep: SweepEndOptions }): string[] {
    const candidates = this.db.prepare(`SELECT DISTINCT t.sweep_id AS id, t.job_key AS job FROM triage_actions t
      WHERE t.action IN (${AUTO_ACTIONS.map(() => '?').join(',')}) AND (t.status = 'failed' OR (t.status = 'done' AND t.result IS NULL AND t.done_at <= ?))
      AND NOT EXISTS (SELECT 1 FROM notification_outbox o JOIN jobs j ON j.job_key = o.job_key WHERE j.sweep_id = t.sweep_id AND o.final_state = ?)`)
      .all(...AUTO_ACTIONS, o.now - LOST_TRIAGE_ACTION_MS, SWEEP_FINISHED) as { id: string; job: string }[];
    const out: string[] = [];
    for (const c of candidates) {
      const closed = this.db.transaction(() => {
        const job = this.get(c.job);
        if (!job || !this.openSweepTask(job)) return false;
        return this.closeSweep(c.id, job, o);
      }).immediate();
      if (closed) out.push(c.id);
    }
    return out;
  }

  /** Every job of the sweep has ended and no triage resubmit of it is still to run (see closeSweep). */
  sweepOver(sweepId: string, now: number): boolean {
    if (this.db.prepare('SELECT 1 FROM jobs WHERE sweep_id = ? AND final = 0 LIMIT 1').get(sweepId)) return false;
    const waiting = this.db.prepare(`SELECT 1 FROM triage_actions WHERE sweep_id = ? AND action IN (${AUTO_ACTIONS.map(() => '?').join(',')})
      AND (status = 'pending' OR (status = 'done' AND result IS NULL AND done_at > ?)) LIMIT 1`).get(sweepId, ...AUTO_ACTIONS, now - LOST_TRIAGE_ACTION_MS);
    return !waiting;
  }

  /** The sweep a job belongs to, as its end notification tells it (null: no array task in it). */
  sweepFacts(sweepId: string): SweepFacts | null {
    return readSweepFacts(this.db, sweepId);
  }

  /** The app's own cancel: recorded so `watch` shows who did it; sacct later makes it final. */
  noteCancelRequested(key: string, now: number): void {
    this.addEvent(key, 'cancel-requested', {}, now);
  }

  pendingTriageActions(): TriageActionRow[] {
    const rows = this.db.prepare("SELECT id, sweep_id, job_key, failure_class, action, detail, status FROM triage_actions WHERE status = 'pending' ORDER BY id").all() as
      { id: number; sweep_id: string; job_key: string; failure_class: FailureClass; action: string; detail: string; status: 'pending' }[];
    return rows.map((r) => ({ id: r.id, sweepId: r.sweep_id, jobKey: r.job_key, failureClass: r.failure_class, action: r.action, detail: JSON.parse(r.detail) as Record<string, unknown>, status: r.status }));
  }

  /**
   * Takes a pending action for this process; false when another process already took it. Taking it
   * marks it done at once: a crash mid-action loses that action rather than resubmitting twice.
   */
  claimTriageAction(id: number, now: number): boolean {
    return this.db.prepare("UPDATE triage_actions SET status = 'done', done_at = ? WHERE id = ? AND status = 'pending'").run(now, id).changes === 1;
  }

  finishTriageAction(id: number, ok: boolean, result: string, now: number): void {
    this.db.prepare('UPDATE triage_actions SET status = ?, result = ?, done_at = ? WHERE id = ?').run(ok ? 'done' : 'failed', result, now, id);
  }

  triageActions(sweepId: string): TriageActionRow[] {
    const rows = this.db.prepare('SELECT id, sweep_id, job_key, failure_class, action, detail, status FROM triage_actions WHERE sweep_id = ? ORDER BY id').all(sweepId) as
      { id: number; sweep_id: string; job_key: string; failure_class: FailureClass; action: string; detail: string; status: 'pending' | 'done' | 'failed' }[];
    return rows.map((r) => ({ id: r.id, sweepId: r.sweep_id, jobKey: r.job_key, failureClass: r.failure_class, action: r.action, detail: JSON.parse(r.detail) as Record<string, unknown>, status: r.status }));
  }

  sweepHalted(sweepId: string): boolean {
    const r = this.db.prepare('SELECT halted_at FROM sweeps WHERE id = ?').get(sweepId) as { halted_at: number | null } | undefined;
    return Boolean(r?.halted_at);
  }
}
