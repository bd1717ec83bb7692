import type { ClusterService } from '../cluster/cluster-service.js';
import type { Clock } from '../ports.js';
import { parseOutputPathsByJob, scontrolJobsArgv, type ScontrolOutputPaths } from '../slurm/scontrol-parser.js';
import type { JobRow, JobStore } from '../store/job-store.js';

/** The job event that keeps an adopted job's output paths, as the scheduler gave them (`scontrol show job`). */
export const OUTPUT_PATHS_EVENT = 'output-paths';

export type OutputPaths = ScontrolOutputPaths;

/** The output paths kept for a job submitted elsewhere, or null when none were asked for yet. */
export function keptOutputPaths(store: JobStore, jobKey: string): OutputPaths | null {
  const kept = store.events(jobKey).filter((e) => e.kind === OUTPUT_PATHS_EVENT).at(-1)?.detail;
  return typeof kept?.['stdout'] === 'string' && typeof kept['stderr'] === 'string' ? { stdout: kept['stdout'], stderr: kept['stderr'] } : null;
}

export interface OutputPathLearnerDeps {
  store: JobStore;
  cluster: () => Pick<ClusterService, 'exec'>;
  clock: Clock;
}

/** How often one job's paths are asked for before it is left to `JobService.outputPaths` (on tail or report). */
const MAX_TRIES = 3;
/** Base ids asked for in one command (an array's base id covers all its tasks). */
const MAX_BASE_IDS = 50;

/**
 * The output paths of jobs submitted elsewhere, kept while the controller still knows them: each
 * tick, the adopted jobs that have started (or just ended) and have none kept yet are asked for in
 * one `scontrol show job` command by base id (SCONTROL_JOBS_SCRIPT), which answers for all running
 * tasks of an array at once. Without it a job's log could only be found while the controller
 * remembered the job (MinJobAge, 300 s by default, after its end), so a tray-only user opening a
 * finished terminal job's log an hour later would be told it is unknown.
 */
export class OutputPathLearner {
  private readonly tries = new Map<string, number>();
  /** Jobs whose paths are kept already: the store is not read again for them on every tick. */
  private readonly known = new Set<string>();

  constructor(private readonly deps: OutputPathLearnerDeps) {}

  /**
   * `justEnded`: jobs that left the queue this look. Returns the jobs asked for and the paths kept.
   * A failed command is tried again next tick (up to MAX_TRIES per job).
   */
  async learn(justEnded: readonly JobRow[] = []): Promise<{ asked: number; kept: number }> {
    const { store } = this.deps;
    const wanted = new Map<string, JobRow>();
    // Started ones (a pending job has no file yet), and those that left the queue whatever state
    // the store last saw them in (a short job can start and end between two looks).
    const candidates = [...store.unfinished().filter((j) => j.state !== 'PENDING'), ...justEnded];
    for (const j of candidates) {
      if (!j.adopted || j.submissionId !== null || wanted.has(j.jobKey) || this.known.has(j.jobKey)) continue;
      if ((this.tries.get(j.jobKey) ?? 0) >= MAX_TRIES) continue;
      if (keptOutputPaths(store, j.jobKey)) {
        this.remember(j.jobKey);
        continue;
      }
      wanted.set(j.jobKey, j);
    }
    if (wanted.size === 0) return { asked: 0, kept: 0 };
    const baseIds = [...new Set([...wanted.values()].map((j) => j.baseId))].slice(0, MAX_BASE_IDS);
    const asked = [...wanted.values()].filter((j) => baseIds.includes(j.baseId));
    for (const j of asked) this.tries.set(j.jobKey, (this.tries.get(j.jobKey) ?? 0) + 1);
    if (this.tries.size > 10_000) this.tries.delete(this.tries.keys().next().value ?? '');
    const r = await this.deps.cluster().exec(scontrolJobsArgv(baseIds), { timeoutMs: 60_000, maxOutputBytes: 16 * 1024 * 1024, idempotent: true });
    const found = parseOutputPathsByJob(r.stdout);
    let kept = 0;
    const now = this.deps.clock.now();
    for (const j of asked) {
      const paths = found.get(j.jobKey);
      if (!paths) continue;
      store.addEvent(j.jobKey, OUTPUT_PATHS_EVENT, paths, now);
      this.tries.delete(j.jobKey);
      this.remember(j.jobKey);
      kept++;
    }
    return { asked: asked.length, kept };
  }

  private remember(jobKey: string): void {
    this.known.add(jobKey);
    if (this.known.size > 10_000) this.known.delete(this.known.values().next().value ?? '');
  }
}
