import { describeError } from '../errors.js';
import type { Clock, Logger, Notifier } from '../ports.js';
import type { OutboxRow, OutboxStore } from '../store/outbox-store.js';
import type { JobEndReport } from './job-messages.js';

/** Slack's side of job reports; the Slack gateway implements it. */
export interface SlackReporter {
  /** Posts the report; `report.idempotencyKey` repeats for a retried delivery of the same report. */
  reportJobEnd(report: JobEndReport): Promise<void>;
}

export interface NotifyChannels {
  /** The tray (the app) or the daemon's stand-in. */
  tray?: Notifier;
  slack?: SlackReporter;
}

export function idempotencyKey(row: Pick<OutboxRow, 'jobKey' | 'finalState' | 'channel'>): string {
  return `hpc-relay:job:${row.jobKey}:${row.finalState}:${row.channel}`;
}

/**
 * Delivers the notification outbox to the channels this process has. A row is claimed, delivered
 * and marked delivered (its own transaction); undelivered rows — a channel was down, the process
 * crashed — are retried on start and every `retryMs`. A crash between a channel accepting a
 * message and the mark is the only window for a repeat; the idempotency key lets a channel drop it.
 */
export class NotifyDispatcher {
  private running = false;
  private flushing: Promise<number> | null = null;
  private again = false;
  private timer: { cancel(): void } | null = null;
  /** Deliveries made by this dispatcher, for tests and benchmarks. */
  delivered = 0;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly channels: NotifyChannels,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly retryMs = 60_000,
  ) {}

  get channelNames(): string[] {
    return Object.entries(this.channels).filter(([, v]) => v !== undefined).map(([k]) => k);
  }

  start(): Promise<number> {
    this.running = true;
    this.schedule();
    return this.flush();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
  }

  /** Delivers now (coalescing calls that arrive while a pass runs); resolves to rows delivered. */
  flush(): Promise<number> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = (async () => {
      let n = 0;
      do {
        this.again = false;
        n += await this.pass();
      } while (this.again);
      return n;
    })().finally(() => { this.flushing = null; });
    return this.flushing;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimeout(() => {
      void this.flush().finally(() => this.schedule());
    }, this.retryMs);
  }

  private async pass(): Promise<number> {
    let n = 0;
    for (const row of this.outbox.pending(this.channelNames, this.clock.now())) {
      if (!this.outbox.claim(row.id, this.clock.now())) continue;
      try {
        await this.deliver(row);
        this.outbox.markDelivered(row.id, this.clock.now());
        this.delivered++;
        n++;
      } catch (e) {
        this.outbox.markFailed(row.id, describeError(e));
        this.logger.warn('notification not delivered, will retry', { job: row.jobKey, channel: row.channel, error: describeError(e) });
      }
    }
    return n;
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const key = idempotencyKey(row);
    if (row.channel === 'tray' && this.channels.tray) {
      // The tray shows a failed job differently (icon, badge); only COMPLETED is a success.
      const outcome = row.finalState === 'COMPLETED' ? 'succeeded' : 'failed';
      await this.channels.tray.notify({ id: key, title: row.title, body: row.body, target: `job:${row.jobKey}`, outcome });
      return;
    }
    if (row.channel === 'slack' && this.channels.slack) {
      await this.channels.slack.reportJobEnd({ ...(row.payload as unknown as Omit<JobEndReport, 'idempotencyKey' | 'title' | 'body'>), idempotencyKey: key, title: row.title, body: row.body });
      return;
    }
    throw new Error(`no ${row.channel} channel in this process`);
  }
}
