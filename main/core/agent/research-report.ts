import { clipText, code, codeBlock, escapeText, table } from '../slack/format.js';
import type { RunValue } from '../slack/chart.js';
import type { RunRow } from '../store/agent-store.js';
import { better, meetsTarget, type ResearchGoal } from './research-goal.js';
import type { JobMetrics, ParamValue } from './services.js';

/**
 * What the research loop says when it ends, built in code from the store (no model call, the same
 * text for the same runs): why it stopped, a table of every run in order (its number, job, the
 * values it varied, the metric's best and final value, its state) with the best run marked, the
 * target and how close the best got, the model cost; and the numbers for the chart of runs.
 *
 * Everything that came from outside (values from the goal or the model, SLURM states, error text)
 * is escaped for Slack mrkdwn or sits inside a code block; the caller redacts secrets.
 */

/** Slack mrkdwn's control characters escaped, except the user mentions the relay itself wrote (`stopped by <@U…>`). */
export function slackText(text: string): string {
  return escapeText(text).replace(/&lt;@([UW][A-Z0-9]{2,20})&gt;/g, '<@$1>');
}

export function fmtMetric(v: number | null): string {
  if (v === null) return 'no result';
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(v) : v.toPrecision(3);
}

export const showParams = (p: Record<string, ParamValue>): string => Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '(defaults)';

/** The operator and target, e.g. `≥ 0.85`. */
export function targetText(goal: Pick<ResearchGoal, 'direction' | 'strict' | 'target'>): string {
  return `${goal.direction === 'max' ? (goal.strict ? '>' : '≥') : (goal.strict ? '<' : '≤')} ${goal.target}`;
}

/** The key the loop keeps a run's last value of the metric under, beside summary.json's numbers. */
export const finalKey = (metric: string): string => `final.${metric}`;

/** The last finite value of the metric's series, else summary.json's `final.<metric>`; null when neither. */
export function finalMetric(m: JobMetrics | null, metric: string): number | null {
  if (!m) return null;
  const pts = (m.series[metric] ?? []).map((p) => p.value).filter((v): v is number => v !== null && Number.isFinite(v));
  const last = pts.at(-1);
  if (last !== undefined) return last;
  const v = m.summary[finalKey(metric)];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function bestRunOf(goal: Pick<ResearchGoal, 'direction'>, runs: readonly RunRow[]): { run: RunRow; index: number } | null {
  let out: { run: RunRow; index: number } | null = null;
  runs.forEach((run, index) => {
    if (run.metric !== null && (out === null || better(goal, run.metric, out.run.metric ?? run.metric))) out = { run, index };
  });
  return out;
}

/** A run's state in a word: COMPLETED, FAILED, SUBMIT_FAILED, LOST, running. */
function stateOf(r: RunRow): string {
  if (r.status === 'running' || r.status === 'submitting') return r.status;
  const s = r.finalState ?? r.status.toUpperCase();
  return clipText(s.split(':')[0]?.trim() || s, 24);
}

const CELL = 24;

/** The runs as a fixed-width table (for a code block): one row per run in order, the best marked `← best`. */
export function runsTable(goal: ResearchGoal, runs: readonly RunRow[]): string {
  const best = bestRunOf(goal, runs);
  const varied = (r: RunRow) => Object.entries(r.params).filter(([k]) => !Object.hasOwn(goal.fixed, k));
  const names: string[] = [];
  for (const r of runs) for (const [k] of varied(r)) if (!names.includes(k)) names.push(k);
  const header = ['#', 'job', ...names.map((n) => clipText(n, CELL)), `best ${clipText(goal.metric, CELL)}`, 'final', 'state', ''];
  const rows = runs.map((r, i) => {
    const values = Object.fromEntries(varied(r));
    const last = r.metrics?.[finalKey(goal.metric)];
    return [
      String(i + 1),
      clipText(r.jobId ?? '—', CELL),
      ...names.map((n) => (Object.hasOwn(values, n) ? clipText(String(values[n]), CELL) : 'default')),
      r.metric !== null ? fmtMetric(r.metric) : r.status === 'running' || r.status === 'submitting' ? '—' : 'no metric',
      typeof last === 'number' && Number.isFinite(last) ? fmtMetric(last) : '—',
      stateOf(r),
      best?.index === i ? '← best' : '',
    ];
  });
  return table(header, rows);
}

/** How close the best run came to the target, in one sentence. */
export function targetLine(goal: ResearchGoal, runs: readonly RunRow[]): string {
  const best = bestRunOf(goal, runs);
  const head = `Target ${goal.metric} ${targetText(goal)}`;
  if (!best || best.run.metric === null) return `${head}: not reached; no run produced ${goal.metric}.`;
  const v = best.run.metric;
  const who = `#${best.index + 1}, job ${best.run.jobId ?? '?'}`;
  if (meetsTarget(goal, v)) return `${head}: met, best ${fmtMetric(v)} (${who}).`;
  const gap = Math.abs(goal.target - v);
  return `${head}: not reached; the best, ${fmtMetric(v)} (${who}), is ${fmtMetric(Number(gap.toPrecision(6)))} short.`;
}

export interface EndReportInput {
  goal: ResearchGoal;
  runs: readonly RunRow[];
  /** `Research done` / `Research stopped` / `Research failed`. */
  head: string;
  reason: string;
  rounds: number;
  /** The model's cost for the loop, formatted (`$0.04`). */
  cost: string;
}

/** The end-of-loop post (Slack mrkdwn). */
export function endReport(i: EndReportInput): string {
  const { goal, runs } = i;
  const best = bestRunOf(goal, runs);
  const open = runs.filter((r) => r.status === 'running' && r.jobId);
  const bestText = best
    ? `best ${goal.metric} ${fmtMetric(best.run.metric)} by #${best.index + 1} (job ${best.run.jobId ?? '?'}: ${showParams(best.run.params)})`
    : `no run produced ${goal.metric}`;
  const lines = [
    slackText(`${i.head}: ${i.reason}. ${bestText}. ${runs.length} run${runs.length === 1 ? '' : 's'} in ${i.rounds} round${i.rounds === 1 ? '' : 's'}; model cost ${i.cost}.`),
    slackText(targetLine(goal, runs)),
  ];
  if (runs.length) {
    const fixed = Object.entries(goal.fixed);
    lines.push(slackText(`Every run${fixed.length ? ` (all with ${fixed.map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}:`));
    lines.push(codeBlock(runsTable(goal, runs)));
  }
  if (open.length) lines.push(`Still running (not cancelled): ${open.map((r) => code(r.jobId ?? '')).join(', ')}.`);
  return lines.join('\n');
}

/** The chart's numbers: every run's best value of the metric by run number (null: none). */
export function runValues(runs: readonly RunRow[]): RunValue[] {
  return runs.map((r, i) => ({ run: i + 1, value: r.metric }));
}

/** What the chart shows, for screen readers (and as its title's companion). */
export function chartAltText(goal: ResearchGoal, runs: readonly RunRow[]): string {
  const best = bestRunOf(goal, runs);
  const none = runs.filter((r) => r.metric === null).length;
  return `${goal.metric}, the best of each of ${runs.length} run${runs.length === 1 ? '' : 's'} by run number; target ${targetText(goal)}${best ? `; best ${fmtMetric(best.run.metric)} by run ${best.index + 1}` : ''}${none ? `; ${none} without a result` : ''}.`;
}
