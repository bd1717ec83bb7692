/**
 * The `status` reply: one row per job, and one row per job array (folded by jobs/job-groups.ts),
 * so a 100-task array is one line on a phone instead of forty rows and "…and 60 more".
 */
import type { JobSummary } from './jobs-api.js';
import { countStates, foldArrays } from '../jobs/job-groups.js';
import { clipText, codeBlock, formatDuration, table } from './format.js';
import { reportValue } from './job-report.js';

export const MAX_STATUS_ROWS = 40;

interface StatusRow {
  id: string;
  state: string;
  elapsedSec: number | null;
  best: JobSummary['best'] | undefined;
  name: string;
  where: string;
}

/** Rows in the list's order, arrays folded (jobs/job-groups.ts). */
export function statusRows(list: readonly JobSummary[]): StatusRow[] {
  return foldArrays(list).map((e) => (e.kind === 'job'
    ? { id: e.job.jobId, state: e.job.state, elapsedSec: e.job.elapsedSec, best: e.job.best, name: e.job.name, where: e.job.where ?? '' }
    : { id: e.id, state: e.state, elapsedSec: e.elapsedSec, best: e.best, name: e.tasks[0]?.name ?? '', where: `${e.tasks.length} tasks` }));
}

/** The whole reply text: a heading with the counts by state, then the table. */
export function statusText(list: readonly JobSummary[]): string {
  if (list.length === 0) return 'No tracked jobs.';
  const all = statusRows(list);
  const shown = all.slice(0, MAX_STATUS_ROWS);
  // The BEST column (the key metric's best value, e.g. `val_acc 0.8731`) only when a row has one.
  const withBest = shown.some((r) => r.best);
  const rows = shown.map((r) => [
    clipText(r.id, 40), clipText(r.state, 60), formatDuration(r.elapsedSec), ...(withBest ? [r.best ? `${clipText(r.best.series, 24)} ${reportValue(r.best.value)}` : ''] : []), clipText(r.name, 40), clipText(r.where, 40),
  ]);
  const more = all.length > MAX_STATUS_ROWS ? `\n…and ${all.length - MAX_STATUS_ROWS} more.` : '';
  const head = `*${list.length} job${list.length === 1 ? '' : 's'}* (${countStates(list.map((j) => j.state))})`;
  return `${head}\n${codeBlock(table(['JOB', 'STATE', 'ELAPSED', ...(withBest ? ['BEST'] : []), 'NAME', 'WHERE'], rows))}${more}`;
}
