import { App, LogLevel, webApi } from '@slack/bolt';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { boltLoggerFor } from '../../main/core/slack/bolt-logger.js';
import { startBolt } from '../fakes/bolt-harness.js';
import type { BoltHarness } from '../fakes/bolt-harness.js';
import { Waiters } from '../fakes/emulator-util.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator, SlackEmulatorOptions } from '../fakes/slack-emulator.js';

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function emulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emu = await startSlackEmulator(opts);
  cleanups.push(() => emu.close());
  return emu;
}

async function bolt(emu: SlackEmulator, opts: Parameters<typeof startBolt>[1] = {}): Promise<BoltHarness> {
  const h = await startBolt(emu, opts);
  cleanups.push(() => h.stop());
  return h;
}

// @slack/web-api as Bolt ships it (it is not a direct dependency).
const { WebClient } = webApi;
type WebClient = InstanceType<typeof WebClient>;

function webClient(emu: SlackEmulator, token = emu.botToken, extra: ConstructorParameters<typeof WebClient>[1] = {}): WebClient {
  return new WebClient(token, {
    slackApiUrl: emu.apiUrl,
    logger: boltLoggerFor(createMemoryLogger(), 'error'),
    retryConfig: { retries: 0 },
    ...extra,
  });
}

/** A bare Socket Mode client: it opens a link like Bolt does but acks only when told to. */
async function rawSocket(emu: SlackEmulator): Promise<{ messages: Array<Record<string, unknown>>; next(pred?: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>; ack(envelopeId: string, payload?: unknown): void; ws: WebSocket }> {
  const res = await fetch(`${emu.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${emu.appToken}` } });
  const body = (await res.json()) as { ok: boolean; url: string };
  expect(body.ok).toBe(true);
  const ws = new WebSocket(body.url);
  const messages: Array<Record<string, unknown>> = [];
  const waiters = new Waiters();
  let seen = 0;
  ws.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    waiters.notify();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanups.push(async () => {
    ws.terminate();
  });
  return {
    messages,
    ws,
    next(pred = () => true) {
      return waiters.wait(() => {
        for (let i = seen; i < messages.length; i++) {
          const m = messages[i];
          if (m && pred(m)) {
            seen = i + 1;
            return m;
          }
        }
        return undefined;
      }, 5000, () => `a socket message; got ${JSON.stringify(messages.map((m) => m.type))}`);
    },
    ack(envelopeId, payload) {
      ws.send(JSON.stringify({ envelope_id: envelopeId, ...(payload !== undefined ? { payload } : {}) }));
    },
  };
}

describe('Slack emulator: Socket Mode with a real Bolt app', () => {
  it('connects: auth.test with the bot token, apps.connections.open with the app token, then hello', async () => {
    const emu = await emulator();
    const connected: string[] = [];
    const h = await bolt(emu, { setup: () => undefined });
    h.receiver.client.on('connected', () => connected.push('again'));
    expect(emu.connectionCount).toBe(1);
    const auth = emu.callsTo('auth.test');
    expect(auth).toHaveLength(1);
    expect(auth[0]?.token).toBe(emu.botToken);
    expect(auth[0]?.response).toMatchObject({ ok: true, user_id: emu.botUserId, bot_id: emu.botId, team_id: emu.teamId });
    const open = emu.callsTo('apps.connections.open');
    expect(open).toHaveLength(1);
    expect(open[0]?.token).toBe(emu.appToken);
    expect(String(open[0]?.response.url)).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
  });

  it('works with the plain `new App({ socketMode: true, clientOptions: { slackApiUrl } })` form too', async () => {
    const emu = await emulator();
    const app = new App({
      token: emu.botToken,
      appToken: emu.appToken,
      socketMode: true,
      logger: boltLoggerFor(createMemoryLogger(), 'error'),
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: emu.apiUrl },
    });
    await app.start();
    cleanups.push(async () => {
      await app.stop();
    });
    expect(emu.connectionCount).toBe(1);
    expect(emu.callsTo('apps.connections.open')[0]?.token).toBe(emu.appToken);
  });

  it('delivers a DM message event to the listener and records the ack', async () => {
    const emu = await emulator();
    const seen: Array<{ text: string | undefined; channelType: string | undefined; user: string | undefined }> = [];
    await bolt(emu, {
      setup: (app) =>
        app.message(async ({ message }) => {
          const m = message as { text?: string; channel_type?: string; user?: string };
          seen.push({ text: m.text, channelType: m.channel_type, user: m.user });
        }),
    });
    const d = emu.sendDirectMessage({ text: 'hello bot' });
    const ack = await emu.waitForAck(d);
    expect(ack.envelopeId).toBe(d.attempts[0]?.envelopeId);
    expect(ack.late).toBe(false);
    expect(d.state).toBe('acked');
    await emu.waitFor(() => (seen.length ? true : undefined));
    expect(seen).toEqual([{ text: 'hello bot', channelType: 'im', user: emu.defaultUserId }]);
  });

  it('say() becomes a recorded chat.postMessage; the echoed bot message is acked and ignored by Bolt', async () => {
    const emu = await emulator();
    const texts: string[] = [];
    await bolt(emu, {
      setup: (app) =>
        app.message(async ({ message, say }) => {
          const m = message as { text?: string };
          texts.push(m.text ?? '');
          await say(`you said ${m.text ?? ''}`);
        }),
    });
    emu.sendDirectMessage({ text: 'one' });
    const call = await emu.waitForCall('chat.postMessage');
    expect(call.params).toMatchObject({ channel: emu.dmChannelFor(emu.defaultUserId), text: 'you said one' });
    expect(call.token).toBe(emu.botToken);
    // The post comes back as a message.im event from the bot itself; Bolt acks and drops it.
    await emu.waitFor(() => (emu.deliveries.length === 2 ? true : undefined));
    await emu.waitForIdle();
    expect(emu.deliveries[1]?.payload).toMatchObject({ event: { user: emu.botUserId, bot_id: emu.botId, text: 'you said one' } });
    expect(texts).toEqual(['one']);
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
    expect(emu.messages(emu.dmChannelFor(emu.defaultUserId)).map((m) => m.text)).toEqual(['one', 'you said one']);
  });

  it('an app_mention reaches app.event and the reply goes to the thread', async () => {
    const emu = await emulator();
    await bolt(emu, {
      setup: (app) =>
        app.event('app_mention', async ({ event, say }) => {
          await say({ text: `heard: ${event.text}`, thread_ts: event.ts });
        }),
    });
    const d = emu.sendAppMention({ text: 'status' });
    const call = await emu.waitForCall('chat.postMessage');
    const event = d.payload.event as { ts: string; channel: string };
    expect(call.params).toMatchObject({ channel: event.channel, thread_ts: event.ts, text: `heard: <@${emu.botUserId}> status` });
  });

  it('slash command: the ack payload carries the response, respond() posts to the response_url', async () => {
    const emu = await emulator();
    await bolt(emu, {
      setup: (app) =>
        app.command('/hpc', async ({ command, ack, respond }) => {
          await ack({ text: `on it: ${command.text}` });
          await respond({ text: 'done', response_type: 'ephemeral' });
        }),
    });
    const d = emu.sendSlashCommand({ text: 'status 42' });
    const ack = await emu.waitForAck(d);
    expect(ack.payload).toEqual({ text: 'on it: status 42' });
    const post = await emu.waitForResponseUrlPost();
    expect(post.body).toEqual({ text: 'done', response_type: 'ephemeral' });
    expect(d.payload.response_url).toBe(`${emu.url}/response/${post.responseUrlId}`);
  });

  it('a button click (block_actions) reaches app.action with the value', async () => {
    const emu = await emulator();
    const values: string[] = [];
    await bolt(emu, {
      setup: (app) =>
        app.action('cancel_job', async ({ ack, action }) => {
          await ack();
          values.push((action as { value?: string }).value ?? '');
        }),
    });
    const dm = emu.dmChannelFor(emu.defaultUserId);
    const posted = await webClient(emu).chat.postMessage({
      channel: dm,
      text: 'Job 42 is running',
      blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'cancel_job', value: '42', text: { type: 'plain_text', text: 'Cancel' } }] }],
    });
    const d = emu.sendButtonClick({ actionId: 'cancel_job', value: '42', messageTs: String(posted.ts), channelId: dm });
    await emu.waitForAck(d);
    await emu.waitFor(() => (values.length ? true : undefined));
    expect(values).toEqual(['42']);
    expect(d.payload).toMatchObject({ type: 'block_actions', message: { ts: posted.ts, text: 'Job 42 is running' } });
  });

  it('after {"type":"disconnect"} Bolt reconnects with a fresh ticket and answers the next event', async () => {
    const emu = await emulator();
    await bolt(emu, {
      clientPingTimeout: 300,
      setup: (app) =>
        app.message(async ({ message, say }) => {
          await say(`echo ${(message as { text?: string }).text ?? ''}`);
        }),
    });
    emu.disconnect('refresh_requested');
    await emu.waitFor(() => (emu.totalConnections === 2 && emu.connectionCount === 1 ? true : undefined));
    expect(emu.callsTo('apps.connections.open')).toHaveLength(2);
    emu.sendDirectMessage({ text: 'after refresh', extra: {} });
    const call = await emu.waitForCall('chat.postMessage', (c) => c.params.text === 'echo after refresh');
    expect(call.status).toBe(200);
  });

  it('after a dropped link (terminate) Bolt reconnects', async () => {
    const emu = await emulator();
    const h = await bolt(emu, { clientPingTimeout: 300 });
    const reconnected = new Promise<void>((resolve) => h.receiver.client.once('connected', () => resolve()));
    emu.dropSockets();
    await reconnected;
    expect(emu.totalConnections).toBe(2);
    expect(emu.connectionCount).toBe(1);
  });

  it('events sent while no app is connected wait for the next connection', async () => {
    const emu = await emulator();
    const d = emu.sendDirectMessage({ text: 'early' });
    expect(d.state).toBe('queued');
    const texts: string[] = [];
    await bolt(emu, { setup: (app) => app.message(async ({ message }) => void texts.push((message as { text?: string }).text ?? '')) });
    await emu.waitForAck(d);
    await emu.waitFor(() => (texts.length ? true : undefined));
    expect(texts).toEqual(['early']);
  });

  it('two processes on the same app token: two connections, hello counts them, events alternate', async () => {
    const emu = await emulator();
    const got: string[] = [];
    await bolt(emu, { setup: (app) => app.message(async () => void got.push('first')) });
    await bolt(emu, { setup: (app) => app.message(async () => void got.push('second')) });
    expect(emu.connectionCount).toBe(2);
    emu.sendDirectMessage({ text: 'a' });
    emu.sendDirectMessage({ text: 'b' });
    await emu.waitForIdle();
    await emu.waitFor(() => (got.length === 2 ? true : undefined));
    expect(got.sort()).toEqual(['first', 'second']);
    const raw = await rawSocket(emu);
    const hello = await raw.next((m) => m.type === 'hello');
    expect(hello).toMatchObject({ type: 'hello', num_connections: 3, connection_info: { app_id: emu.appId } });
    expect(hello.debug_info).toMatchObject({ host: expect.any(String) });
  });

  it('refuses a bad bot token (auth.test invalid_auth) and a bad app token (apps.connections.open)', async () => {
    const emu = await emulator();
    const badBot = await startBolt(emu, { botToken: 'xoxb-wrong', noStart: true });
    cleanups.push(() => badBot.stop());
    await expect(badBot.app.init()).rejects.toMatchObject({ code: 'slack_webapi_platform_error', data: { error: 'invalid_auth' } });

    const badApp = await startBolt(emu, { appToken: 'xapp-wrong', noStart: true });
    cleanups.push(() => badApp.stop());
    await badApp.app.init();
    await expect(badApp.app.start()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    expect(emu.totalConnections).toBe(0);

    // A bot token where an app token belongs (and vice versa) is the wrong token type.
    await expect(webClient(emu, emu.botToken).apps.connections.open({})).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
    await expect(webClient(emu, emu.appToken).auth.test()).rejects.toMatchObject({ data: { error: 'not_allowed_token_type' } });
  });
});

describe('Slack emulator: envelopes and acks on a raw WebSocket', () => {
  it('sends hello first, and the envelope shape Bolt parses', async () => {
    const emu = await emulator();
    const raw = await rawSocket(emu);
    const hello = await raw.next();
    expect(hello.type).toBe('hello');
    const d = emu.sendDirectMessage({ text: 'x' });
    const env = await raw.next();
    expect(env).toMatchObject({
      type: 'events_api',
      envelope_id: d.attempts[0]?.envelopeId,
      accepts_response_payload: false,
      retry_attempt: 0,
      retry_reason: '',
      payload: { type: 'event_callback', api_app_id: emu.appId, team_id: emu.teamId, event: { type: 'message', text: 'x', channel_type: 'im' } },
    });
  });

  it('redelivers an un-acked event with retry_attempt + 1 and retry_reason "timeout", until acked', async () => {
    const emu = await emulator({ ackTimeoutMs: 250 });
    const raw = await rawSocket(emu);
    await raw.next((m) => m.type === 'hello');
    const d = emu.sendDirectMessage({ text: 'are you there' });
    const first = await raw.next((m) => m.type === 'events_api');
    const second = await raw.next((m) => m.type === 'events_api');
    expect(second).toMatchObject({ retry_attempt: 1, retry_reason: 'timeout' });
    expect(second.envelope_id).not.toBe(first.envelope_id);
    expect((second.payload as { event_id: string }).event_id).toBe((first.payload as { event_id: string }).event_id);
    raw.ack(String(second.envelope_id));
    const ack = await emu.waitForAck(d);
    expect(ack.envelopeId).toBe(second.envelope_id);
    expect(d.state).toBe('acked');
    expect(d.attempts).toHaveLength(2);
  });

  it('gives up after maxRetries redeliveries', async () => {
    const emu = await emulator({ ackTimeoutMs: 50, maxRetries: 2 });
    const raw = await rawSocket(emu);
    const d = emu.sendDirectMessage({ text: 'nobody home' });
    await emu.waitFor(() => (d.state === 'failed' ? true : undefined));
    expect(d.attempts.map((a) => a.retryAttempt)).toEqual([0, 1, 2]);
    expect(raw.messages.filter((m) => m.type === 'events_api')).toHaveLength(3);
  });

  it('does not redeliver slash commands: an un-acked one times out (the user sees an error in Slack)', async () => {
    const emu = await emulator({ ackTimeoutMs: 50 });
    const raw = await rawSocket(emu);
    const d = emu.sendSlashCommand({ text: 'slow' });
    const env = await raw.next((m) => m.type === 'slash_commands');
    expect(env).toMatchObject({ accepts_response_payload: true, payload: { command: '/hpc', text: 'slow', user_id: emu.defaultUserId } });
    expect(env.retry_attempt).toBeUndefined();
    await emu.waitFor(() => (d.state === 'timed_out' ? true : undefined));
    expect(d.attempts).toHaveLength(1);
    raw.ack(String(env.envelope_id), { text: 'too late' });
    const ack = await emu.waitFor(() => emu.acks.find((a) => a.envelopeId === env.envelope_id));
    expect(ack.late).toBe(true);
    expect(d.state).toBe('timed_out');
  });

  it('rejects a WebSocket without a valid (single-use) ticket', async () => {
    const emu = await emulator();
    const res = await fetch(`${emu.apiUrl}apps.connections.open`, { method: 'POST', headers: { authorization: `Bearer ${emu.appToken}` } });
    const { url } = (await res.json()) as { url: string };
    const first = new WebSocket(url);
    cleanups.push(async () => void first.terminate());
    await new Promise((resolve) => first.once('open', resolve));
    const again = new WebSocket(url);
    again.on('error', () => undefined);
    const status = await new Promise<number | undefined>((resolve) =>
      again.once('unexpected-response', (req, r) => {
        resolve(r.statusCode);
        req.destroy();
      }),
    );
    expect(status).toBe(401);
  });
});

describe('Slack emulator: Web API', () => {
  it('records every call with its parameters, from form-encoded and JSON bodies', async () => {
    const emu = await emulator();
    const client = webClient(emu);
    const dm = emu.dmChannelFor(emu.defaultUserId);
    await client.chat.postMessage({ channel: dm, text: 'form', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }] });
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${emu.botToken}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: dm, text: 'json' }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: dm });
    const [formCall, jsonCall] = emu.callsTo('chat.postMessage');
    expect(formCall?.contentType).toContain('application/x-www-form-urlencoded');
    expect(formCall?.params.blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }]);
    expect(jsonCall?.params).toEqual({ channel: dm, text: 'json' });
    expect(formCall?.time).toBeLessThanOrEqual(jsonCall?.time ?? 0);
  });

  it('accepts the token as a form parameter, refuses bad or missing tokens', async () => {
    const emu = await emulator();
    const post = (body: string) =>
      fetch(`${emu.apiUrl}auth.test`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }).then((r) => r.json());
    expect(await post(`token=${emu.botToken}`)).toMatchObject({ ok: true, user_id: emu.botUserId });
    expect(await post('token=xoxb-nope')).toMatchObject({ ok: false, error: 'invalid_auth' });
    expect(await post('')).toMatchObject({ ok: false, error: 'not_authed' });
    await expect(webClient(emu, 'xoxb-nope').chat.postMessage({ channel: 'C0GENERAL01', text: 'x' })).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
  });

  it('answers unknown methods with unknown_method', async () => {
    const emu = await emulator();
    await expect(webClient(emu).apiCall('chat.teleport', {})).rejects.toMatchObject({ data: { error: 'unknown_method' } });
    expect(emu.callsTo('chat.teleport')).toHaveLength(1);
  });

  it('scripted 429: Retry-After reaches the client; with retries the second call succeeds', async () => {
    const emu = await emulator();
    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 7 });
    const strict = webClient(emu, emu.botToken, { rejectRateLimitedCalls: true });
    const err: unknown = await strict.chat.postMessage({ channel: 'C0GENERAL01', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as webApi.WebAPIRateLimitedError).code).toBe('slack_webapi_rate_limited_error');
    expect((err as webApi.WebAPIRateLimitedError).retryAfter).toBe(7);

    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 0 });
    const patient = webClient(emu, emu.botToken, { retryConfig: { retries: 1, minTimeout: 0 } });
    const ok = await patient.chat.postMessage({ channel: 'C0GENERAL01', text: 'y' });
    expect(ok.ok).toBe(true);
    expect(emu.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 429, 200]);
  });

  it('missing scope: scripted, and from the configured token scopes', async () => {
    const emu = await emulator({ scopes: ['chat:write'] });
    emu.failNext('chat.postMessage', { kind: 'error', error: 'missing_scope', extra: { needed: 'chat:write.public', provided: 'chat:write' } });
    await expect(webClient(emu).chat.postMessage({ channel: 'C0GENERAL01', text: 'x' })).rejects.toMatchObject({
      data: { error: 'missing_scope', needed: 'chat:write.public' },
    });
    await expect(webClient(emu).users.info({ user: emu.defaultUserId })).rejects.toMatchObject({
      data: { error: 'missing_scope', needed: 'users:read', provided: 'chat:write' },
    });
    const ok = await webClient(emu).chat.postMessage({ channel: 'C0GENERAL01', text: 'x' });
    expect(ok.response_metadata?.scopes).toEqual(['chat:write']);
  });

  it('a held call: answered on release while its client waits; dropped, never taken, when its client has gone', async () => {
    const emu = await emulator();
    const post = (text: string, signal?: AbortSignal) => fetch(`${emu.apiUrl}chat.postMessage`, {
      method: 'POST', headers: { authorization: `Bearer ${emu.botToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ channel: 'C0GENERAL01', text }), ...(signal ? { signal } : {}),
    });
    const kept = emu.holdNext('chat.postMessage');
    const waiting = post('kept');
    await kept.arrived;
    expect(emu.messages('C0GENERAL01').map((m) => m.text)).toEqual([]);
    kept.release();
    expect(((await (await waiting).json()) as { ok: boolean }).ok).toBe(true);

    const gone = emu.holdNext('chat.postMessage');
    const abort = new AbortController();
    const aborted = post('gone', abort.signal).catch((e: unknown) => e);
    await gone.arrived;
    abort.abort();
    await aborted;
    await gone.gone;
    gone.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(emu.messages('C0GENERAL01').map((m) => m.text)).toEqual(['kept']);
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('scripted HTTP 500 surfaces as WebAPIHTTPError', async () => {
    const emu = await emulator();
    emu.failNext('auth.test', { kind: 'http', status: 503, body: 'upstream down' });
    await expect(webClient(emu).auth.test()).rejects.toMatchObject({ code: 'slack_webapi_http_error', statusCode: 503 });
  });

  it('waitForCall resolves on a future call and times out with a useful message', async () => {
    const emu = await emulator();
    const waiting = emu.waitForCall('reactions.add', (c) => c.params.name === 'eyes');
    const dm = emu.dmChannelFor(emu.defaultUserId);
    const d = emu.sendDirectMessage({ text: 'react to me' });
    const ts = String((d.payload.event as { ts: string }).ts);
    await webClient(emu).reactions.add({ channel: dm, timestamp: ts, name: 'eyes' });
    const call = await waiting;
    expect(call.response).toEqual({ ok: true });
    await expect(webClient(emu).reactions.add({ channel: dm, timestamp: ts, name: 'eyes' })).rejects.toMatchObject({ data: { error: 'already_reacted' } });
    await expect(webClient(emu).reactions.add({ channel: dm, timestamp: '1.000001', name: 'eyes' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    await expect(emu.waitForCall('chat.delete', undefined, 50)).rejects.toThrow(/Timed out after 50 ms waiting for a chat.delete call.*reactions.add/);
  });

  it('chat.update edits the bot’s own message; chat.postEphemeral, conversations.open/list, users.info', async () => {
    const emu = await emulator({ channels: [{ id: 'C0GENERAL01', name: 'general' }, { id: 'G0SECRET001', name: 'secret', isPrivate: true, isMember: false }] });
    const client = webClient(emu);
    const opened = await client.conversations.open({ users: emu.defaultUserId });
    const dm = String(opened.channel?.id);
    expect(dm).toBe(emu.dmChannelFor(emu.defaultUserId));
    const posted = await client.chat.postMessage({ channel: emu.defaultUserId, text: 'Job 1 queued' });
    expect(posted.channel).toBe(dm);
    const updated = await client.chat.update({ channel: dm, ts: String(posted.ts), text: 'Job 1 running' });
    expect(updated.text).toBe('Job 1 running');
    expect(emu.messages(dm).find((m) => m.ts === posted.ts)).toMatchObject({ text: 'Job 1 running', edited: true });
    const human = emu.sendDirectMessage({ text: 'mine' });
    await expect(client.chat.update({ channel: dm, ts: String((human.payload.event as { ts: string }).ts), text: 'x' })).rejects.toMatchObject({ data: { error: 'cant_update_message' } });
    expect(await client.chat.postEphemeral({ channel: 'C0GENERAL01', user: emu.defaultUserId, text: 'only you' })).toMatchObject({ ok: true, message_ts: expect.any(String) });
    const list = await client.conversations.list({ types: 'public_channel,private_channel' });
    expect(list.channels?.map((c) => c.id)).toEqual(['C0GENERAL01']);
    const user = await client.users.info({ user: emu.defaultUserId });
    expect(user.user).toMatchObject({ id: emu.defaultUserId, name: 'ada', is_bot: false, profile: { email: 'ada@example.org' } });
    await expect(client.users.info({ user: 'U0NOBODY' })).rejects.toMatchObject({ data: { error: 'user_not_found' } });
    await expect(client.chat.postMessage({ channel: 'C0NOWHERE', text: 'x' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    await expect(client.chat.postMessage({ channel: dm, text: '' })).rejects.toMatchObject({ data: { error: 'no_text' } });
    await expect(client.chat.postMessage({ channel: 'G0SECRET001', text: 'x' })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
  });

  it('chat.getPermalink links a message as Slack does (a reply with its thread), and refuses an unknown one', async () => {
    const emu = await emulator();
    const client = webClient(emu);
    const root = await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'Job 7 COMPLETED' });
    const reply = await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'chart', thread_ts: String(root.ts) });
    const link = await client.chat.getPermalink({ channel: 'C0GENERAL01', message_ts: String(root.ts) });
    expect(link).toMatchObject({ ok: true, channel: 'C0GENERAL01', permalink: `https://${emu.teamDomain}.slack.com/archives/C0GENERAL01/p${String(root.ts).replace('.', '')}` });
    const replyLink = await client.chat.getPermalink({ channel: 'C0GENERAL01', message_ts: String(reply.ts) });
    expect(replyLink.permalink).toBe(`https://${emu.teamDomain}.slack.com/archives/C0GENERAL01/p${String(reply.ts).replace('.', '')}?thread_ts=${String(root.ts)}&cid=C0GENERAL01`);
    expect(emu.callsTo('chat.getPermalink')).toHaveLength(2);
    await expect(client.chat.getPermalink({ channel: 'C0GENERAL01', message_ts: '1.000001' })).rejects.toMatchObject({ data: { error: 'message_not_found' } });
    await expect(client.chat.getPermalink({ channel: 'C0NOWHERE', message_ts: String(root.ts) })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
  });

  it('refuses blocks Slack would refuse (invalid_blocks)', async () => {
    const emu = await emulator();
    await expect(
      webClient(emu).chat.postMessage({ channel: 'C0GENERAL01', text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } }] }),
    ).rejects.toMatchObject({ data: { error: 'invalid_blocks' } });
  });

  it('files.uploadV2: records the uploaded bytes, the file lands in the channel', async () => {
    const emu = await emulator();
    const dm = emu.dmChannelFor(emu.defaultUserId);
    const res = await webClient(emu).filesUploadV2({ channel_id: dm, file: PNG, filename: 'loss.png', title: 'Loss curve', initial_comment: 'Job 42' });
    expect(res.ok).toBe(true);
    expect(emu.callsTo('files.getUploadURLExternal')[0]?.params).toMatchObject({ filename: 'loss.png', length: String(PNG.length) });
    expect(emu.callsTo('files.completeUploadExternal')[0]?.params).toMatchObject({ channel_id: dm, initial_comment: 'Job 42' });
    expect(emu.uploads).toHaveLength(1);
    const up = emu.uploads[0];
    expect(up?.completed).toBe(true);
    expect(up?.bytes?.equals(PNG)).toBe(true);
    expect(up?.bytes?.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    expect(up).toMatchObject({ filename: 'loss.png', title: 'Loss curve', channelId: dm });
    expect(emu.messages(dm).at(-1)).toMatchObject({ files: [up?.fileId], text: 'Job 42' });
  });
});

describe('Slack emulator: message metadata and history reads', () => {
  const META = { event_type: 'hpc_relay_report', event_payload: { key: 'hpc-relay:job:42:COMPLETED:slack', attempt: 'a1' } };

  it('keeps chat.postMessage metadata; conversations.history returns it only with include_all_metadata', async () => {
    const emu = await emulator();
    const client = webClient(emu);
    const posted = await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'report', metadata: META });
    expect(emu.callsTo('chat.postMessage')[0]?.params.metadata).toEqual(META);
    expect(emu.messages('C0GENERAL01')[0]?.metadata).toEqual(META);
    expect(posted.message?.metadata).toEqual(META);
    const plain = await client.conversations.history({ channel: 'C0GENERAL01' });
    expect(plain.messages?.map((m) => [m.ts, m.text, m.metadata])).toEqual([[posted.ts, 'report', undefined]]);
    const all = await client.conversations.history({ channel: 'C0GENERAL01', include_all_metadata: true });
    expect(all.messages?.[0]).toMatchObject({ ts: posted.ts, bot_id: emu.botId, user: emu.botUserId, metadata: META });
    expect(all).toMatchObject({ ok: true, has_more: false });
    // Slack refuses metadata of the wrong shape.
    await expect(client.apiCall('chat.postMessage', { channel: 'C0GENERAL01', text: 'x', metadata: { event_type: 'x' } })).rejects.toMatchObject({ data: { error: 'invalid_metadata_schema' } });
    await expect(client.apiCall('chat.postMessage', { channel: 'C0GENERAL01', text: 'x', metadata: 'not json' })).rejects.toMatchObject({ data: { error: 'invalid_metadata_format' } });
  });

  it('conversations.history: newest first, oldest/latest exclusive unless inclusive, limit and cursor pages, no thread replies', async () => {
    const emu = await emulator();
    const client = webClient(emu);
    const ts: string[] = [];
    for (let i = 0; i < 5; i++) ts.push(String((await client.chat.postMessage({ channel: 'C0GENERAL01', text: `m${i}` })).ts));
    await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'a reply', thread_ts: ts[1]! });
    const texts = (r: { messages?: Array<{ text?: string }> }) => r.messages?.map((m) => m.text);
    expect(texts(await client.conversations.history({ channel: 'C0GENERAL01' }))).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(texts(await client.conversations.history({ channel: 'C0GENERAL01', oldest: ts[1]!, latest: ts[3]! }))).toEqual(['m2']);
    expect(texts(await client.conversations.history({ channel: 'C0GENERAL01', oldest: ts[1]!, latest: ts[3]!, inclusive: true }))).toEqual(['m3', 'm2', 'm1']);
    // A bound in whole seconds, as a client computes it from a clock.
    expect(texts(await client.conversations.history({ channel: 'C0GENERAL01', oldest: String(Math.floor(Number(ts[0]!)) - 60) }))).toHaveLength(5);
    const first = await client.conversations.history({ channel: 'C0GENERAL01', limit: 2 });
    expect(texts(first)).toEqual(['m4', 'm3']);
    expect(first.has_more).toBe(true);
    const cursor = String(first.response_metadata?.next_cursor);
    expect(Buffer.from(cursor, 'base64').toString()).toBe(`next_ts:${ts[2]}`);
    const second = await client.conversations.history({ channel: 'C0GENERAL01', limit: 2, cursor });
    expect(texts(second)).toEqual(['m2', 'm1']);
    const third = await client.conversations.history({ channel: 'C0GENERAL01', limit: 2, cursor: String(second.response_metadata?.next_cursor) });
    expect(texts(third)).toEqual(['m0']);
    expect(third.has_more).toBe(false);
    expect(third.response_metadata?.next_cursor).toBeUndefined();
    // The thread's parent says it has a reply.
    expect((await client.conversations.history({ channel: 'C0GENERAL01' })).messages?.find((m) => m.ts === ts[1])).toMatchObject({ thread_ts: ts[1], reply_count: 1 });
    await expect(client.conversations.history({ channel: 'C0GENERAL01', cursor: 'bm9wZQ==' })).rejects.toMatchObject({ data: { error: 'invalid_cursor' } });
    await expect(client.conversations.history({ channel: 'C0GENERAL01', oldest: 'yesterday' })).rejects.toMatchObject({ data: { error: 'invalid_ts_oldest' } });
  });

  it('conversations.replies: the parent first, then the replies oldest first, with file names', async () => {
    const emu = await emulator();
    const client = webClient(emu);
    const root = String((await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'root' })).ts);
    await client.chat.postMessage({ channel: 'C0GENERAL01', text: 'one', thread_ts: root });
    await client.filesUploadV2({ channel_id: 'C0GENERAL01', thread_ts: root, file: PNG, filename: 'job-1-metrics.png', title: 'metrics' });
    const r = await client.conversations.replies({ channel: 'C0GENERAL01', ts: root });
    expect(r.messages?.map((m) => [m.text, m.files?.map((f) => f.name)])).toEqual([['root', undefined], ['one', undefined], ['', ['job-1-metrics.png']]]);
    expect(r.messages?.[0]).toMatchObject({ ts: root, reply_count: 2 });
    expect(r.messages?.[2]?.files?.[0]).toMatchObject({ id: emu.uploads[0]?.fileId, user: emu.botUserId, mimetype: 'image/png' });
    const paged = await client.conversations.replies({ channel: 'C0GENERAL01', ts: root, limit: 1 });
    expect(paged.messages?.map((m) => m.text)).toEqual(['root', 'one']);
    const rest = await client.conversations.replies({ channel: 'C0GENERAL01', ts: root, limit: 1, cursor: String(paged.response_metadata?.next_cursor) });
    expect(rest.messages?.map((m) => m.files?.[0]?.name)).toEqual(['job-1-metrics.png']);
    await expect(client.conversations.replies({ channel: 'C0GENERAL01', ts: '1.000001' })).rejects.toMatchObject({ data: { error: 'thread_not_found' } });
  });

  it('history reads need the *:history scope of the conversation type, and membership', async () => {
    const emu = await emulator({
      scopes: ['chat:write', 'im:history'],
      channels: [{ id: 'C0GENERAL01', name: 'general' }, { id: 'G0SECRET001', name: 'secret', isPrivate: true }, { id: 'C0OUTSIDE01', name: 'outside', isMember: false }],
    });
    const client = webClient(emu);
    await expect(client.conversations.history({ channel: 'C0GENERAL01' })).rejects.toMatchObject({ data: { error: 'missing_scope', needed: 'channels:history', provided: 'chat:write,im:history' } });
    await expect(client.conversations.history({ channel: 'G0SECRET001' })).rejects.toMatchObject({ data: { error: 'missing_scope', needed: 'groups:history' } });
    await expect(client.conversations.replies({ channel: 'C0GENERAL01', ts: '1.000001' })).rejects.toMatchObject({ data: { error: 'missing_scope', needed: 'channels:history' } });
    const dm = emu.dmChannelFor(emu.defaultUserId);
    await client.chat.postMessage({ channel: dm, text: 'in the DM' });
    expect((await client.conversations.history({ channel: dm })).messages?.map((m) => m.text)).toEqual(['in the DM']);
    await expect(client.conversations.history({ channel: 'C0NOWHERE' })).rejects.toMatchObject({ data: { error: 'channel_not_found' } });
    const full = await emulator({ channels: [{ id: 'C0OUTSIDE01', name: 'outside', isMember: false }] });
    await expect(webClient(full).conversations.history({ channel: 'C0OUTSIDE01' })).rejects.toMatchObject({ data: { error: 'not_in_channel' } });
  });
});
