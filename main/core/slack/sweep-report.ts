/**
 * The one Slack report of a sweep's end: counts by state, how long it took, the tasks ranked by
 * the sweep's key metric (top 5, each with its grid values), the best task named, the tasks that
 * did not complete with their failure class, and buttons for the best task (tail, resubmit,
 * suggest next). Its thread gets one chart PNG comparing the tasks' key-metric curves (the best
 * SWEEP_CHART_SERIES of them; the report says when more were left out).
 *
 * Posted through the job reporter's sender, channel and thread memory, exactly once the same way
 * (see job-report.ts): the post carries metadata with its delivery key and an attempt id, the
 * attempt is written down first, and a post or chart whose outcome is unknown is looked up in
 * Slack before it is sent again. Every task parameter, name and state is escaped.
 */
import type { Core } from '../index.js';
import { describeError } from '../errors.js';
import { bestLine, bestTask, failedTasks, metricText, paramText, rankTasks, sweepCounts, sweepNoun, SWEEP_TOP } from '../notify/sweep-messages.js';
import type { SweepEndReport } from '../notify/sweep-messages.js';
import type { SweepFacts } from '../store/sweep-facts.js';
import { niceTicks, resvgRenderer } from './chart.js';
import type { ChartRenderer } from './chart.js';
import { SlackGatewayError } from './errors.js';
import { actions, clipText, code, codeBlock, context, escapeText, formatDuration, section, table } from './format.js';
import type { Block } from './format.js';
import { RESUBMIT_ACTION, SUGGEST_ACTION, TAIL_ACTION, type ReportFile, type SlackJobReporter } from './job-report.js';
import type { MetricPoint, ReportDelivery } from './reporter.js';
import { metricSeriesOf, slackHub } from './wiring.js';

/** At most this many tasks' curves are drawn (the best ones): more lines make the chart unreadable. */
export const SWEEP_CHART_SERIES = 8;
/** Tasks that did not complete, listed one per line; the rest are counted. */
const FAILED_LINES = 10;

export interface SweepCurve {
  task: number;
  points: MetricPoint[];
  /** What the step counts (`epoch`), as the job named it. */
  stepLabel?: string;
}

export interface SweepReportInput {
  /** The outbox row's idempotency key: the same for every attempt at this report. */
  deliveryKey: string;
  facts: SweepFacts;
  /** Each task's key-metric curve (its latest attempt), possibly empty. */
  curves: SweepCurve[];
}

/** The tasks whose curves the chart draws: ranked best first, at most SWEEP_CHART_SERIES. */
export function chartedTasks(input: Pick<SweepReportInput, 'facts' | 'curves'>): SweepCurve[] {
  const byTask = new Map(input.curves.filter((c) => c.points.some((p) => Number.isFinite(p.value))).map((c) => [c.task, c]));
  const ranked = rankTasks(input.facts).map((t) => byTask.get(t.task)).filter((c): c is SweepCurve => c !== undefined);
  const rest = [...byTask.values()].filter((c) => !ranked.includes(c));
  return [...ranked, ...rest].slice(0, SWEEP_CHART_SERIES);
}

function sweepTitle(f: SweepFacts): string {
  return `${f.name || 'sweep'} (array ${f.baseIds.join(', ')})`;
}

/** The report message itself. */
export function sweepReportBlocks(input: Pick<SweepReportInput, 'facts' | 'curves'>): { text: string; blocks: Block[] } {
  const f = input.facts;
  const failed = failedTasks(f);
  const ranked = rankTasks(f);
  const best = bestTask(f);
  const counts = sweepCounts(f);
  const emoji = failed.length === 0 ? ':white_check_mark:' : ':warning:';
  const adopted = sweepNoun(f) === 'array';
  const heading = adopted ? `Job array *${escapeText(f.name || 'array')}* (${escapeText(f.baseIds.join(', '))})` : `Sweep *${escapeText(f.name || 'sweep')}* (array ${escapeText(f.baseIds.join(', '))})`;
  const blocks: Block[] = [section(`${emoji} ${heading} finished: *${escapeText(counts)}*\nTook ${formatDuration(f.spanSec)}`)];
  if (best?.best && f.metric) {
    const p = paramText(best.params);
    blocks.push(section(`*Best: task ${best.task}*${p ? ` (${code(p)})` : ''} ${code(f.metric.name)} *${metricText(best.best.value)}*${best.attempts > 1 ? ` (attempt ${best.attempts})` : ''}`));
    // A task that did not complete is ranked by what it reached, and marked.
    const rows = ranked.slice(0, SWEEP_TOP).map((t, i) => [String(i + 1), `${t.task}${t.state === 'COMPLETED' ? '' : ` ${t.state}`}`, metricText(t.best?.value ?? Number.NaN), clipText(paramText(t.params) ?? '—', 80)]);
    blocks.push(section(`Top ${rows.length} of ${f.tasks.length} by ${code(f.metric.name)} (${f.metric.goal === 'max' ? 'higher' : 'lower'} is better):\n${codeBlock(table(['#', 'task', f.metric.name, 'params'], rows))}`));
  } else {
    blocks.push(section(adopted
      ? 'No task\'s log had a key metric line HPC Relay reads (`val_acc=0.91`, accuracy or a loss, as `key=value` or JSON), so there is no ranking.'
      : 'No task recorded a key metric (val_acc, accuracy or a loss), so there is no ranking.'));
  }
  if (failed.length > 0) {
    const lines = failed.slice(0, FAILED_LINES).map((t) => {
      const p = paramText(t.params);
      return `• task ${t.task}${p ? ` (${code(clipText(p, 80))})` : ''}: ${code(t.state)}${t.failureClass ? `, class ${code(t.failureClass)}` : ''}${t.attempts > 1 ? ` after ${t.attempts} attempts` : ''}`;
    });
    if (failed.length > FAILED_LINES) lines.push(`…and ${failed.length - FAILED_LINES} more`);
    blocks.push(section(`Not completed:\n${lines.join('\n')}`));
  }
  const focus = best ?? failed[0];
  if (focus) {
    const label = best ? 'best task' : `task ${focus.task}`;
    blocks.push(actions(`sweep:${clipText(f.sweepId, 40)}`, [
      { text: `Tail ${label}`, actionId: TAIL_ACTION, value: focus.jobKey },
      // HPC Relay does not have the script of a terminal's array.
      ...(adopted ? [] : [{ text: `Resubmit ${label}`, actionId: RESUBMIT_ACTION, value: focus.jobKey }]),
      { text: 'Suggest next', actionId: SUGGEST_ACTION, value: focus.jobKey },
    ]));
  }
  const drawn = chartedTasks(input).length;
  const withCurves = input.curves.filter((c) => c.points.some((p) => Number.isFinite(p.value))).length;
  if (drawn > 0 && f.metric) {
    blocks.push(context(`The chart in this thread compares ${drawn === withCurves ? `the ${drawn} tasks'` : `the best ${drawn} of ${withCurves} tasks'`} ${code(f.metric.name)} curves${drawn < withCurves ? ` (at most ${SWEEP_CHART_SERIES} are drawn)` : ''}.`));
  }
  const bl = bestLine(f);
  const text = escapeText(`${adopted ? `Job array ${f.name || 'array'} (${f.baseIds.join(', ')})` : `Sweep ${f.name || 'sweep'} (array ${f.baseIds.join(', ')})`} finished: ${counts}${bl ? `; ${bl}` : ''}`);
  return { text: clipText(text, 3000), blocks };
}

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One panel: each charted task's key-metric curve in its own color, with a legend of task and grid values. */
export function buildSweepChartSvg(input: Pick<SweepReportInput, 'facts' | 'curves'>, width = 960): string {
  const f = input.facts;
  const curves = chartedTasks(input);
  const legendRows = Math.ceil(curves.length / 2);
  const pad = { l: 64, r: 20, t: 44, b: 44 + legendRows * 18 };
  const height = 380 + legendRows * 18;
  const pw = width - pad.l - pad.r;
  const ph = height - pad.t - pad.b;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    '<rect width="100%" height="100%" fill="#ffffff"/>',
    `<text x="16" y="26" font-size="17" font-weight="bold" fill="#111827">${esc(clipText(`${sweepTitle(f)}: ${f.metric?.name ?? 'key metric'} by task`, 110))}</text>`,
  ];
  const pts = curves.flatMap((c) => c.points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.step)));
  if (pts.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" font-size="14" text-anchor="middle" fill="#6b7280">no metrics recorded</text>`, '</svg>');
    return parts.join('\n');
  }
  const xt = niceTicks(Math.min(...pts.map((p) => p.step)), Math.max(...pts.map((p) => p.step)), 6);
  const yt = niceTicks(Math.min(...pts.map((p) => p.value)), Math.max(...pts.map((p) => p.value)), 5);
  const [xmin, xmax] = [xt[0] ?? 0, xt.at(-1) ?? 1];
  const [ymin, ymax] = [yt[0] ?? 0, yt.at(-1) ?? 1];
  const sx = (v: number): number => pad.l + ((v - xmin) / (xmax - xmin || 1)) * pw;
  const sy = (v: number): number => pad.t + ph - ((v - ymin) / (ymax - ymin || 1)) * ph;
  parts.push(`<rect x="${pad.l}" y="${pad.t}" width="${pw}" height="${ph}" fill="#f9fafb" stroke="#d1d5db"/>`);
  for (const t of yt) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${pad.l}" y1="${y}" x2="${pad.l + pw}" y2="${y}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${pad.l - 6}" y="${y}" dy="4" font-size="11" text-anchor="end" fill="#374151">${esc(metricText(t))}</text>`);
  }
  for (const t of xt) parts.push(`<text x="${sx(t).toFixed(1)}" y="${pad.t + ph + 16}" font-size="11" text-anchor="middle" fill="#374151">${esc(metricText(t))}</text>`);
  const stepLabel = curves.find((c) => c.stepLabel)?.stepLabel ?? 'step';
  parts.push(`<text x="${pad.l + pw / 2}" y="${pad.t + ph + 32}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(stepLabel)}</text>`);
  const params = new Map(f.tasks.map((t) => [t.task, paramText(t.params)]));
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length] ?? '#2563eb';
    const line = c.points.filter((p) => Number.isFinite(p.value) && Number.isFinite(p.step)).map((p) => `${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`);
    if (line.length === 1) {
      const [cx, cy] = (line[0] ?? '0,0').split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="${color}"/>`);
    } else {
      parts.push(`<polyline points="${line.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
    }
    const lx = pad.l + (i % 2) * (pw / 2);
    const ly = pad.t + ph + 52 + Math.floor(i / 2) * 18;
    const p = params.get(c.task);
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="14" height="4" fill="${color}"/>`);
    parts.push(`<text x="${lx + 20}" y="${ly - 3}" font-size="12" fill="#111827">${esc(clipText(`task ${c.task}${p ? ` (${p})` : ''}`, 60))}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

let defaultRenderer: ChartRenderer | undefined;

export async function renderSweepChartPng(input: Pick<SweepReportInput, 'facts' | 'curves'>, renderer?: ChartRenderer): Promise<Buffer> {
  defaultRenderer ??= resvgRenderer();
  return (renderer ?? defaultRenderer).renderPng(buildSweepChartSvg(input));
}

/** Posts sweep reports through a job reporter's sender, channel choice and thread memory. */
export class SlackSweepReporter {
  constructor(private readonly jobs: SlackJobReporter) {}

  async report(input: SweepReportInput): Promise<ReportDelivery> {
    const { threads, renderer } = this.jobs.deps;
    const f = input.facts;
    const key = input.deliveryKey;
    const drawn = chartedTasks(input);
    const file: ReportFile = {
      filename: `sweep-${f.baseIds[0] ?? 'array'}-${f.metric?.name.replace(/[^A-Za-z0-9_.-]/g, '_') ?? 'metric'}.png`,
      title: clipText(`${sweepTitle(f)}: ${f.metric?.name ?? 'metric'} by task`, 200),
      altText: clipText(`${f.metric?.name ?? 'Metric'} curves of tasks ${drawn.map((c) => c.task).join(', ')} of sweep ${f.baseIds.join(', ')}`, 1000),
      render: () => renderSweepChartPng(input, renderer),
    };
    const about = { what: 'sweep report', fields: { sweep: f.sweepId } };
    const done = threads.reportDelivered(key);
    if (done) {
      const fileId = done.chartPending && !done.fileId && drawn.length > 0 ? await this.jobs.chartOnce(key, done, file, true, about) : done.fileId;
      return { channel: done.channel, ts: done.ts, ...(fileId ? { fileId } : {}), duplicate: true };
    }
    const posted = await this.jobs.postOnce(key, sweepReportBlocks(input), {
      chart: drawn.length > 0,
      onPosted: (at) => {
        threads.follow(at.channel, at.ts);
        // Follow-ups in the thread (`!tail`, `!stats`) are about the best task, unless it has a thread of its own.
        const best = bestTask(f);
        if (best && !threads.jobThread(best.jobKey)) threads.setJobThread(best.jobKey, at);
      },
    }, about);
    const fileId = drawn.length > 0 ? await this.jobs.chartOnce(key, posted.at, file, posted.lookForChart, about) : undefined;
    return { ...posted.at, ...(fileId ? { fileId } : {}), duplicate: false, ...(posted.recovered ? { recovered: true } : {}) };
  }
}

const reporters = new WeakMap<SlackJobReporter, SlackSweepReporter>();

export function sweepReporterFor(jobs: SlackJobReporter): SlackSweepReporter {
  let r = reporters.get(jobs);
  if (!r) {
    r = new SlackSweepReporter(jobs);
    reporters.set(jobs, r);
  }
  return r;
}

/** Each task's key-metric curve, from the job service's store. */
export function sweepCurves(core: Core, facts: SweepFacts): SweepCurve[] {
  const name = facts.metric?.name;
  if (!name) return [];
  return facts.tasks.map((t) => {
    const s = metricSeriesOf(core, t.jobKey).find((x) => x.name === name);
    return { task: t.task, points: s?.points ?? [], ...(s?.stepLabel ? { stepLabel: s.stepLabel } : {}) };
  });
}

/**
 * The notify dispatcher's `reportSweepEnd` for the app and the daemon: through whichever gateway
 * runs now (none: SLACK_STOPPED, and the outbox keeps the row for the next attempt).
 */
export function sweepEndChannel(core: Core): (report: SweepEndReport) => Promise<void> {
  const log = core.logger.child({ component: 'slack-sweep-report' });
  return async (report) => {
    const g = slackHub(core).gateway;
    if (!g) {
      throw new SlackGatewayError('SLACK_STOPPED', 'The Slack gateway is not running, so the sweep report could not be posted.', {
        fix: 'Check `hpc-relay doctor` (slack.*); the report waits in the outbox and goes out once Slack is connected.',
      });
    }
    let curves: SweepCurve[] = [];
    try {
      curves = sweepCurves(core, report.facts);
    } catch (e) {
      log.warn('no metric curves for the sweep report', { sweep: report.sweepId, err: describeError(e) });
    }
    await sweepReporterFor(g.reporter).report({ deliveryKey: report.idempotencyKey, facts: report.facts, curves });
  };
}
