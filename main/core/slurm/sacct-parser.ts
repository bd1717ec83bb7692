import { RelayError } from '../errors.js';
import { normalizeState, parseDuration, parseJobId, parseMemory, quoted, type JobRef } from './slurm-values.js';

/** The accounting fields HPC Relay reads; sacct is the source of truth for how a job ended. */
export const SACCT_FIELDS = ['JobID', 'JobName', 'State', 'ExitCode', 'Elapsed', 'MaxRSS', 'ReqMem', 'Timelimit', 'NodeList', 'Start', 'End'] as const;

/**
 * One sacct call for many jobs: `-j` takes a comma list, and an array's base id covers every task.
 * With `-j`, sacct looks back to the epoch, so a job that ended days ago is still found.
 */
export function sacctArgv(baseIds: readonly string[]): string[] {
  if (baseIds.length === 0) throw new RelayError('USAGE', 'sacct needs at least one job id.');
  for (const id of baseIds) {
    if (!/^\d+$/.test(id)) throw new RelayError('USAGE', `"${id}" is not a SLURM job id.`);
  }
  return ['sacct', '--parsable2', '--noheader', `--format=${SACCT_FIELDS.join(',')}`, '-j', [...new Set(baseIds)].join(',')];
}

export interface SacctStep {
  /** `batch`, `extern`, `0`, … */
  step: string;
  state: string;
  exitCode: number;
  signal: number;
  maxRssBytes: number | null;
}

interface SacctBase {
  name: string;
  /** Normalised: `CANCELLED by 1001` -> `CANCELLED` (with cancelledBy 1001). */
  state: string;
  cancelledBy: number | null;
  /** SLURM's `exit:signal` of the job. */
  exitCode: number;
  signal: number;
  elapsedSec: number | null;
  /** Peak RSS over the steps (the batch step for a plain sbatch job); null when never sampled. */
  maxRssBytes: number | null;
  reqMemBytes: number | null;
  timeLimitSec: number | null;
  nodeList: string | null;
  /** Cluster-local timestamps as sacct prints them; null for `Unknown`/`None`. */
  start: string | null;
  end: string | null;
  steps: SacctStep[];
}

/** A job or one array task. */
export interface SacctJob extends SacctBase, JobRef {
  kind: 'job';
}

/** Array tasks sacct still folds into one line (`123_[4-9%2]`): never started, e.g. cancelled while pending. */
export interface SacctRange extends SacctBase {
  kind: 'range';
  baseId: string;
  spec: string;
}

export type SacctRecord = SacctJob | SacctRange;

function parseError(lineNo: number, line: string, why: string): RelayError {
  return new RelayError('SLURM_PARSE', `sacct printed line ${lineNo} that HPC Relay cannot read (${why}): ${quoted(line, 160)}.`, {
    fix: 'Check that `sacct` works on the login node (accounting may be off: ask your admins); report this line if it does.',
  });
}

function exitPair(text: string): [number, number] | null {
  const m = /^(\d+):(\d+)$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function time(text: string): string | null {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text) ? text : null;
}

function maxOf(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/**
 * Jobs from `sacct --parsable2 --noheader --format=SACCT_FIELDS`, with their steps (`.batch`,
 * `.extern`, `.0`) folded in: MaxRSS is the largest step's. A malformed line throws SLURM_PARSE
 * naming its number.
 */
export function parseSacct(stdout: string): SacctRecord[] {
  const n = SACCT_FIELDS.length;
  const jobs = new Map<string, SacctRecord>();
  stdout.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const f = line.split('|');
    if (f.length < n) throw parseError(i + 1, line, `${f.length} fields, expected ${n}`);
    const [idText = '', ...nameParts] = f.slice(0, f.length - (n - 2));
    const [stateText, exitText, elapsed, maxRss, reqMem, limit, nodeList, start, end] = f.slice(f.length - (n - 2)) as [string, string, string, string, string, string, string, string, string];
    const dot = idText.indexOf('.');
    const jobPart = dot === -1 ? idText : idText.slice(0, dot);
    const parsed = parseJobId(jobPart);
    if (!parsed) throw parseError(i + 1, line, `${quoted(idText)} is not a job id`);
    const exit = exitPair(exitText);
    if (!exit) throw parseError(i + 1, line, `${quoted(exitText)} is not an exit code`);
    const { state, by } = normalizeState(stateText);
    if (!/^[A-Z_]+$/.test(state)) throw parseError(i + 1, line, `${quoted(stateText)} is not a job state`);
    const rss = maxRss.trim() ? parseMemory(maxRss, 'B') : null;
    if (maxRss.trim() && rss === null) throw parseError(i + 1, line, `${quoted(maxRss)} is not a memory size`);

    const key = parsed.kind === 'single' ? parsed.ref.key : `${parsed.baseId}_[${parsed.spec}]`;
    if (dot !== -1) {
      const owner = jobs.get(key);
      // A step whose job line is missing (sacct filters can do that) has nothing to fold into.
      if (!owner) return;
      owner.steps.push({ step: idText.slice(dot + 1), state, exitCode: exit[0], signal: exit[1], maxRssBytes: rss });
      owner.maxRssBytes = maxOf(owner.maxRssBytes, rss);
      return;
    }
    const base: SacctBase = {
      name: nameParts.join('|'),
      state,
      cancelledBy: by ?? null,
      exitCode: exit[0],
      signal: exit[1],
      elapsedSec: parseDuration(elapsed),
      maxRssBytes: rss,
      reqMemBytes: reqMem.trim() ? parseMemory(reqMem, 'M') : null,
      timeLimitSec: parseDuration(limit),
      nodeList: nodeList && nodeList !== 'None assigned' ? nodeList : null,
      start: time(start),
      end: time(end),
      steps: [],
    };
    jobs.set(key, parsed.kind === 'single' ? { kind: 'job', ...parsed.ref, ...base } : { kind: 'range', baseId: parsed.baseId, spec: parsed.spec, ...base });
  });
  return [...jobs.values()];
}
