/**
 * The hostile input corpus (test/fixtures/hostile/*.json): typed, checked on load, with its
 * generated payloads built and its placeholders filled in. The JSON files are the data; this
 * module only reads them (see test/fixtures/hostile/README.md for what each holds).
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './cli.js';

export const HOSTILE_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'hostile');
/** The fixture templates (argv: one parameter of every type, prints each argument as ARG[…]). */
export const HOSTILE_TEMPLATES_DIR = path.join(HOSTILE_DIR, 'templates');

/** A payload: literal text, or generated (`{hex}` bytes, `prefix + repeat × times + suffix`, `{parts}`). */
export type Gen = string | { hex: string } | { repeat: string; times: number; prefix?: string; suffix?: string } | { parts: Gen[] };
const gen: z.ZodType<Gen> = z.lazy(() => z.union([
  z.string(),
  z.strictObject({ hex: z.string().regex(/^(?:[0-9a-f]{2})*$/) }),
  z.strictObject({ repeat: z.string().min(1), times: z.number().int().min(1).max(20_000_000), prefix: z.string().optional(), suffix: z.string().optional() }),
  z.strictObject({ parts: z.array(gen) }),
]));

/** The payload's bytes (text as UTF-8). */
export function bytesOf(g: Gen): Buffer {
  if (typeof g === 'string') return Buffer.from(g, 'utf8');
  if ('hex' in g) return Buffer.from(g.hex, 'hex');
  if ('parts' in g) return Buffer.concat(g.parts.map(bytesOf));
  return Buffer.from(`${g.prefix ?? ''}${g.repeat.repeat(g.times)}${g.suffix ?? ''}`, 'utf8');
}

/** The payload as text; `{hex}` parts are read as latin1 (one character per byte). */
export function textOf(g: Gen): string {
  if (typeof g === 'string') return g;
  if ('hex' in g) return Buffer.from(g.hex, 'hex').toString('latin1');
  if ('parts' in g) return g.parts.map(textOf).join('');
  return `${g.prefix ?? ''}${g.repeat.repeat(g.times)}${g.suffix ?? ''}`;
}

/** `{{NAME}}` placeholders filled from `values`; an unknown one is an error in the corpus. */
export function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`hostile corpus: no value for ${whole}`);
    return v;
  });
}

export type Surface = 'dm' | 'slash' | 'thread';
export const SURFACES: readonly Surface[] = ['dm', 'slash', 'thread'];
const perSurface = <T extends z.ZodType>(t: T) => z.union([t, z.strictObject({ dm: t.optional(), slash: t.optional(), thread: t.optional() })]);

const slackTextCase = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9-]+$/),
  kind: z.string(),
  why: z.string(),
  text: gen,
  wire: z.enum(['typed', 'raw']).optional(),
  reply: perSurface(z.string()),
  replyCluster: z.string().optional(),
  oneLine: perSurface(z.boolean()).optional(),
  calls: z.array(z.string()).optional(),
  submit: z.strictObject({ template: z.string(), params: z.record(z.string(), z.string()) }).optional(),
  output: z.array(z.string()).optional(),
});
export type SlackTextCase = z.infer<typeof slackTextCase>;

const strangerCase = z.strictObject({
  id: z.string(),
  why: z.string(),
  user: z.string().regex(/^[A-Za-z0-9]+$/),
  surface: z.enum(['dm', 'mention', 'thread', 'slash', 'bot']),
  text: gen,
  reply: z.literal('refusal').nullable(),
});
export type StrangerCase = z.infer<typeof strangerCase>;

const clickCase = z.strictObject({
  id: z.string(),
  why: z.string(),
  phase: z.enum(['live', 'decided', 'expired']),
  user: z.string(),
  actionId: z.string(),
  value: gen,
  reply: z.string(),
});
export type ClickCase = z.infer<typeof clickCase>;

const paramCase = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9-]+$/),
  kind: z.string(),
  why: z.string(),
  params: z.record(z.string(), gen),
  args: z.array(gen).optional(),
  sbatch: z.array(z.string()).optional(),
  error: z.string().optional(),
  problems: z.number().int().min(1).optional(),
}).refine((c) => (c.args === undefined) !== (c.error === undefined), { message: 'a case has either args (accepted) or error (refused)' });
export type ParamCase = z.infer<typeof paramCase>;

const slurmCase = z.strictObject({
  id: z.string(),
  tool: z.enum(['squeue', 'sacct']),
  why: z.string(),
  stdout: gen,
  error: z.string().optional(),
  rows: z.array(z.record(z.string(), z.unknown())).optional(),
}).refine((c) => (c.rows === undefined) !== (c.error === undefined), { message: 'a case has either rows or error' });
export type SlurmCase = z.infer<typeof slurmCase>;

const logCase = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9-]+$/),
  why: z.string(),
  content: gen,
  reply: z.string(),
  lines: z.number().int().min(0).optional(),
  last: z.string().optional(),
  metrics: z.record(z.string(), z.array(z.number())).optional(),
});
export type LogCase = z.infer<typeof logCase>;

function load<T extends z.ZodType>(file: string, schema: T): Array<z.infer<T>> {
  const raw: unknown = JSON.parse(fs.readFileSync(path.join(HOSTILE_DIR, file), 'utf8'));
  const parsed = z.strictObject({ about: z.string(), fields: z.record(z.string(), z.string()), cases: z.array(schema).min(1) }).safeParse(raw);
  if (!parsed.success) throw new Error(`test/fixtures/hostile/${file}: ${parsed.error.message}`);
  // The checked shape, but the objects JSON.parse made: zod's copies lose an own `__proto__` key,
  // and a parameter of that name is one of the cases.
  const cases = (raw as { cases: Array<z.infer<T> & { id: string }> }).cases;
  const ids = new Set<string>();
  for (const c of cases) {
    if (ids.has(c.id)) throw new Error(`test/fixtures/hostile/${file}: the id ${c.id} is used twice`);
    ids.add(c.id);
  }
  return cases;
}

export const slackTextCases = (): SlackTextCase[] => load('slack-text.json', slackTextCase);
export const strangerCases = (): StrangerCase[] => load('slack-strangers.json', strangerCase);
export const clickCases = (): ClickCase[] => load('slack-clicks.json', clickCase);
export const paramCases = (): ParamCase[] => load('template-params.json', paramCase);
export const slurmCases = (): SlurmCase[] => load('slurm-output.json', slurmCase);
export const logCases = (): LogCase[] => load('logs.json', logCase);

/** What a surface expects of a per-surface field. */
export function forSurface<T>(v: T | { dm?: T; slash?: T; thread?: T } | undefined, surface: Surface, dflt: T): T {
  if (v === undefined) return dflt;
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && ('dm' in v || 'slash' in v || 'thread' in v)) {
    return (v as { dm?: T; slash?: T; thread?: T })[surface] ?? dflt;
  }
  return v as T;
}

/** Typed text the way Slack delivers it: `& < >` escaped (its own `<…>` markup is not typed). */
export function asSlackSends(text: string, wire: 'typed' | 'raw' = 'typed'): string {
  return wire === 'raw' ? text : text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A case's text for one marker directory: `{{MARKER}}` is `<dir>/<case id>`. */
export function caseText(c: { id: string; text: Gen }, markerDir: string): string {
  return fill(textOf(c.text), { MARKER: path.join(markerDir, c.id) });
}

/** One string with `{{MARKER}}` filled for a case (expected output lines). */
export function withMarker(text: string, markerDir: string, id: string): string {
  return fill(text, { MARKER: path.join(markerDir, id) });
}

/** A string record with `{{MARKER}}` filled (submit params, expected output lines). */
export function fillAll(values: Record<string, string>, markerDir: string, id: string): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [fill(k, { MARKER: path.join(markerDir, id) }), fill(v, { MARKER: path.join(markerDir, id) })]));
}

/** A parameter case's raw values, generated and with `{{MARKER}}` filled (keys too); `__proto__` stays an own key. */
export function rawParams(c: ParamCase, markerDir: string): Record<string, string> {
  const marker = { MARKER: path.join(markerDir, c.id) };
  return Object.fromEntries(Object.entries(c.params).map(([k, v]) => [fill(k, marker), fill(textOf(v), marker)]));
}

/** The script arguments an accepted parameter case must produce, in order. */
export function expectedArgs(c: ParamCase, markerDir: string): string[] {
  return (c.args ?? []).map((a) => fill(textOf(a), { MARKER: path.join(markerDir, c.id) }));
}

/** Slack's broadcast mentions, which no answer may carry unescaped. */
export const CHANNEL_PING = /<!(?:channel|here|everyone)\b/;
