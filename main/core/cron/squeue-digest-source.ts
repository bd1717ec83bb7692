/**
 * A DigestSource straight from SLURM: the user's running and pending jobs (`squeue --me`), and for
 * pending ones their place in their partition's queue (all pending jobs by priority). Two commands
 * per digest over the shared SSH session. It knows no epoch metrics; the job service's richer
 * source adds those.
 */
import type { ClusterService } from '../cluster/cluster-service.js';
import { RelayError } from '../errors.js';
import type { DigestJob, DigestSource } from './ports.js';

/** Job name last: it is free text and may contain the separator. */
export const SQUEUE_MINE_ARGV = ['squeue', '--me', '--noheader', '--states=RUNNING,PENDING', '--format=%i|%T|%M|%P|%j'] as const;
export const SQUEUE_PENDING_ARGV = ['squeue', '--noheader', '--states=PENDING', '--sort=-p,i', '--format=%i|%P'] as const;

/** SLURM's elapsed time: "M:SS", "H:MM:SS" or "D-HH:MM:SS" → seconds. */
export function parseSlurmElapsed(text: string): number {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(text.trim());
  if (!m) return 0;
  return Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

export function parseMyJobs(out: string): DigestJob[] {
  const jobs: DigestJob[] = [];
  for (const line of out.split('\n')) {
    if (!line.trim()) continue;
    const parts = line.split('|');
    if (parts.length < 5) throw new RelayError('SLURM_PARSE', `squeue printed a line HPC Relay cannot read: "${line.slice(0, 120)}".`);
    const [jobId = '', state = '', elapsed = '', partition = ''] = parts;
    jobs.push({ jobId: jobId.trim(), state: state.trim().toUpperCase(), elapsedSeconds: parseSlurmElapsed(elapsed), partition: partition.split(',')[0]?.trim() ?? '', name: parts.slice(4).join('|') });
  }
  return jobs;
}

/** Position of each pending job within its (first) partition, by the order squeue sorted them. */
export function queuePositions(out: string): Map<string, number> {
  const perPartition = new Map<string, number>();
  const pos = new Map<string, number>();
  for (const line of out.split('\n')) {
    const [id, part] = line.trim().split('|');
    if (!id || part === undefined) continue;
    const p = part.split(',')[0] ?? '';
    const n = (perPartition.get(p) ?? 0) + 1;
    perPartition.set(p, n);
    pos.set(id, n);
  }
  return pos;
}

export class SqueueDigestSource implements DigestSource {
  constructor(private readonly cluster: () => ClusterService) {}

  async listJobs(): Promise<DigestJob[]> {
    const jobs = parseMyJobs(await this.cluster().run(SQUEUE_MINE_ARGV, { timeoutMs: 30_000 }));
    if (jobs.some((j) => j.state === 'PENDING')) {
      const positions = queuePositions(await this.cluster().run(SQUEUE_PENDING_ARGV, { timeoutMs: 30_000 }));
      for (const j of jobs) {
        const p = positions.get(j.jobId);
        if (j.state === 'PENDING' && p !== undefined) j.queuePosition = p;
      }
    }
    return jobs;
  }
}
