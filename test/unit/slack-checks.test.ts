import { afterEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../../main/core/doctor/doctor.js';
import type { Core } from '../../main/core/index.js';
import { slackChecks } from '../../main/core/slack/checks.js';
import { REQUIRED_BOT_EVENTS, REQUIRED_BOT_SCOPES, slackAppManifest } from '../../main/core/slack/manifest.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator, SlackEmulatorOptions } from '../fakes/slack-emulator.js';
import { localCore } from '../helpers/testbed-core.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function emulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const emu = await startSlackEmulator(opts);
  cleanups.push(() => emu.close());
  return emu;
}

function core(emu: SlackEmulator, settings: Record<string, unknown> = {}, env: Record<string, string> = {}): Core {
  const c = localCore({ label: 'slack-checks', env: { HPC_RELAY_SLACK_BOT_TOKEN: emu.botToken, HPC_RELAY_SLACK_APP_TOKEN: emu.appToken, ...env } });
  c.settings.set('slack.apiUrl', emu.apiUrl);
  c.settings.set('slack.allowedUsers', [emu.defaultUserId]);
  for (const [k, v] of Object.entries(settings)) c.settings.set(k, v);
  cleanups.push(() => c.close());
  return c;
}

const run = (c: Core, events = true) => runDoctor(slackChecks({ settings: c.settings, secrets: c.secrets, logger: c.logger }, { events, eventTimeoutMs: 1500 }));

describe('Slack app manifest', () => {
  it('has Socket Mode, interactivity, /hpc, the DM tab, and exactly the scopes and events the relay uses', () => {
    const m = slackAppManifest() as {
      settings: { socket_mode_enabled: boolean; interactivity: { is_enabled: boolean }; event_subscriptions: { bot_events: string[] } };
      oauth_config: { scopes: { bot: string[] } };
      features: { slash_commands: Array<{ command: string }>; app_home: { messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean } };
    };
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.settings.interactivity.is_enabled).toBe(true);
    expect(m.oauth_config.scopes.bot.sort()).toEqual(['app_mentions:read', 'channels:history', 'channels:read', 'chat:write', 'commands', 'files:write', 'groups:history', 'im:history', 'im:read', 'im:write', 'users:read']);
    expect(m.settings.event_subscriptions.bot_events).toEqual(['app_mention', 'message.im']);
    expect(m.features.slash_commands.map((c) => c.command)).toEqual(['/hpc']);
    expect(m.features.app_home).toMatchObject({ messages_tab_enabled: true, messages_tab_read_only_enabled: false });
    expect(REQUIRED_BOT_SCOPES).toHaveLength(11);
    expect(REQUIRED_BOT_EVENTS).toEqual(['app_mention', 'message.im']);
    const follow = slackAppManifest({ followThreads: true }) as typeof m;
    expect(follow.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['channels:history', 'groups:history']));
    // Listed once, although thread following asks for them too.
    expect(follow.oauth_config.scopes.bot).toHaveLength(new Set(follow.oauth_config.scopes.bot).size);
    expect(follow.settings.event_subscriptions.bot_events).toEqual(['app_mention', 'message.im', 'message.channels', 'message.groups']);
  });
});

describe('Slack checks against the Slack emulator', () => {
  it('all pass on a correctly set-up app, including the event round trip', async () => {
    const emu = await emulator();
    const report = await run(core(emu));
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([['slack.auth', true], ['slack.scopes', true], ['slack.socket', true], ['slack.events', true]]);
    expect(report.checks[0]!.message).toBe('Signed in to Emulated Workspace as @hpc-relay.');
    expect(report.checks[2]!.message).toBe('The Socket Mode link opens and Slack says hello.');
    // The probe acked its own echo; it left nothing else acked.
    await emu.waitForIdle();
    expect(emu.connectionCount).toBe(0);
  });

  it('catches a bot connected without event subscriptions (connects fine, hears nothing)', async () => {
    const emu = await emulator({ echoBotMessages: false });
    const report = await run(core(emu));
    const events = report.checks.find((c) => c.id === 'slack.events')!;
    expect(report.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['slack.events']);
    expect(events.message).toMatch(/never arrived: the app is not subscribed/);
    expect(events.fix).toMatch(/subscribe to the bot events app_mention and message\.im/);
  });

  it('names missing scopes, with the reinstall step', async () => {
    const emu = await emulator({ scopes: ['chat:write', 'im:write', 'im:read', 'im:history', 'app_mentions:read', 'users:read', 'channels:read', 'channels:history', 'groups:history'] });
    const report = await run(core(emu), false);
    const scopes = report.checks.find((c) => c.id === 'slack.scopes')!;
    expect(scopes).toMatchObject({ ok: false, message: 'The bot token lacks files:write, commands.' });
    expect(scopes.fix).toMatch(/reinstall the app/);
  });

  it('names missing history scopes and what they are for (an app made from an older manifest)', async () => {
    const emu = await emulator({ scopes: ['chat:write', 'im:write', 'im:read', 'im:history', 'app_mentions:read', 'users:read', 'channels:read', 'files:write', 'commands'] });
    const report = await run(core(emu, { 'slack.enabled': true }), false);
    const scopes = report.checks.find((c) => c.id === 'slack.scopes')!;
    expect(scopes).toMatchObject({
      ok: false,
      message: 'The bot token lacks channels:history, groups:history. Without channels:history and groups:history a job report whose post was interrupted cannot be looked up in Slack, and may be posted twice.',
    });
    expect(scopes.fix).toContain('`hpc-relay slack manifest`');
    expect(scopes.fix).toMatch(/reinstall the app/);
    // The doctor runs the same check.
    const c = core(emu, { 'slack.enabled': true });
    const doctor = await runDoctor(c.doctorChecks().filter((x) => x.id === 'slack.scopes'));
    expect(doctor.checks[0]).toMatchObject({ ok: false, message: scopes.message });
  });

  it('says which token is wrong or missing', async () => {
    const emu = await emulator();
    const badApp = await run(core(emu, {}, { HPC_RELAY_SLACK_APP_TOKEN: 'xapp-1-A0REVOKED01-1-revoked' }), false);
    expect(badApp.checks.map((c) => c.ok)).toEqual([true, true, false]);
    expect(badApp.checks[2]).toMatchObject({ message: 'Slack refused the app-level token (invalid_auth).', fix: expect.stringContaining('hpc-relay secrets set slack-app-token') });
    const noBot = await run(core(emu, {}, { HPC_RELAY_SLACK_BOT_TOKEN: '' }), false);
    expect(noBot.checks[0]).toMatchObject({ ok: false, message: 'The Slack bot token is not set.', fix: expect.stringContaining('hpc-relay secrets set slack-bot-token') });
  });

  it('the event check is inconclusive, not failed-with-a-wrong-fix, when another process shares the token', async () => {
    const emu = await emulator();
    const c = core(emu);
    // Someone else (a running relay) holds a connection; Slack may hand the echo to it.
    const other = await startOtherConnection(emu);
    cleanups.push(other);
    const report = await run(c);
    const events = report.checks.find((x) => x.id === 'slack.events')!;
    // Which connection Slack (here: round robin) handed the echo to decides the outcome.
    const echo = emu.deliveries.find((d) => (d.payload.event as { bot_id?: string } | undefined)?.bot_id === emu.botId)!;
    const wentToOther = echo.attempts[0]!.connectionId === 1;
    expect(events.ok).toBe(!wentToOther);
    if (wentToOther) expect(events.message).toMatch(/^Inconclusive: the test event did not arrive here/);
    expect(report.checks.find((x) => x.id === 'slack.socket')!.message).toMatch(/1 other connection uses this app token/);
  });

  it('the core doctor runs slack.* only when slack.enabled', async () => {
    const emu = await emulator();
    const off = core(emu);
    expect(off.doctorChecks().map((c) => c.id).filter((id) => id.startsWith('slack.'))).toEqual([]);
    const on = core(emu, { 'slack.enabled': true });
    expect(on.doctorChecks().map((c) => c.id).filter((id) => id.startsWith('slack.'))).toEqual(['slack.auth', 'slack.scopes', 'slack.socket']);
  });
});

/** A bare Socket Mode connection with the same app token (what another relay process would hold). */
async function startOtherConnection(emu: SlackEmulator): Promise<() => Promise<void>> {
  const { openSocketProbe } = await import('../../main/core/slack/checks.js');
  const { createMemoryLogger } = await import('../fakes/memory-logger.js');
  const probe = await openSocketProbe(emu.appToken, emu.apiUrl, createMemoryLogger());
  return () => probe.close();
}
