/**
 * Slack redelivers an events_api envelope it thinks was not acked (retry_attempt 1, 2, 3 — maybe on
 * another connection, after a reconnect). Each event_id is handled once.
 */
export class EventDedupe {
  private readonly seen = new Map<string, number>();

  constructor(private readonly ttlMs = 60 * 60_000, private readonly max = 10_000, private readonly now: () => number = Date.now) {}

  /** True the first time `eventId` is seen (within the TTL), false for a redelivery. */
  firstTime(eventId: string): boolean {
    const t = this.now();
    this.prune(t);
    if (this.seen.has(eventId)) return false;
    this.seen.set(eventId, t);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private prune(t: number): void {
    for (const [id, at] of this.seen) {
      if (t - at < this.ttlMs && this.seen.size <= this.max) break;
      this.seen.delete(id);
    }
  }
}
