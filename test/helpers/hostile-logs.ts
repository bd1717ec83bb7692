/**
 * Shared by the unit and integration tests of hostile job output: the job service as the Slack
 * gateway's JobsApi, and a full read of a job's output by the live metrics reader.
 */
import type { JobService } from '../../main/core/jobs/index.js';
import type { JobsApi } from '../../main/core/slack/jobs-api.js';

/** The longest partial (unterminated) output line the metrics reader may keep between reads. */
export const MAX_PARTIAL_LINE = 64 * 1024;

/**
 * What no Slack answer may carry raw: control characters other than the line break, and the bidi
 * controls (they would flip the rest of the message).
 */
// eslint-disable-next-line no-control-regex
export const SLACK_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** The job service as the gateway's port, the way main/core/slack/wiring.ts corePorts() forwards it. */
export function jobsPort(jobs: JobService): JobsApi {
  return {
    listJobs: () => jobs.listJobs(),
    tail: (jobId, lines) => jobs.tail(jobId, lines),
    cancel: (jobId) => jobs.cancel(jobId),
    submit: (templateId, params) => jobs.submit(templateId, params),
    resubmit: (jobId, changes) => jobs.resubmit(jobId, changes),
    stats: (jobId) => jobs.stats(jobId),
  };
}

/** Every metric series of the job's log with its values, in step order. */
export function logSeries(jobs: JobService, jobId: string): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const p of jobs.metrics.series(jobs.job(jobId).jobKey)) {
    if (p.source !== 'log') continue;
    (out[p.series] ??= []).push(p.value ?? Number.NaN);
  }
  return out;
}

/**
 * Refreshes the job's metrics until its stdout has been read to `size` bytes (each refresh reads
 * at most one chunk); returns where the cursor stopped and how long a partial line it keeps.
 */
export async function readAllMetrics(jobs: JobService, jobId: string, size: number, maxRefreshes = 200): Promise<{ offset: number; partial: number; refreshes: number }> {
  const job = jobs.job(jobId);
  const sub = jobs.store.submission(job.submissionId ?? '');
  if (!sub) throw new Error(`job ${jobId} has no submission`);
  const path = sub.stdoutPattern.replace('%j', job.jobKey);
  let refreshes = 0;
  for (;;) {
    const c = jobs.metrics.cursor(job.jobKey, path);
    if (c.offset >= size || refreshes >= maxRefreshes) return { offset: c.offset, partial: c.state.partial.length, refreshes };
    await jobs.metricsReader.refresh([job.jobKey]);
    refreshes++;
  }
}
