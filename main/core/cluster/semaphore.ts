/** At most `limit` holders at once; the rest wait in order (OpenSSH's MaxSessions is 10 by default). */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private max: number) {}

  get limit(): number {
    return this.max;
  }

  /** Lowers the limit (never below 1); holders beyond it finish normally. */
  shrinkTo(n: number): void {
    this.max = Math.max(1, Math.min(this.max, n));
  }

  async acquire(): Promise<() => void> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      if (this.active < this.max) this.waiting.shift()?.();
    };
  }

  get inUse(): number {
    return this.active;
  }
}
