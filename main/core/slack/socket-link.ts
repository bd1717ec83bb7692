import type { SocketModeReceiver } from '@slack/bolt';

/** The Socket Mode client Bolt's receiver drives (@slack/socket-mode's SocketModeClient). */
export type SocketModeClientLike = SocketModeReceiver['client'];

/**
 * idle: never started; connecting: a WebSocket is opening, Slack has not said hello;
 * connected; waiting: the link dropped, a reconnect is scheduled; disconnected: closed by us.
 */
export type LinkPhase = 'idle' | 'connecting' | 'connected' | 'waiting' | 'disconnected';

/**
 * Follows the Socket Mode client's lifecycle events and closes the link without tripping over
 * the client's start() promises.
 *
 * Each connect attempt (the first, and every automatic reconnect) is a `start()` whose promise
 * rejects (with `undefined`) when the client emits `disconnected` before Slack's hello. For
 * reconnects nobody handles that promise, so `disconnect()` at the wrong moment raises an
 * unhandled rejection. `close()` therefore lets a connect in progress finish, then drops the
 * pending attempts' `disconnected` listeners before disconnecting.
 */
export class SocketLink {
  private current: LinkPhase = 'idle';
  private readonly onDisconnected = (): void => {
    this.current = 'disconnected';
  };

  constructor(private readonly client: SocketModeClientLike) {
    client.on('connecting', () => {
      this.current = 'connecting';
    });
    client.on('connected', () => {
      this.current = 'connected';
    });
    client.on('close', () => {
      if (this.current !== 'disconnected') this.current = 'waiting';
    });
    client.on('disconnected', this.onDisconnected);
  }

  get phase(): LinkPhase {
    return this.current;
  }

  /** Resolves on the next `connected` (true) or after `timeoutMs` / a dropped attempt (false). */
  private settle(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.client.off('connected', onConnected);
        this.client.off('close', onClose);
        resolve(ok);
      };
      const onConnected = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.client.on('connected', onConnected);
      this.client.on('close', onClose);
    });
  }

  /** Close the link (WebSocket close handshake included); resolves when the client is down. */
  async close(settleTimeoutMs = 10_000): Promise<void> {
    if (this.current === 'connecting') await this.settle(settleTimeoutMs);
    // Pending connect attempts would reject on `disconnected`; nobody awaits the reconnect ones.
    this.client.removeAllListeners('disconnected');
    this.client.on('disconnected', this.onDisconnected);
    await this.client.disconnect();
    this.current = 'disconnected';
  }
}
