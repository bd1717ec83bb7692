import type { SacctJob, SacctRange, SacctRecord } from './sacct-parser.js';
import { normalizeState, parseDuration, parseJobId, parseMemory } from './slurm-values.js';

/**
 * How jobs ended where accounting is off (AccountingStorageType=accounting_storage/none, or
 * slurmdbd unreachable): the controller's own record, `scontrol -o show job ID` (one line per job
 * or array task, `Key=Value` pairs). It knows a job for MinJobAge after its end (300 s by
 * default), has no MaxRSS, and no step records; everything else the tracker needs is there.
 *
 * One remote command for many jobs: a constant script that runs scontrol once per id given as a
 * positional parameter (ids are checked to be job ids first). An id the controller has forgotten
 * prints nothing (its error goes to /dev/null).
 */
export const SCONTROL_JOBS_SCRIPT = 'for j in "$@"; do scontrol -o show job "$j" 2>/dev/null; done; exit 0';

export function scontrolJobsArgv(baseIds: readonly string[]): string[] {
  const ids = [...new Set(baseIds)].filter((id) => /^\d+$/.test(id));
  return ['sh', '-c', SCONTROL_JOBS_SCRIPT, 'sh', ...ids];
}

/** `Key=Value` pairs of one scontrol -o line; a value runs to the next ` Key=` (values may hold spaces). */
export function scontrolFields(line: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const starts: Array<{ key: string; at: number; valueAt: number }> = [];
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const key = m[1] ?? '';
    starts.push({ key, at: m.index, valueAt: m.index + m[0].length });
  }
  starts.forEach((s, i) => {
    const end = starts[i + 1]?.at ?? line.length;
    if (!out.has(s.key)) out.set(s.key, line.slice(s.valueAt, end).trim());
  });
  return out;
}

function timeOf(text: string | undefined): string | null {
  return text && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text) ? text : null;
}

function memoryOf(f: Map<string, string>): number | null {
  const node = f.get('MinMemoryNode');
  if (node) return parseMemory(node, 'M');
  const perCpu = f.get('MinMemoryCPU');
  const cpus = Number(f.get('NumCPUs') ?? '');
  const m = perCpu ? parseMemory(perCpu, 'M') : null;
  return m !== null && Number.isInteger(cpus) && cpus > 0 ? m * cpus : m;
}

/**
 * The records of SCONTROL_JOBS_SCRIPT's output, in sacct's shape so the tracker applies them the
 * same way. Lines it cannot read are skipped (this is a fallback: a missing record leaves the job
 * open for the next look, it never invents an end).
 */
/**
 * Each job line of `scontrol -o show job` output with its id as squeue and sacct print it: `123`,
 * `123_4` for an array task, `123_[4-19%2]` for an array's pending tasks folded into one record.
 */
function* scontrolJobLines(stdout: string): Generator<{ id: string; f: Map<string, string> }> {
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('JobId=')) continue;
    const f = scontrolFields(line);
    const arrayJob = f.get('ArrayJobId');
    const arrayTask = f.get('ArrayTaskId');
    yield { id: arrayJob && arrayTask ? (/^\d+$/.test(arrayTask) ? `${arrayJob}_${arrayTask}` : `${arrayJob}_[${arrayTask}]`) : (f.get('JobId') ?? ''), f };
  }
}

export function parseScontrolJobs(stdout: string): SacctRecord[] {
  const out = new Map<string, SacctRecord>();
  for (const { id, f } of scontrolJobLines(stdout)) {
    const parsed = parseJobId(id);
    const exit = /^(\d+):(\d+)$/.exec(f.get('ExitCode') ?? '');
    const { state } = normalizeState(f.get('JobState') ?? '');
    if (!parsed || !exit || !/^[A-Z_]+$/.test(state)) continue;
    const nodes = f.get('NodeList');
    const base = {
      name: f.get('JobName') ?? '',
      state,
      cancelledBy: null,
      exitCode: Number(exit[1]),
      signal: Number(exit[2]),
      elapsedSec: parseDuration(f.get('RunTime') ?? ''),
      maxRssBytes: null,
      reqMemBytes: memoryOf(f),
      timeLimitSec: parseDuration(f.get('TimeLimit') ?? ''),
      nodeList: nodes && nodes !== '(null)' ? nodes : null,
      start: timeOf(f.get('StartTime')),
      end: timeOf(f.get('EndTime')),
      steps: [],
    };
    const rec: SacctJob | SacctRange = parsed.kind === 'single' ? { kind: 'job', ...parsed.ref, ...base } : { kind: 'range', baseId: parsed.baseId, spec: parsed.spec, ...base };
    out.set(id, rec);
  }
  return [...out.values()];
}

/** Where a job's output goes, as the controller knows it (any job of yours, while it runs and for MinJobAge after). */
export function outputPathsArgv(jobKey: string): string[] {
  if (!/^\d+(_\d+)?$/.test(jobKey)) throw new Error(`not a job key: ${jobKey}`);
  return ['scontrol', '-o', 'show', 'job', jobKey];
}

/** A type, not an interface: it is stored as a job event's detail (a plain record). */
export type ScontrolOutputPaths = { stdout: string; stderr: string };

function outputPathsOf(f: Map<string, string>): ScontrolOutputPaths | null {
  const abs = (p: string | undefined): string | null => (p && p.startsWith('/') && !p.includes('\0') ? p : null);
  const out = abs(f.get('StdOut'));
  if (!out) return null;
  return { stdout: out, stderr: abs(f.get('StdErr')) ?? out };
}

/** StdOut and StdErr of the first job line (absolute paths, %A/%a already filled in by SLURM); null when there are none. */
export function parseOutputPaths(stdout: string): ScontrolOutputPaths | null {
  const line = stdout.split('\n').map((l) => l.trim()).find((l) => l.startsWith('JobId='));
  return line ? outputPathsOf(scontrolFields(line)) : null;
}

/**
 * StdOut and StdErr of every job line of `scontrol -o show job` (SCONTROL_JOBS_SCRIPT over base
 * ids prints every task of an array), by job key: `123`, or `123_4` for an array task. A pending
 * array's folded record (`ArrayTaskId=4-19%2`) names no one task, so it is left out: its tasks are
 * asked for once they start.
 */
export function parseOutputPathsByJob(stdout: string): Map<string, ScontrolOutputPaths> {
  const out = new Map<string, ScontrolOutputPaths>();
  for (const { id, f } of scontrolJobLines(stdout)) {
    const parsed = parseJobId(id);
    const paths = outputPathsOf(f);
    if (parsed?.kind === 'single' && paths) out.set(parsed.ref.key, paths);
  }
  return out;
}

/** What sacct says when the cluster keeps no accounting (or cannot reach it right now). */
export function accountingUnavailable(message: string): 'off' | 'unreachable' | null {
  if (/accounting storage is disabled/i.test(message)) return 'off';
  if (/Problem talking to the database|slurm_persist_conn_open|Unable to contact slurmdbd|Connection refused/i.test(message)) return 'unreachable';
  return null;
}
