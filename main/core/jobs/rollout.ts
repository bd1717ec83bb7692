/**
 * Staged rollout of a sweep (a job array of four or more tasks): the whole array is submitted
 * held (`sbatch --hold`, one array id, one set of log names), then released in stages: task 0 as
 * the canary, then tasks 1–2, then the rest. A stage is released only when every task released
 * before it COMPLETED; any other end stops the sweep there: the tasks never released are cancelled
 * (`scancel`), one notification says why, and their own CANCELLED notifications are dropped (they
 * never ran: 97 "cancelled" pop-ups would only bury the one that matters).
 *
 * The plan lives in the store (its own module table), so a restart or a second process carries on
 * where the first stopped; a release is claimed in the store before it runs (compare and set), so
 * two processes never release the same stage twice.
 */
import type { ClusterService } from '../cluster/cluster-service.js';
import { describeError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import type { Db } from '../store/database.js';
import type { JobRow, JobStore } from '../store/job-store.js';
import { migrateModule } from '../store/module-migrations.js';
import type { OutboxStore } from '../store/outbox-store.js';

export type RolloutMode = 'staged' | 'all';

/** Arrays smaller than this run all at once: with three tasks the stages would be the whole array. */
export const ROLLOUT_MIN_TASKS = 4;

/** The outbox kind of the one notification a stopped rollout sends (on the first failed task). */
export const ROLLOUT_HALTED = 'ROLLOUT_HALTED';

const MIGRATIONS = [
  {
    version: 1,
    up: `CREATE TABLE rollouts (
      base_id TEXT PRIMARY KEY,
      submission_id TEXT NOT NULL,
      stages TEXT NOT NULL,
      released INTEGER NOT NULL DEFAULT 0,
      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'halted')),
      note TEXT,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE INDEX rollouts_running ON rollouts (status) WHERE status = 'running';`,
  },
];

export interface RolloutRow {
  baseId: string;
  submissionId: string;
  /** Task indexes per stage: [[0], [1, 2], [3, …]]. */
  stages: number[][];
  /** How many stages have been released. */
  released: number;
  status: 'running' | 'done' | 'halted';
  note: string | null;
}

/** Task indexes as SLURM's array spec, in runs: [0] -> `0`, [1, 2] -> `1-2`, [3, 4, 5, 9] -> `3-5,9`. */
export function taskSpec(tasks: readonly number[]): string {
  const sorted = [...new Set(tasks)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    runs.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(',');
}

/** The stages of an array's tasks: the first as canary, the next two, then the rest. */
export function rolloutStages(tasks: readonly number[]): number[][] {
  const sorted = [...new Set(tasks)].sort((a, b) => a - b);
  return [sorted.slice(0, 1), sorted.slice(1, 3), sorted.slice(3)].filter((s) => s.length > 0);
}

export class RolloutStore {
  constructor(private readonly db: Db) {
    migrateModule(db, 'rollout', MIGRATIONS);
  }

  create(baseId: string, submissionId: string, stages: number[][], now: number): void {
    this.db.prepare("INSERT OR IGNORE INTO rollouts (base_id, submission_id, stages, released, status, created_at, updated_at) VALUES (?, ?, ?, 0, 'running', ?, ?)")
      .run(baseId, submissionId, JSON.stringify(stages), now, now);
  }

  get(baseId: string): RolloutRow | null {
    const r = this.db.prepare('SELECT base_id, submission_id, stages, released, status, note FROM rollouts WHERE base_id = ?').get(baseId) as RawRollout | undefined;
    return r ? toRow(r) : null;
  }

  running(): RolloutRow[] {
    return (this.db.prepare("SELECT base_id, submission_id, stages, released, status, note FROM rollouts WHERE status = 'running' ORDER BY created_at").all() as RawRollout[]).map(toRow);
  }

  /** Moves `released` from `from` to `to` if nobody else did: true when this caller got it. */
  claim(baseId: string, from: number, to: number, now: number): boolean {
    return this.db.prepare("UPDATE rollouts SET released = ?, updated_at = ? WHERE base_id = ? AND released = ? AND status = 'running'").run(to, now, baseId, from).changes === 1;
  }

  /** Ends a running rollout (done or halted) if nobody else did: true when this caller got it. */
  finish(baseId: string, status: 'done' | 'halted', note: string | null, now: number): boolean {
    return this.db.prepare("UPDATE rollouts SET status = ?, note = ?, updated_at = ? WHERE base_id = ? AND status = 'running'").run(status, note, now, baseId).changes === 1;
  }
}

interface RawRollout {
  base_id: string; submission_id: string; stages: string; released: number; status: RolloutRow['status']; note: string | null;
}

function toRow(r: RawRollout): RolloutRow {
  return { baseId: r.base_id, submissionId: r.submission_id, stages: JSON.parse(r.stages) as number[][], released: r.released, status: r.status, note: r.note };
}

export interface RolloutDeps {
  store: JobStore;
  rollouts: RolloutStore;
  outbox: OutboxStore;
  cluster: () => ClusterService;
  clock: Clock;
  logger: Logger;
  /** Outbox channels for the halt notification (tray, slack), read when it is sent. */
  channels: () => string[];
}

const stateOf = (j: JobRow | null): string => j?.state ?? 'unknown';

/** Starts, advances and stops staged rollouts; every step is idempotent and safe to repeat. */
export class Rollouts {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: RolloutDeps) {}

  /** Records the plan for an array just submitted held, and releases its canary. */
  async start(baseId: string, submissionId: string, tasks: readonly number[]): Promise<RolloutRow | null> {
    this.deps.rollouts.create(baseId, submissionId, rolloutStages(tasks), this.deps.clock.now());
    await this.advance();
    return this.deps.rollouts.get(baseId);
  }

  /** One pass over every running rollout (after a job ends, and on every tick). Passes run one at a time. */
  advance(): Promise<void> {
    const run = this.queue.then(() => this.pass());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Whether the staged rollout of this array stopped (its ROLLOUT_HALTED notification tells how the sweep ended). */
  halted(baseId: string): boolean {
    return this.deps.rollouts.get(baseId)?.status === 'halted';
  }

  /**
   * A job end to leave unannounced: a task the rollout never released, cancelled because the
   * rollout stopped (the halt notification already says so).
   */
  silenced(jobKey: string, state: string): boolean {
    if (state !== 'CANCELLED') return false;
    const m = /^(\d+)_(\d+)$/.exec(jobKey);
    if (!m?.[1]) return false;
    const r = this.deps.rollouts.get(m[1]);
    if (r?.status !== 'halted') return false;
    const task = Number(m[2]);
    return r.stages.slice(r.released).some((s) => s.includes(task));
  }

  private async pass(): Promise<void> {
    for (const r of this.deps.rollouts.running()) {
      try {
        await this.step(r);
      } catch (e) {
        this.deps.logger.warn('staged rollout step failed; it is tried again at the next job end or tick', { array: r.baseId, error: describeError(e) });
      }
    }
  }

  private async step(r: RolloutRow): Promise<void> {
    const { store, rollouts, clock } = this.deps;
    const released = r.stages.slice(0, r.released).flat();
    const jobs = released.map((t) => store.get(`${r.baseId}_${t}`));
    // The stage out there has not finished yet.
    if (jobs.some((j) => !j?.final)) return;
    const bad = jobs.filter((j): j is JobRow => j !== null && j.state !== 'COMPLETED');
    if (bad.length > 0) {
      await this.halt(r, bad);
      return;
    }
    if (r.released >= r.stages.length) {
      rollouts.finish(r.baseId, 'done', null, clock.now());
      this.deps.logger.info('staged rollout done', { array: r.baseId, tasks: released.length });
      return;
    }
    const next = r.stages[r.released] ?? [];
    if (!rollouts.claim(r.baseId, r.released, r.released + 1, clock.now())) return;
    const cluster = this.deps.cluster();
    const res = await cluster.exec(['scontrol', 'release', `${r.baseId}_[${taskSpec(next)}]`], { timeoutMs: 60_000 });
    // scontrol says "already running" for a task someone released by hand: what counts is that none is still held.
    if (res.code !== 0 && (await this.stillHeld(r.baseId, next)) !== 0) {
      rollouts.claim(r.baseId, r.released + 1, r.released, clock.now());
      throw new Error(`scontrol release failed: ${(res.stderr || res.stdout).trim().slice(0, 300)}`);
    }
    this.deps.logger.info('staged rollout: stage released', { array: r.baseId, stage: r.released + 1, of: r.stages.length, tasks: next.length });
  }

  /** How many of the tasks the queue still lists as held by the user (-1 when the queue cannot be read). */
  private async stillHeld(baseId: string, tasks: readonly number[]): Promise<number> {
    const q = await this.deps.cluster().exec(['squeue', '--array', '--noheader', '-j', baseId, '--format=%i|%r'], { timeoutMs: 60_000 }).catch(() => null);
    if (!q || q.code !== 0) return -1;
    const want = new Set(tasks.map((t) => `${baseId}_${t}`));
    return q.stdout.split('\n').filter((l) => want.has(l.split('|')[0] ?? '') && l.endsWith('|JobHeldUser')).length;
  }

  private async halt(r: RolloutRow, bad: JobRow[]): Promise<void> {
    const { rollouts, clock } = this.deps;
    const held = r.stages.slice(r.released).flat();
    const first = bad[0] as JobRow;
    const what = bad.map((j) => `task ${j.arrayTask ?? j.jobKey} ${j.state}${j.exitCode !== null && j.state === 'FAILED' ? ` (exit ${j.exitCode}:${j.signal ?? 0})` : ''}`).join(', ');
    const stage = r.released === 1 ? 'its canary' : `stage ${r.released} of ${r.stages.length}`;
    const note = `Sweep ${r.baseId} stopped after ${stage}: ${what}. ${held.length} task(s) that had not started were cancelled.`;
    if (!rollouts.finish(r.baseId, 'halted', note, clock.now())) return;
    if (held.length > 0) {
      // Only the held tasks: a task of a stage already out that is still running is not touched.
      await this.deps.cluster().run(['scancel', `${r.baseId}_[${taskSpec(held)}]`], { timeoutMs: 60_000 }).catch((e: unknown) => {
        this.deps.logger.warn('could not cancel the held tasks of a stopped rollout', { array: r.baseId, error: describeError(e) });
      });
    }
    this.deps.logger.warn('staged rollout stopped', { array: r.baseId, failed: bad.map((j) => `${j.jobKey}:${stateOf(j)}`), cancelled: held.length });
    // On the first failed task's row (the outbox belongs to jobs; the array's base id is none).
    this.deps.outbox.enqueue(first.jobKey, ROLLOUT_HALTED, this.deps.channels(), {
      title: `✗ sweep ${first.name ? `${first.name} ` : ''}(${r.baseId}) stopped after ${stage}`,
      body: note,
      // A job report's fields, so the Slack reporter reads it like a job end (with the note).
      payload: {
        jobId: first.jobKey, name: first.name, state: 'HALTED', exitCode: first.exitCode === null ? null : `${first.exitCode}:${first.signal ?? 0}`, elapsedSec: first.elapsedSec,
        timeLimitSec: first.timeLimitSec, maxRssBytes: first.maxRssBytes, reqMemBytes: first.reqMemBytes, nodeList: first.nodeList, adopted: false, failureClass: first.failureClass ?? 'canary-failed',
        triage: { action: 'halt', reason: note },
      },
    }, clock.now());
  }
}
