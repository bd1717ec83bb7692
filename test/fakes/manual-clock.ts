import type { Clock } from '../../main/core/ports.js';

/** A clock moved by hand: timers fire in order as the time passes them, with `now()` at their due time. */
export class ManualClock implements Clock {
  private timers: Array<{ at: number; seq: number; fn: () => void }> = [];
  private seq = 0;

  constructor(public t = 1_000_000) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { cancel: () => { this.timers = this.timers.filter((x) => x !== timer); } };
  }

  /**
   * Fires every timer due by `to` (epoch ms or an ISO time), then sets the time to it. With
   * `fire` false the time moves and the timers wait (an event loop too busy to run them yet).
   */
  advanceTo(to: number | string, fire = true): void {
    const end = typeof to === 'string' ? Date.parse(to) : to;
    for (; fire;) {
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = Math.max(this.t, end);
  }

  advance(ms: number, fire = true): void {
    this.advanceTo(this.t + ms, fire);
  }
}
