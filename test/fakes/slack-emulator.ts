/**
 * A small Slack that speaks the real wire protocols, so the real @slack/bolt / @slack/web-api /
 * @slack/socket-mode clients are what tests exercise.
 *
 * - Web API over HTTP at `${url}/api/<method>`: pass `apiUrl` (`${url}/api/`) as the clients'
 *   `slackApiUrl`. Form-encoded, multipart and JSON bodies; `Authorization: Bearer` or a `token`
 *   parameter (not in JSON bodies, like Slack). Answers are HTTP 200 with `{ok:false,error}` for
 *   platform errors, 429 + `Retry-After` for rate limits.
 * - Socket Mode over WebSocket at `${url}/link/?ticket=…&app_id=…`, the URL `apps.connections.open`
 *   hands out (tickets are single use, as in Slack). Sends `hello` on connect, wraps events in
 *   `events_api` / `slash_commands` / `interactive` envelopes and matches acks by `envelope_id`.
 * - File uploads (`files.uploadV2` = getUploadURLExternal + POST to the upload URL +
 *   completeUploadExternal) and `response_url` posts are served by the same HTTP server.
 * - Messages keep their `metadata` (chat.postMessage's `{event_type, event_payload}`);
 *   `conversations.history` and `conversations.replies` read them back the way Slack does (newest
 *   first / thread oldest first, `oldest`/`latest` exclusive unless `inclusive`, `limit`, opaque
 *   `cursor`, `has_more`, metadata only with `include_all_metadata`, the `*:history` scope of the
 *   conversation's type, `not_in_channel` for channels the bot is not in).
 *
 * Everything the client sends is recorded; `waitFor…` helpers resolve on state changes (no polling).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { Waiters, closeServer, isRecord, listenLocal, parseMultipart, readBody, sendJson } from './emulator-util.js';
import { RecordingFile, defaultRecordingFile } from '../helpers/hostile-recordings.js';

type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

export interface EmulatedUser {
  id: string;
  name: string;
  realName: string;
  tz: string;
  isBot: boolean;
  email?: string;
}

export interface EmulatedChannel {
  id: string;
  name: string;
  isPrivate: boolean;
  isIm: boolean;
  /** For IM channels: the human on the other side. */
  user?: string;
  isMember: boolean;
}

export interface SlackEmulatorOptions {
  /** The bot token (`xoxb-…`) that `auth.test` and the Web API accept. */
  botToken?: string;
  /** Further accepted bot tokens (they all act as the same bot). */
  extraBotTokens?: string[];
  /** The app-level token (`xapp-…`) that `apps.connections.open` accepts. */
  appToken?: string;
  extraAppTokens?: string[];
  teamId?: string;
  teamDomain?: string;
  teamName?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  botName?: string;
  /** Scopes granted to the bot token; a method whose scope is missing answers `missing_scope`. */
  scopes?: string[];
  /** Humans in the workspace (default: one user `U0HUMAN001` named ada). */
  users?: Array<Partial<EmulatedUser> & { id: string }>;
  /** Channels besides DMs (default: `C0GENERAL01` #general, bot is a member). */
  channels?: Array<Partial<EmulatedChannel> & { id: string; name: string }>;
  /** How long an envelope may stay un-acked before Slack gives up on that attempt (default 3000). */
  ackTimeoutMs?: number;
  /** How many times an un-acked `events_api` envelope is redelivered (default 3). */
  maxRetries?: number;
  /**
   * Deliver the bot's own DM posts back to it as `message` events, as Slack does for an app
   * subscribed to `message.im` (default true).
   */
  echoBotMessages?: boolean;
  /** Send WebSocket pings at this interval (default 0: never; the client pings us anyway). */
  serverPingIntervalMs?: number;
  /** Wait this long after a WebSocket connects before sending hello (a slow Slack; default 0). */
  helloDelayMs?: number;
  /**
   * Where every message the client sends (Web API call parameters, response_url posts, ack
   * payloads, uploaded bytes) is appended as a JSON line, for the secret scan that closes
   * `npm test`. Default `<test homes root>/slack-emulator/<pid>-<port>.jsonl`; null records nothing.
   */
  recordFile?: string | null;
}

export interface ApiCall {
  method: string;
  /** Query and body parameters; JSON-valued form fields (blocks, files, …) are parsed. */
  params: Json;
  /** The token the call was made with, if any. */
  token: string | undefined;
  httpMethod: string;
  contentType: string | undefined;
  time: number;
  status: number;
  response: Json;
}

export type ScriptedFailure =
  /** HTTP 429 with `Retry-After: <retryAfterSec>` and `{ok:false,error:"ratelimited"}`. */
  | { kind: 'rate_limited'; retryAfterSec: number }
  /** HTTP 200 `{ok:false, error, ...extra}`, e.g. `missing_scope` with `needed`. */
  | { kind: 'error'; error: string; extra?: Json }
  /** Any other HTTP status with a plain body (Slack's edge answers 5xx like this). */
  | { kind: 'http'; status: number; body?: string };

export interface UploadedFile {
  fileId: string;
  filename: string;
  /** The length announced in files.getUploadURLExternal. */
  declaredLength: number;
  altText?: string;
  /** The bytes posted to the upload URL (undefined until then). */
  bytes: Buffer | undefined;
  completed: boolean;
  title?: string;
  channelId?: string;
  threadTs?: string;
  initialComment?: string;
}

export interface ResponseUrlPost {
  /** Which envelope's response_url was used. */
  responseUrlId: string;
  body: Json;
  time: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  user?: string;
  botId?: string;
  text: string;
  blocks?: unknown[];
  files?: string[];
  /** chat.postMessage's `metadata` (returned by history reads with `include_all_metadata`). */
  metadata?: MessageMetadata;
  ephemeralTo?: string;
  edited: boolean;
  reactions: Array<{ name: string; users: string[] }>;
}

export interface MessageMetadata {
  event_type: string;
  event_payload: Json;
}

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

export interface DeliveryAttempt {
  envelopeId: string;
  retryAttempt: number;
  connectionId: number;
  sentAt: number;
  /** The ack timeout passed without an ack for this attempt. */
  expired: boolean;
}

export interface AckRecord {
  envelopeId: string;
  /** What the client put in the ack's `payload` (slash command responses travel here). */
  payload: Json | undefined;
  connectionId: number;
  time: number;
  /** The delivery this ack belongs to (undefined for an unknown envelope_id). */
  deliveryId: number | undefined;
  /** Arrived after that attempt's ack timeout. */
  late: boolean;
}

export interface Delivery {
  readonly id: number;
  readonly type: EnvelopeType;
  readonly payload: Json;
  readonly attempts: readonly DeliveryAttempt[];
  /**
   * queued: no connection yet; sent: waiting for an ack; acked; failed: an event that was never
   * acked after all retries; timed_out: a command/interaction not acked in time (Slack shows the
   * user an error and does not retry those).
   */
  readonly state: 'queued' | 'sent' | 'acked' | 'failed' | 'timed_out';
  readonly ack: AckRecord | undefined;
}

export interface SlashCommandOptions {
  command?: string;
  text?: string;
  userId?: string;
  channelId?: string;
}

export interface ButtonClickOptions {
  actionId: string;
  value?: string;
  blockId?: string;
  userId?: string;
  channelId?: string;
  /** The message carrying the button (its ts); must have been posted by the bot. */
  messageTs?: string;
}

export interface SlackEmulator {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `${url}/api/`: the `slackApiUrl` for WebClient / Bolt's `clientOptions`. */
  readonly apiUrl: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  /** The first human user; helpers send as this user unless told otherwise. */
  readonly defaultUserId: string;
  /** The JSON-lines file outgoing messages are appended to (see `recordFile`), or null. */
  readonly recordFile: string | null;

  // ---- Web API
  readonly calls: readonly ApiCall[];
  callsTo(method: string): ApiCall[];
  /** Resolves with the first recorded call (past or future) to `method` that matches. */
  waitForCall(method: string, predicate?: (c: ApiCall) => boolean, timeoutMs?: number): Promise<ApiCall>;
  /** The next `times` calls to `method` fail as scripted (before token checks). */
  failNext(method: string, failure: ScriptedFailure, times?: number): void;
  /**
   * Holds the next call to `method` (whose parameters `matches`, when given) before Slack does
   * anything with it: `arrived` resolves when it is in, `gone` when its client has disconnected (a
   * killed process), and after `release()` it is answered as usual, unless its client has gone:
   * then Slack never took it, and it is not recorded.
   */
  holdNext(method: string, matches?: (params: Json) => boolean): { arrived: Promise<void>; gone: Promise<void>; release(): void };
  readonly uploads: readonly UploadedFile[];
  readonly responseUrlPosts: readonly ResponseUrlPost[];
  waitForResponseUrlPost(predicate?: (p: ResponseUrlPost) => boolean, timeoutMs?: number): Promise<ResponseUrlPost>;
  /** Messages in a channel (posted by the bot, or sent by the emulator as events). */
  messages(channelId: string): readonly StoredMessage[];
  addUser(user: Partial<EmulatedUser> & { id: string }): EmulatedUser;
  addChannel(channel: Partial<EmulatedChannel> & { id: string; name: string }): EmulatedChannel;
  /** The IM channel id between the bot and `userId` (created on first use). */
  dmChannelFor(userId: string): string;

  // ---- Socket Mode
  /** Open Socket Mode connections right now. */
  readonly connectionCount: number;
  /** Connections ever accepted. */
  readonly totalConnections: number;
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Wraps a Slack event (`{type:'message',…}`) in an `event_callback` body and an `events_api` envelope. */
  sendEvent(event: Json, opts?: { eventId?: string }): Delivery;
  /** A `message` event with `channel_type: 'im'` from `user` in their DM with the bot. */
  sendDirectMessage(opts: { text: string; user?: string; ts?: string; threadTs?: string; extra?: Json }): Delivery;
  /** An `app_mention` event; `<@bot>` is prefixed to `text` unless it already mentions the bot. */
  sendAppMention(opts: { text: string; user?: string; channel?: string; threadTs?: string }): Delivery;
  sendSlashCommand(opts?: SlashCommandOptions): Delivery;
  /** An `interactive` envelope with `payload` as given (defaults filled for team, app, token, response_url). */
  sendInteractive(payload: Json): Delivery;
  /** A `block_actions` payload for a button click. */
  sendButtonClick(opts: ButtonClickOptions): Delivery;
  readonly deliveries: readonly Delivery[];
  readonly acks: readonly AckRecord[];
  waitForAck(delivery: Delivery, timeoutMs?: number): Promise<AckRecord>;
  /** Resolves when no delivery is queued or waiting for an ack. */
  waitForIdle(timeoutMs?: number): Promise<void>;
  /**
   * Generic wait: resolves when `probe` returns non-undefined. Re-checked on every emulator state
   * change and every 10 ms (so it also works for state a client-side listener changes).
   */
  waitFor<T>(probe: () => T | undefined, timeoutMs?: number, what?: string): Promise<T>;
  /** Sends `{"type":"disconnect","reason":…}` on every open connection. */
  disconnect(reason?: string): void;
  /** Terminates every connection without a close handshake (a dropped link). */
  dropSockets(): void;
  /**
   * Sends a delivery again the way Slack does when it saw no ack in time: a new envelope with
   * `retry_attempt` + 1 and `retry_reason: "timeout"` (the event and its `event_id` unchanged).
   */
  redeliver(delivery: Delivery): void;
  /** Stops the server's WebSocket pings on the open connections (an edge that stopped pinging). */
  stopPings(): void;
  /**
   * Open connections go silent without closing: nothing is read (so no pongs) and nothing is sent
   * (no events, no pings) — a link that looks up and delivers nothing. New connections are normal.
   */
  freezeSockets(): void;
  /** `num_connections` of every hello sent, in order. */
  readonly hellos: readonly number[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Implementation
// ---------------------------------------------------------------------------------------------

const DEFAULT_WAIT_MS = 5000;

const ALL_SCOPES = [
  'chat:write', 'im:write', 'im:read', 'im:history', 'channels:read', 'groups:read', 'mpim:read',
  'channels:history', 'groups:history', 'mpim:history',
  'users:read', 'files:write', 'reactions:write', 'commands', 'app_mentions:read',
];

/** Form fields Slack decodes as JSON. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'files', 'metadata', 'unfurls', 'view', 'file_uploads']);

const CONVERSATION_TYPE_SCOPE: Record<string, string> = {
  public_channel: 'channels:read',
  private_channel: 'groups:read',
  im: 'im:read',
  mpim: 'mpim:read',
};

function slackId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(10);
  let s = prefix;
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

function str(params: Json, key: string): string | undefined {
  const v = params[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

class PlatformError extends Error {
  constructor(readonly error: string, readonly extra: Json = {}) {
    super(error);
  }
}

interface DeliveryImpl extends Delivery {
  id: number;
  type: EnvelopeType;
  payload: Json;
  attempts: DeliveryAttempt[];
  state: Delivery['state'];
  ack: AckRecord | undefined;
  timer: NodeJS.Timeout | undefined;
}

interface Connection {
  id: number;
  ws: WebSocket;
  pinger: NodeJS.Timeout | undefined;
  helloTimer: NodeJS.Timeout | undefined;
  /** Hello sent: envelopes may go out on this connection. */
  ready: boolean;
  /** freezeSockets(): neither reads nor writes. */
  frozen: boolean;
}

interface MethodSpec {
  token: 'bot' | 'app' | 'none';
  scope?: string | ((params: Json) => string[]);
  handle(params: Json): Json;
}

class SlackEmulatorImpl implements SlackEmulator {
  url = '';
  apiUrl = '';
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly teamName: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly botName: string;
  readonly defaultUserId: string;

  readonly calls: ApiCall[] = [];
  readonly uploads: UploadedFile[] = [];
  readonly responseUrlPosts: ResponseUrlPost[] = [];
  readonly deliveries: DeliveryImpl[] = [];
  readonly acks: AckRecord[] = [];
  readonly hellos: number[] = [];
  totalConnections = 0;

  private readonly botTokens: Set<string>;
  private readonly appTokens: Set<string>;
  private readonly scopes: Set<string>;
  private readonly ackTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly echoBotMessages: boolean;
  private readonly serverPingIntervalMs: number;
  private readonly helloDelayMs: number;

  private readonly users = new Map<string, EmulatedUser>();
  private readonly channels = new Map<string, EmulatedChannel>();
  private readonly store = new Map<string, StoredMessage[]>();
  private readonly failures = new Map<string, ScriptedFailure[]>();
  private readonly holds = new Map<string, { matches: (params: Json) => boolean; arrive: () => void; leave: () => void; gate: Promise<void> }[]>();
  private readonly tickets = new Set<string>();
  private readonly responseUrlUses = new Map<string, number>();
  private readonly connections = new Map<number, Connection>();
  private readonly envelopeToDelivery = new Map<string, DeliveryImpl>();
  private readonly waiters = new Waiters();
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly methods: Record<string, MethodSpec>;
  private nextConnectionId = 1;
  private nextDeliveryId = 1;
  private roundRobin = 0;
  private lastTsMicros = 0;
  private closed = false;
  private readonly recordOption: string | null | undefined;
  private recording = new RecordingFile(null);

  constructor(opts: SlackEmulatorOptions) {
    this.botToken = opts.botToken ?? 'xoxb-1000000001-2000000002-emulatedBotToken';
    this.appToken = opts.appToken ?? 'xapp-1-A0EMULATED1-3000000003-emulatedAppToken';
    this.botTokens = new Set([this.botToken, ...(opts.extraBotTokens ?? [])]);
    this.appTokens = new Set([this.appToken, ...(opts.extraAppTokens ?? [])]);
    this.teamId = opts.teamId ?? 'T0EMULATED1';
    this.teamDomain = opts.teamDomain ?? 'emulated';
    this.teamName = opts.teamName ?? 'Emulated Workspace';
    this.appId = opts.appId ?? 'A0EMULATED1';
    this.botUserId = opts.botUserId ?? 'U0BOTUSER01';
    this.botId = opts.botId ?? 'B0BOTID0001';
    this.botName = opts.botName ?? 'hpc-relay';
    this.scopes = new Set(opts.scopes ?? ALL_SCOPES);
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 3000;
    this.maxRetries = opts.maxRetries ?? 3;
    this.echoBotMessages = opts.echoBotMessages ?? true;
    this.serverPingIntervalMs = opts.serverPingIntervalMs ?? 0;
    this.helloDelayMs = opts.helloDelayMs ?? 0;
    this.recordOption = opts.recordFile;

    this.users.set(this.botUserId, {
      id: this.botUserId, name: this.botName, realName: this.botName, tz: 'UTC', isBot: true,
    });
    const humans = opts.users ?? [{ id: 'U0HUMAN001', name: 'ada', realName: 'Ada Lovelace', email: 'ada@example.org' }];
    const [firstHuman] = humans;
    if (!firstHuman) throw new Error('The Slack emulator needs at least one human user');
    for (const u of humans) this.addUser(u);
    this.defaultUserId = firstHuman.id;
    for (const c of opts.channels ?? [{ id: 'C0GENERAL01', name: 'general' }]) this.addChannel(c);

    this.methods = this.buildMethods();
    this.server = http.createServer((req, res) => {
      this.onHttp(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'emulator_exception', detail: String(e) });
        else res.destroy();
      });
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    this.url = await listenLocal(this.server);
    this.apiUrl = `${this.url}/api/`;
    this.recording = new RecordingFile(this.recordOption === undefined ? defaultRecordingFile('slack-emulator', this.url) : this.recordOption);
  }

  get recordFile(): string | null {
    return this.recording.file;
  }

  // ------------------------------------------------------------------------- state helpers

  private notify(): void {
    this.waiters.notify();
  }

  waitFor<T>(probe: () => T | undefined, timeoutMs = DEFAULT_WAIT_MS, what = 'a condition'): Promise<T> {
    return this.waiters.wait(probe, timeoutMs, () => what, 10);
  }

  private nextTs(): string {
    let us = Date.now() * 1000;
    if (us <= this.lastTsMicros) us = this.lastTsMicros + 1;
    this.lastTsMicros = us;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  }

  addUser(u: Partial<EmulatedUser> & { id: string }): EmulatedUser {
    const user: EmulatedUser = {
      id: u.id,
      name: u.name ?? u.id.toLowerCase(),
      realName: u.realName ?? u.name ?? u.id,
      tz: u.tz ?? 'Europe/Berlin',
      isBot: u.isBot ?? false,
      ...(u.email !== undefined ? { email: u.email } : {}),
    };
    this.users.set(user.id, user);
    return user;
  }

  addChannel(c: Partial<EmulatedChannel> & { id: string; name: string }): EmulatedChannel {
    const channel: EmulatedChannel = {
      id: c.id,
      name: c.name,
      isPrivate: c.isPrivate ?? c.id.startsWith('G'),
      isIm: c.isIm ?? c.id.startsWith('D'),
      isMember: c.isMember ?? true,
      ...(c.user !== undefined ? { user: c.user } : {}),
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  dmChannelFor(userId: string): string {
    return this.dmChannel(userId).id;
  }

  private dmChannel(userId: string): EmulatedChannel {
    for (const c of this.channels.values()) if (c.isIm && c.user === userId) return c;
    const id = `D${userId.replace(/^[UW]/, '')}`.slice(0, 11);
    return this.addChannel({ id, name: id, isIm: true, isPrivate: true, user: userId, isMember: true });
  }

  messages(channelId: string): readonly StoredMessage[] {
    return this.store.get(channelId) ?? [];
  }

  private storeMessage(m: StoredMessage): void {
    const list = this.store.get(m.channel) ?? [];
    list.push(m);
    this.store.set(m.channel, list);
  }

  private findMessage(channel: string, ts: string): StoredMessage | undefined {
    return this.store.get(channel)?.find((m) => m.ts === ts);
  }

  private requireUser(id: string): EmulatedUser {
    const u = this.users.get(id);
    if (!u) throw new Error(`Slack emulator: unknown user ${id}; add it with users: [...] or addUser()`);
    return u;
  }

  /** A channel id, a user id (→ their DM) or a #name, as chat.postMessage accepts. */
  private resolveChannel(ref: string | undefined): EmulatedChannel {
    if (!ref) throw new PlatformError('channel_not_found');
    const byId = this.channels.get(ref);
    if (byId) return byId;
    const user = this.users.get(ref);
    if (user && !user.isBot) return this.dmChannel(ref);
    const name = ref.replace(/^#/, '');
    for (const c of this.channels.values()) if (!c.isIm && c.name === name) return c;
    throw new PlatformError('channel_not_found');
  }

  private channelType(c: EmulatedChannel): string {
    if (c.isIm) return 'im';
    return c.isPrivate ? 'group' : 'channel';
  }

  // ------------------------------------------------------------------------- HTTP

  private async onHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    if (url.pathname.startsWith('/api/')) {
      await this.onApi(url.pathname.slice('/api/'.length), req, url, body, res);
    } else if (url.pathname.startsWith('/upload/v1/')) {
      await this.onUpload(url.pathname.slice('/upload/v1/'.length), req, body, res);
    } else if (url.pathname.startsWith('/response/')) {
      this.onResponseUrl(url.pathname.slice('/response/'.length), body, res);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  }

  private async parseParams(req: http.IncomingMessage, url: URL, body: Buffer): Promise<{ params: Json; json: boolean }> {
    const params: Json = Object.fromEntries(url.searchParams.entries());
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    let json = false;
    if (body.length > 0) {
      if (contentType.startsWith('application/json')) {
        json = true;
        const parsed: unknown = JSON.parse(body.toString('utf8'));
        if (!isRecord(parsed)) throw new PlatformError('invalid_json');
        Object.assign(params, parsed);
      } else if (contentType.startsWith('multipart/form-data')) {
        for (const [k, v] of await parseMultipart(req.headers['content-type'] ?? '', body)) params[k] = v;
      } else {
        for (const [k, v] of new URLSearchParams(body.toString('utf8'))) params[k] = v;
      }
    }
    if (!json) {
      for (const k of JSON_FIELDS) {
        const v = params[k];
        if (typeof v === 'string') {
          try {
            params[k] = JSON.parse(v) as unknown;
          } catch {
            // Slack answers invalid_arguments / invalid_blocks_format; left as a string here and
            // rejected by the method that needs it.
          }
        }
      }
    }
    return { params, json };
  }

  private async onApi(method: string, req: http.IncomingMessage, url: URL, body: Buffer, res: http.ServerResponse): Promise<void> {
    const time = Date.now();
    const auth = req.headers.authorization;
    let params: Json = {};
    let token: string | undefined = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : undefined;
    let status = 200;
    let response: Json;
    let rawBody = '';
    const headers: Record<string, string> = {};
    try {
      const parsed = await this.parseParams(req, url, body);
      const waiting = this.holds.get(method) ?? [];
      const hold = waiting.find((h) => h.matches(parsed.params));
      if (hold) {
        waiting.splice(waiting.indexOf(hold), 1);
        req.socket.once('close', hold.leave);
        hold.arrive();
        await hold.gate;
        if (req.socket.destroyed) return;
      }
      params = parsed.params;
      if (token === undefined && !parsed.json) token = str(params, 'token');
      delete params.token;
      const result = this.dispatch(method, params, token, headers);
      status = result.status;
      response = result.body;
      rawBody = result.rawBody ?? '';
    } catch (e) {
      if (!(e instanceof PlatformError)) throw e;
      response = { ok: false, error: e.error, ...e.extra };
    }
    this.calls.push({
      method, params, token, httpMethod: req.method ?? 'GET', contentType: req.headers['content-type'],
      time, status, response,
    });
    // The token stays out of the record: it is the emulator's own, not something the relay said.
    this.recording.append({ kind: 'api', method, status, params });
    if (status === 200) sendJson(res, 200, response, headers);
    else if (status === 429) sendJson(res, 429, response, headers);
    else {
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(rawBody);
    }
    this.notify();
  }

  private dispatch(method: string, params: Json, token: string | undefined, headers: Record<string, string>): { status: number; body: Json; rawBody?: string } {
    const scripted = this.failures.get(method)?.shift();
    if (scripted) {
      switch (scripted.kind) {
        case 'rate_limited':
          headers['retry-after'] = String(scripted.retryAfterSec);
          return { status: 429, body: { ok: false, error: 'ratelimited' } };
        case 'error':
          return { status: 200, body: { ok: false, error: scripted.error, ...scripted.extra } };
        case 'http':
          return { status: scripted.status, body: { ok: false, error: `http_${scripted.status}` }, rawBody: scripted.body ?? '' };
      }
    }
    const spec = this.methods[method];
    if (!spec) return { status: 200, body: { ok: false, error: 'unknown_method', req_method: method } };
    if (spec.token === 'none') return { status: 200, body: spec.handle(params) };
    if (!token) throw new PlatformError('not_authed');
    const isBot = this.botTokens.has(token);
    const isApp = this.appTokens.has(token);
    if (!isBot && !isApp) throw new PlatformError('invalid_auth');
    if ((spec.token === 'bot' && !isBot) || (spec.token === 'app' && !isApp)) {
      throw new PlatformError('not_allowed_token_type');
    }
    if (isBot) {
      headers['x-oauth-scopes'] = [...this.scopes].join(',');
      const needed = typeof spec.scope === 'function' ? spec.scope(params) : spec.scope ? [spec.scope] : [];
      if (needed.length) headers['x-accepted-oauth-scopes'] = needed.join(',');
      const missing = needed.filter((s) => !this.scopes.has(s));
      if (missing.length) {
        throw new PlatformError('missing_scope', { needed: missing.join(','), provided: [...this.scopes].join(',') });
      }
    }
    return { status: 200, body: spec.handle(params) };
  }

  holdNext(method: string, matches: (params: Json) => boolean = () => true): { arrived: Promise<void>; gone: Promise<void>; release(): void } {
    let arrive: () => void = () => undefined;
    let leave: () => void = () => undefined;
    let release: () => void = () => undefined;
    const arrived = new Promise<void>((r) => { arrive = r; });
    const gone = new Promise<void>((r) => { leave = r; });
    const gate = new Promise<void>((r) => { release = r; });
    this.holds.set(method, [...(this.holds.get(method) ?? []), { matches, arrive, leave, gate }]);
    return { arrived, gone, release };
  }

  failNext(method: string, failure: ScriptedFailure, times = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(failure);
    this.failures.set(method, list);
  }

  callsTo(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  waitForCall(method: string, predicate: (c: ApiCall) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<ApiCall> {
    return this.waiters.wait(
      () => this.calls.find((c) => c.method === method && predicate(c)),
      timeoutMs,
      () => `a ${method} call matching the predicate; calls so far: ${this.calls.map((c) => c.method).join(', ') || 'none'}`,
    );
  }

  // ------------------------------------------------------------------------- Web API methods

  private buildMethods(): Record<string, MethodSpec> {
    return {
      'api.test': { token: 'none', handle: (p) => ({ ok: true, args: p }) },
      'auth.test': {
        token: 'bot',
        handle: () => ({
          ok: true,
          url: `https://${this.teamDomain}.slack.com/`,
          team: this.teamName,
          user: this.botName,
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        }),
      },
      'apps.connections.open': {
        token: 'app',
        handle: () => {
          const ticket = randomUUID();
          this.tickets.add(ticket);
          return { ok: true, url: `${this.url.replace(/^http/, 'ws')}/link/?ticket=${ticket}&app_id=${this.appId}` };
        },
      },
      'chat.postMessage': { token: 'bot', scope: 'chat:write', handle: (p) => this.chatPostMessage(p) },
      'chat.postEphemeral': { token: 'bot', scope: 'chat:write', handle: (p) => this.chatPostEphemeral(p) },
      'chat.update': { token: 'bot', scope: 'chat:write', handle: (p) => this.chatUpdate(p) },
      // Slack asks for no scope here: any token that can see the message may link to it.
      'chat.getPermalink': { token: 'bot', handle: (p) => this.chatGetPermalink(p) },
      'conversations.open': { token: 'bot', scope: 'im:write', handle: (p) => this.conversationsOpen(p) },
      'conversations.list': {
        token: 'bot',
        scope: (p) => this.conversationTypes(p).map((t) => CONVERSATION_TYPE_SCOPE[t] ?? 'channels:read'),
        handle: (p) => this.conversationsList(p),
      },
      'conversations.history': { token: 'bot', scope: (p) => this.historyScope(p), handle: (p) => this.conversationsHistory(p) },
      'conversations.replies': { token: 'bot', scope: (p) => this.historyScope(p), handle: (p) => this.conversationsReplies(p) },
      'users.info': { token: 'bot', scope: 'users:read', handle: (p) => this.usersInfo(p) },
      'files.getUploadURLExternal': { token: 'bot', scope: 'files:write', handle: (p) => this.filesGetUploadUrl(p) },
      'files.completeUploadExternal': { token: 'bot', scope: 'files:write', handle: (p) => this.filesComplete(p) },
      'reactions.add': { token: 'bot', scope: 'reactions:write', handle: (p) => this.reactionsAdd(p) },
    };
  }

  /** A message as Slack's APIs and events show it; `metadata` only where Slack includes it. */
  private messageJson(m: StoredMessage, opts: { metadata?: boolean; thread?: boolean } = {}): Json {
    const replies = opts.thread ? this.repliesTo(m) : [];
    return {
      type: 'message',
      ...(m.botId ? { bot_id: m.botId, app_id: this.appId } : {}),
      text: m.text,
      user: m.user,
      ts: m.ts,
      team: this.teamId,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
      ...(m.threadTs && m.threadTs !== m.ts ? { parent_user_id: this.findMessage(m.channel, m.threadTs)?.user } : {}),
      ...(replies.length ? {
        thread_ts: m.ts, reply_count: replies.length, reply_users_count: new Set(replies.map((r) => r.user)).size,
        reply_users: [...new Set(replies.map((r) => r.user))], latest_reply: replies.at(-1)?.ts,
      } : {}),
      ...(m.blocks ? { blocks: m.blocks } : {}),
      ...(m.files ? { upload: false, files: m.files.map((id) => this.fileJson(id)) } : {}),
      ...(opts.metadata && m.metadata ? { metadata: m.metadata } : {}),
      ...(m.edited ? { edited: { user: m.user, ts: m.ts } } : {}),
      ...(m.reactions.length ? { reactions: m.reactions.map((r) => ({ name: r.name, users: r.users, count: r.users.length })) } : {}),
      ...(m.botId ? { bot_profile: this.botProfile() } : {}),
    };
  }

  private botProfile(): Json {
    return { id: this.botId, app_id: this.appId, name: this.botName, deleted: false, team_id: this.teamId, updated: 1700000000 };
  }

  /** Checks text/blocks the way chat.postMessage and chat.update do; returns [text, blocks]. */
  private messageContent(p: Json, requireSomething: boolean): { text: string | undefined; blocks: unknown[] | undefined } {
    const text = str(p, 'text');
    let blocks: unknown[] | undefined;
    if (p.blocks !== undefined) {
      if (!Array.isArray(p.blocks)) throw new PlatformError('invalid_blocks_format');
      const errors = validateBlocks(p.blocks);
      if (errors.length) throw new PlatformError('invalid_blocks', { errors, response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) } });
      blocks = p.blocks;
    }
    if (requireSomething && !text && !blocks?.length && p.attachments === undefined) throw new PlatformError('no_text');
    if (text !== undefined && text.length > 40_000) throw new PlatformError('msg_too_long');
    return { text, blocks };
  }

  private chatPostMessage(p: Json): Json {
    const channel = this.resolveChannel(str(p, 'channel'));
    if (!channel.isIm && !channel.isMember) throw new PlatformError('not_in_channel');
    const { text, blocks } = this.messageContent(p, true);
    const metadata = this.messageMetadata(p.metadata);
    const threadTs = str(p, 'thread_ts');
    const m: StoredMessage = {
      channel: channel.id, ts: this.nextTs(), user: this.botUserId, botId: this.botId, text: text ?? '',
      edited: false, reactions: [],
      ...(threadTs ? { threadTs } : {}),
      ...(blocks ? { blocks } : {}),
      ...(metadata ? { metadata } : {}),
    };
    this.storeMessage(m);
    if (this.echoBotMessages && channel.isIm) {
      // Slack delivers the app's own DM posts to it too (message.im); after the HTTP answer.
      setImmediate(() => {
        if (this.closed) return;
        this.sendEvent({ ...this.messageJson(m), channel: channel.id, channel_type: 'im', event_ts: m.ts });
      });
    }
    return { ok: true, channel: channel.id, ts: m.ts, message: this.messageJson(m, { metadata: true }) };
  }

  /** chat.postMessage's `metadata`: `{event_type, event_payload}` (JSON in form bodies). */
  private messageMetadata(v: unknown): MessageMetadata | undefined {
    if (v === undefined) return undefined;
    if (!isRecord(v)) throw new PlatformError('invalid_metadata_format');
    const { event_type: type, event_payload: payload } = v;
    if (typeof type !== 'string' || type.length === 0 || type.length > 255 || !isRecord(payload)) throw new PlatformError('invalid_metadata_schema');
    if (JSON.stringify(v).length > 8_000) throw new PlatformError('metadata_too_large');
    return { event_type: type, event_payload: structuredClone(payload) };
  }

  private fileJson(id: string): Json {
    const u = this.uploads.find((x) => x.fileId === id);
    if (!u) return { id, mode: 'tombstone' };
    return {
      id: u.fileId, created: Math.floor(Date.now() / 1000), name: u.filename, title: u.title ?? u.filename,
      mimetype: mimeFor(u.filename), filetype: u.filename.split('.').pop() ?? 'binary', user: this.botUserId,
      size: u.bytes?.length ?? 0, url_private: `${this.url}/files-pri/${this.teamId}-${u.fileId}/${u.filename}`,
      permalink: `https://${this.teamDomain}.slack.com/files/${this.botUserId}/${u.fileId}/${u.filename}`,
    };
  }

  /** The replies in `parent`'s thread, oldest first. */
  private repliesTo(parent: StoredMessage): StoredMessage[] {
    return (this.store.get(parent.channel) ?? []).filter((m) => !m.ephemeralTo && m.threadTs === parent.ts && m.ts !== parent.ts);
  }

  // ------------------------------------------------------------------------- history reads

  /** The `*:history` scope for the conversation's type (nothing for an unknown channel: it is not found). */
  private historyScope(p: Json): string[] {
    const c = this.channels.get(str(p, 'channel') ?? '');
    if (!c) return [];
    if (c.isIm) return ['im:history'];
    return [c.isPrivate ? 'groups:history' : 'channels:history'];
  }

  /** The conversation a history read is for: an ID (names are not accepted), the bot a member. */
  private historyChannel(p: Json): EmulatedChannel {
    const c = this.channels.get(str(p, 'channel') ?? '');
    if (!c) throw new PlatformError('channel_not_found');
    if (!c.isIm && !c.isMember) throw new PlatformError('not_in_channel');
    return c;
  }

  /** `oldest`/`latest`/`inclusive` as a filter on message ts (Slack: both bounds exclusive by default). */
  private timeRange(p: Json): (ts: string) => boolean {
    const bound = (key: 'oldest' | 'latest'): number | undefined => {
      const v = str(p, key);
      if (v === undefined || v === '') return undefined;
      if (!/^\d+(\.\d{1,6})?$/.test(v)) throw new PlatformError(`invalid_ts_${key}`);
      return tsMicros(v);
    };
    const oldest = bound('oldest') ?? 0;
    const latest = bound('latest') ?? Number.MAX_SAFE_INTEGER;
    const inclusive = ['true', '1'].includes(str(p, 'inclusive') ?? '');
    return (ts) => {
      const t = tsMicros(ts);
      return inclusive ? t >= oldest && t <= latest : t > oldest && t < latest;
    };
  }

  /** One page of `list` (already in answer order) from the cursor on: Slack's opaque `next_ts:` cursors. */
  private page(p: Json, list: StoredMessage[], newestFirst: boolean): { page: StoredMessage[]; nextCursor: string | undefined } {
    const raw = Number(str(p, 'limit') ?? 100);
    const limit = Number.isFinite(raw) && raw >= 1 ? Math.min(Math.floor(raw), 999) : 100;
    const cursor = str(p, 'cursor');
    let from = 0;
    if (cursor) {
      const m = /^next_ts:(\d+\.\d{6})$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
      if (!m?.[1]) throw new PlatformError('invalid_cursor');
      const at = tsMicros(m[1]);
      from = list.findIndex((x) => (newestFirst ? tsMicros(x.ts) <= at : tsMicros(x.ts) >= at));
      if (from < 0) from = list.length;
    }
    const page = list.slice(from, from + limit);
    const next = list[from + limit];
    return { page, nextCursor: next ? Buffer.from(`next_ts:${next.ts}`).toString('base64') : undefined };
  }

  private conversationsHistory(p: Json): Json {
    const c = this.historyChannel(p);
    const inRange = this.timeRange(p);
    const metadata = ['true', '1'].includes(str(p, 'include_all_metadata') ?? '');
    // Channel history holds the top-level messages; thread replies are read with conversations.replies.
    const list = (this.store.get(c.id) ?? [])
      .filter((m) => !m.ephemeralTo && (!m.threadTs || m.threadTs === m.ts) && inRange(m.ts))
      .sort((a, b) => tsMicros(b.ts) - tsMicros(a.ts));
    const { page, nextCursor } = this.page(p, list, true);
    return {
      ok: true,
      messages: page.map((m) => this.messageJson(m, { metadata, thread: true })),
      has_more: nextCursor !== undefined,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      ...(nextCursor ? { response_metadata: { next_cursor: nextCursor } } : {}),
    };
  }

  private conversationsReplies(p: Json): Json {
    const c = this.historyChannel(p);
    const ts = str(p, 'ts');
    const hit = ts ? this.findMessage(c.id, ts) : undefined;
    if (!hit || hit.ephemeralTo) throw new PlatformError('thread_not_found');
    const parent = hit.threadTs && hit.threadTs !== hit.ts ? this.findMessage(c.id, hit.threadTs) ?? hit : hit;
    const inRange = this.timeRange(p);
    const metadata = ['true', '1'].includes(str(p, 'include_all_metadata') ?? '');
    const replies = this.repliesTo(parent).filter((m) => inRange(m.ts)).sort((a, b) => tsMicros(a.ts) - tsMicros(b.ts));
    const { page, nextCursor } = this.page(p, replies, false);
    // The thread's parent comes first, on the first page.
    const messages = str(p, 'cursor') ? page : [parent, ...page];
    return {
      ok: true,
      messages: messages.map((m) => this.messageJson(m, { metadata, thread: m === parent })),
      has_more: nextCursor !== undefined,
      ...(nextCursor ? { response_metadata: { next_cursor: nextCursor } } : {}),
    };
  }

  private chatPostEphemeral(p: Json): Json {
    const channel = this.resolveChannel(str(p, 'channel'));
    const user = str(p, 'user');
    if (!user || !this.users.has(user)) throw new PlatformError('user_not_found');
    const { text, blocks } = this.messageContent(p, true);
    const ts = this.nextTs();
    this.storeMessage({
      channel: channel.id, ts, user: this.botUserId, botId: this.botId, text: text ?? '', ephemeralTo: user,
      edited: false, reactions: [], ...(blocks ? { blocks } : {}),
    });
    return { ok: true, message_ts: ts };
  }

  private chatUpdate(p: Json): Json {
    const channel = this.resolveChannel(str(p, 'channel'));
    const ts = str(p, 'ts');
    const m = ts ? this.findMessage(channel.id, ts) : undefined;
    if (!m || m.ephemeralTo) throw new PlatformError('message_not_found');
    if (m.botId !== this.botId) throw new PlatformError('cant_update_message');
    const { text, blocks } = this.messageContent(p, false);
    if (text !== undefined) m.text = text;
    if (blocks !== undefined) m.blocks = blocks;
    m.edited = true;
    return { ok: true, channel: channel.id, ts: m.ts, text: m.text, message: this.messageJson(m) };
  }

  /** `{ok, channel, permalink}`; a reply's link carries its thread (`?thread_ts=…&cid=…`), as Slack's do. */
  private chatGetPermalink(p: Json): Json {
    const channel = this.resolveChannel(str(p, 'channel'));
    const ts = str(p, 'message_ts');
    const m = ts ? this.findMessage(channel.id, ts) : undefined;
    if (!m || m.ephemeralTo) throw new PlatformError('message_not_found');
    const base = `https://${this.teamDomain}.slack.com/archives/${channel.id}/p${m.ts.replace('.', '')}`;
    const permalink = m.threadTs && m.threadTs !== m.ts ? `${base}?thread_ts=${m.threadTs}&cid=${channel.id}` : base;
    return { ok: true, channel: channel.id, permalink };
  }

  private channelJson(c: EmulatedChannel): Json {
    if (c.isIm) {
      return { id: c.id, created: 1700000000, is_im: true, is_org_shared: false, user: c.user, is_user_deleted: false, priority: 0 };
    }
    return {
      id: c.id, name: c.name, name_normalized: c.name, is_channel: !c.isPrivate, is_group: c.isPrivate, is_im: false,
      is_mpim: false, is_private: c.isPrivate, created: 1700000000, is_archived: false, is_general: c.name === 'general',
      is_member: c.isMember, is_shared: false, is_ext_shared: false, is_org_shared: false, context_team_id: this.teamId,
    };
  }

  private conversationsOpen(p: Json): Json {
    const channelRef = str(p, 'channel');
    if (channelRef) {
      const c = this.channels.get(channelRef);
      if (!c) throw new PlatformError('channel_not_found');
      return { ok: true, no_op: true, already_open: true, channel: this.channelJson(c) };
    }
    const users = (str(p, 'users') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (users.length === 0) throw new PlatformError('users_list_not_supplied');
    if (users.length > 1) throw new PlatformError('not_supported', { detail: 'The emulator opens 1:1 DMs only.' });
    const user = this.users.get(users[0] ?? '');
    if (!user || user.isBot) throw new PlatformError('user_not_found');
    const existed = [...this.channels.values()].some((c) => c.isIm && c.user === user.id);
    return { ok: true, no_op: existed, already_open: existed, channel: this.channelJson(this.dmChannel(user.id)) };
  }

  private conversationTypes(p: Json): string[] {
    const types = (str(p, 'types') ?? 'public_channel').split(',').map((s) => s.trim()).filter(Boolean);
    for (const t of types) if (!(t in CONVERSATION_TYPE_SCOPE)) throw new PlatformError('invalid_types');
    return types;
  }

  private conversationsList(p: Json): Json {
    const types = new Set(this.conversationTypes(p));
    const limit = Math.min(Math.max(Number(str(p, 'limit') ?? 100) || 100, 1), 1000);
    const cursor = str(p, 'cursor');
    const offset = cursor ? Number(Buffer.from(cursor, 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new PlatformError('invalid_cursor');
    const all = [...this.channels.values()].filter((c) =>
      c.isIm ? types.has('im') : c.isPrivate ? types.has('private_channel') && c.isMember : types.has('public_channel'));
    const page = all.slice(offset, offset + limit);
    const next = offset + limit < all.length ? Buffer.from(`offset:${offset + limit}`).toString('base64') : '';
    return { ok: true, channels: page.map((c) => this.channelJson(c)), response_metadata: { next_cursor: next } };
  }

  private usersInfo(p: Json): Json {
    const id = str(p, 'user');
    const u = id ? this.users.get(id) : undefined;
    if (!u) throw new PlatformError('user_not_found');
    return {
      ok: true,
      user: {
        id: u.id, team_id: this.teamId, name: u.name, deleted: false, real_name: u.realName, tz: u.tz,
        tz_label: u.tz, tz_offset: 0, is_admin: false, is_owner: false, is_bot: u.isBot, is_app_user: false,
        updated: 1700000000,
        profile: {
          real_name: u.realName, display_name: u.name, real_name_normalized: u.realName, display_name_normalized: u.name,
          team: this.teamId, ...(u.email ? { email: u.email } : {}), ...(u.isBot ? { bot_id: this.botId } : {}),
        },
      },
    };
  }

  private filesGetUploadUrl(p: Json): Json {
    const filename = str(p, 'filename');
    const length = Number(str(p, 'length'));
    if (!filename || !Number.isInteger(length) || length <= 0) throw new PlatformError('invalid_arguments');
    const fileId = slackId('F');
    const altText = str(p, 'alt_text');
    this.uploads.push({
      fileId, filename, declaredLength: length, bytes: undefined, completed: false,
      ...(altText !== undefined ? { altText } : {}),
    });
    return { ok: true, upload_url: `${this.url}/upload/v1/${fileId}`, file_id: fileId };
  }

  private async onUpload(fileId: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const upload = this.uploads.find((u) => u.fileId === fileId);
    if (!upload || upload.completed) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('upload url not found');
      return;
    }
    let bytes = body;
    const contentType = req.headers['content-type'] ?? '';
    if (contentType.toLowerCase().startsWith('multipart/form-data')) {
      // WebClient posts `{ body: <Buffer> }` as multipart with one file part.
      const part = (await parseMultipart(contentType, body)).map(([, v]) => v).find((v): v is Buffer => typeof v !== 'string');
      if (!part) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('no file part');
        return;
      }
      bytes = part;
    }
    upload.bytes = bytes;
    this.recording.append({ kind: 'upload', fileId, filename: upload.filename, bytes });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`OK - ${bytes.length}`);
    this.notify();
  }

  private filesComplete(p: Json): Json {
    const files = p.files;
    if (!Array.isArray(files) || files.length === 0) throw new PlatformError('invalid_arguments');
    const channelId = str(p, 'channel_id');
    const channel = channelId ? this.resolveChannel(channelId) : undefined;
    const threadTs = str(p, 'thread_ts');
    const initialComment = str(p, 'initial_comment');
    const done: UploadedFile[] = [];
    for (const f of files) {
      const id = isRecord(f) ? str(f, 'id') : undefined;
      const upload = this.uploads.find((u) => u.fileId === id);
      if (!upload || upload.bytes === undefined) throw new PlatformError('file_not_found');
      if (upload.bytes.length !== upload.declaredLength) throw new PlatformError('file_size_mismatch');
      const title = isRecord(f) ? str(f, 'title') : undefined;
      upload.completed = true;
      if (title !== undefined) upload.title = title;
      if (channel) upload.channelId = channel.id;
      if (threadTs !== undefined) upload.threadTs = threadTs;
      if (initialComment !== undefined) upload.initialComment = initialComment;
      done.push(upload);
    }
    if (channel) {
      this.storeMessage({
        channel: channel.id, ts: this.nextTs(), user: this.botUserId, botId: this.botId, text: initialComment ?? '',
        files: done.map((u) => u.fileId), edited: false, reactions: [], ...(threadTs ? { threadTs } : {}),
      });
    }
    this.notify();
    return { ok: true, files: done.map((u) => this.fileJson(u.fileId)) };
  }

  private reactionsAdd(p: Json): Json {
    const channel = this.resolveChannel(str(p, 'channel'));
    const ts = str(p, 'timestamp');
    const name = str(p, 'name');
    if (!name || !/^[a-z0-9_+'-]+(::skin-tone-[2-6])?$/.test(name)) throw new PlatformError('invalid_name');
    const m = ts ? this.findMessage(channel.id, ts) : undefined;
    if (!m) throw new PlatformError('message_not_found');
    const r = m.reactions.find((x) => x.name === name);
    if (r?.users.includes(this.botUserId)) throw new PlatformError('already_reacted');
    if (r) r.users.push(this.botUserId);
    else m.reactions.push({ name, users: [this.botUserId] });
    return { ok: true };
  }

  // ------------------------------------------------------------------------- response_url

  private onResponseUrl(id: string, body: Buffer, res: http.ServerResponse): void {
    const uses = this.responseUrlUses.get(id);
    if (uses === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('no_such_response_url');
      return;
    }
    if (uses >= 5) {
      // Slack allows five responses per response_url.
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('used_url');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid_payload');
      return;
    }
    if (!isRecord(parsed)) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('invalid_payload');
      return;
    }
    this.responseUrlUses.set(id, uses + 1);
    this.responseUrlPosts.push({ responseUrlId: id, body: parsed, time: Date.now() });
    this.recording.append({ kind: 'response_url', body: parsed });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    this.notify();
  }

  private newResponseUrl(): string {
    const id = randomUUID();
    this.responseUrlUses.set(id, 0);
    return `${this.url}/response/${id}`;
  }

  waitForResponseUrlPost(predicate: (p: ResponseUrlPost) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<ResponseUrlPost> {
    return this.waiters.wait(() => this.responseUrlPosts.find(predicate), timeoutMs, () => 'a response_url post');
  }

  // ------------------------------------------------------------------------- Socket Mode

  get connectionCount(): number {
    return [...this.connections.values()].filter((c) => c.ws.readyState === WebSocket.OPEN).length;
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.url);
    const ticket = url.searchParams.get('ticket');
    if (url.pathname !== '/link/' || !ticket || !this.tickets.has(ticket) || this.closed) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.tickets.delete(ticket);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    const conn: Connection = { id: this.nextConnectionId++, ws, pinger: undefined, helloTimer: undefined, ready: false, frozen: false };
    this.connections.set(conn.id, conn);
    this.totalConnections += 1;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      this.onSocketMessage(conn, Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
    });
    ws.on('close', () => {
      clearInterval(conn.pinger);
      clearTimeout(conn.helloTimer);
      this.connections.delete(conn.id);
      this.notify();
    });
    ws.on('error', () => {
      // A terminated peer; 'close' follows.
    });
    if (this.serverPingIntervalMs > 0) conn.pinger = setInterval(() => { if (!conn.frozen) ws.ping(); }, this.serverPingIntervalMs);
    this.notify();
    const hello = (): void => {
      conn.helloTimer = undefined;
      if (ws.readyState !== WebSocket.OPEN) return;
      this.hellos.push(this.connectionCount);
      ws.send(JSON.stringify({
        type: 'hello',
        num_connections: this.connectionCount,
        debug_info: { host: 'applink-emulator', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: this.appId },
      }));
      conn.ready = true;
      this.notify();
      // Whatever waited for a connection goes out now.
      for (const d of this.deliveries) if (d.state === 'queued') this.transmit(d);
    };
    if (this.helloDelayMs > 0) conn.helloTimer = setTimeout(hello, this.helloDelayMs);
    else hello();
  }

  private onSocketMessage(conn: Connection, text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(msg) || typeof msg.envelope_id !== 'string') return;
    const delivery = this.envelopeToDelivery.get(msg.envelope_id);
    const attempt = delivery?.attempts.find((a) => a.envelopeId === msg.envelope_id);
    const ack: AckRecord = {
      envelopeId: msg.envelope_id,
      payload: isRecord(msg.payload) ? msg.payload : undefined,
      connectionId: conn.id,
      time: Date.now(),
      deliveryId: delivery?.id,
      late: attempt?.expired ?? false,
    };
    this.acks.push(ack);
    if (ack.payload !== undefined) this.recording.append({ kind: 'ack', payload: ack.payload });
    if (delivery && delivery.state === 'sent' && attempt === delivery.attempts.at(-1)) {
      clearTimeout(delivery.timer);
      delivery.timer = undefined;
      delivery.state = 'acked';
      delivery.ack = ack;
    } else if (delivery && !delivery.ack && delivery.state !== 'timed_out') {
      // A late ack for an earlier attempt still tells Slack the event arrived.
      delivery.ack = ack;
    }
    this.notify();
  }

  private pickConnection(): Connection | undefined {
    const open = [...this.connections.values()].filter((c) => c.ready && !c.frozen && c.ws.readyState === WebSocket.OPEN);
    if (open.length === 0) return undefined;
    const conn = open[this.roundRobin % open.length];
    this.roundRobin += 1;
    return conn;
  }

  private enqueue(type: EnvelopeType, payload: Json): Delivery {
    if (this.closed) throw new Error('Slack emulator is closed');
    const d: DeliveryImpl = {
      id: this.nextDeliveryId++, type, payload, attempts: [], state: 'queued', ack: undefined, timer: undefined,
    };
    this.deliveries.push(d);
    this.transmit(d);
    this.notify();
    return d;
  }

  private transmit(d: DeliveryImpl): void {
    const conn = this.pickConnection();
    if (!conn) {
      d.state = 'queued';
      return;
    }
    const envelopeId = randomUUID();
    const retryAttempt = d.attempts.length;
    const envelope: Json = {
      envelope_id: envelopeId,
      payload: d.payload,
      type: d.type,
      accepts_response_payload: d.type === 'slash_commands',
    };
    if (d.type === 'events_api') {
      envelope.retry_attempt = retryAttempt;
      envelope.retry_reason = retryAttempt === 0 ? '' : 'timeout';
    }
    d.attempts.push({ envelopeId, retryAttempt, connectionId: conn.id, sentAt: Date.now(), expired: false });
    d.state = 'sent';
    this.envelopeToDelivery.set(envelopeId, d);
    conn.ws.send(JSON.stringify(envelope));
    d.timer = setTimeout(() => this.onAckTimeout(d), this.ackTimeoutMs);
  }

  private onAckTimeout(d: DeliveryImpl): void {
    d.timer = undefined;
    if (this.closed || d.state !== 'sent') return;
    const last = d.attempts.at(-1);
    if (last) last.expired = true;
    if (d.type !== 'events_api') {
      d.state = 'timed_out';
    } else if (d.attempts.length <= this.maxRetries) {
      this.transmit(d);
    } else {
      d.state = 'failed';
    }
    this.notify();
  }

  private eventCallback(event: Json, eventId: string): Json {
    return {
      token: 'emulatedVerificationToken',
      team_id: this.teamId,
      context_team_id: this.teamId,
      context_enterprise_id: null,
      api_app_id: this.appId,
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [{
        enterprise_id: null, team_id: this.teamId, user_id: this.botUserId, is_bot: true, is_enterprise_install: false,
      }],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(eventId).toString('base64url')}`,
    };
  }

  sendEvent(event: Json, opts: { eventId?: string } = {}): Delivery {
    if (typeof event.type !== 'string') throw new Error('sendEvent: the event needs a type');
    const full: Json = { ...event };
    if ((full.type === 'message' || full.type === 'app_mention') && typeof full.channel === 'string' && full.subtype === undefined) {
      if (typeof full.ts !== 'string') full.ts = this.nextTs();
      if (!this.channels.has(full.channel)) {
        const user = typeof full.user === 'string' ? full.user : undefined;
        this.addChannel({ id: full.channel, name: full.channel, ...(user && full.channel.startsWith('D') ? { user } : {}) });
      }
      if (!this.findMessage(full.channel, full.ts as string)) {
        this.storeMessage({
          channel: full.channel, ts: full.ts as string, text: typeof full.text === 'string' ? full.text : '',
          edited: false, reactions: [],
          ...(typeof full.user === 'string' ? { user: full.user } : {}),
          ...(typeof full.bot_id === 'string' ? { botId: full.bot_id } : {}),
          ...(typeof full.thread_ts === 'string' ? { threadTs: full.thread_ts } : {}),
        });
      }
    }
    if (full.event_ts === undefined) full.event_ts = typeof full.ts === 'string' ? full.ts : this.nextTs();
    return this.enqueue('events_api', this.eventCallback(full, opts.eventId ?? slackId('Ev')));
  }

  sendDirectMessage(opts: { text: string; user?: string; ts?: string; threadTs?: string; extra?: Json }): Delivery {
    const user = this.requireUser(opts.user ?? this.defaultUserId);
    const channel = this.dmChannelFor(user.id);
    return this.sendEvent({
      type: 'message',
      client_msg_id: randomUUID(),
      text: opts.text,
      user: user.id,
      ts: opts.ts ?? this.nextTs(),
      team: this.teamId,
      channel,
      channel_type: 'im',
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
      ...opts.extra,
    });
  }

  sendAppMention(opts: { text: string; user?: string; channel?: string; threadTs?: string }): Delivery {
    const user = this.requireUser(opts.user ?? this.defaultUserId);
    const channel = opts.channel ?? [...this.channels.values()].find((c) => !c.isIm)?.id;
    if (!channel) throw new Error('sendAppMention: no channel');
    const mention = `<@${this.botUserId}>`;
    return this.sendEvent({
      type: 'app_mention',
      client_msg_id: randomUUID(),
      text: opts.text.includes(mention) ? opts.text : `${mention} ${opts.text}`,
      user: user.id,
      ts: this.nextTs(),
      team: this.teamId,
      channel,
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
    });
  }

  sendSlashCommand(opts: SlashCommandOptions = {}): Delivery {
    const user = this.requireUser(opts.userId ?? this.defaultUserId);
    const channelId = opts.channelId ?? this.dmChannelFor(user.id);
    const channel = this.channels.get(channelId);
    return this.enqueue('slash_commands', {
      token: 'emulatedVerificationToken',
      team_id: this.teamId,
      team_domain: this.teamDomain,
      channel_id: channelId,
      channel_name: channel?.isIm ? 'directmessage' : (channel?.name ?? channelId),
      user_id: user.id,
      user_name: user.name,
      command: opts.command ?? '/hpc',
      text: opts.text ?? '',
      api_app_id: this.appId,
      is_enterprise_install: 'false',
      response_url: this.newResponseUrl(),
      trigger_id: `${Date.now()}.${slackId('')}`,
    });
  }

  sendInteractive(payload: Json): Delivery {
    return this.enqueue('interactive', {
      team: { id: this.teamId, domain: this.teamDomain },
      api_app_id: this.appId,
      token: 'emulatedVerificationToken',
      trigger_id: `${Date.now()}.${slackId('')}`,
      response_url: this.newResponseUrl(),
      is_enterprise_install: false,
      enterprise: null,
      ...payload,
    });
  }

  sendButtonClick(opts: ButtonClickOptions): Delivery {
    const user = this.requireUser(opts.userId ?? this.defaultUserId);
    const channelId = opts.channelId ?? this.dmChannelFor(user.id);
    const channel = this.channels.get(channelId);
    const message = opts.messageTs ? this.findMessage(channelId, opts.messageTs) : undefined;
    if (opts.messageTs && !message) throw new Error(`sendButtonClick: no message ${opts.messageTs} in ${channelId}`);
    const actionTs = this.nextTs();
    return this.sendInteractive({
      type: 'block_actions',
      user: { id: user.id, username: user.name, name: user.name, team_id: this.teamId },
      container: { type: 'message', message_ts: opts.messageTs ?? actionTs, channel_id: channelId, is_ephemeral: false },
      channel: { id: channelId, name: channel?.isIm ? 'directmessage' : (channel?.name ?? channelId) },
      ...(message ? { message: { ...this.messageJson(message) } } : {}),
      state: { values: {} },
      actions: [{
        action_id: opts.actionId,
        block_id: opts.blockId ?? slackId('b'),
        text: { type: 'plain_text', text: opts.value ?? opts.actionId, emoji: true },
        ...(opts.value !== undefined ? { value: opts.value } : {}),
        type: 'button',
        action_ts: actionTs,
      }],
    });
  }

  waitForAck(delivery: Delivery, timeoutMs = DEFAULT_WAIT_MS): Promise<AckRecord> {
    return this.waiters.wait(() => delivery.ack, timeoutMs, () => `an ack of ${delivery.type} delivery ${delivery.id} (state ${delivery.state}, ${delivery.attempts.length} attempts)`);
  }

  waitForIdle(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waiters.wait(
      () => (this.deliveries.some((d) => d.state === 'queued' || d.state === 'sent') ? undefined : (true as const)),
      timeoutMs,
      () => `all deliveries acked; pending: ${this.deliveries.filter((d) => d.state === 'queued' || d.state === 'sent').map((d) => `${d.id}:${d.type}:${d.state}`).join(', ')}`,
    ).then(() => undefined);
  }

  waitForConnections(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waiters.wait(
      () => (this.connectionCount >= count ? (true as const) : undefined),
      timeoutMs,
      () => `${count} Socket Mode connection(s); open: ${this.connectionCount}`,
    ).then(() => undefined);
  }

  disconnect(reason = 'refresh_requested'): void {
    for (const c of this.connections.values()) {
      if (c.ws.readyState === WebSocket.OPEN) {
        c.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-emulator' } }));
      }
    }
  }

  dropSockets(): void {
    for (const c of this.connections.values()) c.ws.terminate();
  }

  redeliver(delivery: Delivery): void {
    const d = this.deliveries.find((x) => x === delivery);
    if (!d) throw new Error('redeliver: not a delivery of this emulator');
    if (d.type !== 'events_api') throw new Error('redeliver: Slack retries events_api envelopes only');
    clearTimeout(d.timer);
    d.timer = undefined;
    const last = d.attempts.at(-1);
    if (last) last.expired = true;
    this.transmit(d);
    this.notify();
  }

  stopPings(): void {
    for (const c of this.connections.values()) {
      clearInterval(c.pinger);
      c.pinger = undefined;
    }
  }

  freezeSockets(): void {
    for (const c of this.connections.values()) {
      c.frozen = true;
      clearInterval(c.pinger);
      c.pinger = undefined;
      c.ws.pause();
    }
    this.notify();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const d of this.deliveries) clearTimeout(d.timer);
    for (const c of this.connections.values()) {
      clearInterval(c.pinger);
      clearTimeout(c.helloTimer);
      c.ws.terminate();
    }
    this.waiters.failAll(new Error('Slack emulator closed'));
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await closeServer(this.server);
  }
}

/** A message ts (`1700000000.000123`) or a time bound (`1700000000`, `1700000000.5`) in microseconds. */
function tsMicros(ts: string): number {
  const [sec = '0', frac = ''] = ts.split('.');
  return Number(sec) * 1e6 + Number(frac.padEnd(6, '0').slice(0, 6));
}

function mimeFor(filename: string): string {
  const ext = filename.split('.').pop()?.toLowerCase();
  const map: Record<string, string> = {
    png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', txt: 'text/plain', log: 'text/plain',
    json: 'application/json', csv: 'text/csv', pdf: 'application/pdf',
  };
  return (ext && map[ext]) ?? 'application/octet-stream';
}

/** The Block Kit limits Slack enforces most often (`invalid_blocks`). */
export function validateBlocks(blocks: unknown[]): string[] {
  const errors: string[] = [];
  if (blocks.length > 50) errors.push('no more than 50 items allowed [json-pointer:/blocks]');
  const textOf = (v: unknown): string | undefined => (isRecord(v) && typeof v.text === 'string' ? v.text : undefined);
  blocks.forEach((b, i) => {
    const at = `[json-pointer:/blocks/${i}]`;
    if (!isRecord(b) || typeof b.type !== 'string') {
      errors.push(`missing required field: type ${at}`);
      return;
    }
    if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > 255)) {
      errors.push(`must be a string of at most 255 characters ${at}/block_id`);
    }
    switch (b.type) {
      case 'section': {
        const t = textOf(b.text);
        if (t === undefined && !Array.isArray(b.fields)) errors.push(`must provide either text or fields ${at}`);
        if (t !== undefined && t.length > 3000) errors.push(`must be less than 3001 characters ${at}/text`);
        if (t !== undefined && t.length === 0) errors.push(`must be more than 0 characters ${at}/text`);
        if (Array.isArray(b.fields)) {
          if (b.fields.length > 10) errors.push(`no more than 10 items allowed ${at}/fields`);
          b.fields.forEach((f, j) => {
            const ft = textOf(f);
            if (ft === undefined || ft.length > 2000) errors.push(`must be less than 2001 characters ${at}/fields/${j}`);
          });
        }
        break;
      }
      case 'header': {
        const t = textOf(b.text);
        if (t === undefined || !isRecord(b.text) || b.text.type !== 'plain_text') errors.push(`must be a plain_text object ${at}/text`);
        else if (t.length > 150) errors.push(`must be less than 151 characters ${at}/text`);
        break;
      }
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
          errors.push(`must have between 1 and 10 elements ${at}/elements`);
        }
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) {
          errors.push(`must have between 1 and 25 elements ${at}/elements`);
        } else {
          b.elements.forEach((e, j) => {
            if (!isRecord(e) || typeof e.type !== 'string') errors.push(`missing required field: type ${at}/elements/${j}`);
            else if (e.type === 'button') {
              const t = textOf(e.text);
              if (t === undefined || t.length > 75) errors.push(`must be less than 76 characters ${at}/elements/${j}/text`);
              if (typeof e.action_id === 'string' && e.action_id.length > 255) errors.push(`must be less than 256 characters ${at}/elements/${j}/action_id`);
              if (typeof e.value === 'string' && e.value.length > 2000) errors.push(`must be less than 2001 characters ${at}/elements/${j}/value`);
            }
          });
        }
        break;
      case 'divider':
      case 'image':
      case 'rich_text':
      case 'markdown':
      case 'file':
      case 'input':
      case 'video':
      case 'rich_text_section':
        break;
      default:
        errors.push(`unsupported type: ${b.type} ${at}/type`);
    }
  });
  return errors;
}

export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emu = new SlackEmulatorImpl(opts);
  await emu.listen();
  return emu;
}
