/**
 * Keeps the Socket Mode link alive, and says so truthfully.
 *
 * The Socket Mode client's own reconnect loop is switched off (`autoReconnectEnabled: false`): when
 * `apps.connections.open` fails during one of its reconnects, its promise chain rejects with nobody
 * listening — an unhandled rejection that either kills the process or, where such rejections are
 * swallowed, leaves a link that never comes back while the app looks healthy. Here every connect
 * attempt is awaited, timed out, and retried with backoff until `close()`.
 *
 * The client still detects dead links itself (a pong missing for `clientPingTimeout`, server pings
 * stopping for `serverPingTimeout`) and closes them; Slack's `disconnect` messages close them too.
 * Each close lands here as `disconnected` and starts a reconnect. `hello` frames tell how many
 * connections share the app token: more than one means another process gets some of the events.
 */
import type { Clock, Logger } from '../ports.js';
import { systemClock } from '../ports.js';
import { slackPlatformError } from './errors.js';
import type { SocketModeClientLike } from './socket-link.js';

export type SupervisorPhase = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface LinkHealth {
  phase: SupervisorPhase;
  /** Epoch ms of the current connection's hello; null when not connected. */
  connectedSince: number | null;
  /** `num_connections` of the last hello (this connection included). */
  numConnections: number | null;
  lastDisconnectReason: string | null;
  /** Connections re-established after a loss. */
  reconnects: number;
  /** Failed connect attempts in a row. */
  failedAttempts: number;
  lastError: string | null;
  /** Epoch ms of the last envelope (event, command, click) received. */
  lastEnvelopeAt: number | null;
}

export interface SupervisorOptions {
  client: SocketModeClientLike;
  logger: Logger;
  clock?: Clock;
  /** First delay before reconnecting after a failure (doubles, up to `reconnectMaxMs`; default 1000). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Give up on one connect attempt (no hello) after this long (default 30000). */
  connectTimeoutMs?: number;
  /** Wait this long before reconnecting after `too_many_websockets` (default 60000). */
  tooManyBackoffMs?: number;
  /** How long `close()` waits for the close handshake before cutting the socket (default 2000). */
  closeHandshakeMs?: number;
}

/** Platform errors on apps.connections.open that retrying will not fix (the user must act). */
const REFUSED = new Set(['not_authed', 'invalid_auth', 'account_inactive', 'user_removed_from_team', 'team_disabled', 'token_revoked', 'not_allowed_token_type']);

export class SocketSupervisor {
  private current: SupervisorPhase = 'idle';
  private readonly clock: Clock;
  private readonly log: Logger;
  private retryTimer: { cancel(): void } | undefined;
  private attempt: Promise<boolean> | undefined;
  private nextDelayOverride: number | undefined;
  private readonly listeners = new Set<(phase: SupervisorPhase) => void>();
  private readonly h: LinkHealth = {
    phase: 'idle', connectedSince: null, numConnections: null, lastDisconnectReason: null, reconnects: 0, failedAttempts: 0, lastError: null, lastEnvelopeAt: null,
  };

  constructor(private readonly opts: SupervisorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'slack-link' });
    const c = opts.client;
    c.on('ws_message', (data: unknown, isBinary: unknown) => {
      if (isBinary === true) return;
      this.onFrame(typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : data instanceof ArrayBuffer ? Buffer.from(data).toString('utf8') : '');
    });
    c.on('disconnected', () => this.onDisconnected());
  }

  get phase(): SupervisorPhase {
    return this.current;
  }

  health(): LinkHealth {
    return { ...this.h, phase: this.current };
  }

  /** Calls `fn` on every phase change. */
  onPhase(fn: (phase: SupervisorPhase) => void): void {
    this.listeners.add(fn);
  }

  /**
   * The first connection: `connect` is Bolt's `app.start()` (it starts this client). Throws what it
   * throws; from then on, losses are repaired here.
   */
  async connectFirst(connect: () => Promise<unknown>): Promise<void> {
    this.setPhase('connecting');
    try {
      await this.withTimeout(connect());
    } catch (e) {
      if (this.current !== 'stopped') this.setPhase('idle');
      throw e;
    }
    if (this.stopped()) {
      await this.shutdownClient();
      return;
    }
    this.onConnected();
  }

  /** Stops reconnecting and closes the link; resolves when the socket is down. */
  async close(): Promise<void> {
    if (this.current === 'stopped') return;
    const wasAttempting = this.attempt;
    this.setPhase('stopped');
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    await this.shutdownClient();
    await wasAttempting?.catch(() => false);
  }

  /** For the gateway: an envelope arrived (shows the link delivers). */
  noteEnvelope(): void {
    this.h.lastEnvelopeAt = this.clock.now();
  }

  /** A method, not a comparison, so TypeScript does not narrow `current` across awaits. */
  private stopped(): boolean {
    return this.current === 'stopped';
  }

  private setPhase(p: SupervisorPhase): void {
    if (this.current === p) return;
    this.current = p;
    for (const fn of this.listeners) fn(p);
  }

  private onConnected(): void {
    this.h.connectedSince = this.clock.now();
    this.h.failedAttempts = 0;
    this.h.lastError = null;
    this.setPhase('connected');
  }

  private onFrame(text: string): void {
    if (!text.startsWith('{')) return;
    let msg: { type?: unknown; num_connections?: unknown; reason?: unknown; envelope_id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'hello') {
      const n = typeof msg.num_connections === 'number' ? msg.num_connections : null;
      this.h.numConnections = n;
      if (n !== null && n > 1) {
        this.log.warn('another process is connected with the same Slack app token: Slack splits events between connections, so it gets some of your messages', {
          numConnections: n,
          fix: 'Run the relay in one place only (the tray app or `hpc-relay daemon`), or give each its own Slack app.',
        });
      }
    } else if (msg.type === 'disconnect') {
      const reason = typeof msg.reason === 'string' ? msg.reason : 'unknown';
      this.h.lastDisconnectReason = reason;
      if (reason === 'too_many_websockets') {
        this.nextDelayOverride = this.opts.tooManyBackoffMs ?? 60_000;
        this.log.warn('Slack closed the link: too many connections use this app token (other processes are connected)', {
          reason, retryInMs: this.nextDelayOverride,
          fix: 'Stop the other relays using this Slack app (Slack allows 10 connections per app token).',
        });
      } else if (reason === 'link_disabled') {
        this.nextDelayOverride = this.opts.reconnectMaxMs ?? 60_000;
        this.log.error('Slack closed the link: Socket Mode is turned off for this app', { reason, fix: 'Turn Socket Mode on (app settings → Socket Mode), or recreate the app from `hpc-relay slack manifest`.' });
      } else {
        // refresh_requested / warning: Slack is moving us to another server; reconnect at once.
        this.nextDelayOverride = 0;
        this.log.info('Slack asked the relay to reconnect', { reason });
      }
    } else if (typeof msg.envelope_id === 'string') {
      this.noteEnvelope();
    }
  }

  private onDisconnected(): void {
    if (this.current !== 'connected') return;
    this.h.connectedSince = null;
    this.setPhase('waiting');
    this.log.info('Slack link lost; reconnecting', { reason: this.h.lastDisconnectReason ?? 'connection closed' });
    this.schedule(this.nextDelayOverride ?? 0);
  }

  private schedule(delayMs: number): void {
    this.nextDelayOverride = undefined;
    this.retryTimer?.cancel();
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.reconnect();
    }, delayMs);
  }

  private async reconnect(): Promise<void> {
    if (this.current === 'stopped' || this.current === 'connected' || this.attempt) return;
    this.setPhase('connecting');
    this.attempt = this.withTimeout(this.opts.client.start()).then(() => true, (e: unknown) => {
      this.h.failedAttempts++;
      const platform = slackPlatformError(e);
      this.h.lastError = platform ?? (e instanceof Error ? e.message : e === undefined ? 'closed before hello' : String(e));
      const base = this.opts.reconnectBaseMs ?? 1000;
      const max = this.opts.reconnectMaxMs ?? 60_000;
      const delay = platform && REFUSED.has(platform) ? max : Math.min(base * 2 ** Math.min(this.h.failedAttempts - 1, 16), max);
      const log = platform && REFUSED.has(platform) ? this.log.error.bind(this.log) : this.log.warn.bind(this.log);
      log('Slack reconnect failed; trying again', {
        attempt: this.h.failedAttempts, retryInMs: delay, err: this.h.lastError,
        ...(platform && REFUSED.has(platform) ? { fix: 'The app-level token was refused: create a new one (connections:write) and run `hpc-relay secrets set slack-app-token`.' } : {}),
      });
      if (this.current !== 'stopped') {
        this.setPhase('waiting');
        this.schedule(this.nextDelayOverride ?? delay);
      }
      return false;
    });
    const ok = await this.attempt;
    this.attempt = undefined;
    if (!ok) return;
    if (this.stopped()) {
      await this.shutdownClient();
      return;
    }
    this.h.reconnects++;
    this.onConnected();
    this.log.info('Slack link re-established', { reconnects: this.h.reconnects, numConnections: this.h.numConnections });
  }

  /** A connect that never sees hello is abandoned after connectTimeoutMs (the socket is closed). */
  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.connectTimeoutMs ?? 30_000;
    return new Promise<T>((resolve, reject) => {
      const t = this.clock.setTimeout(() => {
        reject(new Error(`no hello from Slack within ${ms} ms`));
        // Closing makes the pending start() reject (handled below), so nothing dangles.
        void this.opts.client.disconnect().catch(() => undefined);
      }, ms);
      p.then((v) => { t.cancel(); resolve(v); }, (e: unknown) => { t.cancel(); reject(e); });
    });
  }

  private async shutdownClient(): Promise<void> {
    const c = this.opts.client;
    const down = c.disconnect().catch(() => undefined);
    // A peer that never answers the close frame: the second disconnect() cuts the socket.
    let timer: { cancel(): void } | undefined;
    const cut = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(() => {
        c.websocket?.disconnect();
        resolve();
      }, this.opts.closeHandshakeMs ?? 2000);
    });
    await Promise.race([down, cut]);
    await down;
    timer?.cancel();
  }
}
