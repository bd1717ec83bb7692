import { afterEach, describe, expect, it } from 'vitest';
import { SlackGatewayError } from '../../main/core/slack/errors.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway, SlackGatewayOptions } from '../../main/core/slack/gateway.js';
import { builtinTextHandler, stripLeadingMention } from '../../main/core/slack/text-commands.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import type { MemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator, SlackEmulatorOptions } from '../fakes/slack-emulator.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function emulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emu = await startSlackEmulator(opts);
  cleanups.push(() => emu.close());
  return emu;
}

function gateway(emu: SlackEmulator, opts: Partial<SlackGatewayOptions> = {}): { gw: SlackGateway; logger: MemoryLogger } {
  const logger = createMemoryLogger();
  const gw = createSlackGateway({
    botToken: emu.botToken,
    appToken: emu.appToken,
    apiUrl: emu.apiUrl,
    logger,
    clientPingTimeoutMs: 1000,
    ...opts,
  });
  cleanups.push(() => gw.stop());
  return { gw, logger };
}

describe('text commands', () => {
  it('ping → pong, anything else → no reply', async () => {
    const ctx = { userId: 'U1', channelId: 'D1' };
    expect(await builtinTextHandler('ping', ctx)).toBe('pong');
    expect(await builtinTextHandler('  PING \n', ctx)).toBe('pong');
    expect(await builtinTextHandler('ping me later', ctx)).toBeNull();
    expect(await builtinTextHandler('', ctx)).toBeNull();
  });

  it('strips the leading bot mention of an app_mention', () => {
    expect(stripLeadingMention('<@U0BOT> ping')).toBe('ping');
    expect(stripLeadingMention('<@U0BOT|relay>   status 42')).toBe('status 42');
    expect(stripLeadingMention('ping <@U0BOT>')).toBe('ping <@U0BOT>');
  });
});

describe('Slack gateway against the Slack emulator', () => {
  it('answers a DM "ping" with "pong" in that DM', async () => {
    const emu = await emulator();
    const { gw, logger } = gateway(emu);
    await gw.start();
    expect(gw.state).toBe('connected');
    expect(emu.connectionCount).toBe(1);

    emu.sendDirectMessage({ text: 'ping' });
    const call = await emu.waitForCall('chat.postMessage');
    expect(call.token).toBe(emu.botToken);
    expect(call.params).toMatchObject({ channel: emu.dmChannelFor(emu.defaultUserId), text: 'pong' });
    expect(call.params.thread_ts).toBeUndefined();
    expect(call.response.ok).toBe(true);
    expect(logger.atLeast('warn')).toEqual([]);
  });

  it('stays silent for other text, for other bots and for its own messages (echoes included)', async () => {
    const emu = await emulator();
    const { gw } = gateway(emu);
    await gw.start();
    const dm = emu.dmChannelFor(emu.defaultUserId);

    emu.sendDirectMessage({ text: 'hello there' });
    // Our own bot saying "ping" in the DM, and another bot doing the same.
    emu.sendEvent({ type: 'message', channel: dm, channel_type: 'im', user: emu.botUserId, bot_id: emu.botId, app_id: emu.appId, text: 'ping' });
    emu.sendEvent({ type: 'message', subtype: 'bot_message', channel: dm, channel_type: 'im', bot_id: 'B0OTHERBOT1', text: 'ping' });
    // A message in a channel is not a DM command.
    emu.sendEvent({ type: 'message', channel: 'C0GENERAL01', channel_type: 'channel', user: emu.defaultUserId, text: 'ping' });
    emu.sendDirectMessage({ text: 'ping' });

    await emu.waitForCall('chat.postMessage');
    // Our "pong" is echoed back as a message.im event; it must not start a conversation with itself.
    await emu.waitFor(() => (emu.deliveries.length === 6 ? true : undefined));
    await emu.waitForIdle();
    expect(emu.deliveries.at(-1)?.payload).toMatchObject({ event: { bot_id: emu.botId, text: 'pong' } });
    expect(emu.callsTo('chat.postMessage').map((c) => [c.params.channel, c.params.text])).toEqual([[dm, 'pong']]);
  });

  it('answers "@relay ping" in the channel thread', async () => {
    const emu = await emulator();
    const { gw } = gateway(emu);
    await gw.start();
    const d = emu.sendAppMention({ text: 'ping', channel: 'C0GENERAL01' });
    const call = await emu.waitForCall('chat.postMessage');
    expect(call.params).toMatchObject({ channel: 'C0GENERAL01', text: 'pong', thread_ts: (d.payload.event as { ts: string }).ts });
  });

  it('uses the handler it is given, and answers politely when the handler throws', async () => {
    const emu = await emulator();
    const { gw, logger } = gateway(emu, {
      handleText: (text) => {
        if (text === 'boom') throw new Error('handler exploded');
        return `echo: ${text}`;
      },
    });
    await gw.start();
    emu.sendDirectMessage({ text: 'hi' });
    await emu.waitForCall('chat.postMessage', (c) => c.params.text === 'echo: hi');
    emu.sendDirectMessage({ text: 'boom' });
    const call = await emu.waitForCall('chat.postMessage', (c) => String(c.params.text).startsWith('Something went wrong'));
    expect(call.params.channel).toBe(emu.dmChannelFor(emu.defaultUserId));
    expect(logger.atLeast('error')).toMatchObject([{ msg: 'text handler failed', fields: { err: 'handler exploded' } }]);
  });

  it('reconnects after Slack asks it to and keeps answering', async () => {
    const emu = await emulator();
    const { gw } = gateway(emu, { clientPingTimeoutMs: 300 });
    await gw.start();
    emu.disconnect('refresh_requested');
    await emu.waitFor(() => (emu.totalConnections === 2 && emu.connectionCount === 1 ? true : undefined));
    emu.sendDirectMessage({ text: 'ping' });
    await emu.waitForCall('chat.postMessage', (c) => c.params.text === 'pong');
    await emu.waitFor(() => (gw.state === 'connected' ? true : undefined));
  });

  it('refuses to start with a bad bot token (SLACK_BOT_TOKEN_REFUSED), without opening a link', async () => {
    const emu = await emulator();
    const { gw } = gateway(emu, { botToken: 'xoxb-revoked' });
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
    const { gw } = gateway(emu, { appToken: 'xapp-1-revoked' });
    await expect(gw.start()).rejects.toMatchObject({ code: 'SLACK_APP_TOKEN_REFUSED' });
    expect(emu.totalConnections).toBe(0);
  });

  it('stop() right after start() lets the connect finish, then closes the link', async () => {
    const emu = await emulator();
    const { gw } = gateway(emu);
    const starting = gw.start();
    const stopping = gw.stop();
    await expect(starting).resolves.toBeUndefined();
    await stopping;
    expect(gw.state).toBe('stopped');
    await emu.waitFor(() => (emu.connectionCount === 0 ? true : undefined));
    expect(emu.totalConnections).toBe(1);
  });

  it('stop() while Slack never says hello gives up after stopTimeoutMs; start() rejects', async () => {
    const emu = await emulator({ helloDelayMs: 60_000 });
    const { gw } = gateway(emu, { stopTimeoutMs: 100 });
    const starting = gw.start().catch((e: unknown) => e);
    await emu.waitForConnections(1);
    await gw.stop();
    expect(gw.state).toBe('stopped');
    expect(await starting).toMatchObject({ message: expect.stringContaining('stopped while connecting') });
    await emu.waitFor(() => (emu.connectionCount === 0 ? true : undefined));
  });

  it('start() twice is refused; stop() twice is fine', async () => {
    const emu = await emulator();
    const { gw } = gateway(emu);
    await gw.start();
    await expect(gw.start()).rejects.toThrow(/cannot start/);
    await Promise.all([gw.stop(), gw.stop()]);
    expect(gw.state).toBe('stopped');
  });
});
