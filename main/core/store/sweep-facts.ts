/**
 * What a sweep (the tasks of one app-submitted job array, and the tasks triage or the user
 * resubmitted into the same sweep) amounts to once it is over: each task's latest attempt, its
 * state and failure class, its grid values (recorded at submit time as a `task-params` job event)
 * and the best value of the sweep's key metric (see keyMetric) among the metrics read so far.
 * Read inside JobStore.finalize's transaction (the sweep-end notification) and again when the
 * notification is delivered (with the final metric reads done).
 */
import { keyMetric } from '../slurm/metrics-parser.js';
import type { Db } from './database.js';
import { MetricsStore } from './metrics-store.js';

/** The outbox kind (final_state) of the one notification per channel that says a sweep is over. */
export const SWEEP_FINISHED = 'SWEEP_FINISHED';

/** The job event that holds an array task's grid values (`{ params: { lr: '0.01' } }`). */
export const TASK_PARAMS_EVENT = 'task-params';

export interface SweepTaskFacts {
  /** SLURM_ARRAY_TASK_ID. */
  task: number;
  /** The latest attempt's job key (`123_4`, or `130_4` for a resubmitted task). */
  jobKey: string;
  state: string;
  failureClass: string | null;
  exitCode: number | null;
  signal: number | null;
  elapsedSec: number | null;
  /** How many times the task ran in this sweep (2 or more: resubmitted). */
  attempts: number;
  /** The task's grid values (the sweep template); null for a plain script's array. */
  params: Record<string, string> | null;
  /** The best value of the sweep's key metric in this attempt; null when it has none yet. */
  best: { value: number; step: number } | null;
}

export interface SweepFacts {
  sweepId: string;
  /** The job key every sweep-end outbox row is filed under: the sweep's first task. */
  anchorKey: string;
  name: string;
  /** The SLURM array ids that make up the sweep, first submitted first. */
  baseIds: string[];
  /** One entry per task index (its latest attempt), task order. */
  tasks: SweepTaskFacts[];
  /** The key metric (val_acc, else a loss, …) over every task's series; null when none has one. */
  metric: { name: string; goal: 'max' | 'min' } | null;
  /** From the first task's start to the last task's end, in seconds; null when unknown. */
  spanSec: number | null;
}

interface RawTask {
  job_key: string; base_id: string; array_task: number; name: string; state: string; failure_class: string | null; exit_code: number | null; signal: number | null;
  elapsed_sec: number | null; started_at: string | null; ended_at: string | null; first_seen_at: number; finished_at: number | null;
}

/** The sweep's array tasks, oldest attempt first (first sighting, then insertion order). */
function taskRows(db: Db, sweepId: string): RawTask[] {
  return db.prepare(`SELECT job_key, base_id, array_task, name, state, failure_class, exit_code, signal, elapsed_sec, started_at, ended_at, first_seen_at, finished_at
    FROM jobs WHERE sweep_id = ? AND array_task IS NOT NULL ORDER BY first_seen_at, rowid`).all(sweepId) as RawTask[];
}

/** The job key sweep-end rows are filed under (the first task recorded), or null for no array task. */
export function sweepAnchor(db: Db, sweepId: string): string | null {
  const r = db.prepare('SELECT job_key FROM jobs WHERE sweep_id = ? AND array_task IS NOT NULL ORDER BY first_seen_at, rowid LIMIT 1').get(sweepId) as { job_key: string } | undefined;
  return r?.job_key ?? null;
}

function paramsOf(db: Db, keys: readonly string[]): Record<string, string> | null {
  const q = db.prepare('SELECT detail FROM job_events WHERE job_key = ? AND kind = ? ORDER BY id DESC LIMIT 1');
  for (const k of keys) {
    const r = q.get(k, TASK_PARAMS_EVENT) as { detail: string } | undefined;
    if (!r) continue;
    const p = (JSON.parse(r.detail) as { params?: unknown }).params;
    if (p && typeof p === 'object') return Object.fromEntries(Object.entries(p as Record<string, unknown>).map(([n, v]) => [n, String(v)]));
  }
  return null;
}

/** SLURM's local timestamps (`2024-05-01T10:00:00`): compared with each other only. */
function epochSec(t: string | null): number | null {
  if (!t) return null;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

export function readSweepFacts(db: Db, sweepId: string): SweepFacts | null {
  const rows = taskRows(db, sweepId);
  const first = rows[0];
  if (!first) return null;
  const byTask = new Map<number, RawTask[]>();
  for (const r of rows) byTask.set(r.array_task, [...(byTask.get(r.array_task) ?? []), r]);
  const metrics = new MetricsStore(db);
  const extremes = new Map(rows.map((r) => [r.job_key, metrics.extremes(r.job_key)]));
  const metric = keyMetric(new Set([...extremes.values()].flatMap((e) => e.map((x) => x.series))));
  const tasks: SweepTaskFacts[] = [...byTask].sort(([a], [b]) => a - b).map(([task, attempts]) => {
    const last = attempts.at(-1) as RawTask;
    const e = metric ? extremes.get(last.job_key)?.find((x) => x.series === metric.name) : undefined;
    return {
      task, jobKey: last.job_key, state: last.state, failureClass: last.failure_class, exitCode: last.exit_code, signal: last.signal, elapsedSec: last.elapsed_sec,
      attempts: attempts.length, params: paramsOf(db, [...attempts].reverse().map((a) => a.job_key)),
      best: e && metric ? (metric.goal === 'max' ? e.max : e.min) : null,
    };
  });
  const starts = rows.map((r) => epochSec(r.started_at)).filter((v): v is number => v !== null);
  const ends = rows.map((r) => epochSec(r.ended_at)).filter((v): v is number => v !== null);
  let spanSec: number | null = starts.length > 0 && ends.length > 0 ? Math.max(0, Math.max(...ends) - Math.min(...starts)) : null;
  if (spanSec === null) {
    // Without accounting's times: from the first sighting to the last end, as this process saw them.
    const done = rows.map((r) => r.finished_at).filter((v): v is number => v !== null);
    spanSec = done.length > 0 ? Math.max(0, Math.round((Math.max(...done) - Math.min(...rows.map((r) => r.first_seen_at))) / 1000)) : null;
  }
  return { sweepId, anchorKey: first.job_key, name: first.name, baseIds: [...new Set(rows.map((r) => r.base_id))], tasks, metric, spanSec };
}
