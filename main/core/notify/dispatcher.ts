import { describeError } from '../errors.js';
import type { Clock, Logger, Notifier } from '../ports.js';
import type { OutboxRow, OutboxStore } from '../store/outbox-store.js';
import { SWEEP_FINISHED } from '../store/sweep-facts.js';
import type { JobEndReport } from './job-messages.js';
import type { SweepEndReport } from './sweep-messages.js';

/** Slack's side of job reports; the Slack gateway implements it. */
export interface SlackReporter {
  /** Posts the report; `report.idempotencyKey` repeats for a retried delivery of the same report. */
  reportJobEnd(report: JobEndReport): Promise<void>;
  /** Posts a sweep's one end report (summary, ranking, comparison chart); without it such rows wait. */
  reportSweepEnd?(report: SweepEndReport): Promise<void>;
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
 * crashed — are retried on start and every `retryMs`; a row a killed process had claimed is taken
 * over on the next pass. A crash between a channel accepting a message and the mark is the only
 * window for a repeat; the idempotency key lets a channel drop it.
 */
export class NotifyDispatcher {
  private running = false;
  private flushing: Promise<number> | null = null;
  private again = false;
  private timer: { cancel(): void } | null = null;
  /** Deliveries made by this dispatcher, for tests and benchmarks. */
  delivered = 0;
  /**
   * Rows a channel took whose delivery the store could not record (a full disk, say): marked on
   * a later pass, and never delivered again meanwhile.
   */
  private readonly unmarked = new Set<number>();

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
        try {
          n += await this.pass();
        } catch (e) {
          // Nobody awaits a timer's or a job end's flush: a failure here must not escape as a rejection.
          this.logger.error('notification pass failed; retrying later', { error: describeError(e) });
        }
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
    for (const id of [...this.unmarked]) if (this.mark(id)) this.unmarked.delete(id);
    const released = this.outbox.releaseAbandoned();
    if (released > 0) this.logger.info('taking over notifications a stopped process had started to deliver', { rows: released });
    for (const row of this.outbox.pending(this.channelNames, this.clock.now())) {
      if (this.unmarked.has(row.id) || !this.outbox.claim(row.id, this.clock.now())) continue;
      try {
        await this.deliver(row);
      } catch (e) {
        this.logger.warn('notification not delivered, will retry', { job: row.jobKey, channel: row.channel, error: describeError(e) });
        try {
          this.outbox.markFailed(row.id, describeError(e));
        } catch (err) {
          // The claim then lapses after its TTL and the row is offered again.
          this.logger.warn('could not release the notification for a retry', { job: row.jobKey, error: describeError(err) });
        }
        continue;
      }
      this.delivered++;
      n++;
      if (!this.mark(row.id)) this.unmarked.add(row.id);
    }
    return n;
  }

  /** Records a delivery; false (logged) when the store cannot be written. */
  private mark(id: number): boolean {
    try {
      this.outbox.markDelivered(id, this.clock.now());
      return true;
    } catch (e) {
      this.logger.error('a notification went out but could not be recorded as delivered; it is recorded once the store can be written', { row: id, error: describeError(e) });
      return false;
    }
  }

  private async deliver(row: OutboxRow): Promise<void> {
    const key = idempotencyKey(row);
    if (row.finalState === SWEEP_FINISHED) return this.deliverSweep(row, key);
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

  /** A sweep's end: the tray gets its title and body, Slack its sweep report. */
  private async deliverSweep(row: OutboxRow, key: string): Promise<void> {
    const payload = row.payload as unknown as Pick<SweepEndReport, 'sweepId' | 'facts'>;
    if (row.channel === 'tray' && this.channels.tray) {
      const ok = payload.facts.tasks.every((t) => t.state === 'COMPLETED');
      await this.channels.tray.notify({ id: key, title: row.title, body: row.body, target: `job:${row.jobKey}`, outcome: ok ? 'succeeded' : 'failed' });
      return;
    }
    if (row.channel === 'slack' && this.channels.slack?.reportSweepEnd) {
      await this.channels.slack.reportSweepEnd({ sweepId: payload.sweepId, facts: payload.facts, idempotencyKey: key, title: row.title, body: row.body });
      return;
    }
    throw new Error(`no ${row.channel} channel for sweep reports in this process`);
  }
}
