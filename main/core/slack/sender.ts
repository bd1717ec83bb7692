/**
 * Every message the relay sends to Slack goes through here: redacted, queued per conversation
 * (so replies keep their order), paused on HTTP 429 for exactly the Retry-After Slack names,
 * retried with backoff on network errors and Slack's 5xx, and never dropped: a message leaves the
 * queue when Slack took it, when Slack refused it for good (the caller gets a coded error), or at
 * shutdown after the flush deadline (the caller gets SLACK_STOPPED and, for reports, the outbox
 * keeps the row).
 *
 * A network error, a timeout or a 5xx does not say whether Slack took a post (the link can drop
 * after Slack stored the message and before its answer arrived), and chat.postMessage is not
 * idempotent. A caller that must not post twice passes `reconcile`: before each re-send after
 * such a failure it looks for the earlier try in Slack, and what it finds is the call's result —
 * nothing is sent again. (A 429 is always safe to repeat: Slack took nothing.)
 */
import type { webApi } from '@slack/bolt';
import type { Clock, Logger } from '../ports.js';
import { systemClock } from '../ports.js';
import type { SecretRegistry } from '../secrets/redact.js';
import { SlackGatewayError, isTransientSlackError, rateLimitRetryAfter, slackPostError } from './errors.js';
import type { Block } from './format.js';

export type SlackWebClient = webApi.WebClient;

export interface PostArgs {
  channel: string;
  text: string;
  blocks?: Block[];
  thread_ts?: string;
  /** Unfurling job log links is noise. */
  unfurl_links?: boolean;
  /** Slack message metadata (returned by conversations.history with `include_all_metadata`). */
  metadata?: { event_type: string; event_payload: Record<string, string | number | boolean> };
}

/**
 * For calls that must not be repeated blindly: before re-sending after a failure whose outcome is
 * unknown, find the earlier try in Slack. A value is taken as the call's result (nothing is sent
 * again); undefined means Slack did not take it (sent again); a rejection fails the call with it.
 */
export interface SendOptions<T> {
  reconcile?: () => Promise<T | undefined>;
}

export interface EphemeralArgs extends PostArgs {
  user: string;
}

export interface UpdateArgs {
  channel: string;
  ts: string;
  text: string;
  blocks?: Block[];
}

export interface UploadArgs {
  channelId: string;
  threadTs?: string;
  filename: string;
  title?: string;
  altText?: string;
  initialComment?: string;
  bytes: Buffer;
}

/** A body for a `response_url` (slash commands and button clicks). */
export interface ResponseBody {
  text: string;
  blocks?: Block[];
  response_type?: 'ephemeral' | 'in_channel';
  replace_original?: boolean;
  delete_original?: boolean;
}

export interface SenderOptions {
  client: SlackWebClient;
  registry: SecretRegistry;
  logger: Logger;
  clock?: Clock;
  /** First backoff after a transient failure (doubles up to `maxBackoffMs`; default 1000). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** For response_url posts (default: global fetch). */
  fetch?: typeof fetch;
}

interface QueuedCall {
  lane: string;
  method: string;
  run: () => Promise<unknown>;
  reconcile: (() => Promise<unknown>) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  attempts: number;
  enqueuedAt: number;
}

export interface SenderStats {
  sent: number;
  rateLimited: number;
  retried: number;
  failed: number;
  pending: number;
}

/** Deep copy with every string passed through the redactor; Buffers are left alone. */
export function redactDeep<T>(value: T, registry: SecretRegistry): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return registry.redact(v);
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return v;
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

class ResponseUrlError extends Error {
  constructor(readonly status: number, readonly body: string, readonly retryAfterSec: number | undefined) {
    super(`response_url answered HTTP ${status}${body ? ` (${body.slice(0, 100)})` : ''}`);
  }
}

export class SlackSender {
  private readonly lanes = new Map<string, QueuedCall[]>();
  private readonly running = new Set<string>();
  /** Per Web API method: no call before this time (Retry-After). */
  private readonly pausedUntil = new Map<string, number>();
  private readonly sleepers = new Set<{ cancel(): void; wake(): void }>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly fetchImpl: typeof fetch;
  private stopping = false;
  private stopped = false;
  readonly stats: SenderStats = { sent: 0, rateLimited: 0, retried: 0, failed: 0, pending: 0 };

  constructor(private readonly opts: SenderOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger.child({ component: 'slack-sender' });
    this.fetchImpl = opts.fetch ?? fetch;
  }

  get client(): SlackWebClient {
    return this.opts.client;
  }

  post(args: PostArgs, opts: SendOptions<{ channel: string; ts: string }> = {}): Promise<{ channel: string; ts: string }> {
    const body = this.redact({ unfurl_links: false, unfurl_media: false, ...args });
    return this.enqueue(laneOf(args.channel, args.thread_ts), 'chat.postMessage', async () => {
      const r = (await this.opts.client.apiCall('chat.postMessage', body)) as { channel?: unknown; ts?: unknown };
      return { channel: typeof r.channel === 'string' ? r.channel : args.channel, ts: typeof r.ts === 'string' ? r.ts : '' };
    }, opts.reconcile);
  }

  postEphemeral(args: EphemeralArgs): Promise<void> {
    const body = this.redact({ ...args });
    return this.enqueue(laneOf(args.channel, args.thread_ts), 'chat.postEphemeral', async () => {
      await this.opts.client.apiCall('chat.postEphemeral', body);
    });
  }

  update(args: UpdateArgs): Promise<void> {
    const body = this.redact({ ...args });
    return this.enqueue(laneOf(args.channel), 'chat.update', async () => {
      await this.opts.client.apiCall('chat.update', body);
    });
  }

  /** Any other Web API method (conversations.open, conversations.list, …), same rate-limit rules. */
  call(method: string, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const body = this.redact(args);
    return this.enqueue(`api:${method}`, method, async () => (await this.opts.client.apiCall(method, body)) as unknown as Record<string, unknown>);
  }

  /** files.uploadV2 (get an upload URL, POST the bytes, complete) into a channel or thread. */
  upload(args: UploadArgs, opts: SendOptions<{ fileId: string }> = {}): Promise<{ fileId: string }> {
    const text = this.redact({ title: args.title, alt_text: args.altText, initial_comment: args.initialComment, filename: args.filename });
    return this.enqueue(laneOf(args.channelId, args.threadTs), 'files.uploadV2', async () => {
      const r = await this.opts.client.filesUploadV2({
        channel_id: args.channelId,
        file: args.bytes,
        filename: text.filename,
        ...(args.threadTs ? { thread_ts: args.threadTs } : {}),
        ...(text.title ? { title: text.title } : {}),
        ...(text.alt_text ? { alt_text: text.alt_text } : {}),
        ...(text.initial_comment ? { initial_comment: text.initial_comment } : {}),
      } as Parameters<SlackWebClient['filesUploadV2']>[0]);
      return { fileId: firstFileId(r) ?? '' };
    }, opts.reconcile);
  }

  /** Posts to a slash command's or a click's `response_url` (valid 30 minutes, five times). */
  respond(responseUrl: string, body: ResponseBody): Promise<void> {
    const payload = JSON.stringify(this.redact(body));
    return this.enqueue(`response:${responseUrl}`, 'response_url', async () => {
      const res = await this.fetchImpl(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body: payload });
      if (res.ok) return;
      const text = await res.text().catch(() => '');
      const ra = Number(res.headers.get('retry-after'));
      throw new ResponseUrlError(res.status, text, Number.isFinite(ra) && ra >= 0 ? ra : undefined);
    });
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.stats.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.add(resolve));
  }

  /**
   * Stop taking new messages, give queued ones until `deadlineMs` to go out (waits for Retry-After
   * and backoff are cut short only at the deadline), then fail what is left with SLACK_STOPPED.
   */
  async stop(deadlineMs = 5000): Promise<void> {
    if (this.stopped) return;
    this.stopping = true;
    let timer: { cancel(): void } | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => { timer = this.clock.setTimeout(resolve, deadlineMs); })]);
    timer?.cancel();
    this.stopped = true;
    const left = [...this.lanes.values()].flat();
    if (left.length) {
      this.log.error('Slack messages not delivered before shutdown', { count: left.length, methods: [...new Set(left.map((c) => c.method))] });
    }
    for (const [lane, calls] of this.lanes) {
      // The head of a running lane is failed by its own loop when the sleep is cut short.
      for (const c of calls.splice(this.running.has(lane) ? 1 : 0)) this.fail(c, stoppedError());
    }
    for (const s of this.sleepers) s.wake();
  }

  private redact<T>(v: T): T {
    return redactDeep(v, this.opts.registry);
  }

  private enqueue<T>(lane: string, method: string, run: () => Promise<T>, reconcile?: () => Promise<T | undefined>): Promise<T> {
    if (this.stopped || this.stopping) return Promise.reject(stoppedError());
    return new Promise<T>((resolve, reject) => {
      const call: QueuedCall = { lane, method, run, reconcile, resolve: resolve as (v: unknown) => void, reject, attempts: 0, enqueuedAt: this.clock.now() };
      const q = this.lanes.get(lane);
      if (q) q.push(call);
      else this.lanes.set(lane, [call]);
      this.stats.pending++;
      if (!this.running.has(lane)) void this.drain(lane);
    });
  }

  private async drain(lane: string): Promise<void> {
    this.running.add(lane);
    try {
      for (;;) {
        const q = this.lanes.get(lane);
        const call = q?.[0];
        if (!q || !call) break;
        const outcome = await this.attempt(call);
        q.shift();
        if (outcome.ok) this.settle(call, () => call.resolve(outcome.value));
        else this.fail(call, outcome.error);
        if (q.length === 0) this.lanes.delete(lane);
      }
    } finally {
      this.running.delete(lane);
    }
  }

  /** Tries one call until Slack takes it, refuses it for good, or the sender stops. */
  private async attempt(call: QueuedCall): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    for (;;) {
      const wait = (this.pausedUntil.get(call.method) ?? 0) - this.clock.now();
      if (wait > 0 && !(await this.sleep(wait))) return { ok: false, error: stoppedError() };
      if (this.stopped) return { ok: false, error: stoppedError() };
      call.attempts++;
      try {
        const value = await call.run();
        this.stats.sent++;
        return { ok: true, value };
      } catch (e) {
        const retryAfter = e instanceof ResponseUrlError ? (e.status === 429 ? (e.retryAfterSec ?? 1) : undefined) : rateLimitRetryAfter(e);
        if (retryAfter !== undefined) {
          this.stats.rateLimited++;
          this.pausedUntil.set(call.method, this.clock.now() + retryAfter * 1000);
          this.log.warn('Slack rate limit: waiting as asked', { method: call.method, retryAfterSec: retryAfter, queued: this.stats.pending });
          continue;
        }
        const transient = e instanceof ResponseUrlError ? e.status >= 500 : isTransientSlackError(e);
        if (!transient) return { ok: false, error: e instanceof ResponseUrlError ? responseUrlError(e) : slackPostError(call.method, e) };
        this.stats.retried++;
        const delay = Math.min((this.opts.baseBackoffMs ?? 1000) * 2 ** Math.min(call.attempts - 1, 16), this.opts.maxBackoffMs ?? 60_000);
        this.log.warn('Slack call failed; retrying', { method: call.method, attempt: call.attempts, retryInMs: delay, err: e instanceof Error ? e.message : String(e) });
        if (!(await this.sleep(delay))) return { ok: false, error: stoppedError() };
        if (call.reconcile) {
          // Slack may have taken it and the answer got lost: look before sending it again.
          let found: unknown;
          try {
            found = await call.reconcile();
          } catch (err) {
            return { ok: false, error: err };
          }
          if (found !== undefined) {
            this.stats.sent++;
            this.log.info('Slack had taken the call whose answer was lost; not sent again', { method: call.method, attempt: call.attempts });
            return { ok: true, value: found };
          }
        }
      }
    }
  }

  /** Resolves true after `ms`, or false as soon as the sender has stopped. */
  private sleep(ms: number): Promise<boolean> {
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.sleepers.delete(s);
        resolve(!this.stopped);
      }, ms);
      const s = { cancel: () => t.cancel(), wake: () => { t.cancel(); this.sleepers.delete(s); resolve(false); } };
      this.sleepers.add(s);
    });
  }

  private fail(call: QueuedCall, error: unknown): void {
    this.stats.failed++;
    if (!(error instanceof SlackGatewayError && error.code === 'SLACK_STOPPED')) {
      this.log.error('Slack refused a message', { method: call.method, err: error instanceof Error ? error.message : String(error) });
    }
    this.settle(call, () => call.reject(error));
  }

  private settle(_call: QueuedCall, done: () => void): void {
    this.stats.pending--;
    done();
    if (this.stats.pending === 0) {
      for (const w of this.idleWaiters) w();
      this.idleWaiters.clear();
    }
  }
}

function laneOf(channel: string, threadTs?: string): string {
  return threadTs ? `${channel}:${threadTs}` : channel;
}

function stoppedError(): SlackGatewayError {
  return new SlackGatewayError('SLACK_STOPPED', 'The Slack gateway stopped before this message could be delivered.', {
    fix: 'It is delivered again when the relay runs (job reports stay in the outbox until Slack takes them).',
  });
}

function responseUrlError(e: ResponseUrlError): SlackGatewayError {
  return new SlackGatewayError('SLACK_POST_FAILED', `Slack refused the reply (${e.message}); response URLs expire after 30 minutes and five uses.`, { cause: e });
}

function firstFileId(r: unknown): string | undefined {
  // files.uploadV2 answers { files: [ { files: [ { id } ] } ] } (one completeUploadExternal per call).
  const outer = (r as { files?: unknown }).files;
  if (!Array.isArray(outer)) return undefined;
  for (const c of outer) {
    const inner = (c as { files?: unknown }).files;
    if (Array.isArray(inner)) {
      const id = (inner[0] as { id?: unknown } | undefined)?.id;
      if (typeof id === 'string') return id;
    }
    const id = (c as { id?: unknown }).id;
    if (typeof id === 'string') return id;
  }
  return undefined;
}
