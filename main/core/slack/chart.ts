/**
 * The metric curves of a job as an image for Slack: an SVG built here (one small panel per metric,
 * so a loss near 2 and an accuracy near 0.9 each get a readable scale), turned into a PNG by a
 * `ChartRenderer` (resvg, a Rust SVG renderer with prebuilt N-API binaries: no browser, no canvas).
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

function panel(s: MetricSeries, color: string, x0: number, y0: number, w: number, h: number): string {
  const finite = s.points.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.value));
  const bad = s.points.length - finite.length;
  const parts: string[] = [];
  const pad = { l: 58, r: 14, t: 28, b: 34 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const last = finite.at(-1);
  const label = `${s.name}${last ? ` = ${fmtTick(last.value)}` : ''}${bad ? ` (${bad} NaN/inf)` : ''}`;
  parts.push(`<text x="${x0 + pad.l}" y="${y0 + 18}" font-size="14" font-weight="bold" fill="#111827">${esc(label)}</text>`);
  parts.push(`<rect x="${x0 + pad.l}" y="${y0 + pad.t}" width="${pw}" height="${ph}" fill="#f9fafb" stroke="#d1d5db"/>`);
  if (finite.length === 0) {
    parts.push(`<text x="${x0 + pad.l + pw / 2}" y="${y0 + pad.t + ph / 2}" font-size="13" text-anchor="middle" fill="#6b7280">no finite values</text>`);
    return parts.join('');
  }
  const xs = finite.map((p) => p.step);
  const ys = finite.map((p) => p.value);
  const xt = niceTicks(Math.min(...xs), Math.max(...xs), 5);
  const yt = niceTicks(Math.min(...ys), Math.max(...ys), 4);
  const [xmin, xmax] = [xt[0] ?? 0, xt.at(-1) ?? 1];
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
  const pts = thin(finite, MAX_POINTS).map((p) => `${sx(p.step).toFixed(1)},${sy(p.value).toFixed(1)}`);
  if (pts.length === 1) {
    const [cx, cy] = (pts[0] ?? '0,0').split(',');
    parts.push(`<circle cx="${cx}" cy="${cy}" r="4" fill="${color}"/>`);
  } else {
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`);
  }
  const best = bestPoint(s);
  if (best) parts.push(`<circle cx="${sx(best.step).toFixed(1)}" cy="${sy(best.value).toFixed(1)}" r="4" fill="#fff" stroke="${color}" stroke-width="2"/>`);
  return parts.join('');
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
