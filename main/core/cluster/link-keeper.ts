import { describeError, isRelayError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import type { SshSession } from './ssh-session.js';

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** 0..1: the share of each delay drawn at random, so many clients do not retry in step. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 60_000, jitter: 0.3 };

export function backoffDelay(attempt: number, p: BackoffPolicy, random = Math.random): number {
  const base = Math.min(p.maxMs, p.initialMs * 2 ** Math.max(0, attempt));
  return Math.round(base * (1 - p.jitter + p.jitter * random()));
}

/** Errors retrying cannot fix: a person must act (host key, credentials, configuration). */
function needsPerson(e: unknown): boolean {
  return isRelayError(e) && ['SSH_HOSTKEY_CHANGED', 'SSH_HOSTKEY_UNKNOWN', 'SSH_AUTH_FAILED', 'SSH_NOT_CONFIGURED'].includes(e.code);
}

/**
 * Keeps the one SSH session up while the app or daemon runs: reconnects with exponential backoff
 * and jitter after a drop, stops retrying on errors a person must fix, and checks at once on resume.
 */
export class LinkKeeper {
  private attempt = 0;
  private timer: { cancel(): void } | null = null;
  private running = false;
  private inAttempt = false;
  /** A drop of an established link (not a failed attempt, which tryNow handles). */
  private readonly onState = () => { if (this.running && !this.inAttempt && this.session.state.kind === 'disconnected') this.schedule(); };
  lastError: string | null = null;

  constructor(private readonly session: SshSession, private readonly clock: Clock, private readonly logger: Logger, private readonly policy = DEFAULT_BACKOFF) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.session.on('state', this.onState);
    void this.tryNow();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = null;
    this.session.off('state', this.onState);
  }

  /** After sleep/resume: probe the link now instead of waiting for keepalives to time out. */
  async resume(): Promise<void> {
    if (!this.running) return;
    if (this.session.connected) {
      try {
        await this.session.exec(['true'], { timeoutMs: 10_000 });
        return;
      } catch {
        this.session.close();
      }
    }
    this.timer?.cancel();
    this.attempt = 0;
    await this.tryNow();
  }

  private schedule(): void {
    if (this.timer || !this.running) return;
    const ms = backoffDelay(this.attempt++, this.policy);
    this.logger.info('ssh reconnect scheduled', { inSeconds: Math.round(ms / 1000) });
    this.timer = this.clock.setTimeout(() => { this.timer = null; void this.tryNow(); }, ms);
  }

  private async tryNow(): Promise<void> {
    if (!this.running) return;
    this.inAttempt = true;
    try {
      await this.session.connect();
      this.attempt = 0;
      this.lastError = null;
    } catch (e) {
      this.lastError = describeError(e);
      if (needsPerson(e)) {
        this.logger.error('ssh connection needs attention', { error: this.lastError });
        return;
      }
      this.logger.warn('ssh connect failed', { error: this.lastError });
      this.schedule();
    } finally {
      this.inAttempt = false;
    }
  }
}
