/**
 * The job-end report the notify dispatcher (main/core/notify) hands to Slack. The dispatcher owns
 * exactly-once: it calls `report()` for an outbox row and marks the row delivered only when the
 * promise resolves; a rejection leaves the row for the next attempt. `report()` is idempotent per
 * `deliveryKey`, so a row retried after a crash (posted, not yet marked) is not posted twice.
 */

export interface MetricPoint {
  /** Epoch, step or iteration. */
  step: number;
  /** NaN and ±Infinity are allowed (and shown as such: they mean a diverged run). */
  value: number;
}

export interface MetricSeries {
  /** e.g. `val_acc`, `train_loss`. */
  name: string;
  points: MetricPoint[];
  /** Which way is better; guessed from the name (loss ↓, acc ↑) when absent. */
  goal?: 'min' | 'max';
  /** x-axis label (default "step"; the CNN demo uses "epoch"). */
  stepLabel?: string;
}

export interface JobReportInput {
  jobId: string;
  name: string;
  /** SLURM's final state: COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, … */
  state: string;
  /** SLURM's `exit:signal` (e.g. `3:0`); null when unknown. */
  exitCode: string | null;
  elapsedSec: number | null;
  /** Metric curves, possibly empty. */
  metrics: MetricSeries[];
  /** The triage class on failure (e.g. `oom`, `timeout`, `cuda_oom`, `node_fail`, `exception`); null on success. */
  failureClass: string | null;
  /** The end of stderr on failure (the reporter keeps the last ~40 lines). */
  stderrTail: string | null;
  /** Idempotency key, e.g. the outbox row id or `${jobId}:${state}` (the default). */
  deliveryKey?: string;
  /** One sentence more, e.g. what triage did ("memory raised to 24G and resubmitted as 1236"). */
  note?: string;
  /** Peak memory and the request, when known (shown as "peak 3.1 GiB of 4 GiB"). */
  maxRssBytes?: number | null;
  reqMemBytes?: number | null;
  /** Submitted outside HPC Relay (adopted): it has no script of it, so no resubmit button. */
  adopted?: boolean;
}

export interface ReportDelivery {
  channel: string;
  /** The report message: the root of the job's thread. */
  ts: string;
  /** The uploaded chart, when there was one and it went up. */
  fileId?: string;
  /** True when this key had been delivered before and the report was not posted now (a pending chart may have been). */
  duplicate: boolean;
  /**
   * True when an earlier post of this report, whose outcome was unknown (the link dropped, the
   * process stopped), was found in Slack and taken as the report instead of posting it again.
   */
  recovered?: boolean;
}

export interface SlackReporter {
  report(input: JobReportInput): Promise<ReportDelivery>;
}

/**
 * The notify dispatcher's job-end payload (main/core/notify: `JobEndReport`), as far as Slack reads
 * it; `SlackJobReporter.reportJobEnd` takes it, so the dispatcher's own reporter interface is met.
 */
export interface JobEndReportLike {
  idempotencyKey: string;
  jobId: string;
  name: string;
  state: string;
  exitCode: string | null;
  elapsedSec: number | null;
  failureClass: string | null;
  maxRssBytes?: number | null;
  reqMemBytes?: number | null;
  triage?: { action: string; reason: string };
  metrics?: MetricSeries[];
  stderrTail?: string | null;
  adopted?: boolean;
}

export function fromJobEnd(r: JobEndReportLike): JobReportInput {
  return {
    jobId: r.jobId,
    name: r.name,
    state: r.state,
    exitCode: r.exitCode,
    elapsedSec: r.elapsedSec,
    metrics: r.metrics ?? [],
    failureClass: r.failureClass,
    stderrTail: r.stderrTail ?? null,
    deliveryKey: r.idempotencyKey,
    ...(r.triage && r.triage.action !== 'none' && r.triage.reason ? { note: r.triage.reason } : {}),
    ...(r.maxRssBytes !== undefined ? { maxRssBytes: r.maxRssBytes } : {}),
    ...(r.reqMemBytes !== undefined ? { reqMemBytes: r.reqMemBytes } : {}),
    ...(r.adopted ? { adopted: true } : {}),
  };
}
