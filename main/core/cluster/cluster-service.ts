import { RelayError } from '../errors.js';
import { SINFO_PARTITIONS_ARGV, parsePartitions, type Partition } from '../slurm/sinfo-parser.js';
import type { ExecOptions, ExecResult, SshSession } from './ssh-session.js';

/**
 * The owner of remote commands: everything that reaches the cluster goes through here as an argv
 * array (quoted once, in shell-quote.ts), over the one SSH session.
 */
export class ClusterService {
  constructor(private readonly session: SshSession) {}

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
    return parsePartitions(await this.run(SINFO_PARTITIONS_ARGV, { timeoutMs: 30_000 }));
  }

  close(): void {
    this.session.close();
  }
}
