/**
 * The app's settings store: electron-store, on the same file the CLI's FileConfigStore uses
 * (`<home>/config.json`, conf's JSON format, atomic writes), so the app and `hpc-relay config`
 * see each other's changes. It mirrors FileConfigStore's behaviour exactly: opened lazily, a
 * corrupt file is CONFIG_CORRUPT on read and is moved aside (kept, never deleted) on request.
 */
import fs from 'node:fs';
import path from 'node:path';
import ElectronStore from 'electron-store';
import { RelayError } from '../core/errors.js';
import { SETTINGS_FILE, moveAsideFile } from '../core/config/file-config-store.js';
import type { ConfigStore } from '../core/ports.js';

export class ElectronStoreConfigStore implements ConfigStore {
  private store: ElectronStore<Record<string, unknown>> | null = null;
  readonly path: string;

  constructor(home: string) {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    this.path = path.join(home, SETTINGS_FILE);
  }

  /** electron-store parses the file when constructed: a corrupt file must surface on read, not here. */
  private open(): ElectronStore<Record<string, unknown>> {
    this.store ??= new ElectronStore<Record<string, unknown>>({
      cwd: path.dirname(this.path),
      name: path.basename(SETTINGS_FILE, '.json'),
      clearInvalidConfig: false,
    });
    return this.store;
  }

  read(): Record<string, unknown> {
    try {
      const data: unknown = this.open().store;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new Error('not an object');
      return { ...(data as Record<string, unknown>) };
    } catch (e) {
      throw new RelayError('CONFIG_CORRUPT', `The settings file ${this.path} is not valid JSON.`, { cause: e });
    }
  }

  write(data: Record<string, unknown>): void {
    try {
      this.open().store = data;
    } catch (e) {
      throw new RelayError('CONFIG_WRITE_FAILED', `Could not write the settings file ${this.path}: ${(e as Error).message}.`, {
        fix: 'Check that the directory is writable and the disk is not full.',
        cause: e,
      });
    }
  }

  moveAside(): string {
    this.store = null;
    return moveAsideFile(this.path);
  }
}
