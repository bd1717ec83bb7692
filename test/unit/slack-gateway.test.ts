import { afterEach, describe, expect, it } from 'vitest';
import { REFUSAL_TEXT } from '../../main/core/slack/access.js';
import { APPROVE_ACTION, DENY_ACTION } from '../../main/core/slack/approvals.js';
import { SlackGatewayError } from '../../main/core/slack/errors.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway, SlackGatewayOptions } from '../../main/core/slack/gateway.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import type { MemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { ApiCall, SlackEmulator, SlackEmulatorOptions } from '../fakes/slack-emulator.js';
import { MemoryCron, MemoryJobs, MemoryUsage, ScriptedAgent } from '../fakes/slack-ports.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const STRANGER = 'U0STRANGER1';

async function emulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emu = await startSlackEmulator({
    users: [{ id: 'U0HUMAN001', name: 'ada' }, { id: STRANGER, name: 'mallory' }],
    ...opts,
  });
  cleanups.push(() => emu.close());
  return emu;
}

interface Started {
  gw: SlackGateway;
  logger: MemoryLogger;
  jobs: MemoryJobs;
}

async function gateway(emu: SlackEmulator, opts: Partial<SlackGatewayOptions> = {}, start = true): Promise<Started> {
  const logger = createMemoryLogger();
  const jobs = new MemoryJobs();
  const gw = createSlackGateway({
    botToken: emu.botToken,
    appToken: emu.appToken,
    apiUrl: emu.apiUrl,
    logger,
    allowedUsers: () => [emu.defaultUserId],
    ports: { jobs, cron: new MemoryCron(), usage: new MemoryUsage() },
    clientPingTimeoutMs: 1000,
    reconnect: { baseMs: 50, maxMs: 500 },
    ...opts,
  });
  cleanups.push(() => gw.stop());
  if (start) await gw.start();
  return { gw, logger, jobs };
}

const posted = (emu: SlackEmulator, pred: (c: ApiCall) => boolean = () => true) => emu.waitForCall('chat.postMessage', pred);
const textOf = (c: ApiCall): string => String(c.params.text ?? '');

describe('Slack gateway: DMs, mentions and threads', () => {
  it('answers a DM "status" with the table of tracked jobs, in that DM', async () => {
    const emu = await emulator();
    const { gw, jobs, logger } = await gateway(emu);
    expect(gw.state).toBe('connected');
    emu.sendDirectMessage({ text: 'status' });
    const call = await posted(emu);
    expect(call.token).toBe(emu.botToken);
    expect(call.params.channel).toBe(emu.dmChannelFor(emu.defaultUserId));
    expect(call.params.thread_ts).toBeUndefined();
    expect(textOf(call)).toMatch(/\*2 jobs\* \(1 running, 1 pending\)/);
    expect(textOf(call)).toMatch(/4242\s+RUNNING\s+12m 34s\s+train_cnn\s+node01/);
    expect(jobs.called('listJobs')).toHaveLength(1);
    expect(logger.atLeast('warn')).toEqual([]);
  });

  it('refuses a user who is not in slack.allowedUsers (ephemeral), logs it, and runs nothing', async () => {
    const emu = await emulator();
    const { jobs, logger } = await gateway(emu);
    emu.sendDirectMessage({ text: 'status', user: STRANGER });
    emu.sendDirectMessage({ text: 'cancel 4242', user: STRANGER });
    const eph = await emu.waitForCall('chat.postEphemeral');
    expect(eph.params).toMatchObject({ user: STRANGER, text: REFUSAL_TEXT, channel: emu.dmChannelFor(STRANGER) });
    await emu.waitForIdle();
    await emu.waitFor(() => (logger.entries.filter((e) => e.msg.startsWith('refused')).length === 2 ? true : undefined));
    expect(jobs.calls).toEqual([]);
    expect(emu.callsTo('chat.postMessage')).toHaveLength(0);
    // Told once a minute at most, but every refusal is logged.
    expect(emu.callsTo('chat.postEphemeral')).toHaveLength(1);
    expect(logger.atLeast('warn').map((e) => e.fields.userId)).toEqual([STRANGER, STRANGER]);
  });

  it('an empty allowlist refuses everyone (deny by default)', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu, { allowedUsers: () => [] });
    emu.sendDirectMessage({ text: 'ping' });
    await emu.waitForCall('chat.postEphemeral');
    expect(jobs.calls).toEqual([]);
    expect(emu.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('answers an @mention in its thread, then follows that thread for !commands', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu);
    const d = emu.sendAppMention({ text: 'status', channel: 'C0GENERAL01' });
    const root = (d.payload.event as { ts: string }).ts;
    const first = await posted(emu);
    expect(first.params).toMatchObject({ channel: 'C0GENERAL01', thread_ts: root });
    expect(textOf(first)).toContain('4242');

    // Later messages in that thread, without a mention (message.channels events).
    const inThread = (text: string, user = emu.defaultUserId) =>
      emu.sendEvent({ type: 'message', channel: 'C0GENERAL01', channel_type: 'channel', user, text, thread_ts: root });
    inThread('nice, thanks');
    inThread('!stats 4242');
    const second = await posted(emu, (c) => textOf(c).includes('Peak memory'));
    expect(second.params).toMatchObject({ channel: 'C0GENERAL01', thread_ts: root });
    expect(textOf(second)).toContain('75% of requested');
    // Chat from someone else in the thread is not for us; their !command is refused.
    inThread('what is this bot', STRANGER);
    inThread('!cancel 4242', STRANGER);
    await emu.waitForCall('chat.postEphemeral', (c) => c.params.user === STRANGER);
    await emu.waitForIdle();
    expect(emu.callsTo('chat.postMessage')).toHaveLength(2);
    expect(jobs.called('cancel')).toEqual([]);
  });

  it('ignores channel messages in threads it was never mentioned in', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu);
    emu.sendEvent({ type: 'message', channel: 'C0GENERAL01', channel_type: 'channel', user: emu.defaultUserId, text: '!status', thread_ts: '1700000000.000100' });
    emu.sendEvent({ type: 'message', channel: 'C0GENERAL01', channel_type: 'channel', user: emu.defaultUserId, text: 'status' });
    await emu.waitForIdle();
    emu.sendDirectMessage({ text: 'ping' });
    await posted(emu);
    expect(emu.callsTo('chat.postMessage').map(textOf)).toEqual(['pong']);
    expect(jobs.calls).toEqual([]);
  });

  it('stays silent for other bots and its own echoed messages', async () => {
    const emu = await emulator();
    await gateway(emu);
    const dm = emu.dmChannelFor(emu.defaultUserId);
    emu.sendEvent({ type: 'message', channel: dm, channel_type: 'im', user: emu.botUserId, bot_id: emu.botId, app_id: emu.appId, text: 'ping' });
    emu.sendEvent({ type: 'message', subtype: 'bot_message', channel: dm, channel_type: 'im', bot_id: 'B0OTHERBOT1', text: 'ping' });
    emu.sendDirectMessage({ text: 'ping' });
    await posted(emu);
    // Our "pong" comes back as a message.im event (4th delivery); it must not start a loop.
    await emu.waitFor(() => (emu.deliveries.length === 4 ? true : undefined));
    await emu.waitForIdle();
    expect(emu.callsTo('chat.postMessage').map(textOf)).toEqual(['pong']);
  });
});

describe('Slack gateway: hostile and free-form text', () => {
  const hostile = [
    ['status; touch /tmp/pwned', /is not a command: commands take plain arguments/],
    ['tail 4242; rm -rf ~', /`4242;` is not a SLURM job id/],
    ['tail $(touch /tmp/pwned)', /is not a SLURM job id/],
    ['stats `id`', /is not a SLURM job id/],
    ['status\ntouch /tmp/pwned', /one line/],
    ['x'.repeat(100_000), /too long for a command \(100000 characters/],
    ['!frobnicate now', /`frobnicate` is not a command; `help` lists them/],
    ['!fro\u200bb\u2060 now', /^`fro\\u200bb\\u2060` is not a command/],
    ['submit cnn lr="0.1', /double quote is not closed/],
  ] as const;

  it('answers each with one sentence and calls no port', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu);
    for (const [text, answer] of hostile) {
      const before = emu.callsTo('chat.postMessage').length;
      emu.sendDirectMessage({ text });
      const call = await emu.waitFor(() => emu.callsTo('chat.postMessage')[before]);
      expect(textOf(call), JSON.stringify(text.slice(0, 40))).toMatch(answer);
      expect(textOf(call).split('\n')).toHaveLength(1);
      expect(textOf(call).length).toBeLessThan(300);
    }
    expect(jobs.calls).toEqual([]);
  });

  it('without an agent, other DM text gets the command list and how to enable the agent', async () => {
    const emu = await emulator();
    await gateway(emu);
    emu.sendDirectMessage({ text: 'how is my training going?' });
    const call = await posted(emu);
    expect(textOf(call)).toContain('hpc-relay config set llm.enabled true');
    expect(textOf(call)).toContain('• `status`');
    expect(textOf(call)).toContain('• `tail JOB [LINES]`');
  });

  it('with an agent, other text is handed over (with its thread and job), and the agent can ask for approval', async () => {
    const emu = await emulator();
    const agent = new ScriptedAgent(async (req, io) => {
      await io.say(`on it: ${req.text}`);
      const outcome = await io.requestApproval({ summary: 'run rm -rf ~/scratch/old', detail: 'rm -rf ~/scratch/old' });
      await io.say(`outcome: ${JSON.stringify(outcome)}`);
    });
    const jobs = new MemoryJobs();
    await gateway(emu, { ports: { jobs, agent } });
    emu.sendDirectMessage({ text: 'clean up my old runs' });
    await posted(emu, (c) => textOf(c) === 'on it: clean up my old runs');
    const ask = await posted(emu, (c) => textOf(c).startsWith('Approval needed'));
    expect(agent.requests).toMatchObject([{ text: 'clean up my old runs', userId: emu.defaultUserId }]);
    const blocks = ask.params.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
    const buttons = blocks.find((b) => b.type === 'actions')?.elements ?? [];
    expect(buttons.map((b) => b.action_id)).toEqual([APPROVE_ACTION, DENY_ACTION]);
    emu.sendButtonClick({ actionId: DENY_ACTION, value: buttons[1]!.value, messageTs: String(ask.response.ts) });
    const done = await posted(emu, (c) => textOf(c).startsWith('outcome:'));
    expect(JSON.parse(textOf(done).slice('outcome: '.length))).toEqual({ approved: false, by: emu.defaultUserId, reason: 'denied' });
  });
});

describe('Slack gateway: the /hpc slash command', () => {
  it('acks at once and answers through the response_url', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu);
    const d = emu.sendSlashCommand({ text: 'status' });
    const ack = await emu.waitForAck(d);
    expect(ack.payload ?? {}).toEqual({});
    const post = await emu.waitForResponseUrlPost();
    expect(post.body.response_type).toBe('in_channel');
    expect(String(post.body.text)).toContain('4242');
    expect(jobs.called('listJobs')).toHaveLength(1);
  });

  it('in a channel it answers only the caller (ephemeral); bare /hpc is help', async () => {
    const emu = await emulator();
    await gateway(emu);
    emu.sendSlashCommand({ text: '', channelId: 'C0GENERAL01' });
    const post = await emu.waitForResponseUrlPost();
    expect(post.body.response_type).toBe('ephemeral');
    expect(String(post.body.text)).toContain('`/hpc tail JOB [LINES]`');
  });

  it('refuses a stranger in the ack itself (ephemeral) and runs nothing', async () => {
    const emu = await emulator();
    const { jobs, logger } = await gateway(emu);
    const d = emu.sendSlashCommand({ text: 'cancel 4242', userId: STRANGER });
    const ack = await emu.waitForAck(d);
    expect(ack.payload).toEqual({ response_type: 'ephemeral', text: REFUSAL_TEXT });
    await emu.waitForIdle();
    expect(emu.responseUrlPosts).toHaveLength(0);
    expect(jobs.calls).toEqual([]);
    expect(logger.atLeast('warn')).toMatchObject([{ fields: { userId: STRANGER, kind: 'slash_command' } }]);
  });

  it('runs cron, usage and submit with k=v parameters', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu);
    emu.sendSlashCommand({ text: 'submit cnn_train epochs=2 note="a b=c ünï" lr=0.01' });
    const post = await emu.waitForResponseUrlPost();
    expect(String(post.body.text)).toMatch(/Submitted `cnn_train` as job 9000/);
    expect(jobs.called('submit')[0]?.args).toEqual(['cnn_train', { epochs: '2', note: 'a b=c ünï', lr: '0.01' }]);
    emu.sendSlashCommand({ text: 'cron pause digest1' });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('is paused'));
    emu.sendSlashCommand({ text: 'usage' });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('$3.50 (18% of the $20.00 budget)'));
  });
});

describe('Slack gateway: approvals and buttons', () => {
  async function askCancel(emu: SlackEmulator) {
    emu.sendDirectMessage({ text: 'cancel 4242' });
    const ask = await posted(emu, (c) => textOf(c).startsWith('Approval needed'));
    const blocks = ask.params.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
    const [approve, deny] = blocks.find((b) => b.type === 'actions')?.elements ?? [];
    return { ts: String(ask.response.ts), approve: approve!, deny: deny! };
  }

  it('cancel posts approve/deny; only an allowlisted click counts, once; forged and replayed clicks are refused', async () => {
    const emu = await emulator();
    const { jobs, logger } = await gateway(emu);
    const { ts, approve } = await askCancel(emu);
    expect(jobs.called('cancel')).toEqual([]);

    // A stranger clicking approve: refused, nothing runs.
    emu.sendButtonClick({ actionId: APPROVE_ACTION, value: approve.value, userId: STRANGER, channelId: emu.dmChannelFor(emu.defaultUserId), messageTs: ts });
    const refusal = await emu.waitForResponseUrlPost();
    expect(refusal.body).toMatchObject({ text: REFUSAL_TEXT, response_type: 'ephemeral', replace_original: false });
    // A forged action id and a forged approval id: refused.
    emu.sendButtonClick({ actionId: 'hpc_nuke_everything', value: approve.value, messageTs: ts });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('not one of HPC Relay'));
    emu.sendButtonClick({ actionId: APPROVE_ACTION, value: 'AAAAAAAAAAAAAAAAAAAAAA', messageTs: ts });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('not known to this relay'));
    expect(jobs.called('cancel')).toEqual([]);

    // The owner approves: the job is cancelled, the buttons are replaced by the outcome.
    emu.sendButtonClick({ actionId: APPROVE_ACTION, value: approve.value, messageTs: ts });
    const done = await emu.waitForResponseUrlPost((p) => p.body.replace_original === true);
    expect(String(done.body.text)).toBe(`Approved by <@${emu.defaultUserId}>: cancel job 4242. Job 4242 is cancelled.`);
    expect(jobs.called('cancel')).toEqual([{ method: 'cancel', args: ['4242'] }]);

    // The same click again (a replay): refused, not cancelled twice.
    emu.sendButtonClick({ actionId: APPROVE_ACTION, value: approve.value, messageTs: ts });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('already approved'));
    expect(jobs.called('cancel')).toHaveLength(1);
    expect(logger.atLeast('warn').map((e) => e.msg)).toEqual([
      'refused a Slack request from a user not in slack.allowedUsers',
      'refused a click on an unknown action',
      'refused an approval click',
      'refused an approval click',
    ]);
  });

  it('deny cancels nothing', async () => {
    const emu = await emulator();
    const { jobs } = await gateway(emu);
    const { ts, deny } = await askCancel(emu);
    emu.sendButtonClick({ actionId: DENY_ACTION, value: deny.value, messageTs: ts });
    const done = await emu.waitForResponseUrlPost((p) => p.body.replace_original === true);
    expect(String(done.body.text)).toMatch(/^Denied by <@U0HUMAN001>: cancel job 4242\.$/);
    expect(jobs.called('cancel')).toEqual([]);
  });
});

describe('Slack gateway: liveness', () => {
  it('reconnects after Slack sends disconnect mid-conversation, and answers the next DM', async () => {
    const emu = await emulator();
    const { gw } = await gateway(emu);
    emu.sendDirectMessage({ text: 'ping' });
    await posted(emu);
    emu.disconnect('refresh_requested');
    await emu.waitFor(() => (emu.totalConnections === 2 && emu.connectionCount === 1 ? true : undefined));
    emu.sendDirectMessage({ text: 'status' });
    await posted(emu, (c) => textOf(c).includes('4242'));
    await emu.waitFor(() => (gw.state === 'connected' ? true : undefined));
    expect(gw.health()).toMatchObject({ reconnects: 1, lastDisconnectReason: 'refresh_requested', phase: 'connected' });
  });

  it('reconnects when the server stops pinging', async () => {
    const emu = await emulator({ serverPingIntervalMs: 50 });
    const { gw } = await gateway(emu, { serverPingTimeoutMs: 400 });
    // Let a few pings arrive (the client arms its watchdog on the first), then stop them.
    await new Promise((r) => setTimeout(r, 200));
    emu.stopPings();
    await emu.waitFor(() => (emu.totalConnections >= 2 && gw.state === 'connected' ? true : undefined), 5000);
    emu.sendDirectMessage({ text: 'ping' });
    await posted(emu);
  });

  it('reconnects when the link goes silent (no pongs, no events) without closing', async () => {
    const emu = await emulator();
    const { gw, logger } = await gateway(emu, { clientPingTimeoutMs: 600 });
    emu.freezeSockets();
    // An event sent now cannot go out on the frozen link; it waits for the new one.
    emu.sendDirectMessage({ text: 'ping' });
    await posted(emu, () => true);
    expect(emu.totalConnections).toBe(2);
    await emu.waitFor(() => (gw.state === 'connected' ? true : undefined));
    expect(logger.entries.some((e) => e.msg === 'Slack link re-established')).toBe(true);
  });

  it('keeps trying when apps.connections.open fails during a reconnect (no unhandled rejection)', async () => {
    const emu = await emulator();
    const { gw, logger } = await gateway(emu);
    emu.failNext('apps.connections.open', { kind: 'http', status: 503 }, 2);
    emu.failNext('apps.connections.open', { kind: 'error', error: 'internal_error' }, 1);
    emu.dropSockets();
    await emu.waitFor(() => (gw.state === 'connected' && emu.connectionCount === 1 ? true : undefined), 8000);
    expect(emu.callsTo('apps.connections.open').length).toBe(5);
    expect(logger.entries.filter((e) => e.msg === 'Slack reconnect failed; trying again')).toHaveLength(3);
    emu.sendDirectMessage({ text: 'ping' });
    await posted(emu);
  });

  it('warns when another process uses the same app token, and backs off on too_many_websockets', async () => {
    const emu = await emulator();
    const first = await gateway(emu);
    const second = await gateway(emu, { reconnect: { baseMs: 50, maxMs: 500, tooManyBackoffMs: 300 } });
    expect(emu.hellos).toEqual([1, 2]);
    expect(first.logger.atLeast('warn')).toEqual([]);
    expect(second.logger.atLeast('warn')).toMatchObject([{ msg: expect.stringMatching(/^another process is connected with the same Slack app token/), fields: { numConnections: 2 } }]);
    expect(second.gw.health().numConnections).toBe(2);

    await first.gw.stop();
    const before = emu.totalConnections;
    const opened = emu.callsTo('apps.connections.open').length;
    const disconnectedAt = Date.now();
    emu.disconnect('too_many_websockets');
    await emu.waitFor(() => (second.logger.entries.some((e) => e.msg.startsWith('Slack closed the link: too many connections')) ? true : undefined));
    await emu.waitFor(() => (second.gw.state === 'connected' && emu.totalConnections === before + 1 ? true : undefined), 3000);
    // Not at once: it waited tooManyBackoffMs (here 300 ms) before asking for a new link. Measured on
    // the emulator's clock rather than by sleeping 150 ms and looking: on a loaded machine the test's
    // own wake-up can come after the backoff has run out (less 2 ms for the timers' granularity).
    const reopened = emu.callsTo('apps.connections.open').slice(opened);
    expect(reopened).toHaveLength(1);
    expect(reopened[0]!.time - disconnectedAt).toBeGreaterThanOrEqual(300 - 2);
  }, 15_000);

  it('handles a redelivered event (retry_attempt 1, same event_id) once', async () => {
    const emu = await emulator();
    const { jobs, logger } = await gateway(emu);
    const d = emu.sendDirectMessage({ text: 'status' });
    await emu.waitForAck(d);
    await posted(emu);
    emu.redeliver(d);
    await emu.waitFor(() => (d.attempts.length === 2 && d.state === 'acked' ? true : undefined));
    expect(d.attempts.map((a) => a.retryAttempt)).toEqual([0, 1]);
    await emu.waitFor(() => (logger.entries.some((e) => e.msg === 'ignored a redelivered Slack event') ? true : undefined));
    await emu.waitForIdle();
    expect(jobs.called('listJobs')).toHaveLength(1);
    expect(emu.callsTo('chat.postMessage').filter((c) => textOf(c).includes('4242'))).toHaveLength(1);
  });
});

describe('Slack gateway: outgoing messages', () => {
  it('honours 429 Retry-After and delivers every reply, in order', async () => {
    const emu = await emulator();
    await gateway(emu);
    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 1 });
    const t0 = Date.now();
    emu.sendDirectMessage({ text: 'ping' });
    emu.sendDirectMessage({ text: 'usage' });
    await emu.waitFor(() => (emu.callsTo('chat.postMessage').filter((c) => c.response.ok).length === 2 ? true : undefined), 5000);
    const ok = emu.callsTo('chat.postMessage').filter((c) => c.response.ok);
    expect(ok.map(textOf)).toEqual(['pong', expect.stringContaining('$3.50')]);
    expect(ok[0]!.time - t0).toBeGreaterThanOrEqual(1000);
    expect(emu.callsTo('chat.postMessage')[0]!.status).toBe(429);
  });

  it('redacts secrets from every outgoing message', async () => {
    const emu = await emulator();
    const registry = new SecretRegistry();
    registry.add('hunter2-cluster-password');
    const jobs = new MemoryJobs([{ jobId: '7', name: 'leak xoxp-1234567890-abcdefghij', state: 'RUNNING', elapsedSec: 3 }]);
    jobs.logs.set('7', [`token=${emu.botToken}`, 'password hunter2-cluster-password', 'key sk-ant-api03-abcdefghijklmnop']);
    await gateway(emu, { registry, ports: { jobs } });
    emu.sendDirectMessage({ text: 'status' });
    emu.sendDirectMessage({ text: 'tail 7' });
    await emu.waitFor(() => (emu.callsTo('chat.postMessage').length === 2 ? true : undefined));
    const all = JSON.stringify(emu.callsTo('chat.postMessage').map((c) => c.params));
    expect(all).not.toContain('xoxp-1234567890');
    expect(all).not.toContain(emu.botToken);
    expect(all).not.toContain('hunter2-cluster-password');
    expect(all).not.toContain('sk-ant-api03');
    expect(all.match(/\[redacted\]/g)).toHaveLength(4);
  });
});

describe('Slack gateway: start and stop', () => {
  it('refuses to start with a bad bot token (SLACK_BOT_TOKEN_REFUSED), without opening a link', async () => {
    const emu = await emulator();
    const { gw } = await gateway(emu, { botToken: 'xoxb-revoked' }, false);
    const err: unknown = await gw.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackGatewayError);
    expect(err).toMatchObject({ code: 'SLACK_BOT_TOKEN_REFUSED', message: expect.stringContaining('invalid_auth') });
    expect(gw.state).toBe('failed');
    expect(emu.callsTo('apps.connections.open')).toHaveLength(0);
    await gw.stop();
    expect(gw.state).toBe('stopped');
  });

  it('refuses to start with a bad app token (SLACK_APP_TOKEN_REFUSED)', async () => {
    const emu = await emulator();
    const { gw } = await gateway(emu, { appToken: 'xapp-1-revoked' }, false);
    await expect(gw.start()).rejects.toMatchObject({ code: 'SLACK_APP_TOKEN_REFUSED' });
    expect(emu.totalConnections).toBe(0);
  });

  it('stop() right after start() lets the connect finish, then closes the link', async () => {
    const emu = await emulator();
    const { gw } = await gateway(emu, {}, false);
    const starting = gw.start().catch((e: unknown) => e);
    const stopping = gw.stop();
    await starting;
    await stopping;
    expect(gw.state).toBe('stopped');
    await emu.waitFor(() => (emu.connectionCount === 0 ? true : undefined));
    expect(emu.totalConnections).toBeLessThanOrEqual(1);
  });

  it('stop() while Slack never says hello gives up on the connect; start() rejects', async () => {
    const emu = await emulator({ helloDelayMs: 60_000 });
    const { gw } = await gateway(emu, { stopTimeoutMs: 200 }, false);
    const starting = gw.start().catch((e: unknown) => e);
    await emu.waitForConnections(1);
    const t0 = Date.now();
    await gw.stop();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(gw.state).toBe('stopped');
    expect(await starting).toBeInstanceOf(Error);
    await emu.waitFor(() => (emu.connectionCount === 0 ? true : undefined));
  });

  it('a command still running at stop() finishes and its answer is sent', async () => {
    const emu = await emulator();
    const jobs = new MemoryJobs();
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    jobs.listJobs = async () => { await gate; return []; };
    const { gw } = await gateway(emu, { ports: { jobs } });
    emu.sendDirectMessage({ text: 'status' });
    await emu.waitForIdle();
    const stopping = gw.stop();
    setTimeout(release, 100);
    await stopping;
    expect(emu.callsTo('chat.postMessage').map(textOf)).toEqual(['No tracked jobs.']);
  });

  it('start() twice is refused; stop() twice is fine', async () => {
    const emu = await emulator();
    const { gw } = await gateway(emu);
    await expect(gw.start()).rejects.toThrow(/cannot start/);
    await Promise.all([gw.stop(), gw.stop()]);
    expect(gw.state).toBe('stopped');
  });
});
