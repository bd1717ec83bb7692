import type { JobStore } from '../store/job-store.js';

/** The job event that keeps an adopted job's output paths, as the scheduler gave them (`scontrol show job`). */
export const OUTPUT_PATHS_EVENT = 'output-paths';

export interface OutputPaths {
  stdout: string;
  stderr: string;
}

/** The output paths kept for a job submitted elsewhere, or null when none were asked for yet. */
export function keptOutputPaths(store: JobStore, jobKey: string): OutputPaths | null {
  const kept = store.events(jobKey).filter((e) => e.kind === OUTPUT_PATHS_EVENT).at(-1)?.detail;
  return typeof kept?.['stdout'] === 'string' && typeof kept['stderr'] === 'string' ? { stdout: kept['stdout'], stderr: kept['stderr'] } : null;
}
