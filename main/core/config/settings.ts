import { RelayError } from '../errors.js';
import type { ConfigStore } from '../ports.js';
import { deletePath, flatten, getPath, setPath } from './flat.js';
import { SETTING_KEYS, SETTINGS, isSettingKey, type SettingKey } from './keys.js';
import type { Settings } from './settings-types.js';

export interface SettingsProblem {
  key: string;
  message: string;
}

function fmt(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function unknownKey(key: string): RelayError {
  const near = SETTING_KEYS.filter((k) => k.split('.')[0] === key.split('.')[0]).slice(0, 5);
  const hint = near.length ? ` Keys in that group: ${near.join(', ')}.` : '';
  return new RelayError('CONFIG_UNKNOWN_KEY', `"${key}" is not a setting.${hint}`, {
    fix: 'Run `hpc-relay config get` to list every key.',
  });
}

/** Checks one value against its key's schema; the error names the key and the expected type. */
export function validateSetting(key: string, value: unknown): unknown {
  if (!isSettingKey(key)) throw unknownKey(key);
  const spec = SETTINGS[key];
  const result = spec.schema.safeParse(value);
  if (!result.success) {
    throw new RelayError('CONFIG_INVALID_VALUE', `${key} must be ${spec.expected} (got ${fmt(value)}).`, {
      fix: `Set it with \`hpc-relay config set ${key} VALUE\`, or remove it with \`hpc-relay config unset ${key}\`.`,
    });
  }
  return result.data;
}

/** CLI text -> value: JSON when it parses ("30", "true", '["U1"]'), else the text itself. */
export function parseCliValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Settings over a ConfigStore. Reads go to the store each time, so the app and a CLI run
 * beside it see each other's changes. Bad stored values are reported and replaced by defaults,
 * never silently used; an unreadable file is moved aside and kept.
 */
export class SettingsService {
  private problems: SettingsProblem[] = [];

  constructor(private readonly store: ConfigStore) {}

  get path(): string {
    return this.store.path;
  }

  /** What was wrong with the stored settings at the last read (for the doctor). */
  lastProblems(): SettingsProblem[] {
    return [...this.problems];
  }

  private readRaw(): Record<string, unknown> {
    try {
      return this.store.read();
    } catch {
      const movedTo = this.store.moveAside();
      this.problems = [{
        key: '(file)',
        message: `The settings file ${this.store.path} could not be read and was moved to ${movedTo}; defaults are in use.`,
      }];
      this.store.write({});
      return {};
    }
  }

  /** Effective flat settings: stored valid values, else defaults; undefined when unset with no default. */
  getAll(): Record<SettingKey, unknown> {
    const raw = this.readRaw();
    const problems = this.problems.filter((p) => p.key === '(file)');
    const out = {} as Record<SettingKey, unknown>;
    for (const key of SETTING_KEYS) {
      const stored = getPath(raw, key);
      if (stored === undefined) {
        out[key] = SETTINGS[key].default;
        continue;
      }
      try {
        out[key] = validateSetting(key, stored);
      } catch (e) {
        problems.push({ key, message: (e as Error).message });
        out[key] = SETTINGS[key].default;
      }
    }
    for (const key of Object.keys(flatten(raw))) {
      if (!isSettingKey(key)) problems.push({ key, message: `"${key}" in ${this.store.path} is not a setting and is ignored.` });
    }
    this.problems = problems;
    return out;
  }

  get(key: string): unknown {
    if (!isSettingKey(key)) throw unknownKey(key);
    return this.getAll()[key];
  }

  /** True when the key has a stored value (not just a default). */
  isSet(key: SettingKey): boolean {
    return getPath(this.readRaw(), key) !== undefined;
  }

  set(key: string, value: unknown): void {
    const valid = validateSetting(key, value);
    const raw = this.readRaw();
    setPath(raw, key, valid);
    this.store.write(raw);
  }

  unset(key: string): void {
    if (!isSettingKey(key)) throw unknownKey(key);
    const raw = this.readRaw();
    deletePath(raw, key);
    this.store.write(raw);
  }

  /** The nested, typed view the rest of the core uses. */
  settings(): Settings {
    const nested: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.getAll())) {
      if (value !== undefined) setPath(nested, key, structuredClone(value));
    }
    return nested as unknown as Settings;
  }
}
