import { formatDuration } from '../slurm/slurm-values.js';
import type { OutboxMessage } from '../store/job-store.js';
import type { SweepFacts, SweepTaskFacts } from '../store/sweep-facts.js';

/**
 * What a channel needs to report a sweep's end: the facts (tasks, states, grid values, each
 * task's best key-metric value) as JobStore read them; the Slack reporter reads them again at
 * delivery, after the last tasks' final metric reads. `idempotencyKey` as for job ends.
 */
export interface SweepEndReport {
  idempotencyKey: string;
  sweepId: string;
  facts: SweepFacts;
  title: string;
  body: string;
}

/** How many tasks the ranking shows. */
export const SWEEP_TOP = 5;

const STATE_WORDS: Record<string, string> = {
  COMPLETED: 'completed', FAILED: 'failed', TIMEOUT: 'timed out', OUT_OF_MEMORY: 'out of memory', NODE_FAIL: 'node failure', CANCELLED: 'cancelled',
  PREEMPTED: 'preempted', BOOT_FAIL: 'boot failure', DEADLINE: 'past deadline',
};

/** "12 tasks: 10 completed, 2 failed" (completed first, then by count). */
export function sweepCounts(facts: Pick<SweepFacts, 'tasks'>): string {
  const counts = new Map<string, number>();
  for (const t of facts.tasks) {
    const w = STATE_WORDS[t.state] ?? (t.state.startsWith('CANCELLED') ? 'cancelled' : t.state.toLowerCase());
    counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  const parts = [...counts].sort(([a, x], [b, y]) => (a === 'completed' ? -1 : b === 'completed' ? 1 : y - x)).map(([w, n]) => `${n} ${w}`);
  const n = facts.tasks.length;
  return `${n} task${n === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/** A metric value, short: 0.91234567 → 0.9123; NaN/inf as such. */
export function metricText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(Number(v.toPrecision(4)));
}

/** `lr=0.02 batch_size=64`; null for a task without grid values. */
export function paramText(params: Record<string, string> | null): string | null {
  if (!params) return null;
  const s = Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
  return s || null;
}

/** Tasks with a key-metric value, best first (ties: lower task first). */
export function rankTasks(facts: Pick<SweepFacts, 'tasks' | 'metric'>): SweepTaskFacts[] {
  const goal = facts.metric?.goal;
  if (!goal) return [];
  return facts.tasks.filter((t) => t.best !== null).sort((a, b) => {
    const d = (b.best?.value ?? 0) - (a.best?.value ?? 0);
    return (goal === 'max' ? d : -d) || a.task - b.task;
  });
}

/** Tasks that ended in any state but COMPLETED (their latest attempt). */
export function failedTasks(facts: Pick<SweepFacts, 'tasks'>): SweepTaskFacts[] {
  return facts.tasks.filter((t) => t.state !== 'COMPLETED');
}

/** "task 3 (lr=0.02)" or "task 3". */
export function taskLabel(t: Pick<SweepTaskFacts, 'task' | 'params'>): string {
  const p = paramText(t.params);
  return `task ${t.task}${p ? ` (${p})` : ''}`;
}

/** The task to name as best: the top-ranked one that COMPLETED (else the top-ranked one). */
export function bestTask(facts: Pick<SweepFacts, 'tasks' | 'metric'>): SweepTaskFacts | undefined {
  const ranked = rankTasks(facts);
  return ranked.find((t) => t.state === 'COMPLETED') ?? ranked[0];
}

/** "best: task 3 (lr=0.02) val_acc 0.91", or null when no task has a key-metric value. */
export function bestLine(facts: Pick<SweepFacts, 'tasks' | 'metric'>): string | null {
  const best = bestTask(facts);
  if (!best?.best || !facts.metric) return null;
  return `best: ${taskLabel(best)} ${facts.metric.name} ${metricText(best.best.value)}`;
}

export function sweepLabel(facts: Pick<SweepFacts, 'name' | 'baseIds'>): string {
  const ids = facts.baseIds.length > 1 ? `${facts.baseIds[0]} +${facts.baseIds.length - 1} resubmitted` : (facts.baseIds[0] ?? '');
  return `${facts.name ? `${facts.name} ` : ''}(${ids})`;
}

/** What the array is called: a sweep HPC Relay submitted, or a job array submitted from a terminal (adopted). */
export function sweepNoun(facts: Pick<SweepFacts, 'sweepId'>): 'sweep' | 'array' {
  return facts.sweepId.startsWith('adopted:') ? 'array' : 'sweep';
}

/** Title and body of the one sweep-end notification (the tray shows them; Slack builds its own report). */
export function composeSweepEnd(facts: SweepFacts): OutboxMessage {
  const failed = failedTasks(facts);
  const title = `${failed.length === 0 ? '✓' : '✗'} ${sweepNoun(facts)} ${sweepLabel(facts)} finished: ${sweepCounts(facts)}`;
  const lines: string[] = [];
  const best = bestLine(facts);
  if (best) lines.push(`${best[0]?.toUpperCase() ?? ''}${best.slice(1)}.`);
  const top = bestTask(facts);
  const ranked = rankTasks(facts).filter((t) => t !== top).slice(0, SWEEP_TOP - 1);
  if (ranked.length > 0 && facts.metric) lines.push(`Next: ${ranked.map((t) => `task ${t.task} ${metricText(t.best?.value ?? Number.NaN)}${t.state === 'COMPLETED' ? '' : ` (${t.state})`}`).join(', ')}.`);
  if (failed.length > 0) {
    const shown = failed.slice(0, 5).map((t) => `task ${t.task} ${t.state}${t.failureClass ? ` (${t.failureClass})` : ''}`);
    lines.push(`Not completed: ${shown.join(', ')}${failed.length > shown.length ? ` and ${failed.length - shown.length} more` : ''}.`);
  }
  const retried = facts.tasks.filter((t) => t.attempts > 1).length;
  if (retried > 0) lines.push(`${retried} task${retried === 1 ? ' was' : 's were'} resubmitted; the last attempt counts.`);
  if (facts.spanSec !== null) lines.push(`Took ${formatDuration(facts.spanSec)}.`);
  return { title, body: lines.join(' ') || 'No metrics were recorded.', payload: { sweepId: facts.sweepId, facts } as unknown as Record<string, unknown> };
}
