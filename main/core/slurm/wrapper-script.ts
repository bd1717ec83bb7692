import { RelayError } from '../errors.js';

/**
 * The script HPC Relay hands to sbatch for every job it submits: the user's `#SBATCH` header,
 * copied verbatim (comment lines only, so nothing in it can run), then a fixed wrapper that runs
 * the uploaded script as a child and, when it ends, appends one line `<job> <exit code> <epoch>`
 * to the events file the app watches.
 *
 * The wrapper is bash (on every cluster) for its fork-free time stamp, see relay_report.
 * Why a child and not a trap inside the user's script: the user's script may be Python or any
 * other interpreter, may `set -e`, and may set its own EXIT trap — none of that can touch a
 * trap in a separate shell. The wrapper exits with the script's status (and dies of the same
 * signal when the script did), so SLURM records exactly what the script did. Nothing here is
 * built from values: the events file, the script path and the script's arguments arrive as
 * positional parameters through sbatch's argv.
 */
export const WRAPPER_BODY = `# ---- HPC Relay wrapper (generated; the #SBATCH lines above are the script's own) ----
# Usage: sbatch [options] relay-wrapper.sh EVENTS_FILE SCRIPT [ARGS...]
relay_events=$1
relay_script=$2
shift 2
if [ -n "\${SLURM_ARRAY_JOB_ID:-}" ] && [ -n "\${SLURM_ARRAY_TASK_ID:-}" ]; then
  relay_job=\${SLURM_ARRAY_JOB_ID}_\${SLURM_ARRAY_TASK_ID}
else
  relay_job=\${SLURM_JOB_ID:-unknown}
fi
relay_rc=
relay_report() {
  # No fork here: when SLURM cancels or times out a job it kills every process it finds, and a
  # date command started at that moment dies with them. bash's printf prints the time itself.
  printf '%s %s %(%s)T\\n' "$relay_job" "$1" -1 >> "$relay_events" 2>/dev/null || :
}
trap 'relay_report "\${relay_rc:-$?}"' EXIT
trap 'relay_rc=143; exit 143' TERM
trap 'relay_rc=130; exit 130' INT
"$relay_script" "$@"
relay_rc=$?
if [ "$relay_rc" -gt 128 ] && [ "$relay_rc" -lt 160 ]; then
  # The script died of a signal: report, then die of the same one so SLURM records 0:SIG.
  trap - EXIT TERM INT
  relay_report "$relay_rc"
  kill -"$((relay_rc - 128))" $$
fi
exit "$relay_rc"
`;

export interface SbatchDirective {
  /** Long option name with dashes, e.g. `--mem`; short ones are mapped (`-J` -> `--job-name`). */
  option: string;
  value: string | null;
}

const SHORT: Record<string, string> = {
  '-J': '--job-name', '-a': '--array', '-t': '--time', '-p': '--partition', '-o': '--output', '-e': '--error', '-D': '--chdir', '-c': '--cpus-per-task', '-n': '--ntasks', '-N': '--nodes', '-G': '--gpus',
};

const MAX_HEADER_LINES = 1000;

/** The leading comment block after the shebang: what sbatch reads `#SBATCH` lines from. */
export function scriptHeader(script: string): string[] {
  const lines = script.split('\n').slice(1);
  const out: string[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (!line.startsWith('#')) break;
    out.push(line);
    if (out.length >= MAX_HEADER_LINES) break;
  }
  return out;
}

/** `#SBATCH` directives of the header, in order. */
export function parseDirectives(header: readonly string[]): SbatchDirective[] {
  const out: SbatchDirective[] = [];
  for (const line of header) {
    const m = /^#SBATCH\s+(\S+)(?:\s+([^#\s]\S*))?/.exec(line);
    if (!m?.[1]) continue;
    const [opt, inlineValue] = m[1].includes('=') ? [m[1].slice(0, m[1].indexOf('=')), m[1].slice(m[1].indexOf('=') + 1)] : [m[1], undefined];
    const option = SHORT[opt] ?? opt;
    out.push({ option, value: inlineValue ?? m[2] ?? null });
  }
  return out;
}

export function directive(directives: readonly SbatchDirective[], option: string): string | null {
  let v: string | null = null;
  for (const d of directives) if (d.option === option) v = d.value;
  return v;
}

/** Checks the script is something sbatch accepts, and builds the wrapper HPC Relay submits instead. */
export function buildWrapper(script: string, name = 'the script'): { wrapper: string; directives: SbatchDirective[] } {
  if (!script.startsWith('#!')) {
    throw new RelayError('JOB_SCRIPT_INVALID', `${name} does not start with "#!", so sbatch would refuse it.`, { fix: 'Add an interpreter line such as #!/bin/bash as its first line.' });
  }
  if (script.includes('\0')) {
    throw new RelayError('JOB_SCRIPT_INVALID', `${name} contains NUL bytes: it is not a text script.`, { fix: 'Submit the batch script itself, not a binary.' });
  }
  const header = scriptHeader(script);
  return { wrapper: ['#!/bin/bash', ...header, WRAPPER_BODY].join('\n'), directives: parseDirectives(header) };
}
