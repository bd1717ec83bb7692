import { ClusterService } from '../../main/core/cluster/cluster-service.js';
import type { ExecOptions, ExecResult } from '../../main/core/cluster/ssh-session.js';

/** A ClusterService that records every remote command's program (sbatch, squeue, sacct, …), to count what reached the cluster. */
export class CountingCluster extends ClusterService {
  readonly programs: string[] = [];
  /** Every command's argv, in order (programs holds their first words). */
  readonly commands: string[][] = [];
  override exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> {
    this.programs.push(argv[0] ?? '');
    this.commands.push([...argv]);
    return super.exec(argv, opts);
  }
  override run(argv: readonly string[], opts?: ExecOptions): Promise<string> {
    // ClusterService.run reaches the session directly, not through exec: count it here.
    this.programs.push(argv[0] ?? '');
    this.commands.push([...argv]);
    return super.run(argv, opts);
  }
}
