/**
 * The approval guard's judgement of remote commands, in code: a command runs without asking only
 * when its program is on the read-only list AND its arguments keep it read-only (no `find -exec`,
 * no `scontrol update`, no `nvidia-smi -r`). Everything else waits for a person. The model's
 * instructions say the same, but this is what holds when a log line talks the model into
 * something: the prompt is advice, this is the rule.
 *
 * Commands always travel as argv arrays quoted once (cluster/shell-quote.ts), so `>`, `;`, `|`
 * and `$(…)` in an argument are literal text, never a redirect or a second command; the checks
 * here are about what the program itself can be told to do.
 */

export type CommandVerdict = { readOnly: true } | { readOnly: false; reason: string };

type ArgCheck = (args: readonly string[]) => string | null;

const ok: ArgCheck = () => null;

/** Short option clusters (`-fn`) and long options (`--follow=name`), for flag tests. */
function hasShortFlag(args: readonly string[], letters: string): boolean {
  return args.some((a) => /^-[A-Za-z0-9]+$/.test(a) && !/^-\d+$/.test(a) && [...a.slice(1)].some((c) => letters.includes(c)));
}

function hasLong(args: readonly string[], names: readonly string[]): string | undefined {
  return args.find((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));
}

const tail: ArgCheck = (args) => {
  if (hasShortFlag(args, 'fF') || hasLong(args, ['--follow', '--retry', '--pid'])) return '`tail -f` never ends; read the end of the file without -f';
  return null;
};

const FIND_ACTIONS = ['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprint0', '-fprintf', '-fls'];
const find: ArgCheck = (args) => {
  const bad = args.find((a) => FIND_ACTIONS.includes(a));
  return bad ? `\`find ${bad}\` runs commands or changes files` : null;
};

const SCONTROL_FLAGS = ['-d', '--details', '-o', '--oneliner', '-a', '--all'];
const scontrol: ArgCheck = (args) => {
  const verb = args.find((a) => !SCONTROL_FLAGS.includes(a));
  if (verb !== 'show') return `only \`scontrol show …\` is read-only (got \`scontrol ${verb ?? ''}\`)`;
  return null;
};

const SACCTMGR_WRITES = ['add', 'create', 'modify', 'update', 'delete', 'remove', 'archive', 'load', 'dump', 'clear', 'reconfigure', 'shutdown'];
const sacctmgr: ArgCheck = (args) => {
  const verb = args.find((a) => !a.startsWith('-'));
  if (verb !== 'show' && verb !== 'list') return `only \`sacctmgr show|list …\` is read-only (got \`sacctmgr ${verb ?? ''}\`)`;
  const bad = args.find((a) => SACCTMGR_WRITES.includes(a.toLowerCase()));
  return bad ? `\`sacctmgr … ${bad}\` changes accounts` : null;
};

/** nvidia-smi can reset GPUs and change clocks and modes: only its query forms are read-only. */
const NVSMI_BARE = ['-L', '--list-gpus', '-q', '--query', '-x', '--xml-format', '-u', '--unit'];
const NVSMI_VALUED = ['-i', '--id', '-d', '--display', '--query-gpu', '--query-compute-apps', '--query-accounted-apps', '--query-supported-clocks', '--format'];
const nvidiaSmi: ArgCheck = (args) => {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (NVSMI_BARE.includes(a)) continue;
    if (a === '-f' || a === '--filename' || a.startsWith('--filename=')) return '`nvidia-smi -f` writes a file';
    if (NVSMI_VALUED.some((n) => a.startsWith(`${n}=`))) continue;
    if (NVSMI_VALUED.includes(a)) { i++; continue; }
    if (i === 0 && a === 'topo' && args.slice(1).every((x) => x === '-m' || x === '--matrix')) return null;
    return `\`nvidia-smi ${a}\` is not one of its query options`;
  }
  return null;
};

const date: ArgCheck = (args) => {
  const fine = (a: string) => a.startsWith('+') || ['-u', '--utc', '--universal', '-R', '--rfc-email', '-I', '--iso-8601'].includes(a) || /^(-I|--iso-8601=|--rfc-3339=)[a-z]*$/.test(a);
  const bad = args.find((a) => !fine(a));
  return bad ? `\`date ${bad}\` may set the clock` : null;
};

const hostname: ArgCheck = (args) => {
  const bad = args.find((a) => !['-s', '--short', '-f', '--fqdn', '--long', '-i', '--ip-address', '-I', '--all-ip-addresses', '-d', '--domain', '-A', '--all-fqdns'].includes(a));
  return bad ? `\`hostname ${bad}\` may set the host name` : null;
};

/** Lustre's tool: only its reporting subcommands. */
const lfs: ArgCheck = (args) => (args[0] === 'quota' || args[0] === 'df' ? null : `only \`lfs quota\` and \`lfs df\` are read-only (got \`lfs ${args[0] ?? ''}\`)`);

/** Programs that only read, with the argument checks that keep them so. */
export const READ_ONLY_COMMANDS: Readonly<Record<string, ArgCheck>> = {
  squeue: ok,
  sinfo: ok,
  sacct: ok,
  sstat: ok,
  sprio: ok,
  sshare: ok,
  scontrol,
  sacctmgr,
  ls: ok,
  cat: ok,
  head: ok,
  tail,
  wc: ok,
  grep: ok,
  egrep: ok,
  fgrep: ok,
  find,
  stat: ok,
  df: ok,
  du: ok,
  quota: ok,
  lfs,
  'nvidia-smi': nvidiaSmi,
  pwd: ok,
  whoami: ok,
  id: ok,
  hostname,
  date,
  uptime: ok,
  free: ok,
  nproc: ok,
};

export function classifyCommand(argv: readonly string[]): CommandVerdict {
  const [program, ...args] = argv;
  if (program === undefined || program === '') return { readOnly: false, reason: 'no program given' };
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(program)) {
    return { readOnly: false, reason: `\`${program.slice(0, 80)}\` is a path or an unusual name; only bare names from the read-only list run without approval` };
  }
  const check = Object.hasOwn(READ_ONLY_COMMANDS, program) ? READ_ONLY_COMMANDS[program] : undefined;
  if (!check) return { readOnly: false, reason: `\`${program}\` is not on the read-only list` };
  const why = check(args);
  return why === null ? { readOnly: true } : { readOnly: false, reason: why };
}
