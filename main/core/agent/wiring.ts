import { describeError } from '../errors.js';
import type { Logger } from '../ports.js';
import type { FinalizeResult } from '../store/job-store.js';
import type { FinishedJob } from './ports.js';

/** The job service's end-of-job record as the agent's FinishedJob. */
export function finishedJob(r: FinalizeResult): FinishedJob {
  const j = r.job;
  return {
    jobId: j.jobKey,
    state: j.state,
    name: j.name,
    ...(j.exitCode !== null ? { exitCode: `${j.exitCode}:${j.signal ?? 0}` } : {}),
    elapsedSec: j.elapsedSec,
  };
}

/**
 * Hands every job end the job service finalises (its events file or its poll tick) to the agent:
 * the agent's only trigger for end-of-job summaries and research rounds. Returns the unsubscribe.
 * The agent ignores jobs it did not launch, so this costs nothing for the others.
 */
/** What forwardJobEnds needs of the job service's tracker (JobTracker's 'final' event). */
export interface JobEndSource {
  on(event: 'final', listener: (r: FinalizeResult) => void): unknown;
  off(event: 'final', listener: (r: FinalizeResult) => void): unknown;
}

export function forwardJobEnds(agent: { onJobFinished(job: FinishedJob): Promise<void> }, tracker: JobEndSource, logger: Logger): () => void {
  const on = (r: FinalizeResult): void => {
    agent.onJobFinished(finishedJob(r)).catch((e: unknown) => logger.warn('agent: job end not handled', { job: r.job.jobKey, err: describeError(e) }));
  };
  tracker.on('final', on);
  return () => { tracker.off('final', on); };
}
