import { formatDuration, humanBytes } from '../slurm/slurm-values.js';
import type { TriageDecision } from '../slurm/triage.js';
import type { JobRow, OutboxMessage } from '../store/job-store.js';

/**
 * What a channel needs to report a job's end. The tray shows title and body; the Slack reporter
 * builds its own message (numbers, chart) from the rest. `idempotencyKey` is the same for every
 * attempt at one (job, final state, channel), so a receiver can drop a repeat.
 */
export interface JobEndReport {
  idempotencyKey: string;
  jobId: string;
  name: string;
  state: string;
  /** SLURM's `exit:signal`. */
  exitCode: string | null;
  elapsedSec: number | null;
  timeLimitSec: number | null;
  maxRssBytes: number | null;
  reqMemBytes: number | null;
  nodeList: string | null;
  adopted: boolean;
  failureClass: string | null;
  triage: { action: string; reason: string };
  title: string;
  body: string;
}

const MARK: Record<string, string> = { COMPLETED: '✓', CANCELLED: '■', TIMEOUT: '⏱' };

/** Title and body of a job-end notification, and the payload the Slack reporter reads. */
export function composeJobEnd(job: JobRow, decision: TriageDecision): OutboxMessage {
  const exit = job.exitCode === null ? null : `${job.exitCode}:${job.signal ?? 0}`;
  const label = job.name ? `${job.name} (${job.jobKey})` : `job ${job.jobKey}`;
  const status = job.state === 'FAILED' && exit ? `FAILED (exit ${exit})` : job.state;
  const title = `${MARK[job.state] ?? '✗'} ${label} ${status}`;
  const parts: string[] = [];
  if (job.elapsedSec !== null) parts.push(`ran ${formatDuration(job.elapsedSec)}${job.timeLimitSec ? ` of ${formatDuration(job.timeLimitSec)}` : ''}`);
  if (job.maxRssBytes !== null) parts.push(`peak memory ${humanBytes(job.maxRssBytes)}${job.reqMemBytes ? ` of ${humanBytes(job.reqMemBytes)}` : ''}`);
  if (job.nodeList) parts.push(`on ${job.nodeList}`);
  const facts = parts.length ? `${parts.join(', ')}. ` : '';
  const body = `${facts}${decision.action === 'none' ? '' : decision.reason}`.trim();
  const payload: Omit<JobEndReport, 'idempotencyKey' | 'title' | 'body'> = {
    jobId: job.jobKey, name: job.name, state: job.state, exitCode: exit, elapsedSec: job.elapsedSec, timeLimitSec: job.timeLimitSec, maxRssBytes: job.maxRssBytes,
    reqMemBytes: job.reqMemBytes, nodeList: job.nodeList, adopted: job.adopted, failureClass: job.failureClass, triage: { action: decision.action, reason: decision.reason },
  };
  return { title, body: body || 'It completed.', payload: payload as unknown as Record<string, unknown> };
}
