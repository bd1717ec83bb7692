import { RelayError } from '../errors.js';
import type { JobTemplate, ParamSpec } from './types.js';
import { formatDuration, formatMemory, parseDuration, parseMemory } from './units.js';
import { parseGrid, splitWords, type Parsed } from './words.js';

export type RawValue = string | number | boolean;
export type ParamValues = Record<string, string | number | boolean>;

/** The longest value any parameter may have, in UTF-8 bytes (PATH_MAX on Linux). */
export const MAX_VALUE_BYTES = 4096;

/**
 * A parameter or template problem a user can fix. The message is one sentence per problem, naming
 * the parameter, what it expects and what it got; `problems` holds the same sentences apart.
 */
export class TemplateError extends RelayError {
  readonly problems: string[];
  /** The parameter the (first) problem is about, when there is one. */
  readonly param: string | undefined;

  constructor(problems: string[], opts: { param?: string; cause?: unknown } = {}) {
    super('USAGE', problems.join(' '), { cause: opts.cause });
    this.name = 'TemplateError';
    this.problems = problems;
    this.param = opts.param;
  }
}

/** C0/C1 control characters, DEL, and the bidirectional overrides that make text read differently than it is. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;
const INT = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const TRUE = new Set(['true', 'yes', 'on', '1', 'y']);
const FALSE = new Set(['false', 'no', 'off', '0', 'n']);

/** A value as shown in a message: JSON-quoted (so newlines and quotes are visible), cut at 60 characters. */
export function showValue(v: unknown): string {
  if (typeof v !== 'string') return String(v);
  const cut = [...v].length > 60 ? `${[...v].slice(0, 60).join('')}…` : v;
  return JSON.stringify(cut).replace(/[\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function fmtNum(n: number): string {
  return String(n);
}

function fmtMinutes(min: number): string {
  if (min % 1440 === 0) return `${min / 1440} day${min === 1440 ? '' : 's'}`;
  if (min % 60 === 0) return `${min / 60} hour${min === 60 ? '' : 's'}`;
  return `${min} minute${min === 1 ? '' : 's'}`;
}

function range(spec: ParamSpec, fmt: (n: number) => string): string {
  const { min, max } = spec;
  if (min !== undefined && max !== undefined) return `from ${fmt(min)} to ${fmt(max)}`;
  if (min !== undefined) return `of at least ${fmt(min)}`;
  if (max !== undefined) return `of at most ${fmt(max)}`;
  return '';
}

function joined(what: string, rng: string): string {
  return rng === '' ? what : `${what} ${rng}`;
}

/** What a parameter expects, as the end of "Parameter "x" must be …". */
export function expectation(spec: ParamSpec): string {
  switch (spec.type) {
    case 'int': return joined('a whole number', range(spec, fmtNum));
    case 'float': return joined('a number', range(spec, fmtNum));
    case 'bool': return 'true or false';
    case 'enum': return `one of ${(spec.choices ?? []).join(', ')}`;
    case 'duration': return `${joined('a time limit', range(spec, fmtMinutes))} (HH:MM:SS, D-HH:MM:SS or minutes)`;
    case 'memory': return `${joined('a memory size', range(spec, (mb) => formatMemory(mb * 1024)))} (such as 500M or 4G)`;
    case 'path': return 'a path without control characters (NUL, newline, tab…)';
    case 'string':
      if (spec.role === 'grid') return 'a parameter grid such as lr=0.1,0.01 batch_size=64,128';
      if (spec.role === 'rest') return 'arguments separated by spaces, with quotes around any that contain spaces';
      return spec.pattern !== undefined ? `text matching ${spec.pattern}` : 'text without control characters';
  }
}

function bad(spec: ParamSpec, raw: RawValue): Parsed<never> {
  return { ok: false, problem: `Parameter "${spec.name}" must be ${expectation(spec)}; got ${showValue(raw)}.` };
}

function inRange(spec: ParamSpec, n: number): boolean {
  return (spec.min === undefined || n >= spec.min) && (spec.max === undefined || n <= spec.max);
}

const patterns = new Map<string, RegExp | null>();

/** A schema pattern, anchored at both ends; null when it does not compile. */
export function compilePattern(pattern: string): RegExp | null {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`, 'u');
    } catch {
      re = null;
    }
    patterns.set(pattern, re);
  }
  return re;
}

/** Checks one value against its spec and returns it typed and normalized (`4g` → `4G`, `90` → `01:30:00`). */
export function validateValue(spec: ParamSpec, raw: RawValue): Parsed<string | number | boolean> {
  if (typeof raw === 'string') {
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes > MAX_VALUE_BYTES) {
      return { ok: false, problem: `Parameter "${spec.name}" is ${bytes} bytes long; values are limited to ${MAX_VALUE_BYTES} bytes.` };
    }
    if (CONTROL.test(raw)) {
      const c = CONTROL.exec(raw)?.[0] ?? '';
      const what = c === '\0' ? 'a NUL byte' : c === '\n' || c === '\r' ? 'a line break' : `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
      return { ok: false, problem: `Parameter "${spec.name}" must be ${expectation(spec)}; got a value with ${what}.` };
    }
  }
  switch (spec.type) {
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && INT.test(raw.trim()) ? Number(raw.trim()) : NaN;
      return Number.isSafeInteger(n) && inRange(spec, n) ? { ok: true, value: n } : bad(spec, raw);
    }
    case 'float': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && FLOAT.test(raw.trim()) ? Number(raw.trim()) : NaN;
      return Number.isFinite(n) && inRange(spec, n) ? { ok: true, value: n } : bad(spec, raw);
    }
    case 'bool': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const t = String(raw).trim().toLowerCase();
      if (TRUE.has(t)) return { ok: true, value: true };
      if (FALSE.has(t)) return { ok: true, value: false };
      return bad(spec, raw);
    }
    case 'enum': {
      const t = typeof raw === 'boolean' ? '' : String(raw).trim();
      return (spec.choices ?? []).includes(t) ? { ok: true, value: t } : bad(spec, raw);
    }
    case 'duration': {
      const s = typeof raw === 'number' ? (Number.isSafeInteger(raw) ? raw * 60 : null) : typeof raw === 'string' ? parseDuration(raw) : null;
      return s !== null && s > 0 && inRange(spec, s / 60) ? { ok: true, value: formatDuration(s) } : bad(spec, raw);
    }
    case 'memory': {
      const kib = typeof raw === 'number' ? (raw > 0 && Number.isFinite(raw) ? Math.ceil(raw * 1024) : null) : typeof raw === 'string' ? parseMemory(raw) : null;
      return kib !== null && inRange(spec, kib / 1024) ? { ok: true, value: formatMemory(kib) } : bad(spec, raw);
    }
    case 'path':
    case 'string': {
      if (typeof raw === 'boolean') return bad(spec, raw);
      const t = String(raw);
      if (spec.pattern !== undefined) {
        const re = compilePattern(spec.pattern);
        if (re === null) return { ok: false, problem: `Parameter "${spec.name}" has a pattern that is not a valid regular expression.` };
        if (!re.test(t)) return bad(spec, raw);
      }
      if (spec.role === 'grid') {
        const g = parseGrid(t);
        if (!g.ok) return { ok: false, problem: `Parameter "${spec.name}" ${g.problem}; write it like lr=0.1,0.01 batch_size=64,128.` };
      }
      if (spec.role === 'rest') {
        const w = splitWords(t);
        if (!w.ok) return { ok: false, problem: `Parameter "${spec.name}" ${w.problem}: ${showValue(t)}.` };
      }
      return { ok: true, value: t };
    }
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

function firstSentence(text: string): string {
  const s = /^.*?[.!?](?=\s|$)/s.exec(text.trim())?.[0] ?? text.trim();
  const t = s.replace(/[.!?]$/, '');
  // "The Python script to run" → "the Python script to run", but keep "GPU …" and "CIFAR-10 …".
  return /^[A-Z][a-z]/.test(t) ? t.charAt(0).toLowerCase() + t.slice(1) : t;
}

/** `batch-size`, `Batch_Size` and `batch_size` all name the parameter batch_size. */
function normalizeName(k: string): string {
  return k.trim().toLowerCase().replace(/-/g, '_');
}

/**
 * Validates raw values (strings from Slack or the CLI such as "2", "0.01", "true"; typed values
 * from a tool call or a form) against a template, fills in defaults and returns typed values.
 * An empty string means "not given" for numbers, booleans, enums, durations and memory sizes; for
 * strings and paths it is a value ("" = leave the option out). Throws a TemplateError listing
 * every problem, one sentence each.
 */
export function validateParams(template: JobTemplate, raw: Record<string, RawValue>): ParamValues {
  const problems: string[] = [];
  let firstParam: string | undefined;
  const byName = new Map(template.params.map((p) => [p.name, p]));
  const given = new Map<string, RawValue>();
  for (const [key, value] of Object.entries(raw)) {
    const name = normalizeName(key);
    const spec = byName.get(name);
    if (!spec) {
      const known = template.params.map((p) => p.name);
      const near = known.filter((k) => editDistance(k, name) <= 2).sort((a, b) => editDistance(a, name) - editDistance(b, name))[0];
      problems.push(`Template "${template.id}" has no parameter ${showValue(key)}${near ? ` (did you mean "${near}"?)` : ''}; its parameters are ${known.join(', ')}.`);
      firstParam ??= key;
      continue;
    }
    if (given.has(name)) {
      problems.push(`Parameter "${name}" is given twice.`);
      firstParam ??= name;
      continue;
    }
    given.set(name, value);
  }

  const out: ParamValues = {};
  for (const spec of template.params) {
    let value = given.get(spec.name);
    const blank = typeof value === 'string' && value.trim() === '' && spec.type !== 'string' && spec.type !== 'path';
    if (value === undefined || blank) value = spec.default;
    if (value === undefined || (spec.required && value === '')) {
      if (spec.required) {
        problems.push(`Parameter "${spec.name}" is required: ${firstSentence(spec.help)}.`);
        firstParam ??= spec.name;
      }
      continue;
    }
    const r = validateValue(spec, value);
    if (r.ok) out[spec.name] = r.value;
    else {
      problems.push(r.problem);
      firstParam ??= spec.name;
    }
  }
  if (problems.length > 0) throw new TemplateError(problems, { param: firstParam });
  return out;
}

function shortType(p: ParamSpec): string {
  const r = (fmt: (n: number) => string): string => (p.min !== undefined && p.max !== undefined ? ` ${fmt(p.min)}–${fmt(p.max)}` : '');
  switch (p.type) {
    case 'int': return `integer${r(fmtNum)}`;
    case 'float': return `number${r(fmtNum)}`;
    case 'bool': return 'true/false';
    case 'enum': return (p.choices ?? []).join('|');
    case 'duration': return `time${r(fmtMinutes)}`;
    case 'memory': return `memory${r((mb) => formatMemory(mb * 1024))}`;
    case 'path': return 'path';
    case 'string': return p.role === 'grid' ? 'grid' : p.role === 'rest' ? 'arguments' : 'text';
  }
}

/** One line per parameter for help text (CLI, Slack): `epochs (integer 1–1000; default 10): Passes over the training set.` */
export function templateUsage(template: JobTemplate, opts: { advanced?: boolean } = {}): string[] {
  return template.params.filter((p) => opts.advanced === true || p.advanced !== true).map((p) => {
    const dflt = p.required ? 'required' : p.default === undefined || p.default === '' ? 'optional' : `default ${String(p.default)}`;
    return `${p.name} (${shortType(p)}; ${dflt}): ${p.help}`;
  });
}
