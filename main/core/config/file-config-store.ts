import fs from 'node:fs';
import path from 'node:path';
import Conf from 'conf';
import { RelayError } from '../errors.js';
import type { ConfigStore } from '../ports.js';

export const SETTINGS_FILE = 'config.json';

/** Renames an unreadable settings file next to itself, never deleting it; returns the new path. */
export function moveAsideFile(file: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const target = `${file}.corrupt-${stamp}`;
  fs.renameSync(file, target);
  return target;
}

/** What the store needs of conf (and of electron-store, which extends it): the whole object, read and written. */
export interface SettingsBackend {
  store: Record<string, unknown>;
}

/** Opens the backend over `<cwd>/<configName>.json`; it may throw on a corrupt file (conf parses when constructed). */
export type SettingsBackendFactory = (file: { cwd: string; configName: string }) => SettingsBackend;

const confBackend: SettingsBackendFactory = ({ cwd, configName }) => new Conf<Record<string, unknown>>({ cwd, configName, clearInvalidConfig: false });

/**
 * The settings store over `<home>/config.json`. The CLI and daemon use `conf`; the app passes an
 * electron-store backend (main/adapters), which is conf underneath, so the file format and atomic
 * writes are the same and each sees the other's changes.
 */
export class FileConfigStore implements ConfigStore {
  private backend: SettingsBackend | null = null;
  readonly path: string;

  constructor(home: string, private readonly openBackend: SettingsBackendFactory = confBackend) {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    this.path = path.join(home, SETTINGS_FILE);
  }

  /** Opened lazily: a corrupt file surfaces as CONFIG_CORRUPT on read, not when the store is made. */
  private open(): SettingsBackend {
    this.backend ??= this.openBackend({ cwd: path.dirname(this.path), configName: path.basename(SETTINGS_FILE, '.json') });
    return this.backend;
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
    this.backend = null;
    return moveAsideFile(this.path);
  }
}
