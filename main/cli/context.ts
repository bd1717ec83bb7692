import path from 'node:path';
import { createCore, type Core } from '../core/index.js';
import { FileConfigStore } from '../core/config/file-config-store.js';
import { settingsHome } from '../core/config/home.js';
import { createLogger } from '../core/log/logger.js';
import { SecretRegistry } from '../core/secrets/redact.js';
import { openKeychain } from '../core/secrets/keytar-store.js';
import { TerminalPrompt } from './terminal-prompt.js';

export interface CliContextOptions {
  /** The daemon logs to stderr as well as the file. */
  logToStderr?: boolean;
  verbose?: boolean;
}

/** Builds the core with the CLI's adapters: conf settings file, keytar (or env) secrets, terminal prompts. */
export async function openCore(opts: CliContextOptions = {}): Promise<Core> {
  const home = settingsHome();
  const registry = new SecretRegistry();
  const logger = createLogger({
    file: path.join(home, 'logs', 'hpc-relay.log'),
    stderr: opts.logToStderr ?? false,
    level: opts.verbose ? 'debug' : 'info',
    registry,
  });
  const { store, error } = await openKeychain();
  return createCore({
    home,
    configStore: new FileConfigStore(home),
    keychain: store,
    keychainError: error,
    env: process.env,
    registry,
    logger,
    prompt: new TerminalPrompt(),
  });
}
