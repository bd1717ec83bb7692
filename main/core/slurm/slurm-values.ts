/**
 * SLURM's value formats, parsed and printed: durations (`1-02:03:04`, `05:00`), memory sizes
 * (`419032K`, `64M`, `4Gn`, `1Gc`), job ids with array tasks (`28_4`, `28_[0-9%2]`) and states.
 * Pure functions; a value they cannot read yields null and the caller decides what that means.
 */

/** States after which a job never changes again (sacct's State, `CANCELLED by N` normalised). */
export const FINAL_STATES = [
  'COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT',
] as const;
export type FinalState = (typeof FINAL_STATES)[number];

export function isFinalState(state: string): state is FinalState {
  return (FINAL_STATES as readonly string[]).includes(state);
}

/** `CANCELLED by 1001` -> { state: 'CANCELLED', by: 1001 }; `RUNNING` -> { state: 'RUNNING' }. */
export function normalizeState(raw: string): { state: string; by?: number } {
  const m = /^([A-Z_]+)(?: by (\d+))?\+?$/.exec(raw.trim());
  if (!m?.[1]) return { state: raw.trim().toUpperCase() };
  return m[2] === undefined ? { state: m[1] } : { state: m[1], by: Number(m[2]) };
}

/**
 * Seconds in a SLURM duration: `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`, plain minutes
 * (sbatch's `--time=90`), with optional fractional seconds. `UNLIMITED`/`INVALID`/empty -> null.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  if (!t || /^(UNLIMITED|INFINITE|Partition_Limit|INVALID|NONE)$/i.test(t)) return null;
  const m = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+(?:\.\d+)?))?$/.exec(t);
  if (!m) return null;
  const [, d, a, b, c] = m;
  const days = d === undefined ? 0 : Number(d);
  let h = 0;
  let min = 0;
  let s = 0;
  if (d !== undefined) {
    // With days: D-HH, D-HH:MM, D-HH:MM:SS.
    h = Number(a);
    min = b === undefined ? 0 : Number(b);
    s = c === undefined ? 0 : Number(c);
  } else if (c !== undefined) {
    h = Number(a); min = Number(b); s = Number(c);
  } else if (b !== undefined) {
    min = Number(a); s = Number(b);
  } else {
    min = Number(a);
  }
  return Math.round(days * 86400 + h * 3600 + min * 60 + s);
}

/** sbatch's `--time` form: `D-HH:MM:SS`, or `HH:MM:SS` under a day. */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const hms = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return d > 0 ? `${d}-${hms}` : hms;
}

const UNIT: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

/**
 * Bytes in a SLURM memory size. A bare number means megabytes when `bareUnit` is 'M' (sbatch's
 * --mem and ReqMem) and bytes when 'B' (MaxRSS with no suffix). A trailing n/c (per node / per
 * CPU, SLURM < 21) is dropped: the caller gets the number as written.
 */
export function parseMemory(text: string, bareUnit: 'M' | 'B' = 'M'): number | null {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]?)[nc]?$/i.exec(text.trim());
  if (!m?.[1]) return null;
  const unit = (m[2] ?? '').toUpperCase();
  const factor = unit === '' ? (bareUnit === 'M' ? 1024 ** 2 : 1) : (UNIT[unit] ?? 1);
  return Math.round(Number(m[1]) * factor);
}

/** sbatch's `--mem` form: whole megabytes (`150M`), or gigabytes when exact (`12G`). */
export function formatMemory(bytes: number): string {
  const mb = Math.ceil(bytes / 1024 ** 2);
  return mb % 1024 === 0 ? `${mb / 1024}G` : `${mb}M`;
}

/** Human size for messages: `3.1 GB`, `412 MB`. */
export function humanBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${Math.round(bytes / 1024 ** 2)} MB`;
  return `${Math.round(bytes / 1024)} KB`;
}

/**
 * A value from the scheduler's output, quoted for an error message: JSON-escaped (so NUL bytes,
 * ANSI escapes and line breaks show as \u0000, \u001b, \n), bidi controls escaped too (they would
 * flip the rest of the message), cut at `max` characters.
 */
export function quoted(text: string, max = 60): string {
  const chars = [...text];
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  return JSON.stringify(cut).replace(/[\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** One tracked unit: a plain job (`123`) or one array task (`123_4`). */
export interface JobRef {
  /** `123` or `123_4`: what squeue prints, what the user types, the store's key. */
  key: string;
  /** The job id sacct and scancel take for the whole job or array. */
  baseId: string;
  arrayTask: number | null;
}

/** A job id as squeue/sacct print it: `123`, `123_4`, or a pending range `123_[0-9%2]`. */
export type ParsedJobId = { kind: 'single'; ref: JobRef } | { kind: 'range'; baseId: string; spec: string };

export function parseJobId(text: string): ParsedJobId | null {
  const t = text.trim();
  let m = /^(\d+)$/.exec(t);
  if (m?.[1]) return { kind: 'single', ref: { key: m[1], baseId: m[1], arrayTask: null } };
  m = /^(\d+)_(\d+)$/.exec(t);
  if (m?.[1] && m[2]) return { kind: 'single', ref: { key: t, baseId: m[1], arrayTask: Number(m[2]) } };
  m = /^(\d+)_\[([^\]]+)\]$/.exec(t);
  if (m?.[1] && m[2]) return { kind: 'range', baseId: m[1], spec: m[2] };
  return null;
}

/** A job reference the user typed (`123` or `123_4`), or null. */
export function parseJobRef(text: string): JobRef | null {
  const p = parseJobId(text);
  return p?.kind === 'single' ? p.ref : null;
}

/**
 * The task indexes of an array spec: `0-19`, `0-19%3`, `1,3,5-7`, `0-10:2`. Null when it cannot be
 * read or names more than `max` tasks (SLURM's own MaxArraySize is 1001 by default).
 */
export function expandArraySpec(spec: string, max = 100_000): number[] | null {
  const body = spec.split('%')[0] ?? '';
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m?.[1]) return null;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (to < from || step < 1) return null;
    for (let i = from; i <= to; i += step) {
      out.push(i);
      if (out.length > max) return null;
    }
  }
  return [...new Set(out)].sort((a, b) => a - b);
}
