/**
 * The Slack side of the relay: a Bolt app in Socket Mode (no public URL needed). Bolt parses and
 * acks envelopes; `SlackRouter` decides what they mean; `SlackSender` sends every answer; the
 * `SocketSupervisor` keeps the link up. Reports for ended jobs go out through `reporter`.
 */
import { App, SocketModeReceiver, webApi } from '@slack/bolt';
import type { DoctorReport } from '../doctor/doctor.js';
import type { Clock, Logger } from '../ports.js';
import { systemClock } from '../ports.js';
import { SecretRegistry } from '../secrets/redact.js';
import { createAccessControl } from './access.js';
import { ApprovalBroker } from './approvals.js';
import type { ApprovalMessage } from './approvals.js';
import { boltLoggerFor, toBoltLogLevel } from './bolt-logger.js';
import type { BoltLogLevel } from './bolt-logger.js';
import type { ChartRenderer } from './chart.js';
import { SlackGatewayError, slackPlatformError } from './errors.js';
import { EventDedupe } from './event-dedupe.js';
import { section } from './format.js';
import { ChannelResolver } from './channels.js';
import { SlackJobReporter } from './job-report.js';
import type { AgentIo, SlackPorts } from './jobs-api.js';
import { SocketSupervisor } from './liveness.js';
import type { LinkHealth } from './liveness.js';
import { SlackRouter } from './router.js';
import { SlackSender, redactDeep } from './sender.js';
import type { SenderStats } from './sender.js';
import { FileThreadMemory } from './threads.js';
import type { ThreadMemory } from './threads.js';

export interface SlackGatewayOptions {
  /** Bot token, `xoxb-…`. */
  botToken: string;
  /** App-level token with `connections:write`, `xapp-…`. */
  appToken: string;
  /** Web API base (e.g. an emulator's `http://127.0.0.1:1234/api/`); Slack's own by default. */
  apiUrl?: string;
  logger: Logger;
  /** Redacts every outgoing message (the core's registry knows the secret values). */
  registry?: SecretRegistry;
  /** slack.allowedUsers, read per request; empty (the default) refuses everyone. */
  allowedUsers?: () => readonly string[];
  /** slack.homeChannel, read per report. */
  homeChannel?: () => string | undefined;
  ports?: SlackPorts;
  doctor?: () => Promise<DoctorReport>;
  threads?: ThreadMemory;
  chartRenderer?: ChartRenderer;
  /** How much of Bolt's own logging reaches `logger` (default `warn`). */
  boltLogLevel?: BoltLogLevel;
  /** A pong missing this long means a dead link (Socket Mode client default 5000 ms). */
  clientPingTimeoutMs?: number;
  /** Once Slack pings, a ping missing this long means a dead link (default 30000 ms). */
  serverPingTimeoutMs?: number;
  reconnect?: { baseMs?: number; maxMs?: number; connectTimeoutMs?: number; tooManyBackoffMs?: number };
  /** How long `stop()` waits for work in flight, then for queued messages (default 15000 ms). */
  stopTimeoutMs?: number;
  clock?: Clock;
  /** Called on every state change (the service publishes it to the status board). */
  onStateChange?: (state: SlackGatewayState, health: SlackGatewayHealth) => void;
}

export type SlackGatewayState = 'new' | 'starting' | 'connected' | 'reconnecting' | 'stopping' | 'stopped' | 'failed';

export interface SlackGatewayHealth extends LinkHealth {
  state: SlackGatewayState;
  outgoing: SenderStats;
  botUserId: string | null;
}

export interface SlackGateway {
  /** Checks the bot token (auth.test), opens the Socket Mode link; resolves once Slack said hello. */
  start(): Promise<void>;
  /** Finishes work in flight, flushes queued messages, closes the link. Safe in any state. */
  stop(): Promise<void>;
  readonly state: SlackGatewayState;
  health(): SlackGatewayHealth;
  /** Posts job-end reports: `report()` (SlackReporter) and `reportJobEnd()` (the notify dispatcher's). */
  readonly reporter: SlackJobReporter;
  /** One message to a channel (ID or #name) or a user's DM, optionally in a thread — cron monitors' SlackPoster. */
  post(msg: { channel?: string; user?: string; text: string; threadTs?: string }): Promise<void>;
  /** A file (the research loop's chart) into a channel (ID or #name), optionally in a thread: files.uploadV2 through the sender. */
  postFile(msg: { channel: string; threadTs?: string; filename: string; title: string; altText: string; bytes: Buffer }): Promise<{ fileId: string }>;
  /** Say things and ask for approvals in a conversation (for the agent and monitors). */
  conversation(channel: string, userId: string, threadTs?: string): AgentIo;
  /** The approvals this gateway asked for (buttons in Slack); the window decides them too (runtime/approvals.ts). */
  readonly approvals: ApprovalBroker;
  /** Replaces an approval's buttons with the outcome sentence (Slack mrkdwn), as a Slack click does. */
  showApprovalOutcome(message: ApprovalMessage, text: string): Promise<void>;
  /** Slack's link to a message (chat.getPermalink). */
  permalink(channel: string, ts: string): Promise<string>;
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

interface ActionBody {
  user?: { id?: string };
  channel?: { id?: string };
  container?: { message_ts?: string; channel_id?: string };
  message?: { ts?: string; thread_ts?: string };
  response_url?: string;
}

export function createSlackGateway(opts: SlackGatewayOptions): SlackGateway {
  const log = opts.logger.child({ component: 'slack-gateway' });
  const clock = opts.clock ?? systemClock;
  const boltLevel = toBoltLogLevel(opts.boltLogLevel ?? 'warn');
  const boltLogger = boltLoggerFor(opts.logger, opts.boltLogLevel ?? 'warn');
  const registry = opts.registry ?? new SecretRegistry();
  registry.add(opts.botToken);
  registry.add(opts.appToken);
  const stopTimeoutMs = opts.stopTimeoutMs ?? 15_000;
  const apiOptions = opts.apiUrl ? { slackApiUrl: opts.apiUrl } : {};
  // Failures surface at once; the supervisor and the sender own retrying (with backoff, forever).
  const noRetry = { retryConfig: { retries: 0 } };

  const receiver = new SocketModeReceiver({
    appToken: opts.appToken,
    logger: boltLogger,
    logLevel: boltLevel,
    autoReconnectEnabled: false,
    ...(opts.clientPingTimeoutMs !== undefined ? { clientPingTimeout: opts.clientPingTimeoutMs } : {}),
    ...(opts.serverPingTimeoutMs !== undefined ? { serverPingTimeout: opts.serverPingTimeoutMs } : {}),
    // The Socket Mode client's own WebClient (apps.connections.open) takes its options from here.
    installerOptions: { clientOptions: { ...apiOptions, ...noRetry } },
  });
  const app = new App({
    token: opts.botToken,
    receiver,
    logger: boltLogger,
    logLevel: boltLevel,
    clientOptions: { ...apiOptions, ...noRetry },
    // auth.test runs in init(), where its failure can be caught, not in the constructor.
    deferInitialization: true,
  });
  const supervisor = new SocketSupervisor({
    client: receiver.client,
    logger: opts.logger,
    clock,
    ...(opts.reconnect?.baseMs !== undefined ? { reconnectBaseMs: opts.reconnect.baseMs } : {}),
    ...(opts.reconnect?.maxMs !== undefined ? { reconnectMaxMs: opts.reconnect.maxMs } : {}),
    ...(opts.reconnect?.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.reconnect.connectTimeoutMs } : {}),
    ...(opts.reconnect?.tooManyBackoffMs !== undefined ? { tooManyBackoffMs: opts.reconnect.tooManyBackoffMs } : {}),
  });
  const sender = new SlackSender({
    client: new webApi.WebClient(opts.botToken, { ...apiOptions, ...noRetry, logger: boltLogger, logLevel: boltLevel, rejectRateLimitedCalls: true, timeout: 30_000 }),
    registry,
    logger: opts.logger,
    clock,
  });
  const allowedUsers = opts.allowedUsers ?? (() => []);
  const threads = opts.threads ?? new FileThreadMemory(null, opts.logger);
  const approvals = new ApprovalBroker(clock);
  const access = createAccessControl(allowedUsers, opts.logger, () => clock.now());
  const dedupe = new EventDedupe(60 * 60_000, 10_000, () => clock.now());
  let botUserId: string | undefined;
  const router = new SlackRouter({
    sender, access, approvals, threads, ports: opts.ports ?? {}, logger: opts.logger,
    ...(opts.doctor ? { doctor: opts.doctor } : {}),
    botUserId: () => botUserId,
  });
  const channels = new ChannelResolver(sender);
  const reporter = new SlackJobReporter({
    sender, channels, threads, logger: opts.logger,
    homeChannel: opts.homeChannel ?? (() => undefined),
    allowedUsers,
    ...(opts.chartRenderer ? { renderer: opts.chartRenderer } : {}),
  });

  let state: SlackGatewayState = 'new';
  /** A function, so TypeScript does not narrow `state` across awaits. */
  const current = (): SlackGatewayState => state;
  const health = (): SlackGatewayHealth => ({ ...supervisor.health(), state, outgoing: { ...sender.stats }, botUserId: botUserId ?? null });
  const setState = (next: SlackGatewayState): void => {
    if (next === state) return;
    state = next;
    try {
      opts.onStateChange?.(state, health());
    } catch (e) {
      log.warn('state listener failed', { err: e instanceof Error ? e.message : String(e) });
    }
  };
  let startPromise: Promise<void> | undefined;
  let stopPromise: Promise<void> | undefined;
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };

  supervisor.onPhase((p) => {
    if (state === 'stopping' || state === 'stopped' || state === 'new' || state === 'starting') return;
    if (p === 'connected') setState('connected');
    else if (p === 'waiting' || p === 'connecting') setState('reconnecting');
  });

  // Redelivered envelopes (retry_attempt > 0, maybe on another connection) are handled once.
  app.use(async ({ body, context, next }) => {
    supervisor.noteEnvelope();
    const eventId = (body as { event_id?: unknown }).event_id;
    if (typeof eventId === 'string' && !dedupe.firstTime(eventId)) {
      log.info('ignored a redelivered Slack event', { eventId, retryNum: context.retryNum, retryReason: context.retryReason });
      return;
    }
    await next();
  });

  app.message(async ({ message, context }) => {
    const m = message as MessageLike;
    // People only: never bots (ourselves included), edits, joins or other subtypes.
    if (m.subtype !== undefined || m.bot_id !== undefined) return;
    if (!m.user || m.user === context.botUserId || typeof m.text !== 'string') return;
    await track(router.onMessage({
      kind: 'message', userId: m.user, channel: m.channel, text: m.text, ts: m.ts,
      ...(m.channel_type ? { channelType: m.channel_type } : {}),
      ...(m.thread_ts ? { threadTs: m.thread_ts } : {}),
    }));
  });

  app.event('app_mention', async ({ event, context }) => {
    if (event.bot_id !== undefined || !event.user || event.user === context.botUserId) return;
    await track(router.onMessage({
      kind: 'mention', userId: event.user, channel: event.channel, text: event.text, ts: event.ts,
      ...(event.thread_ts ? { threadTs: event.thread_ts } : {}),
    }));
  });

  app.command(/^\/hpc$/, async ({ command, ack }) => {
    const r = router.onSlash({ userId: command.user_id, channel: command.channel_id, text: command.text, responseUrl: command.response_url });
    await ack(r.ack ? redactDeep({ response_type: 'ephemeral' as const, text: r.ack.text }, registry) : undefined);
    if (r.then) await track(r.then());
  });

  app.action(/.*/, async ({ ack, action, body }) => {
    await ack();
    const b = body as ActionBody;
    const a = action as { action_id?: unknown; value?: unknown };
    const userId = b.user?.id;
    if (typeof userId !== 'string') return;
    const channel = b.channel?.id ?? b.container?.channel_id;
    const messageTs = b.message?.ts ?? b.container?.message_ts;
    await track(router.onAction({
      userId,
      actionId: typeof a.action_id === 'string' ? a.action_id : '',
      value: typeof a.value === 'string' ? a.value : '',
      ...(channel ? { channel } : {}),
      ...(messageTs ? { messageTs } : {}),
      ...(b.message?.thread_ts ? { messageThreadTs: b.message.thread_ts } : {}),
      ...(b.response_url ? { responseUrl: b.response_url } : {}),
    }));
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
          fix: 'Copy the Bot User OAuth Token (xoxb-…) from the app’s OAuth & Permissions page and run `hpc-relay secrets set slack-bot-token`.',
          cause: e,
        });
      }
      throw new SlackGatewayError('SLACK_UNREACHABLE', `Could not reach Slack: ${e instanceof Error ? e.message : String(e)}.`, {
        fix: 'Check the network connection (and slack.apiUrl); the relay keeps trying.',
        cause: e,
      });
    }
    const auth = await app.client.auth.test().catch(() => undefined);
    botUserId = typeof auth?.user_id === 'string' ? auth.user_id : undefined;
    try {
      await supervisor.connectFirst(() => app.start());
    } catch (e) {
      const platform = slackPlatformError(e);
      if (platform) {
        throw new SlackGatewayError('SLACK_APP_TOKEN_REFUSED', `Slack refused the app-level token (${platform}).`, {
          fix: 'Create an app-level token with the connections:write scope (Basic Information → App-Level Tokens) and run `hpc-relay secrets set slack-app-token`.',
          cause: e,
        });
      }
      throw new SlackGatewayError('SLACK_UNREACHABLE', `Could not open the Slack Socket Mode link: ${e instanceof Error ? e.message : e === undefined ? 'closed before hello' : String(e)}.`, {
        fix: 'Check the network connection; the relay keeps trying.',
        cause: e,
      });
    }
  };

  const waitBounded = async (p: Promise<unknown>, ms: number): Promise<void> => {
    let t: { cancel(): void } | undefined;
    await Promise.race([p.catch(() => undefined), new Promise<void>((resolve) => { t = clock.setTimeout(resolve, ms); })]);
    t?.cancel();
  };

  return {
    get state() {
      return state;
    },

    health,

    reporter,

    async post(msg) {
      if ((msg.channel === undefined) === (msg.user === undefined)) throw new Error('post: give exactly one of channel and user');
      const channel = msg.user !== undefined ? await channels.dm(msg.user) : await channels.resolve(msg.channel ?? '');
      await sender.post({ channel, text: msg.text, ...(msg.threadTs ? { thread_ts: msg.threadTs } : {}) });
    },

    async postFile(msg) {
      const channel = await channels.resolve(msg.channel);
      return sender.upload({ channelId: channel, filename: msg.filename, title: msg.title, altText: msg.altText, bytes: msg.bytes, ...(msg.threadTs ? { threadTs: msg.threadTs } : {}) });
    },

    conversation(channel, userId, threadTs) {
      return router.io({ channel, ...(threadTs ? { threadTs } : {}) }, userId);
    },

    approvals,

    async showApprovalOutcome(message, text) {
      if ('responseUrl' in message) await sender.respond(message.responseUrl, { text, replace_original: true });
      else await sender.update({ channel: message.channel, ts: message.ts, text, blocks: [section(text)] });
    },

    async permalink(channel, ts) {
      const r = await sender.call('chat.getPermalink', { channel, message_ts: ts });
      if (typeof r.permalink !== 'string') {
        throw new SlackGatewayError('SLACK_UNREACHABLE', 'Slack answered chat.getPermalink without a link.', { fix: 'Try again; if it keeps happening, check slack.apiUrl.' });
      }
      return r.permalink;
    },

    async start() {
      if (state !== 'new') throw new Error(`The Slack gateway cannot start: it is ${state} (make a new one)`);
      setState('starting');
      startPromise = doStart();
      try {
        await startPromise;
      } catch (e) {
        if (current() === 'starting') setState('failed');
        throw e;
      }
      if (current() !== 'starting') throw new Error('The Slack gateway was stopped while connecting.');
      setState('connected');
      log.info('connected to Slack', { botUserId, numConnections: supervisor.health().numConnections });
    },

    stop() {
      stopPromise ??= (async () => {
        const pending = state === 'starting' ? startPromise : undefined;
        setState('stopping');
        if (pending) await waitBounded(pending, stopTimeoutMs);
        // No new envelopes; let commands already running finish and send their answers.
        await supervisor.close();
        if (inflight.size) await waitBounded(Promise.allSettled([...inflight]), stopTimeoutMs);
        approvals.closeAll();
        await sender.stop(stopTimeoutMs);
        setState('stopped');
      })();
      return stopPromise;
    },
  };
}
