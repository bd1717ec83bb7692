/**
 * Doctor checks that need no cluster of their own: the clock skew against the login node (its
 * `date +%s` through a scripted cluster), the model key (against the Anthropic emulator, the real
 * SDK) and desktop notifications as the app reports them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { notificationsCheck, type NotifyHealth } from '../../main/app/notify-check.js';
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { SettingsService } from '../../main/core/config/settings.js';
import { clusterChecks } from '../../main/core/doctor/core-checks.js';
import { runDoctor } from '../../main/core/doctor/doctor.js';
import { modelChecks } from '../../main/core/doctor/model-checks.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { SecretsService } from '../../main/core/secrets/secrets-service.js';
import { startAnthropicEmulator } from '../fakes/anthropic-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { makeHome } from '../helpers/temp-home.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()?.(); });

function services(env: NodeJS.ProcessEnv = {}) {
  const settings = new SettingsService(new FileConfigStore(makeHome('doctor-checks')));
  const secrets = new SecretsService(null, env, new SecretRegistry(), 'no keychain in this test');
  return { settings, secrets };
}

/** The clock check over a login node whose `date +%s` prints `out` (this computer's clock fixed at 1_700_000_000 s). */
async function clock(out: string) {
  const { settings, secrets } = services();
  const asked: string[][] = [];
  const cluster = { run: async (argv: readonly string[]) => { asked.push([...argv]); return out; } } as unknown as ClusterService;
  const check = clusterChecks({ settings, secrets, cluster: () => cluster, keychainError: null, now: () => 1_700_000_000_000 }).find((c) => c.id === 'cluster.clock');
  if (!check) throw new Error('no cluster.clock check');
  const [r] = (await runDoctor([check])).checks;
  return { r, asked };
}

describe('cluster.clock', () => {
  it('agrees within a second or two, asking `date +%s` as an argv', async () => {
    const { r, asked } = await clock('1700000001\n');
    expect(asked).toEqual([['date', '+%s']]);
    expect(r).toMatchObject({ ok: true, warning: false, message: 'The clocks agree (within 2 s).', fix: null });
  });

  it('warns past a minute and fails past five, saying which way and what to do', async () => {
    expect((await clock('1700000090')).r).toMatchObject({ ok: true, warning: true, message: "The login node's clock is 90 s ahead of this computer's.", fix: expect.stringContaining('NTP') });
    const behind = (await clock('1699999600')).r;
    expect(behind).toMatchObject({ ok: false, warning: false, fix: expect.stringContaining('NTP') });
    expect(behind?.message).toMatch(/^The login node's clock is 400 s behind this computer's: /);
  });

  it('says so when the login node prints no time', async () => {
    expect((await clock('date: command not found')).r).toMatchObject({ ok: true, warning: true, message: expect.stringContaining('not a time') });
  });
});

describe('llm.key', () => {
  it('passes with the agent off (commands only) without asking anything', async () => {
    const { settings, secrets } = services();
    const [r] = (await runDoctor(modelChecks({ settings, secrets }))).checks;
    expect(r).toMatchObject({ id: 'llm.key', ok: true, message: expect.stringContaining('commands only') });
  });

  it('asks the model API with the key (the real SDK against the emulator): a good key passes, a wrong one fails with the fix', async () => {
    const emu = await startAnthropicEmulator({ apiKey: TEST_SECRETS.anthropic });
    cleanups.push(() => emu.close());
    const good = services({ HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic });
    for (const s of [good.settings]) { s.set('llm.enabled', true); s.set('llm.baseUrl', emu.url); }
    const [ok] = (await runDoctor(modelChecks(good))).checks;
    expect(ok).toMatchObject({ ok: true, message: expect.stringMatching(/^The API key works and the model claude-/) });
    const bad = services({ HPC_RELAY_ANTHROPIC_API_KEY: `${TEST_SECRETS.anthropic.slice(0, -4)}XXXX` });
    bad.settings.set('llm.enabled', true);
    bad.settings.set('llm.baseUrl', emu.url);
    const [refused] = (await runDoctor(modelChecks(bad))).checks;
    expect(refused).toMatchObject({ ok: false, message: expect.stringMatching(/refused the API key \(HTTP 401\)/), fix: expect.stringContaining('console.anthropic.com') });
    expect(JSON.stringify(refused)).not.toContain(TEST_SECRETS.anthropic.slice(0, -4));
  });
});

describe('notify.desktop', () => {
  const run = async (h: Partial<NotifyHealth>) => (await runDoctor([notificationsCheck(() => ({ supported: true, trayEnabled: true, lastFailure: null, platform: 'linux', ...h }))])).checks[0];

  it('passes when notifications are supported and on; on macOS it says where to allow them', async () => {
    expect(await run({})).toMatchObject({ ok: true, warning: false, message: 'Notifications are on.' });
    expect((await run({ platform: 'darwin' }))?.message).toContain('System Settings → Notifications');
  });

  it('fails where the desktop has none or the last one failed; warns when notify.tray is off', async () => {
    expect(await run({ supported: false })).toMatchObject({ ok: false, fix: expect.stringContaining('notification service') });
    expect(await run({ lastFailure: 'Toast notifications are disabled', platform: 'win32' })).toMatchObject({ ok: false, message: 'The last notification could not be shown: Toast notifications are disabled.' });
    expect(await run({ trayEnabled: false })).toMatchObject({ ok: true, warning: true, fix: expect.stringContaining('notify.tray true') });
  });
});
