import { describeError } from '../errors.js';
import type { Logger } from '../ports.js';
import type { FinalizeResult } from '../store/job-store.js';
import type { SweepFacts } from '../store/sweep-facts.js';
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
/** What forwardJobEnds needs of the job service's tracker (JobTracker's 'final' event, and whether a task's end closed its sweep). */
export interface JobEndSource {
  on(event: 'final', listener: (r: FinalizeResult) => void): unknown;
  off(event: 'final', listener: (r: FinalizeResult) => void): unknown;
  endedSweep?(jobKey: string): SweepFacts | null;
}

/** What the agent takes from the job service: each job's end, and a sweep's end once its last task has ended. */
export interface JobEndSink {
  onJobFinished(job: FinishedJob): Promise<void>;
  onSweepFinished?(sweep: SweepFacts): Promise<void>;
}

export function forwardJobEnds(agent: JobEndSink, tracker: JobEndSource, logger: Logger): () => void {
  const on = (r: FinalizeResult): void => {
    agent.onJobFinished(finishedJob(r)).catch((e: unknown) => logger.warn('agent: job end not handled', { job: r.job.jobKey, err: describeError(e) }));
    // An array task's end that closed its sweep: the sweep as a whole (the agent summarises a sweep it launched once).
    const sweep = r.job.arrayTask !== null && agent.onSweepFinished ? tracker.endedSweep?.(r.job.jobKey) ?? null : null;
    if (sweep) agent.onSweepFinished?.(sweep).catch((e: unknown) => logger.warn('agent: sweep end not handled', { sweep: sweep.sweepId, err: describeError(e) }));
  };
  tracker.on('final', on);
  return () => { tracker.off('final', on); };
}
