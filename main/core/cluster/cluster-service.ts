import { RelayError } from '../errors.js';
import { SINFO_PARTITIONS_ARGV, parsePartitions, type Partition } from '../slurm/sinfo-parser.js';
import { quoteRemotePath } from './shell-quote.js';
import type { ExecOptions, ExecResult, ReadFileOptions, ReadFileResult, SshSession } from './ssh-session.js';

export interface ClusterServiceOptions {
  /** cluster.remoteDir; unset means the default chosen on the cluster (see remoteDir()). */
  remoteDir?: string | undefined;
}

/**
 * The shell script that resolves, creates and checks the remote working directory. It runs on
 * the login node as `sh -c SCRIPT`; the configured path is the only input, quoted by
 * quoteRemotePath (a leading `$HOME` or `~` is the only part the shell expands).
 * Prints the absolute directory; on failure exits 3 (cannot create) or 4 (cannot write) and
 * prints the directory on the first line and the system's reason after it.
 */
export function remoteDirScript(configured: string | undefined, scratchRoot = '/scratch'): string {
  const choose = configured
    ? `d=${quoteRemotePath(configured)}`
    : `if [ -d ${quoteRemotePath(scratchRoot)} ]; then d=${quoteRemotePath(scratchRoot)}/"\${USER:-$(id -un)}"/hpc-relay; else d="$HOME"/hpc-relay; fi`;
  return [
    choose,
    'err=$(mkdir -p -- "$d" 2>&1) || { printf \'%s\\n%s\\n\' "$d" "$err"; exit 3; }',
    'probe="$d/.hpc-relay-write-check.$$"',
    'err=$( { : > "$probe"; } 2>&1) || { printf \'%s\\n%s\\n\' "$d" "$err"; exit 4; }',
    'rm -f -- "$probe"',
    'cd -- "$d" && pwd',
  ].join('\n');
}

/**
 * The owner of remote commands: everything that reaches the cluster goes through here as an argv
 * array (quoted once, in shell-quote.ts), over the one SSH session.
 */
export class ClusterService {
  private remoteDirPromise: Promise<string> | null = null;
  private readonly configuredRemoteDir: string | undefined;

  constructor(private readonly session: SshSession, options: ClusterServiceOptions = { remoteDir: session.target.remoteDir }) {
    this.configuredRemoteDir = options.remoteDir;
  }

  get ssh(): SshSession {
    return this.session;
  }

  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.session.exec(argv, opts);
  }

  /** Runs argv and insists on exit status 0; the error carries the program's own stderr. */
  async run(argv: readonly string[], opts?: ExecOptions): Promise<string> {
    const r = await this.session.exec(argv, opts);
    if (r.code !== 0) {
      const why = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' ').slice(0, 300);
      throw new RelayError('REMOTE_COMMAND_FAILED', `\`${argv[0]}\` failed on the cluster (exit ${r.code ?? r.signal}): ${why || 'no output'}.`, {
        fix: argv[0] === 'sinfo' || argv[0] === 'sbatch' || argv[0] === 'squeue' || argv[0] === 'sacct' ? 'Check that SLURM commands are on your PATH on the login node.' : undefined,
      });
    }
    return r.stdout;
  }

  async partitions(): Promise<Partition[]> {
    return parsePartitions(await this.run(SINFO_PARTITIONS_ARGV, { timeoutMs: 30_000, idempotent: true }));
  }

  /**
   * The absolute remote working directory, created if missing and checked writable:
   * cluster.remoteDir when set, else /scratch/$USER/hpc-relay where /scratch exists, else
   * $HOME/hpc-relay. Resolved once per service (a failure is not cached).
   */
  remoteDir(): Promise<string> {
    this.remoteDirPromise ??= this.resolveRemoteDir().catch((e: unknown) => {
      this.remoteDirPromise = null;
      throw e;
    });
    return this.remoteDirPromise;
  }

  private async resolveRemoteDir(): Promise<string> {
    const configured = this.configuredRemoteDir;
    const r = await this.session.exec(['sh', '-c', remoteDirScript(configured)], { timeoutMs: 30_000, idempotent: true });
    const lines = r.stdout.trim().split('\n');
    if (r.code === 0 && lines[0]?.startsWith('/')) return lines[0];
    const dir = lines[0] || configured || 'the remote directory';
    const why = (lines.slice(1).join(' ').trim() || r.stderr.trim() || `exit ${r.code ?? r.signal}`).slice(0, 300);
    const how = r.code === 3 ? 'could not be created' : 'is not writable';
    throw new RelayError('REMOTE_DIR_NOT_WRITABLE', `The remote directory ${dir} ${how} (${why}).`, {
      fix: configured
        ? 'Set cluster.remoteDir to a directory your cluster user can write, for example `hpc-relay config set cluster.remoteDir \'$HOME/hpc-relay\'`.'
        : 'Set cluster.remoteDir to a directory your cluster user can write (`hpc-relay config set cluster.remoteDir PATH`).',
    });
  }

  /** Uploads a file (a job script, say) over SFTP on the shared connection; see SshSession.writeFile. */
  writeFile(remotePath: string, data: string | Buffer, mode?: number): Promise<void> {
    return this.session.writeFile(remotePath, data, mode);
  }

  /** Reads (part of) a remote file over SFTP; see SshSession.readFile. */
  readFile(remotePath: string, opts?: ReadFileOptions): Promise<ReadFileResult> {
    return this.session.readFile(remotePath, opts);
  }

  close(): void {
    this.session.close();
  }
}
