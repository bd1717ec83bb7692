import { describe, expect, it } from 'vitest';
import { openKeychain } from '../../main/core/secrets/keytar-store.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { SecretsService } from '../../main/core/secrets/secrets-service.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import fs from 'node:fs';
import path from 'node:path';

// `npm test` runs under scripts/with-keyring.sh: a private gnome-keyring on its own D-Bus session.
const keychain = await openKeychain('HPC Relay Test');
const mustHaveKeychain = process.env.CI === 'true' || process.env.HPC_RELAY_KEYRING === 'outer';

describe('secrets in a real Secret Service (keytar + gnome-keyring)', () => {
  // Outside `npm test` (a plain `vitest` on a laptop) the private keyring may be absent; in CI it must not be.
  it.runIf(mustHaveKeychain)('has a reachable keychain when run through npm test', () => {
    expect(keychain.error).toBeNull();
    expect(keychain.store).not.toBeNull();
  });

  it.runIf(keychain.store)('stores, reads and deletes through keytar; the environment wins when set', async () => {
    const registry = new SecretRegistry();
    const svc = new SecretsService(keychain.store, {}, registry);
    await svc.set('slack-bot-token', `${TEST_SECRETS.slackBot}\n`);
    expect(await svc.get('slack-bot-token')).toBe(TEST_SECRETS.slackBot);
    expect((await svc.status()).find((s) => s.name === 'slack-bot-token')?.source).toBe('keychain');
    const withEnv = new SecretsService(keychain.store, { HPC_RELAY_SLACK_BOT_TOKEN: 'xoxb-from-the-environment-000' }, registry);
    expect(await withEnv.get('slack-bot-token')).toBe('xoxb-from-the-environment-000');
    expect(await svc.delete('slack-bot-token')).toBe(true);
    expect(await svc.get('slack-bot-token')).toBeNull();
    expect(registry.redact(`token=${TEST_SECRETS.slackBot}`)).toBe('token=[redacted]');
  });

  it.runIf(keychain.store)('hpc-relay secrets set reads stdin, stores in the keychain, and writes the value nowhere else', async () => {
    const home = makeHome('keychain');
    const set = await runCli(['secrets', 'set', 'slack-app-token'], { home, input: `${TEST_SECRETS.slackApp}\n` });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe('Saved the Slack app-level token in the keychain.\n');
    const status = await runCli(['secrets', 'status', '--json'], { home });
    expect(JSON.parse(status.stdout).find((s: { name: string }) => s.name === 'slack-app-token').source).toBe('keychain');
    const pass = await runCli(['secrets', 'set', 'ssh-passphrase:hpc'], { home, input: TEST_SECRETS.passphrase });
    expect(pass.code, pass.stderr).toBe(0);
    for (const f of fs.readdirSync(home, { recursive: true }) as string[]) {
      const p = path.join(home, f);
      if (fs.statSync(p).isFile()) expect(fs.readFileSync(p, 'utf8')).not.toContain(TEST_SECRETS.slackApp);
    }
    expect((await runCli(['secrets', 'delete', 'slack-app-token'], { home })).code).toBe(0);
    expect((await runCli(['secrets', 'delete', 'ssh-passphrase:hpc'], { home })).code).toBe(0);
  });
});
