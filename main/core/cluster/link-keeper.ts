import { EventEmitter } from 'node:events';
import { describeError, isRelayError, type ErrorCode } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import type { SessionState, SshSession } from './ssh-session.js';

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

/**
 * What the tray icon and the UI show: the session's own states, plus the keeper's
 * `retrying` (the next attempt is due in `inMs`) and `attention` (retrying cannot help: a person
 * must act, for example on a changed host key or refused credentials).
 */
export type LinkState =
  | SessionState
  | { kind: 'retrying'; inMs: number; attempt: number; reason: string | null }
  | { kind: 'attention'; code: ErrorCode; reason: string };

export interface LinkKeeperOptions {
  /** How long resume()'s probe (`true` on the cluster) may take before the link counts as dead. */
  probeTimeoutMs?: number;
}

/** Errors retrying cannot fix: a person must act (host key, credentials, configuration, an unanswered 2FA prompt). */
const NEEDS_PERSON: readonly ErrorCode[] = ['SSH_HOSTKEY_CHANGED', 'SSH_HOSTKEY_UNKNOWN', 'SSH_AUTH_FAILED', 'SSH_NOT_CONFIGURED', 'SSH_2FA_TIMEOUT'];

/**
 * Keeps the one SSH session up while the app or daemon runs: reconnects with exponential backoff
 * and jitter after a drop, stops retrying on errors a person must fix, and checks at once on resume.
 */
export class LinkKeeper extends EventEmitter<{ state: [LinkState] }> {
  private attempt = 0;
  private timer: { cancel(): void } | null = null;
  private running = false;
  private inAttempt = false;
  private readonly onState = (s: SessionState) => {
    this.emit('state', s);
    if (!this.running) return;
    if (s.kind === 'connected') {
      // Someone else's command reconnected: no retry is due any more.
      this.cancelTimer();
      this.attempt = 0;
      this.lastError = null;
    } else if (s.kind === 'disconnected' && !this.inAttempt) {
      // A drop of an established link (a failed attempt of ours is handled in tryNow).
      this.schedule(s.reason ?? null);
    }
  };
  lastError: string | null = null;

  constructor(
    private readonly session: SshSession,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly policy = DEFAULT_BACKOFF,
    private readonly options: LinkKeeperOptions = {},
  ) {
    super();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.session.on('state', this.onState);
    void this.tryNow();
  }

  stop(): void {
    this.running = false;
    this.cancelTimer();
    this.session.off('state', this.onState);
  }

  /** After sleep/resume: probe the link now instead of waiting for keepalives to time out. */
  async resume(): Promise<void> {
    if (!this.running) return;
    if (this.session.connected) {
      try {
        await this.session.exec(['true'], { timeoutMs: this.options.probeTimeoutMs ?? 10_000, idempotent: true });
        return;
      } catch (e) {
        this.logger.info('ssh link dead after resume; reconnecting', { error: describeError(e) });
        this.inAttempt = true; // the close below is ours: no backoff for it
        try {
          this.session.close();
        } finally {
          this.inAttempt = false;
        }
      }
    }
    this.cancelTimer();
    this.attempt = 0;
    await this.tryNow();
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private schedule(reason: string | null): void {
    if (this.timer || !this.running) return;
    const attempt = this.attempt++;
    const ms = backoffDelay(attempt, this.policy);
    this.logger.info('ssh reconnect scheduled', { inSeconds: Math.round(ms / 1000) });
    this.emit('state', { kind: 'retrying', inMs: ms, attempt: attempt + 1, reason });
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
      if (isRelayError(e) && NEEDS_PERSON.includes(e.code)) {
        this.logger.error('ssh connection needs attention', { error: this.lastError });
        this.emit('state', { kind: 'attention', code: e.code, reason: this.lastError });
        return;
      }
      this.logger.warn('ssh connect failed', { error: this.lastError });
      this.inAttempt = false;
      this.schedule(this.lastError);
    } finally {
      this.inAttempt = false;
    }
  }
}
