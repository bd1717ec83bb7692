/**
 * Training metrics from what jobs leave behind, as pure functions over text:
 * - metrics.csv: a header, then one row per epoch (the CNN demo's format; `epoch`/`step` is the x);
 * - summary.json: numbers anywhere in the object, flattened to dotted names;
 * - log lines: `key=value key=value …` (the demo prints `epoch=1 train_loss=… val_acc=…`) and
 *   JSON lines (`{"step": 10, "loss": 0.3}`).
 * `nan`, `inf` and `-inf` are kept as points with a null value and their text, so NaN/inf can be
 * detected (SQLite would turn a NaN into NULL anyway).
 */
export interface MetricPoint {
  series: string;
  step: number;
  /** Null when the value is not finite (nan, inf) or JSON null. */
  value: number | null;
  /** The value as written. */
  raw: string;
  /** What `step` counts, as the job named it (`epoch`, `step`, `iter`, …); absent when it is a row or line count. */
  stepName?: string;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const NON_FINITE = /^[-+]?(nan|inf|infinity)$/i;
const STEP_KEYS = ['epoch', 'step', 'iter', 'iteration', 'global_step'];

function numeric(raw: string): { value: number | null; ok: boolean } {
  const t = raw.trim();
  if (NUMBER.test(t)) return { value: Number(t), ok: true };
  if (NON_FINITE.test(t)) return { value: null, ok: true };
  return { value: null, ok: false };
}

export function isNonFinite(p: MetricPoint): boolean {
  return NON_FINITE.test(p.raw.trim());
}

/** Splits off a trailing partial line: complete lines are parsed now, the rest waits for more bytes. */
export function completeLines(carry: string, chunk: string): { lines: string[]; carry: string } {
  const text = carry + chunk;
  const cut = text.lastIndexOf('\n');
  if (cut === -1) return { lines: [], carry: text };
  return { lines: text.slice(0, cut).split('\n').map((l) => l.replace(/\r$/, '')), carry: text.slice(cut + 1) };
}

/** Rows of metrics.csv. `header` is the header read earlier when `lines` continue a file. */
export function parseMetricsCsv(lines: readonly string[], header: string[] | null): { points: MetricPoint[]; header: string[] | null } {
  let cols = header;
  const points: MetricPoint[] = [];
  let row = 0;
  for (const line of lines) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((c) => c.trim());
    if (!cols) { cols = cells; continue; }
    row++;
    const stepCol = cols.findIndex((c) => STEP_KEYS.includes(c.toLowerCase()));
    const stepVal = stepCol === -1 ? null : numeric(cells[stepCol] ?? '').value;
    const step = stepVal ?? row;
    const stepName = stepVal === null ? undefined : cols[stepCol];
    cells.forEach((cell, i) => {
      const name = cols?.[i];
      if (!name || i === stepCol) return;
      const n = numeric(cell);
      if (n.ok) points.push({ series: name, step, value: n.value, raw: cell, ...(stepName ? { stepName } : {}) });
    });
  }
  return { points, header: cols };
}

function flatten(prefix: string, v: unknown, out: MetricPoint[]): void {
  if (typeof v === 'number') out.push({ series: prefix, step: 0, value: Number.isFinite(v) ? v : null, raw: String(v) });
  else if (v === null) out.push({ series: prefix, step: 0, value: null, raw: 'null' });
  else if (typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  }
}

/** Numbers of summary.json, flattened (`final.val_acc`); null when the text is not a JSON object. */
export function parseSummaryJson(text: string): MetricPoint[] | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: MetricPoint[] = [];
  flatten('', v, out);
  return out;
}

/**
 * Metrics printed in a log: `key=value` lines (every whitespace-separated token a pair, at least
 * one numeric value) and JSON-line objects. The step is the line's `epoch`/`step` when it has one,
 * else a running count per series (`counters` carries it across calls).
 */
export function parseLogMetrics(lines: readonly string[], counters: Map<string, number> = new Map()): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (const line of lines) {
    const t = line.trim();
    if (!t) continue;
    let pairs: [string, string][] | null = null;
    if (t.startsWith('{') && t.endsWith('}')) {
      try {
        const obj = JSON.parse(t) as unknown;
        if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) {
          pairs = Object.entries(obj as Record<string, unknown>).filter(([, v]) => typeof v === 'number' || typeof v === 'string').map(([k, v]) => [k, String(v)]);
        }
      } catch {
        pairs = null;
      }
    } else {
      const tokens = t.split(/\s+/);
      if (tokens.every((tok) => /^[A-Za-z_][\w./-]*=[^=\s]+$/.test(tok))) pairs = tokens.map((tok) => tok.split('=') as [string, string]);
    }
    if (!pairs) continue;
    const nums = pairs.map(([k, v]) => [k, v, numeric(v)] as const).filter(([, , n]) => n.ok);
    if (nums.length === 0) continue;
    const stepPair = nums.find(([k]) => STEP_KEYS.includes(k.toLowerCase()));
    for (const [k, v, n] of nums) {
      if (stepPair && k === stepPair[0]) continue;
      const stepVal = stepPair?.[2].value ?? null;
      const step = stepVal ?? (counters.get(k) ?? 0) + 1;
      counters.set(k, step);
      out.push({ series: k, step, value: n.value, raw: v, ...(stepPair && stepVal !== null ? { stepName: stepPair[0] } : {}) });
    }
  }
  return out;
}

/**
 * The one number a job is judged by, in order of preference: validation (or test) accuracy, plain
 * accuracy, then validation, test or training loss. Status lines and report headlines show its best
 * value; a job with none of these shows no headline.
 */
const KEY_METRICS: ReadonlyArray<{ re: RegExp; goal: 'max' | 'min' }> = [
  { re: /^val(?:id|idation)?[_.-]?acc(?:uracy)?$/i, goal: 'max' },
  { re: /^test[_.-]?acc(?:uracy)?$/i, goal: 'max' },
  { re: /^acc(?:uracy)?$/i, goal: 'max' },
  { re: /^val(?:id|idation)?[_.-]?loss$/i, goal: 'min' },
  { re: /^test[_.-]?loss$/i, goal: 'min' },
  { re: /^(?:train[_.-]?)?loss$/i, goal: 'min' },
];

/** The key metric among a job's series names (see KEY_METRICS), or null. */
export function keyMetric(names: Iterable<string>): { name: string; goal: 'max' | 'min' } | null {
  const list = [...names];
  for (const k of KEY_METRICS) {
    const name = list.find((n) => k.re.test(n));
    if (name !== undefined) return { name, goal: k.goal };
  }
  return null;
}
