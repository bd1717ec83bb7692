/**
 * The Slack side of the relay: a Bolt app in Socket Mode (no public URL needed) that hands DM
 * text and @mentions to a `TextHandler` and posts what it answers.
 */
import { App, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from '../ports.js';
import { boltLoggerFor, toBoltLogLevel } from './bolt-logger.js';
import type { BoltLogLevel } from './bolt-logger.js';
import { SlackGatewayError, slackPlatformError } from './errors.js';
import { SocketLink } from './socket-link.js';
import { builtinTextHandler, stripLeadingMention } from './text-commands.js';
import type { TextHandler } from './text-commands.js';

export interface SlackGatewayOptions {
  /** Bot token, `xoxb-…`. */
  botToken: string;
  /** App-level token with `connections:write`, `xapp-…`. */
  appToken: string;
  /** Web API base (e.g. an emulator's `http://127.0.0.1:1234/api/`); Slack's own by default. */
  apiUrl?: string;
  logger: Logger;
  /** How much of Bolt's own logging reaches `logger` (default `warn`). */
  boltLogLevel?: BoltLogLevel;
  /**
   * Socket Mode: how long to wait for a pong before the link counts as dead, and the base delay
   * before reconnecting after a disconnect (Bolt's default 5000 ms).
   */
  clientPingTimeoutMs?: number;
  /** What to answer to text; defaults to the built-in `ping` → `pong`. */
  handleText?: TextHandler;
  /** How long `stop()` waits for a `start()` in progress to settle (default 15000 ms). */
  stopTimeoutMs?: number;
}

export type SlackGatewayState = 'new' | 'starting' | 'connected' | 'reconnecting' | 'stopping' | 'stopped' | 'failed';

export interface SlackGateway {
  /** Checks the bot token (auth.test), opens the Socket Mode link; resolves once Slack said hello. */
  start(): Promise<void>;
  /** Closes the link. Safe to call in any state, also while `start()` is still connecting. */
  stop(): Promise<void>;
  readonly state: SlackGatewayState;
}

interface MessageLike {
  subtype?: string;
  bot_id?: string;
  user?: string;
  text?: string;
  channel: string;
  channel_type?: string;
  thread_ts?: string;
  ts: string;
}

export function createSlackGateway(opts: SlackGatewayOptions): SlackGateway {
  const log = opts.logger.child({ component: 'slack-gateway' });
  const boltLevel = toBoltLogLevel(opts.boltLogLevel ?? 'warn');
  const boltLogger = boltLoggerFor(opts.logger, opts.boltLogLevel ?? 'warn');
  const handleText = opts.handleText ?? builtinTextHandler;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 15_000;
  const apiOptions = opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {};

  // Our own receiver: Bolt's built-in one cannot be given the ping timeout (= reconnect delay).
  const receiver = new SocketModeReceiver({
    appToken: opts.appToken,
    logger: boltLogger,
    logLevel: boltLevel,
    ...(opts.clientPingTimeoutMs !== undefined ? { clientPingTimeout: opts.clientPingTimeoutMs } : {}),
    // The Socket Mode client's own WebClient (apps.connections.open) takes its options from here.
    installerOptions: { clientOptions: { ...apiOptions } },
  });
  const app = new App({
    token: opts.botToken,
    receiver,
    logger: boltLogger,
    logLevel: boltLevel,
    clientOptions: { ...apiOptions },
    // auth.test runs in init(), where its failure can be caught, not in the constructor.
    deferInitialization: true,
  });
  const socket = receiver.client;
  const link = new SocketLink(socket);

  let state: SlackGatewayState = 'new';
  let startPromise: Promise<void> | undefined;
  let stopPromise: Promise<void> | undefined;
  let abortStart: ((e: Error) => void) | undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    abortStart = reject;
  });
  stopped.catch(() => undefined);

  socket.on('connected', () => {
    if (state === 'stopped') {
      // A reconnect that was already under way when stop() ran: close it again.
      void link.close();
      return;
    }
    if (state === 'reconnecting') {
      log.info('Slack link re-established');
      state = 'connected';
    }
  });
  socket.on('reconnecting', () => {
    if (state === 'connected') state = 'reconnecting';
    log.info('Slack link lost; reconnecting');
  });

  const reply = async (text: string, ctx: { userId: string; channelId: string }): Promise<string | null> => {
    try {
      return await handleText(text, ctx);
    } catch (e) {
      log.error('text handler failed', { err: e instanceof Error ? e.message : String(e) });
      return 'Something went wrong handling that; see the relay log.';
    }
  };

  app.message(async ({ message, say, context }) => {
    const m = message as MessageLike;
    // Only people talking to the bot in its DM; never bots (ourselves included) or edits/joins.
    if (m.channel_type !== 'im' || m.subtype !== undefined || m.bot_id !== undefined) return;
    if (!m.user || m.user === context.botUserId || typeof m.text !== 'string') return;
    const answer = await reply(m.text, { userId: m.user, channelId: m.channel });
    if (answer === null) return;
    await say({ text: answer, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) });
  });

  app.event('app_mention', async ({ event, say, context }) => {
    if (event.bot_id !== undefined || !event.user || event.user === context.botUserId) return;
    const answer = await reply(stripLeadingMention(event.text), { userId: event.user, channelId: event.channel });
    if (answer === null) return;
    await say({ text: answer, thread_ts: event.thread_ts ?? event.ts });
  });

  app.error(async (error) => {
    log.error('Slack listener failed', { code: error.code, err: error.message, slackError: slackPlatformError(error.original) });
  });

  const doStart = async (): Promise<void> => {
    try {
      await app.init();
    } catch (e) {
      const platform = slackPlatformError(e);
      if (platform) {
        throw new SlackGatewayError('SLACK_BOT_TOKEN_REFUSED', `Slack refused the bot token (${platform}).`, {
          fix: 'Copy the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page and set it again.',
          cause: e,
        });
      }
      throw new SlackGatewayError('SLACK_UNREACHABLE', `Could not reach Slack: ${e instanceof Error ? e.message : String(e)}.`, {
        fix: 'Check the network connection and try again.',
        cause: e,
      });
    }
    try {
      await app.start();
    } catch (e) {
      const platform = slackPlatformError(e);
      if (platform) {
        throw new SlackGatewayError('SLACK_APP_TOKEN_REFUSED', `Slack refused the app-level token (${platform}).`, {
          fix: 'Create an app-level token with the connections:write scope (Basic Information → App-Level Tokens) and set it again.',
          cause: e,
        });
      }
      throw new SlackGatewayError('SLACK_UNREACHABLE', `Could not open the Slack Socket Mode link: ${e instanceof Error ? e.message : String(e)}.`, {
        fix: 'Check the network connection and try again.',
        cause: e,
      });
    }
  };

  return {
    get state() {
      return state;
    },

    async start() {
      if (state !== 'new') throw new Error(`The Slack gateway cannot start: it is ${state} (make a new one)`);
      state = 'starting';
      startPromise = Promise.race([doStart(), stopped]);
      try {
        await startPromise;
        if (state === 'starting') state = 'connected';
        log.info('connected to Slack');
      } catch (e) {
        if (state === 'starting') state = 'failed';
        throw e;
      }
    },

    stop() {
      stopPromise ??= (async () => {
        const pending = state === 'starting' ? startPromise : undefined;
        state = 'stopping';
        if (pending) {
          // Let a connect in progress finish first (bounded, for a Slack that never answers).
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            pending.catch(() => undefined),
            new Promise<void>((resolve) => {
              timer = setTimeout(resolve, stopTimeoutMs);
            }),
          ]);
          clearTimeout(timer);
        }
        await link.close(stopTimeoutMs);
        state = 'stopped';
        abortStart?.(new Error('The Slack gateway was stopped while connecting.'));
      })();
      return stopPromise;
    },
  };
}
