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

/**
 * The CLI's and daemon's settings store: `conf`, the library electron-store is built on, so the
 * file format (and atomic writes) match the app's exactly: `<home>/config.json`.
 */
export class FileConfigStore implements ConfigStore {
  private conf: Conf<Record<string, unknown>> | null = null;
  readonly path: string;

  constructor(home: string) {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    this.path = path.join(home, SETTINGS_FILE);
  }

  /** conf parses the file when constructed, so it is opened lazily: a corrupt file surfaces as CONFIG_CORRUPT on read. */
  private open(): Conf<Record<string, unknown>> {
    this.conf ??= new Conf({ cwd: path.dirname(this.path), configName: 'config', clearInvalidConfig: false });
    return this.conf;
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
    this.conf = null;
    return moveAsideFile(this.path);
  }
}
