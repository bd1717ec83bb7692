import { RelayError } from '../errors.js';

/**
 * `research <goal>`, read by rules (no model call): what to optimise, on which template, and the
 * loop's limits. Example: "val_acc ≥ 0.85 on cnn_train, at most 6 runs, 2 at a time".
 *
 * - `METRIC ≥|>=|>|≤|<=|< NUMBER[%]`: the target; ≥/> maximise the metric, ≤/< minimise it
 *   (a trailing % divides by 100);
 * - `on TEMPLATE`: the template every run uses;
 * - `at most N runs` / `max N runs` / `up to N runs` (default 6, at most 50);
 * - `N at a time` / `N in parallel` (default 1, at most 8);
 * - `plateau K` / `patience K`: stop when the best has not improved over the last K runs (default 3);
 * - `with k=v k=v`: values every run uses (the model cannot change them);
 * - `tune a,b`: only these parameters may be varied (default: every plain numeric, enum or bool
 *   parameter of the template that is not a resource, path or advanced setting).
 */
export interface ResearchGoal {
  text: string;
  metric: string;
  direction: 'max' | 'min';
  /** Strict (> / <) or not (≥ / ≤). */
  strict: boolean;
  target: number;
  templateId: string;
  maxRuns: number;
  parallel: number;
  plateauRuns: number;
  fixed: Record<string, string>;
  /** Empty: every tunable parameter. */
  tune: string[];
}

export const GOAL_EXAMPLE = 'research val_acc ≥ 0.85 on cnn_train, at most 6 runs, 2 at a time';

function invalid(why: string): RelayError {
  return new RelayError('AGENT_GOAL_INVALID', why, { fix: `Write it like: \`${GOAL_EXAMPLE}\` (optional: \`plateau 3\`, \`with epochs=2 synthetic=true\`, \`tune lr,batch_size\`).` });
}

function int(text: string | undefined, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw invalid(`${what} must be a whole number from ${min} to ${max} (got ${text ?? 'nothing'}).`);
  return n;
}

export function parseGoal(input: string): ResearchGoal {
  const text = input.trim().replace(/^research\s+/i, '').trim();
  if (!text) throw invalid('The research goal is empty.');
  const t = text.replace(/\u2265/g, '>=').replace(/\u2264/g, '<=').replace(/=>/g, '>=').replace(/=</g, '<=');

  const target = /([A-Za-z_][A-Za-z0-9_./-]*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(%?)/i.exec(t);
  if (!target) throw invalid('The goal needs a target such as `val_acc ≥ 0.85` or `val_loss ≤ 0.3`.');
  const [, metric = '', op = '', num = '', pct = ''] = target;
  const value = Number(num) / (pct ? 100 : 1);
  if (!Number.isFinite(value)) throw invalid(`The target ${num} is not a number.`);

  const on = /\bon\s+([A-Za-z0-9_.-]+)/i.exec(t);
  if (!on?.[1]) throw invalid('The goal needs the template to run, as `on TEMPLATE` (for example `on cnn_train`).');

  const runs = /\b(?:at\s+most|max(?:imum)?|up\s+to)\s+(\d+)\s+runs?\b/i.exec(t) ?? /\b(\d+)\s+runs?\s+(?:at\s+most|max)\b/i.exec(t);
  const par = /\b(\d+)\s+(?:at\s+a\s+time|in\s+parallel|concurrently|at\s+once)\b/i.exec(t);
  const plateau = /\b(?:plateau|patience)\s*(?:of|after|=)?\s*(\d+)/i.exec(t);
  const maxRuns = runs ? int(runs[1], 'The number of runs', 1, 50) : 6;
  const parallel = par ? int(par[1], 'Runs at a time', 1, 8) : 1;
  const plateauRuns = plateau ? int(plateau[1], 'The plateau window', 1, 50) : 3;

  const fixed: Record<string, string> = {};
  const withPart = /\bwith\s+((?:[A-Za-z_][A-Za-z0-9_]*=[^\s,]+[\s,]*)+)/i.exec(t);
  if (withPart?.[1]) {
    for (const m of withPart[1].matchAll(/([A-Za-z_][A-Za-z0-9_]*)=([^\s,]+)/g)) {
      if (m[1] && m[2] !== undefined) fixed[m[1]] = m[2];
    }
  }
  const tunePart = /\b(?:tune|tuning|vary|varying)\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*(?:,|and)\s*[A-Za-z_][A-Za-z0-9_]*)*)/i.exec(t);
  const tune = tunePart?.[1] ? tunePart[1].split(/\s*(?:,|\band\b)\s*/).map((s) => s.trim()).filter(Boolean) : [];

  return {
    text,
    metric,
    direction: op.startsWith('>') ? 'max' : 'min',
    strict: op === '>' || op === '<',
    target: value,
    templateId: on[1],
    maxRuns,
    parallel: Math.min(parallel, maxRuns),
    plateauRuns,
    fixed,
    tune,
  };
}

export function meetsTarget(goal: Pick<ResearchGoal, 'direction' | 'strict' | 'target'>, value: number | null): boolean {
  if (value === null || !Number.isFinite(value)) return false;
  if (goal.direction === 'max') return goal.strict ? value > goal.target : value >= goal.target;
  return goal.strict ? value < goal.target : value <= goal.target;
}

export function better(goal: Pick<ResearchGoal, 'direction'>, a: number, b: number): boolean {
  return goal.direction === 'max' ? a > b : a < b;
}

export function describeGoal(g: ResearchGoal): string {
  const op = g.direction === 'max' ? (g.strict ? '>' : '≥') : (g.strict ? '<' : '≤');
  const fixed = Object.entries(g.fixed).map(([k, v]) => `${k}=${v}`).join(' ');
  return `${g.metric} ${op} ${g.target} on ${g.templateId}, at most ${g.maxRuns} runs, ${g.parallel} at a time, plateau ${g.plateauRuns}${fixed ? `, with ${fixed}` : ''}${g.tune.length ? `, tuning ${g.tune.join(', ')}` : ''}`;
}
