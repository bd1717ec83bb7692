/**
 * The app's settings store is the real electron-store (with a fake `electron` under it, since the
 * binary cannot run here), on the very file the CLI's FileConfigStore writes: each reads what the
 * other wrote, key by key, and a corrupt file is handled the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { SETTING_KEYS } from '../../main/core/config/keys.js';
import { SettingsService } from '../../main/core/config/settings.js';
import { isRelayError } from '../../main/core/errors.js';
import { makeHome } from '../helpers/temp-home.js';
import { SAMPLES } from '../fixtures/setting-samples.js';
import type { FakeElectron } from '../helpers/fake-electron.js';

const fake = vi.hoisted(() => ({ electron: null as unknown as FakeElectron }));
vi.mock('electron', async () => {
  const { createFakeElectron, routeElectronForPackages } = await import('../helpers/fake-electron.js');
  fake.electron = createFakeElectron();
  // electron-store asks Electron for userData and the app version even when given a cwd.
  fake.electron.app.setPath('userData', '/nonexistent/userData');
  routeElectronForPackages(['electron-store'], fake.electron);
  return fake.electron;
});

// The mock factory runs on the first import of `electron` by our code: make that happen before
// electron-store (loaded by Node, not Vitest) looks for it.
await import('electron');
const { ElectronStoreConfigStore } = await import('../../main/adapters/electron-store-config-store.js');

describe('ElectronStoreConfigStore', () => {
  it('is electron-store itself, on <home>/config.json', async () => {
    const home = makeHome('estore');
    const store = new ElectronStoreConfigStore(home);
    expect(store.path).toBe(path.join(home, 'config.json'));
    store.write({ cluster: { host: 'hpc' } });
    // electron-store registered its renderer bridge with (fake) Electron: it really ran.
    expect(fake.electron.ipcMain.listenerCount('electron-store-get-data')).toBe(1);
    expect(fs.existsSync('/nonexistent/userData')).toBe(false);
  });

  it('reads every setting the CLI wrote, and the CLI reads every setting it wrote', () => {
    const home = makeHome('estore');
    const cli = new SettingsService(new FileConfigStore(home));
    for (const k of SETTING_KEYS) cli.set(k, SAMPLES[k]!.good);
    const app = new SettingsService(new ElectronStoreConfigStore(home));
    for (const k of SETTING_KEYS) expect(app.get(k), k).toEqual(SAMPLES[k]!.good);
    expect(app.lastProblems()).toEqual([]);

    for (const k of SETTING_KEYS) app.unset(k);
    app.set('cluster.pollSeconds', 300);
    app.set('slack.allowedUsers', ['U0AAAAAAA']);
    const cliAgain = new SettingsService(new FileConfigStore(home));
    expect(cliAgain.get('cluster.pollSeconds')).toBe(300);
    expect(cliAgain.get('slack.allowedUsers')).toEqual(['U0AAAAAAA']);
    expect(cliAgain.isSet('cluster.host')).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'))).toEqual({ cluster: { pollSeconds: 300 }, slack: { allowedUsers: ['U0AAAAAAA'] } });
  });

  it('writes the file byte for byte as the CLI does', () => {
    const a = makeHome('estore');
    const b = makeHome('estore');
    const data = { cluster: { host: 'hpc', port: 2222 }, notify: { tray: false } };
    new ElectronStoreConfigStore(a).write(data);
    new FileConfigStore(b).write(data);
    expect(fs.readFileSync(path.join(a, 'config.json'), 'utf8')).toBe(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  });

  it('sees changes the CLI makes while the app runs', () => {
    const home = makeHome('estore');
    const app = new SettingsService(new ElectronStoreConfigStore(home));
    expect(app.get('cluster.pollSeconds')).toBe(60);
    new SettingsService(new FileConfigStore(home)).set('cluster.pollSeconds', 45);
    expect(app.get('cluster.pollSeconds')).toBe(45);
  });

  it('reports a corrupt file as CONFIG_CORRUPT and moves it aside, kept, like the CLI', () => {
    const home = makeHome('estore');
    fs.writeFileSync(path.join(home, 'config.json'), '{"cluster": {"host": "hpc",');
    const store = new ElectronStoreConfigStore(home);
    let err: unknown;
    try {
      store.read();
    } catch (e) {
      err = e;
    }
    expect(isRelayError(err, 'CONFIG_CORRUPT')).toBe(true);

    const settings = new SettingsService(new ElectronStoreConfigStore(home));
    expect(settings.get('cluster.pollSeconds')).toBe(60);
    const [problem] = settings.lastProblems();
    expect(problem?.message).toMatch(/could not be read and was moved to .*config\.json\.corrupt-/);
    const aside = fs.readdirSync(home).filter((f) => f.startsWith('config.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(home, aside[0]!), 'utf8')).toBe('{"cluster": {"host": "hpc",');
    // And the store works again afterwards.
    settings.set('cluster.host', 'hpc');
    expect(new SettingsService(new FileConfigStore(home)).get('cluster.host')).toBe('hpc');
  });

  it.each(['[1, 2]', '"text"', 'null', '42', ''])('reads %j exactly as the CLI does', (content) => {
    const home = makeHome('estore');
    fs.writeFileSync(path.join(home, 'config.json'), content);
    const outcome = (read: () => unknown) => {
      try {
        return { value: read() };
      } catch (e) {
        return { error: isRelayError(e) ? e.code : String(e) };
      }
    };
    expect(outcome(() => new ElectronStoreConfigStore(home).read())).toEqual(outcome(() => new FileConfigStore(home).read()));
  });
});
