/**
 * The app window's channels over a real core (settings file in a temp home, an in-memory
 * keychain): values validated by the core, secrets never echoed, changes handed to the runtime.
 */
import { describe, expect, it } from 'vitest';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { createCore } from '../../main/core/index.js';
import type { Core } from '../../main/core/index.js';
import { silentLogger } from '../../main/core/log/logger.js';
import type { PromptUser, SecretStore } from '../../main/core/ports.js';
import type { Runtime } from '../../main/core/runtime/runtime.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { isRelayError } from '../../main/core/errors.js';
import { createNavigator } from '../../main/app/navigator.js';
import { windowHandlers } from '../../main/ipc/window-handlers.js';
import { makeHome } from '../helpers/temp-home.js';

class MemoryKeychain implements SecretStore {
  readonly values = new Map<string, string>();
  async get(account: string) { return this.values.get(account) ?? null; }
  async set(account: string, value: string) { this.values.set(account, value); }
  async delete(account: string) { return this.values.delete(account); }
}

const noPrompt: PromptUser = { ask: async () => null };

function setup() {
  const keychain = new MemoryKeychain();
  const core: Core = createCore({
    home: makeHome('window-handlers'),
    configStore: new FileConfigStore(makeHome('window-handlers')),
    keychain,
    keychainError: null,
    env: {},
    registry: new SecretRegistry(),
    logger: silentLogger,
    prompt: noPrompt,
  });
  const changes: string[] = [];
  const runtime = { configChanged: async (key: string) => { changes.push(key); return []; } } as unknown as Runtime;
  const handlers = windowHandlers({
    services: async () => ({ core, runtime }),
    appInfo: () => ({ version: '0.1.0', platform: 'linux' }),
    status: () => { throw new Error('not used'); },
    navigator: createNavigator({ showWindow: () => undefined, send: () => undefined }),
  });
  return { core, keychain, handlers, changes };
}

async function codeOf(p: Promise<unknown> | unknown): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return isRelayError(e) ? e.code : String(e);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('settings channels', () => {
  it('lists every setting with its value, whether it is set, and the words for it', async () => {
    const { handlers } = setup();
    const view = await handlers['settings:get']();
    const poll = view.entries.find((e) => e.key === 'cluster.pollSeconds');
    expect(poll).toEqual({ key: 'cluster.pollSeconds', value: 60, isSet: false, description: expect.stringMatching(/scheduler/), expected: 'a whole number of seconds from 30 to 3600' });
    expect(view.entries.find((e) => e.key === 'cluster.host')).toMatchObject({ value: null, isSet: false });
    expect(view.problems).toEqual([]);
  });

  it('sets through the core, which refuses wrong values and unknown keys', async () => {
    const { handlers, changes } = setup();
    await expect(handlers['settings:set']('cluster.pollSeconds', 120)).resolves.toMatchObject({ value: 120, isSet: true });
    expect(await codeOf(handlers['settings:set']('cluster.pollSeconds', 5))).toBe('CONFIG_INVALID_VALUE');
    expect(await codeOf(handlers['settings:set']('cluster.hots', 'hpc'))).toBe('CONFIG_UNKNOWN_KEY');
    expect(await codeOf(handlers['settings:unset']('nope'))).toBe('CONFIG_UNKNOWN_KEY');
    await expect(handlers['settings:unset']('cluster.pollSeconds')).resolves.toMatchObject({ value: 60, isSet: false });
    await settle();
    // Only accepted changes reach the runtime.
    expect(changes).toEqual(['cluster.pollSeconds', 'cluster.pollSeconds']);
  });
});

describe('secrets channels', () => {
  it('stores a valid token in the keychain and answers with status only', async () => {
    const { handlers, keychain, changes } = setup();
    const status = await handlers['secrets:set']('slack-bot-token', 'xoxb-123-456');
    expect(keychain.values.get('slack-bot-token')).toBe('xoxb-123-456');
    expect(status.find((s) => s.name === 'slack-bot-token')).toEqual({ name: 'slack-bot-token', label: 'Slack bot token', source: 'keychain', detail: null });
    expect(JSON.stringify(status)).not.toContain('xoxb-123-456');
    await settle();
    expect(changes).toEqual(['secret:slack-bot-token']);
  });

  it('refuses a malformed token or an unknown name, storing nothing', async () => {
    const { handlers, keychain } = setup();
    expect(await codeOf(handlers['secrets:set']('slack-bot-token', 'xapp-wrong-kind'))).toBe('SECRET_INVALID_FORMAT');
    expect(await codeOf(handlers['secrets:set']('aws-key', 'AKIA'))).toBe('SECRET_UNKNOWN_NAME');
    expect(keychain.values.size).toBe(0);
  });

  it('deletes', async () => {
    const { handlers } = setup();
    await handlers['secrets:set']('anthropic-api-key', 'sk-ant-1');
    const status = await handlers['secrets:delete']('anthropic-api-key');
    expect(status.find((s) => s.name === 'anthropic-api-key')?.source).toBe('unset');
  });
});

describe('cluster channels', () => {
  it('says the cluster is not configured, with the fix', async () => {
    const { handlers } = setup();
    expect(await codeOf(handlers['cluster:partitions']())).toBe('SSH_NOT_CONFIGURED');
  });
});
