import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { SETTINGS, SETTING_KEYS } from '../../main/core/config/keys.js';
import { SettingsService, parseCliValue } from '../../main/core/config/settings.js';
import { settingsHome } from '../../main/core/config/home.js';
import { isRelayError } from '../../main/core/errors.js';
import { makeHome } from '../helpers/temp-home.js';
import { SAMPLES } from '../fixtures/setting-samples.js';


function service(home = makeHome('settings')) {
  return { home, s: new SettingsService(new FileConfigStore(home)) };
}

describe('settings', () => {
  it('has samples for every key, and every default passes its own schema', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...SETTING_KEYS].sort());
    for (const k of SETTING_KEYS) {
      const d = SETTINGS[k].default;
      if (d !== undefined) expect(SETTINGS[k].schema.safeParse(d).success, k).toBe(true);
    }
  });

  it('round-trips every key through the store, in the nested JSON electron-store writes', () => {
    const { home, s } = service();
    for (const k of SETTING_KEYS) s.set(k, SAMPLES[k]!.good);
    const fresh = new SettingsService(new FileConfigStore(home));
    for (const k of SETTING_KEYS) expect(fresh.get(k), k).toEqual(SAMPLES[k]!.good);
    const onDisk = JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'));
    expect(onDisk.cluster.pollSeconds).toBe(90);
    expect(onDisk.slack.allowedUsers).toEqual(['U012ABCDEF', 'W0123']);
    expect(fresh.settings().triage.mode).toBe('remediate');
  });

  it('refuses every wrong value with a message naming the key and the expected type', () => {
    const { s } = service();
    for (const k of SETTING_KEYS) {
      let err: unknown;
      try { s.set(k, SAMPLES[k]!.bad); } catch (e) { err = e; }
      expect(isRelayError(err, 'CONFIG_INVALID_VALUE'), k).toBe(true);
      expect((err as Error).message).toContain(k);
      expect((err as Error).message).toContain(SETTINGS[k].expected);
      expect(s.isSet(k)).toBe(false);
    }
  });

  it('refuses unknown keys and suggests the keys of the same group', () => {
    const { s } = service();
    expect(() => s.set('cluster.hots', 'x')).toThrow(/"cluster.hots" is not a setting.*cluster.host/);
    expect(() => s.get('nope')).toThrow(/not a setting/);
    expect(() => s.unset('slack')).toThrow(/not a setting/);
  });

  it('unset brings the default back and prunes empty groups', () => {
    const { home, s } = service();
    s.set('cluster.pollSeconds', 120);
    s.unset('cluster.pollSeconds');
    expect(s.get('cluster.pollSeconds')).toBe(60);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'))).toEqual({});
  });

  it('moves a corrupt settings file aside (kept), reports it and uses defaults', () => {
    const home = makeHome('corrupt');
    fs.writeFileSync(path.join(home, 'config.json'), '{"cluster": {"host": "hpc",');
    const s = new SettingsService(new FileConfigStore(home));
    expect(s.get('cluster.pollSeconds')).toBe(60);
    const aside = fs.readdirSync(home).filter((f) => f.startsWith('config.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(home, aside[0]!), 'utf8')).toBe('{"cluster": {"host": "hpc",');
    expect(s.lastProblems()[0]?.message).toMatch(/could not be read and was moved to .*corrupt-/);
    s.set('cluster.host', 'hpc');
    expect(new SettingsService(new FileConfigStore(home)).get('cluster.host')).toBe('hpc');
  });

  it('reports hand-edited bad values and unknown keys, and uses defaults for them', () => {
    const home = makeHome('handedit');
    fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ cluster: { pollSeconds: 5, colour: 'red' }, slack: { enabled: true } }));
    const s = new SettingsService(new FileConfigStore(home));
    const all = s.getAll();
    expect(all['cluster.pollSeconds']).toBe(60);
    expect(all['slack.enabled']).toBe(true);
    const msgs = s.lastProblems().map((p) => p.message).join('\n');
    expect(msgs).toContain('cluster.pollSeconds must be');
    expect(msgs).toContain('"cluster.colour"');
  });

  it('parses CLI values as JSON when they parse, else as text', () => {
    expect(parseCliValue('60')).toBe(60);
    expect(parseCliValue('true')).toBe(true);
    expect(parseCliValue('["U1"]')).toEqual(['U1']);
    expect(parseCliValue('hpc')).toBe('hpc');
    expect(parseCliValue('{oops')).toBe('{oops');
  });

  it('puts the settings home where Electron keeps userData, unless HPC_RELAY_HOME says otherwise', () => {
    expect(settingsHome({ HPC_RELAY_HOME: '/srv/relay' }, 'linux', '/home/a')).toBe('/srv/relay');
    expect(settingsHome({}, 'linux', '/home/a')).toBe('/home/a/.config/HPC Relay');
    expect(settingsHome({}, 'darwin', '/Users/a')).toBe('/Users/a/Library/Application Support/HPC Relay');
    expect(settingsHome({ APPDATA: 'C:\\Users\\a\\AppData\\Roaming' }, 'win32', 'C:\\Users\\a')).toContain('HPC Relay');
  });
});
