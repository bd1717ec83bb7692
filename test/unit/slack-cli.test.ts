import { afterEach, describe, expect, it } from 'vitest';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe('hpc-relay slack (spawned as a process)', () => {
  it('manifest prints the app manifest as JSON', async () => {
    const r = await runCli(['slack', 'manifest'], { home: makeHome('slack-cli') });
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout) as { settings: { socket_mode_enabled: boolean }; oauth_config: { scopes: { bot: string[] } } };
    expect(m.settings.socket_mode_enabled).toBe(true);
    expect(m.oauth_config.scopes.bot).toContain('files:write');
  });

  it('test --json: every check passes against a well set-up app; exit 1 with the fix when a token is refused', async () => {
    const emu = await startSlackEmulator({ botToken: TEST_SECRETS.slackBot, appToken: TEST_SECRETS.slackApp });
    cleanups.push(() => emu.close());
    const home = makeHome('slack-cli');
    await runCli(['config', 'set', 'slack.apiUrl', emu.apiUrl], { home });
    await runCli(['config', 'set', 'slack.allowedUsers', JSON.stringify([emu.defaultUserId])], { home });
    const env = { HPC_RELAY_SLACK_BOT_TOKEN: TEST_SECRETS.slackBot, HPC_RELAY_SLACK_APP_TOKEN: TEST_SECRETS.slackApp };
    const ok = await runCli(['slack', 'test', '--json'], { home, env });
    expect(ok.code, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { ok: boolean; checks: Array<{ id: string; ok: boolean }> };
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([['slack.auth', true], ['slack.scopes', true], ['slack.socket', true], ['slack.events', true]]);

    const bad = await runCli(['slack', 'test', '--no-events'], { home, env: { ...env, HPC_RELAY_SLACK_APP_TOKEN: 'xapp-1-A0000000009-9-refusedRefusedRefused' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ Slack Socket Mode: Slack refused the app-level token \(invalid_auth\)\.\n {4}fix: .*hpc-relay secrets set slack-app-token/);
    expect(bad.stdout + bad.stderr).not.toContain('refusedRefusedRefused');
    expect(bad.stdout).toContain('note: slack.enabled is false');
  });
});
