import { PROCESS_OWNER, ownerState, type ProcessOwner } from './claim-owner.js';
import type { Db } from './database.js';

export interface OutboxRow {
  id: number;
  jobKey: string;
  finalState: string;
  channel: string;
  title: string;
  body: string;
  payload: Record<string, unknown>;
  createdAt: number;
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
}

interface RawOutbox {
  id: number; job_key: string; final_state: string; channel: string; title: string; body: string; payload: string; created_at: number;
  attempts: number; last_error: string | null; delivered_at: number | null;
}

function toRow(r: RawOutbox): OutboxRow {
  return {
    id: r.id, jobKey: r.job_key, finalState: r.final_state, channel: r.channel, title: r.title, body: r.body, payload: JSON.parse(r.payload) as Record<string, unknown>,
    createdAt: r.created_at, attempts: r.attempts, lastError: r.last_error, deliveredAt: r.delivered_at,
  };
}

/**
 * The notification outbox. Rows are written by JobStore.finalize (UNIQUE per job, final state and
 * channel); here they are claimed, delivered and marked. A claim keeps a second dispatcher (the
 * app and a daemon on one store) off the row. A claim whose process is gone (killed mid-delivery)
 * is released by `releaseAbandoned`; one whose holder cannot be checked (another host) lapses
 * after `claimTtlMs`. Either way the row is offered again.
 */
export class OutboxStore {
  constructor(private readonly db: Db, private readonly claimTtlMs = 60_000, private readonly owner: ProcessOwner = PROCESS_OWNER) {}

  /**
   * A notification that is not a job's end (a NaN warning, say): one row per (job, kind, channel),
   * so it is sent once however often the condition is seen. Returns the rows added.
   */
  enqueue(jobKey: string, kind: string, channels: readonly string[], msg: { title: string; body: string; payload?: Record<string, unknown> }, now: number): number {
    const put = this.db.prepare('INSERT OR IGNORE INTO notification_outbox (job_key, final_state, channel, title, body, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    return this.db.transaction(() => channels.reduce((n, ch) => n + put.run(jobKey, kind, ch, msg.title, msg.body, JSON.stringify(msg.payload ?? {}), now).changes, 0)).immediate();
  }

  pending(channels: readonly string[], now: number, limit = 100): OutboxRow[] {
    if (channels.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM notification_outbox WHERE delivered_at IS NULL AND channel IN (${channels.map(() => '?').join(',')})
      AND (claimed_at IS NULL OR claimed_at < ?) ORDER BY id LIMIT ?`).all(...channels, now - this.claimTtlMs, limit) as RawOutbox[];
    return rows.map(toRow);
  }

  claim(id: number, now: number): boolean {
    return this.db.prepare('UPDATE notification_outbox SET claimed_at = ?, claimed_by = ?, attempts = attempts + 1 WHERE id = ? AND delivered_at IS NULL AND (claimed_at IS NULL OR claimed_at < ?)')
      .run(now, this.owner, id, now - this.claimTtlMs).changes === 1;
  }

  /**
   * Releases the claims of processes on this host that are no longer running (killed between
   * claiming a row and marking it), so a restart delivers them at once rather than after the
   * TTL. Returns the rows released.
   */
  releaseAbandoned(): number {
    const owners = this.db.prepare('SELECT DISTINCT claimed_by FROM notification_outbox WHERE delivered_at IS NULL AND claimed_at IS NOT NULL AND claimed_by IS NOT NULL')
      .pluck().all() as string[];
    const release = this.db.prepare('UPDATE notification_outbox SET claimed_at = NULL, claimed_by = NULL WHERE claimed_by = ? AND delivered_at IS NULL');
    return owners.filter((o) => ownerState(o, this.owner) === 'gone').reduce((n, o) => n + release.run(o).changes, 0);
  }

  markDelivered(id: number, now: number): void {
    this.db.transaction(() => {
      this.db.prepare('UPDATE notification_outbox SET delivered_at = ?, last_error = NULL WHERE id = ? AND delivered_at IS NULL').run(now, id);
    }).immediate();
  }

  /** Delivery failed: release the claim so the next pass retries it. */
  markFailed(id: number, error: string): void {
    this.db.prepare('UPDATE notification_outbox SET claimed_at = NULL, claimed_by = NULL, last_error = ? WHERE id = ? AND delivered_at IS NULL').run(error.slice(0, 500), id);
  }

  forJob(jobKey: string): OutboxRow[] {
    return (this.db.prepare('SELECT * FROM notification_outbox WHERE job_key = ? ORDER BY id').all(jobKey) as RawOutbox[]).map(toRow);
  }

  all(): OutboxRow[] {
    return (this.db.prepare('SELECT * FROM notification_outbox ORDER BY id').all() as RawOutbox[]).map(toRow);
  }
}
