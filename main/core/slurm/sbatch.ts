import { RelayError } from '../errors.js';

/**
 * sbatch options as data. Every option HPC Relay adds or changes is one argv element
 * `--name=value`; nothing is ever pasted into shell text.
 */
const SHORT_OF: Record<string, string> = { '--job-name': '-J', '--array': '-a', '--time': '-t', '--partition': '-p', '--output': '-o', '--error': '-e', '--chdir': '-D', '--mem': '' };

/** The value of an option in an sbatch argv (`--mem=8G`, `--mem 8G`, `-t 10`); the last one wins, as in sbatch. */
export function getOption(args: readonly string[], option: string): string | null {
  const short = SHORT_OF[option];
  let v: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith(`${option}=`)) v = a.slice(option.length + 1);
    else if ((a === option || (short && a === short)) && i + 1 < args.length) { v = args[i + 1] ?? null; i++; }
    else if (short && a.startsWith(short) && a.length > short.length && !a.startsWith('--')) v = a.slice(short.length);
  }
  return v;
}

export function hasOption(args: readonly string[], option: string): boolean {
  const short = SHORT_OF[option];
  return args.some((a) => a === option || a.startsWith(`${option}=`) || (short !== undefined && short !== '' && (a === short || (a.startsWith(short) && !a.startsWith('--')))));
}

/** The argv with every form of `option` removed and `option=value` appended (null: just removed). */
export function setOption(args: readonly string[], option: string, value: string | null): string[] {
  const short = SHORT_OF[option];
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a.startsWith(`${option}=`)) continue;
    if (a === option || (short && a === short)) { i++; continue; }
    if (short && a.startsWith(short) && a.length > short.length && !a.startsWith('--')) continue;
    out.push(a);
  }
  if (value !== null) out.push(`${option}=${value}`);
  return out;
}

/** sbatch options may not smuggle in a second script or a shell line. */
export function checkSbatchArgs(args: readonly string[]): void {
  for (const a of args) {
    if (!a.startsWith('-')) throw new RelayError('USAGE', `"${a}" is not an sbatch option (options start with "-").`, { fix: 'Pass sbatch options as --name=value.' });
    if (a === '--wrap' || a.startsWith('--wrap=')) throw new RelayError('USAGE', 'sbatch --wrap is not allowed: HPC Relay submits scripts only.', { fix: 'Put the command in a script and submit that.' });
    if (/[\n\0]/.test(a)) throw new RelayError('USAGE', 'An sbatch option contains a newline or NUL byte.', { fix: 'Remove it.' });
  }
}

export interface SbatchCommand {
  /** The user's or template's own sbatch options (validated, kept for resubmits). */
  sbatchArgs: readonly string[];
  wrapperPath: string;
  eventsPath: string;
  scriptPath: string;
  scriptArgs: readonly string[];
  chdir: string;
  stdoutPattern: string;
  stderrPattern: string;
  /** Set only when neither the options nor the script's header name the job. */
  jobName: string | null;
  /**
   * The submission's marker (submissionMarker), added to the job's `--comment` after any comment
   * of the user's: how a submission whose answer was lost is found on the scheduler.
   */
  marker?: string;
}

export function sbatchArgv(c: SbatchCommand): string[] {
  const own = c.marker ? setOption(c.sbatchArgs, '--comment', [getOption(c.sbatchArgs, '--comment'), c.marker].filter(Boolean).join(' ')) : c.sbatchArgs;
  const argv = ['sbatch', '--parsable', ...own];
  if (!hasOption(c.sbatchArgs, '--chdir')) argv.push(`--chdir=${c.chdir}`);
  argv.push(`--output=${c.stdoutPattern}`, `--error=${c.stderrPattern}`);
  if (c.jobName !== null) argv.push(`--job-name=${c.jobName}`);
  return [...argv, c.wrapperPath, c.eventsPath, c.scriptPath, ...c.scriptArgs];
}

/** The tag a submission's job carries in its comment: `hpc-relay:<submission id>`. */
export function submissionMarker(submissionId: string): string {
  return `hpc-relay:${submissionId}`;
}

/** The user's jobs in every state (ended ones stay listed for MinJobAge): `<job or array id>|<comment>`. */
export const MARKER_SQUEUE_ARGV = ['squeue', '--me', '-t', 'all', '--noheader', '--format=%F|%k'] as const;

/** The user's jobs of the last day from accounting, with the command line they were submitted with (the comment is in it). */
export const MARKER_SACCT_ARGV = ['sacct', '-X', '--noheader', '--parsable2', '--starttime=now-1days', '--format=JobID,SubmitLine'] as const;

/**
 * The SLURM job id on the first line of squeue's or sacct's output (MARKER_*_ARGV) that carries
 * `marker`; an array's id without its task. Null when no job carries it.
 */
export function jobIdWithMarker(output: string, marker: string): string | null {
  for (const line of output.split('\n')) {
    if (!line.includes(marker)) continue;
    const m = /^(\d+)(?:[_.[|]|$)/.exec(line.trim());
    if (m?.[1]) return m[1];
  }
  return null;
}

/** `sbatch --parsable` prints `123` or `123;cluster`. */
export function parseSbatchParsable(stdout: string): string {
  const m = /^(\d+)(;\S+)?\s*$/.exec(stdout.trim());
  if (!m?.[1]) throw new RelayError('SLURM_PARSE', `sbatch --parsable printed ${JSON.stringify(stdout.trim().slice(0, 120))} instead of a job id.`, { fix: 'Check that sbatch works on the login node.' });
  return m[1];
}

/** One sentence from sbatch's refusal, with the fix for the common ones. */
export function sbatchFailure(stderr: string, code: number | null): RelayError {
  const line = stderr.split('\n').map((l) => l.trim()).filter(Boolean).filter((l) => !/^sbatch: (warning|info)/i.test(l)).at(-1) ?? `exit ${code}`;
  const why = line.replace(/^sbatch: error: /, '').replace(/^Batch job submission failed: /, '');
  let fix = 'Fix the script or its options and submit again.';
  if (/time limit/i.test(why)) fix = 'Ask for a time within the partition\'s limit (see `hpc-relay exec -- sinfo`).';
  else if (/memory|mem/i.test(why)) fix = 'Ask for less memory, or a partition whose nodes have more.';
  else if (/partition/i.test(why)) fix = 'Use a partition from `hpc-relay exec -- sinfo`.';
  else if (/account|association|qos/i.test(why)) fix = 'Ask your cluster admins which account and QOS you may use.';
  return new RelayError('JOB_SUBMIT_FAILED', `sbatch refused the job: ${why.replace(/\.$/, '')}.`, { fix });
}
