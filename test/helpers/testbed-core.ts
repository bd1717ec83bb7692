import path from 'node:path';
import { createCore, type Core } from '../../main/core/index.js';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { createLogger } from '../../main/core/log/logger.js';
import type { Logger, PromptRequest, PromptUser, SecretStore } from '../../main/core/ports.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import type { TestbedInfo } from '../testbed/testbed-info.js';
import { makeHome } from './temp-home.js';

/** A PromptUser that answers from a script and records every question (host keys, 2FA, passphrases). */
export class ScriptedPrompt implements PromptUser {
  readonly asked: PromptRequest[] = [];
  constructor(private readonly answer: (req: PromptRequest) => string | null = () => null) {}
  async ask(req: PromptRequest): Promise<string | null> {
    this.asked.push(req);
    return this.answer(req);
  }
}

/** The settings that point the core at the testbed's sshd (never at the user's own ~/.ssh). */
export function testbedSettings(tb: TestbedInfo, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'cluster.host': tb.host,
    'cluster.port': tb.port,
    'cluster.user': tb.user,
    'cluster.identityFile': tb.identityFile,
    'cluster.knownHostsFile': tb.knownHostsFile,
    'cluster.sshConfigFile': '/nonexistent/ssh_config',
    ...over,
  };
}

/**
 * A real core in a fresh test home (real settings file, store and logger; no keychain unless one
 * is given, so secrets come from `env`), with `settings` applied. Close it when done.
 */
export function localCore(opts: {
  label?: string; home?: string; env?: NodeJS.ProcessEnv; prompt?: PromptUser; settings?: Record<string, unknown>; keychain?: SecretStore; logger?: Logger; logLevel?: 'debug' | 'info';
} = {}): Core {
  const home = opts.home ?? makeHome(opts.label ?? 'core');
  const registry = new SecretRegistry();
  const core = createCore({
    home,
    configStore: new FileConfigStore(home),
    keychain: opts.keychain ?? null,
    keychainError: opts.keychain ? null : 'not used in this test',
    env: opts.env ?? {},
    registry,
    logger: opts.logger ?? createLogger({ file: path.join(home, 'logs', 'hpc-relay.log'), registry, ...(opts.logLevel ? { level: opts.logLevel } : {}) }),
    prompt: opts.prompt ?? new ScriptedPrompt(),
  });
  for (const [k, v] of Object.entries(opts.settings ?? {})) core.settings.set(k, v);
  return core;
}

/** A real core (real settings file, real SSH) aimed at the testbed. */
export function testbedCore(tb: TestbedInfo, opts: { prompt?: PromptUser; settings?: Record<string, unknown>; home?: string } = {}): Core {
  return localCore({ ...opts, settings: testbedSettings(tb, opts.settings) });
}
