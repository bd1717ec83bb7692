/**
 * Slack text → a deterministic command. Nothing here runs anything: the result is plain data
 * (validated job ids, template ids, `k=v` maps) that the command runner hands to the ports, which
 * pass values to the cluster as argv elements, never as shell text.
 */
import type { ResubmitChanges } from './jobs-api.js';

export type SlackCommand =
  | { name: 'help' }
  | { name: 'ping' }
  | { name: 'status' }
  | { name: 'tail'; jobId: string; lines: number }
  | { name: 'cancel'; jobId: string }
  | { name: 'submit'; templateId: string; params: Record<string, string> }
  | { name: 'resubmit'; jobId: string; changes: ResubmitChanges }
  | { name: 'stats'; jobId: string }
  | { name: 'cron'; action: 'list' }
  | { name: 'cron'; action: 'pause' | 'resume'; id: string }
  | { name: 'doctor' }
  | { name: 'usage' };

export type CommandName = SlackCommand['name'];

export type ParseOutcome =
  | { kind: 'command'; command: SlackCommand }
  /** A known command used wrongly, or text that cannot be a command: one sentence saying why. */
  | { kind: 'error'; message: string }
  /** The first word is no command (the caller decides: agent, command list, or "unknown"). */
  | { kind: 'unknown'; word: string }
  | { kind: 'empty' };

export const COMMAND_NAMES: readonly CommandName[] = ['help', 'ping', 'status', 'tail', 'cancel', 'submit', 'resubmit', 'stats', 'cron', 'doctor', 'usage'];

/** Longest command text we parse; commands are short, anything longer is refused unread. */
export const MAX_COMMAND_CHARS = 2000;
export const DEFAULT_TAIL_LINES = 20;
export const MAX_TAIL_LINES = 200;

const JOB_ID = /^\d{1,12}(?:_\d{1,7})?$/;
const TEMPLATE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const PARAM_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const CRON_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SLURM_MEM = /^\d{1,9}(?:\.\d{1,3})?[KMGT]?B?$/i;
const SLURM_TIME = /^(?:\d{1,3}-)?\d{1,4}(?::\d{1,2}){0,2}$/;
const MAX_VALUE_CHARS = 1000;

function isCommandName(w: string): w is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(w);
}

/**
 * Undoes Slack's message formatting: `&lt; &gt; &amp;` escapes and the `<…>` it wraps links,
 * channels and special mentions in (a `data=https://x` the user typed arrives as `data=<https://x>`).
 * User mentions `<@U…>` are kept as they are.
 */
export function decodeSlackText(text: string): string {
  const unwrapped = text.replace(/<([^<>]*)>/g, (whole, inner: string) => {
    if (inner.startsWith('@')) return whole;
    const [target = '', label] = inner.split('|', 2);
    if (target.startsWith('#')) return label !== undefined ? `#${label}` : target;
    if (target.startsWith('!')) return `@${(label ?? target.slice(1)).replace(/^@/, '')}`;
    if (target.startsWith('mailto:')) return label ?? target.slice('mailto:'.length);
    // A link: what the user typed is the label when Slack shortened it, else the URL itself.
    return label !== undefined && /^[a-z][a-z0-9+.-]*:/i.test(label) ? label : target;
  });
  return unwrapped.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Typographic quotes (which phones and macOS put in for you) count as plain ones. */
function normalizeQuotes(text: string): string {
  return text.replace(/[\u201C\u201D\u201E\u201F\u2033]/g, '"').replace(/[\u2018\u2019\u201A\u201B\u2032]/g, "'");
}

/** The bidirectional embeddings, overrides and isolates: text after them reads in another order than it is. */
const BIDI_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;

/**
 * Line breaks and other control characters (a tab is whitespace), and the bidi controls: echoed
 * back in an answer, one would flip the rest of that line (templates refuse them in values too).
 */
function hasControl(text: string): boolean {
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return true;
  }
  return BIDI_CONTROL.test(text);
}

/**
 * Splits a command line into words the way a careful shell would, without expanding anything:
 * whitespace separates, '…' is literal, "…" allows \" and \\, a backslash outside quotes escapes
 * the next character. Quoted parts join the word around them (`k="a b"` → `k=a b`).
 */
export function tokenize(text: string): { words: string[] } | { error: string } {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  const chars = [...text];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && (chars[i + 1] === '"' || chars[i + 1] === '\\')) word += chars[++i];
      else word += c;
      continue;
    }
    if (/\s/u.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === '"' || c === "'") quote = c;
    else if (c === '\\' && i + 1 < chars.length) word += chars[++i];
    else word += c;
  }
  if (quote) return { error: `A ${quote === '"' ? 'double' : 'single'} quote is not closed.` };
  if (inWord) words.push(word);
  return { words };
}

function jobIdError(word: string | undefined, usage: string): string {
  if (word === undefined) return `Which job? Usage: \`${usage}\`.`;
  return `\`${clip(word)}\` is not a SLURM job id (digits, or 1234_5 for an array task); usage: \`${usage}\`.`;
}

/** Characters that show as nothing: echoed as `\u200b`, so `tail\u200b` is not answered as if it said `tail`. */
const INVISIBLE = /[\u00ad\u180e\u200b-\u200f\u2060-\u2064\ufeff]/gu;

/** Short and safe to echo inside backticks. */
function clip(word: string): string {
  const w = word.replace(/`/g, "'").replace(INVISIBLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return w.length > 40 ? `${w.slice(0, 40)}…` : w;
}

/** `k=v` words → a map; keys are identifiers, values anything (`=` included) up to 1000 characters. */
export function parseParams(words: readonly string[]): { params: Record<string, string> } | { error: string } {
  // No prototype: `__proto__=x` is a parameter like any other (the template then says it has none),
  // not an assignment that silently drops it.
  const params = Object.create(null) as Record<string, string>;
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) return { error: `Expected key=value, got \`${clip(w)}\` (quote values with spaces: key="a b").` };
    const key = w.slice(0, eq);
    const value = w.slice(eq + 1);
    if (!PARAM_KEY.test(key)) return { error: `\`${clip(key)}\` is not a parameter name (letters, digits, _ . -).` };
    if (Object.hasOwn(params, key)) return { error: `The parameter ${key} is given twice.` };
    if ([...value].length > MAX_VALUE_CHARS) return { error: `The value of ${key} is longer than ${MAX_VALUE_CHARS} characters.` };
    params[key] = value;
  }
  return { params };
}

export interface ParseContext {
  /** The job a report thread belongs to: `tail`, `stats`, `cancel`, `resubmit` default to it. */
  defaultJobId?: string;
}

/** One line of Slack text (mention and `!`/`/hpc` prefix already removed) → a command. */
export function parseCommand(raw: string, ctx: ParseContext = {}): ParseOutcome {
  const text = normalizeQuotes(decodeSlackText(raw)).replace(/^\s+|\s+$/g, '');
  if (text === '') return { kind: 'empty' };
  if ([...text].length > MAX_COMMAND_CHARS) return { kind: 'error', message: `That is too long for a command (${[...text].length} characters; commands are at most ${MAX_COMMAND_CHARS}).` };
  if (hasControl(text)) return { kind: 'error', message: 'Commands fit on one line: send one command per message, without line breaks or control characters.' };
  const tokens = tokenize(text);
  if ('error' in tokens) return { kind: 'error', message: `${tokens.error} Quote values like key="a b".` };
  const [first = '', ...rest] = tokens.words;
  const word = first.toLowerCase();
  if (!isCommandName(word)) {
    // `status;rm -rf ~`, `tail$(id)`: a command glued to shell syntax is refused, not guessed at.
    const glued = /^([a-z]+)[^a-z0-9_-]/i.exec(first)?.[1]?.toLowerCase();
    if (glued && isCommandName(glued)) {
      return { kind: 'error', message: `\`${clip(first)}\` is not a command: commands take plain arguments, no shell syntax (\`help\` lists them).` };
    }
    return { kind: 'unknown', word: first };
  }

  const jobArg = (i: number): string | undefined => rest[i] ?? ctx.defaultJobId;
  const noArgs = (command: SlackCommand): ParseOutcome =>
    rest.length === 0 ? { kind: 'command', command } : { kind: 'error', message: `\`${word}\` takes no arguments.` };

  switch (word) {
    case 'help':
      return { kind: 'command', command: { name: 'help' } };
    case 'ping':
    case 'status':
    case 'doctor':
    case 'usage':
      return noArgs({ name: word });
    case 'tail': {
      const usage = 'tail JOB [LINES]';
      // In a job's thread a bare `tail` means that job (a lone number would be ambiguous).
      const jobId = jobArg(0);
      if (jobId === undefined || !JOB_ID.test(jobId)) return { kind: 'error', message: jobIdError(jobId, usage) };
      if (rest.length > 2) return { kind: 'error', message: `Too many arguments; usage: \`${usage}\`.` };
      const nWord = rest[1];
      let lines = DEFAULT_TAIL_LINES;
      if (nWord !== undefined) {
        if (!/^\d{1,6}$/.test(nWord) || Number(nWord) < 1) return { kind: 'error', message: `\`${clip(nWord)}\` is not a line count; usage: \`${usage}\`.` };
        lines = Math.min(Number(nWord), MAX_TAIL_LINES);
      }
      return { kind: 'command', command: { name: 'tail', jobId, lines } };
    }
    case 'cancel':
    case 'stats': {
      const usage = `${word} JOB`;
      const jobId = jobArg(0);
      if (jobId === undefined || !JOB_ID.test(jobId)) return { kind: 'error', message: jobIdError(jobId, usage) };
      if (rest.length > 1) return { kind: 'error', message: `Too many arguments; usage: \`${usage}\`.` };
      return { kind: 'command', command: { name: word, jobId } };
    }
    case 'submit': {
      const usage = 'submit TEMPLATE key=value…';
      const templateId = rest[0];
      if (templateId === undefined) return { kind: 'error', message: `Which template? Usage: \`${usage}\`.` };
      if (!TEMPLATE_ID.test(templateId)) return { kind: 'error', message: `\`${clip(templateId)}\` is not a template name (letters, digits, . _ -); usage: \`${usage}\`.` };
      const p = parseParams(rest.slice(1));
      if ('error' in p) return { kind: 'error', message: p.error };
      return { kind: 'command', command: { name: 'submit', templateId, params: p.params } };
    }
    case 'resubmit': {
      const usage = 'resubmit JOB [mem=16G] [time=4:00:00] [partition=NAME] [key=value…]';
      const explicitJob = rest[0] !== undefined && JOB_ID.test(rest[0]);
      const jobId = explicitJob ? rest[0] : rest[0] === undefined || rest[0].includes('=') ? ctx.defaultJobId : rest[0];
      if (jobId === undefined || !JOB_ID.test(jobId)) return { kind: 'error', message: jobIdError(jobId, usage) };
      const p = parseParams(rest.slice(explicitJob ? 1 : 0));
      if ('error' in p) return { kind: 'error', message: p.error };
      const { mem, time, partition, ...params } = p.params;
      if (mem !== undefined && !SLURM_MEM.test(mem)) return { kind: 'error', message: `mem=${clip(mem)} is not a SLURM memory size (for example 16G or 16000M).` };
      if (time !== undefined && !SLURM_TIME.test(time)) return { kind: 'error', message: `time=${clip(time)} is not a SLURM time limit (for example 4:00:00 or 1-00:00:00).` };
      if (partition !== undefined && !TEMPLATE_ID.test(partition)) return { kind: 'error', message: `partition=${clip(partition)} is not a partition name.` };
      const changes: ResubmitChanges = {
        ...(mem !== undefined ? { mem } : {}),
        ...(time !== undefined ? { time } : {}),
        ...(partition !== undefined ? { partition } : {}),
        ...(Object.keys(params).length ? { params } : {}),
      };
      return { kind: 'command', command: { name: 'resubmit', jobId, changes } };
    }
    case 'cron': {
      const usage = 'cron list | cron pause ID | cron resume ID';
      const action = rest[0]?.toLowerCase();
      if (action === 'list' || action === undefined) {
        return rest.length <= 1 ? { kind: 'command', command: { name: 'cron', action: 'list' } } : { kind: 'error', message: `Too many arguments; usage: \`${usage}\`.` };
      }
      if (action !== 'pause' && action !== 'resume') return { kind: 'error', message: `\`${clip(rest[0] ?? '')}\` is not a cron action; usage: \`${usage}\`.` };
      const id = rest[1];
      if (id === undefined || !CRON_ID.test(id) || rest.length > 2) return { kind: 'error', message: `Which monitor? Usage: \`${usage}\` (IDs are listed by cron list).` };
      return { kind: 'command', command: { name: 'cron', action, id } };
    }
  }
}

/** A Slack user id as it appears in `<@U…>` mentions. */
export const MENTION = /^\s*<@[UWB][A-Z0-9]+(?:\|[^>]*)?>[\s,:]*/;

/** Drops a leading `<@U123>` mention (app_mention text starts with one). */
export function stripLeadingMention(text: string): string {
  return text.replace(MENTION, '');
}
