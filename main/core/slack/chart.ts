/**
 * The metric curves of a job as an image for Slack: an SVG built here (one small panel per metric,
 * so a loss near 2 and an accuracy near 0.9 each get a readable scale), turned into a PNG by a
 * `ChartRenderer` (resvg, a Rust SVG renderer with prebuilt N-API binaries: no browser, no canvas).
 * The research loop's chart of runs (buildRunsChartSvg) is one such panel drawn as dots, with the
 * target as a dashed line.
 */
import type { MetricSeries } from './reporter.js';

export interface ChartOptions {
  title?: string;
  /** Pixel width of the whole image (default 960). */
  width?: number;
}

export interface ChartRenderer {
  /** PNG bytes for an SVG document. */
  renderPng(svg: string): Promise<Buffer>;
}

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2'];
const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";
const MAX_PANELS = 6;
const MAX_POINTS = 2000;

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for axis ticks: 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  // Integer multiples of the step, rounded to its decimals: 0, not 1.7e-18; `|| 0`: no "-0".
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  const first = Math.floor(min / step + 1e-9);
  const out: number[] = [];
  for (let k = first; out.length < 100; k++) {
    const v = Number((k * step).toFixed(decimals)) || 0;
    out.push(v);
    if (v >= max - step * 1e-9) break;
  }
  return out;
}

function fmtTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** Evenly thins a long series (keeps first and last) so the SVG stays small. */
function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) out.push(points[Math.round(i * step)] as T);
  return out;
}

/** What a panel can draw beyond a curve (the research loop's chart of runs). */
interface PanelExtras {
  /** The heading instead of `name = last value`. */
  label?: string;
  /** Dots instead of a line. */
  scatter?: boolean;
  /** x is a count (run 1, 2, …): whole-number ticks and half a step of room either side. */
  wholeSteps?: boolean;
  /** A dashed horizontal line at this value, labelled "target". */
  target?: number;
  /** x positions with no value, drawn as a grey × on the x axis. */
  missing?: readonly number[];
}

function panel(s: MetricSeries, color: string, x0: number, y0: number, w: number, h: number, o: PanelExtras = {}): string {
  const finite = s.points.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.value));
  const bad = s.points.length - finite.length;
  const parts: string[] = [];
  const pad = { l: 58, r: 14, t: 28, b: 34 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const last = finite.at(-1);
  const label = o.label ?? `${s.name}${last ? ` = ${fmtTick(last.value)}` : ''}${bad ? ` (${bad} NaN/inf)` : ''}`;
  parts.push(`<text x="${x0 + pad.l}" y="${y0 + 18}" font-size="14" font-weight="bold" fill="#111827">${esc(label)}</text>`);
  parts.push(`<rect x="${x0 + pad.l}" y="${y0 + pad.t}" width="${pw}" height="${ph}" fill="#f9fafb" stroke="#d1d5db"/>`);
  const missing = (o.missing ?? []).filter(Number.isFinite);
  if (finite.length === 0 && (missing.length === 0 || o.target === undefined)) {
    parts.push(`<text x="${x0 + pad.l + pw / 2}" y="${y0 + pad.t + ph / 2}" font-size="13" text-anchor="middle" fill="#6b7280">no finite values</text>`);
    return parts.join('');
  }
  const xs = [...finite.map((p) => p.step), ...missing];
  const ys = [...finite.map((p) => p.value), ...(o.target !== undefined && Number.isFinite(o.target) ? [o.target] : [])];
  const xt = o.wholeSteps ? wholeTicks(Math.min(...xs), Math.max(...xs), 10) : niceTicks(Math.min(...xs), Math.max(...xs), 5);
  const yt = niceTicks(Math.min(...ys), Math.max(...ys), 4);
  const [xmin, xmax] = o.wholeSteps ? [Math.min(...xs) - 0.5, Math.max(...xs) + 0.5] : [xt[0] ?? 0, xt.at(-1) ?? 1];
  const [ymin, ymax] = [yt[0] ?? 0, yt.at(-1) ?? 1];
  const sx = (v: number): number => x0 + pad.l + ((v - xmin) / (xmax - xmin || 1)) * pw;
  const sy = (v: number): number => y0 + pad.t + ph - ((v - ymin) / (ymax - ymin || 1)) * ph;
  for (const t of yt) {
    const y = sy(t).toFixed(1);
    parts.push(`<line x1="${x0 + pad.l}" y1="${y}" x2="${x0 + pad.l + pw}" y2="${y}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${x0 + pad.l - 6}" y="${y}" dy="4" font-size="11" text-anchor="end" fill="#374151">${esc(fmtTick(t))}</text>`);
  }
  for (const t of xt) {
    const x = sx(t).toFixed(1);
    parts.push(`<text x="${x}" y="${y0 + pad.t + ph + 16}" font-size="11" text-anchor="middle" fill="#374151">${esc(fmtTick(t))}</text>`);
  }
  parts.push(`<text x="${x0 + pad.l + pw / 2}" y="${y0 + h - 4}" font-size="11" text-anchor="middle" fill="#6b7280">${esc(s.stepLabel ?? 'step')}</text>`);
  if (o.target !== undefined && Number.isFinite(o.target)) {
    const y = sy(o.target).toFixed(1);
    parts.push(`<line x1="${x0 + pad.l}" y1="${y}" x2="${x0 + pad.l + pw}" y2="${y}" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    // On the left: runs improve toward the target, so the right end is where the best one sits.
    parts.push(`<text x="${x0 + pad.l + 4}" y="${y}" dy="-5" font-size="11" text-anchor="start" fill="#dc2626">${esc(`target ${fmtTick(o.target)}`)}</text>`);
  }
  for (const m of missing) {
    const [x, y] = [sx(m), y0 + pad.t + ph - 7];
    parts.push(`<path d="M${(x - 5).toFixed(1)},${(y - 5).toFixed(1)} L${(x + 5).toFixed(1)},${(y + 5).toFixed(1)} M${(x - 5).toFixed(1)},${(y + 5).toFixed(1)} L${(x + 5).toFixed(1)},${(y - 5).toFixed(1)}" stroke="#6b7280" stroke-width="2"/>`);
  }
  const pts = thin(finite, MAX_POINTS).map((p) => `${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`);
  if (o.scatter) {
    for (const pt of pts) {
      const [cx, cy] = pt.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="4.5" fill="${color}"/>`);
    }
  } else if (pts.length === 1) {
    const [cx, cy] = (pts[0] ?? '0,0').split(',');
    parts.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="${color}"/>`);
  } else {
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
  }
  const best = bestPoint(s);
  if (best && o.scatter) parts.push(`<circle cx="${sx(best.step).toFixed(1)}" cy="${sy(best.value).toFixed(1)}" r="9" fill="none" stroke="#111827" stroke-width="2"/>`);
  else if (best) parts.push(`<circle cx="${sx(best.step).toFixed(1)}" cy="${sy(best.value).toFixed(1)}" r="4" fill="#fff" stroke="${color}" stroke-width="2"/>`);
  return parts.join('');
}

/** Whole-number ticks from `min` to `max`, at most about `count` of them (1, 2, 5, 10… apart). */
function wholeTicks(min: number, max: number, count: number): number[] {
  const lo = Math.ceil(min);
  const hi = Math.floor(max);
  if (hi < lo) return [];
  const step = [1, 2, 5, 10, 20, 50, 100].find((s) => (hi - lo) / s <= count) ?? Math.ceil((hi - lo) / count);
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

/** The best finite point: the highest for `goal: 'max'`, the lowest for `'min'`, none when unknown. */
export function bestPoint(s: MetricSeries): { step: number; value: number } | undefined {
  const goal = s.goal ?? guessGoal(s.name);
  if (!goal) return undefined;
  let best: { step: number; value: number } | undefined;
  for (const p of s.points) {
    if (!Number.isFinite(p.value) || !Number.isFinite(p.step)) continue;
    if (!best || (goal === 'max' ? p.value > best.value : p.value < best.value)) best = p;
  }
  return best;
}

/** loss/error/perplexity go down, accuracy/f1/auc/bleu go up; anything else: no "best". */
export function guessGoal(name: string): 'min' | 'max' | undefined {
  const n = name.toLowerCase();
  if (/loss|err|ppl|perplex|mse|mae|rmse|nll|wer|cer/.test(n)) return 'min';
  if (/acc|f1|auc|bleu|rouge|precision|recall|map|iou|dice|score|reward/.test(n)) return 'max';
  return undefined;
}

/** An SVG document with one panel per series (at most six), two columns when more than one. */
export function buildChartSvg(series: readonly MetricSeries[], opts: ChartOptions = {}): string {
  const list = series.filter((s) => s.points.length > 0).slice(0, MAX_PANELS);
  const width = opts.width ?? 960;
  const cols = list.length <= 1 ? 1 : 2;
  const rows = Math.max(1, Math.ceil(list.length / cols));
  const top = opts.title ? 36 : 8;
  const pw = width / cols;
  const ph = 260;
  const height = top + rows * ph + 8;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ];
  if (opts.title) parts.push(`<text x="16" y="24" font-size="17" font-weight="bold" fill="#111827">${esc(opts.title)}</text>`);
  if (list.length === 0) {
    parts.push(`<text x="${width / 2}" y="${top + ph / 2}" font-size="14" text-anchor="middle" fill="#6b7280">no metrics recorded</text>`);
  }
  list.forEach((s, i) => {
    parts.push(panel(s, COLORS[i % COLORS.length] ?? '#2563eb', (i % cols) * pw, top + Math.floor(i / cols) * ph, pw, ph));
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** One run of a research loop: its number and the best value of the loop's metric (null: none). */
export interface RunValue {
  run: number;
  value: number | null;
}

export interface RunsChartOptions extends ChartOptions {
  metric: string;
  /** Which way is better: the best run is ringed. */
  goal: 'min' | 'max';
  target?: number;
}

/**
 * The research loop's chart: each run's best value of the metric against the run number (dots,
 * the best run ringed), the target as a dashed line, runs without a value as a grey × on the axis.
 */
export function buildRunsChartSvg(runs: readonly RunValue[], opts: RunsChartOptions): string {
  const width = opts.width ?? 960;
  const top = opts.title ? 36 : 8;
  const ph = 340;
  const height = top + ph + 8;
  const points = runs.flatMap((r) => (r.value !== null && Number.isFinite(r.value) ? [{ step: r.run, value: r.value }] : []));
  const missing = runs.filter((r) => r.value === null || !Number.isFinite(r.value)).map((r) => r.run);
  const label = `${opts.metric}: the best of each run${opts.target !== undefined ? ` · target ${opts.goal === 'max' ? '≥' : '≤'} ${fmtTick(opts.target)} (dashed)` : ''}${missing.length ? ' · × no result' : ''}`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ];
  if (opts.title) parts.push(`<text x="16" y="24" font-size="17" font-weight="bold" fill="#111827">${esc(opts.title)}</text>`);
  parts.push(panel({ name: opts.metric, points, goal: opts.goal, stepLabel: 'run' }, COLORS[0] ?? '#2563eb', 0, top, width, ph, {
    label, scatter: true, wholeSteps: true, missing, ...(opts.target !== undefined ? { target: opts.target } : {}),
  }));
  parts.push('</svg>');
  return parts.join('\n');
}

interface ResvgModule {
  renderAsync(svg: string | Buffer, options?: Record<string, unknown> | null): Promise<{ asPng(): Buffer }>;
}

/** resvg (@resvg/resvg-js), loaded on first use so the core starts even where it is missing. */
export function resvgRenderer(): ChartRenderer {
  let mod: Promise<ResvgModule> | undefined;
  return {
    async renderPng(svg) {
      mod ??= import('@resvg/resvg-js').then((m) => ((m as { default?: ResvgModule }).default ?? (m as unknown as ResvgModule)));
      const resvg = await mod;
      const image = await resvg.renderAsync(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: '#ffffff' });
      return image.asPng();
    },
  };
}

let defaultRenderer: ChartRenderer | undefined;

/** The job report's chart: metric curves → PNG bytes. */
export async function renderChartPng(series: readonly MetricSeries[], opts: ChartOptions & { renderer?: ChartRenderer } = {}): Promise<Buffer> {
  defaultRenderer ??= resvgRenderer();
  return (opts.renderer ?? defaultRenderer).renderPng(buildChartSvg(series, opts));
}

/** The research loop's chart of runs → PNG bytes. */
export async function renderRunsChartPng(runs: readonly RunValue[], opts: RunsChartOptions & { renderer?: ChartRenderer }): Promise<Buffer> {
  defaultRenderer ??= resvgRenderer();
  return (opts.renderer ?? defaultRenderer).renderPng(buildRunsChartSvg(runs, opts));
}
