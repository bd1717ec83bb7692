import { RelayError } from '../errors.js';
import { normalizeState, parseDuration, parseJobId, quoted, type JobRef } from './slurm-values.js';

/**
 * One `squeue --me` for all of the user's jobs, one line per job or array task (`--array` expands
 * pending tasks that squeue would otherwise fold into `123_[4-19%2]`). The name sits second; a
 * name holding `|` is rebuilt from the fields around it, because the other fields never hold one.
 */
export const SQUEUE_FIELDS = ['%i', '%j', '%T', '%r', '%M', '%l', '%P', '%D'] as const;
export const SQUEUE_ARGV = ['squeue', '--me', '--array', '--noheader', `--format=${SQUEUE_FIELDS.join('|')}`] as const;

export interface SqueueRow extends JobRef {
  name: string;
  /** PENDING, RUNNING, COMPLETING, … */
  state: string;
  /** Why it waits (`Priority`, `Resources`, `JobHeldUser`), `None` while running. */
  reason: string;
  elapsedSec: number | null;
  timeLimitSec: number | null;
  partition: string;
  nodes: number;
}

function parseError(lineNo: number, line: string, why: string): RelayError {
  return new RelayError('SLURM_PARSE', `squeue printed line ${lineNo} that HPC Relay cannot read (${why}): ${quoted(line, 160)}.`, {
    fix: 'Check that `squeue --me` works on the login node; report this line if it does.',
  });
}

/**
 * Rows of SQUEUE_ARGV's output. A malformed line throws SLURM_PARSE naming its number and text:
 * a tick that cannot read the queue must not guess which jobs ended.
 */
export function parseSqueue(stdout: string): SqueueRow[] {
  const rows: SqueueRow[] = [];
  const n = SQUEUE_FIELDS.length;
  stdout.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const f = line.split('|');
    if (f.length < n) throw parseError(i + 1, line, `${f.length} fields, expected ${n}`);
    const tail = f.slice(f.length - (n - 2));
    const [id, ...nameParts] = f.slice(0, f.length - (n - 2));
    const [state, reason, elapsed, limit, partition, nodes] = tail as [string, string, string, string, string, string];
    const parsed = parseJobId(id ?? '');
    if (!parsed) throw parseError(i + 1, line, `${quoted(id ?? '')} is not a job id`);
    if (parsed.kind === 'range') throw parseError(i + 1, line, 'a folded array range: squeue ran without --array');
    if (!/^[A-Z_]+$/.test(state)) throw parseError(i + 1, line, `${quoted(state)} is not a job state`);
    if (!/^\d+$/.test(nodes)) throw parseError(i + 1, line, `${quoted(nodes)} is not a node count`);
    rows.push({
      ...parsed.ref,
      name: nameParts.join('|'),
      state: normalizeState(state).state,
      reason,
      elapsedSec: parseDuration(elapsed),
      timeLimitSec: parseDuration(limit),
      partition,
      nodes: Number(nodes),
    });
  });
  return rows;
}
