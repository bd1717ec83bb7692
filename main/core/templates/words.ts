/**
 * Two small parsers for parameters that carry several values in one string. Both only split text:
 * nothing is expanded ($VAR, ~, globs and backquotes stay literal) and the pieces become separate
 * argv elements or grid-file fields, never shell text.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Words the way a user types arguments: whitespace separates; '…' keeps everything literally;
 * "…" keeps everything, with \" and \\ as escapes; a backslash outside quotes keeps the next
 * character. `--epochs 2 --note "two words"` → ['--epochs', '2', '--note', 'two words'].
 */
export function splitWords(text: string): Parsed<string[]> {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, problem: "has a ' quote that is never closed" };
      cur += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const d = text[i] ?? '';
        if (d === '"') { closed = true; i++; break; }
        if (d === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) { cur += text[i + 1]; i += 2; continue; }
        cur += d;
        i++;
      }
      if (!closed) return { ok: false, problem: 'has a " quote that is never closed' };
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { ok: false, problem: 'ends with a lone backslash' };
      cur += text[i + 1];
      i += 2;
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return { ok: true, value: words };
}

export interface Grid {
  axes: { name: string; values: string[] }[];
  /** Every combination, first axis slowest (like itertools.product). */
  tasks: Record<string, string>[];
}

/** SLURM's default MaxArraySize is 1001 (indices 0–1000). */
export const MAX_GRID_TASKS = 1000;
const AXIS_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * A parameter grid: axes separated by spaces or `;`, each `name=v1,v2,…`, e.g.
 * `lr=0.1,0.01 batch_size=64,128` → 4 tasks. Values may not be empty or contain whitespace or
 * commas; names are option names (`lr` becomes `--lr=…`).
 */
export function parseGrid(text: string): Parsed<Grid> {
  const parts = text.split(/[\s;]+/).filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, problem: 'has no axes (write it like lr=0.1,0.01 batch_size=64,128)' };
  const axes: Grid['axes'] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (eq < 0) return { ok: false, problem: `has an axis "${name}" without =values (write it like ${name}=1,2)` };
    if (!AXIS_NAME.test(name)) return { ok: false, problem: `has an axis name ${JSON.stringify(name)} that is not an option name (letters, digits, _ and -)` };
    if (axes.some((a) => a.name === name)) return { ok: false, problem: `names the axis "${name}" twice` };
    const values = part.slice(eq + 1).split(',');
    if (values.some((v) => v === '')) return { ok: false, problem: `has an empty value in axis "${name}"` };
    axes.push({ name, values: [...new Set(values)] });
  }
  const size = axes.reduce((n, a) => n * a.values.length, 1);
  if (size > MAX_GRID_TASKS) return { ok: false, problem: `makes ${size} combinations; a sweep may have at most ${MAX_GRID_TASKS}` };
  let tasks: Record<string, string>[] = [{}];
  for (const axis of axes) tasks = tasks.flatMap((t) => axis.values.map((v) => ({ ...t, [axis.name]: v })));
  return { ok: true, value: { axes, tasks } };
}
