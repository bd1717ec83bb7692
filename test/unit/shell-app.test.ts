/**
 * The composition root (main/index.ts) run against a mocked `electron`: the Electron binary
 * cannot run here, so this checks the wiring with the real core behind it — a settings home
 * from HPC_RELAY_HOME, the electron-store file, the doctor, the tray fed by the core's status,
 * notifications routed to the window, power events, single instance and a bounded quit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { invokeContract } from '../../preload/contract.js';
import type * as CoreModule from '../../main/core/index.js';
import type * as ResourcePaths from '../../main/app/resource-paths.js';
import type { Core, CoreDeps } from '../../main/core/index.js';
import { Runtime } from '../../main/core/runtime/runtime.js';
import type { FakeElectron, FakeMenuItem, FakeTray } from '../helpers/fake-electron.js';

const fake = vi.hoisted(() => ({
  electron: null as unknown as FakeElectron,
  core: null as Core | null,
  home: '',
}));

vi.mock('electron', async () => {
  const { createFakeElectron, routeElectronForPackages } = await import('../helpers/fake-electron.js');
  fake.electron = createFakeElectron();
  routeElectronForPackages(['electron-store'], fake.electron);
  return fake.electron;
});

// The real core, caught on its way out so the test can play the notify dispatcher.
vi.mock('../../main/core/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof CoreModule>();
  return {
    ...original,
    createCore: (deps: CoreDeps) => {
      fake.core = original.createCore(deps);
      return fake.core;
    },
  };
});

// The app hands better-sqlite3 the Electron build of its binding; this test runs in Node, where
// the build in node_modules is the right one (the path choice itself is tested in shell-native).
vi.mock('../../main/app/resource-paths.js', async (importOriginal) => ({
  ...(await importOriginal<typeof ResourcePaths>()),
  sqliteNativeBinding: () => undefined,
}));

const resume = vi.spyOn(Runtime.prototype, 'resume');
const stop = vi.spyOn(Runtime.prototype, 'stop');
const previousHome = process.env['HPC_RELAY_HOME'];

function mainWindow() {
  const window = fake.electron.windows[0];
  if (!window) throw new Error('no window was created');
  return window;
}

function tray(): FakeTray {
  const t = fake.electron.trays[0];
  if (!t) throw new Error('no tray');
  return t;
}

function labels(menu: FakeMenuItem[]): string[] {
  return menu.filter((item) => item.label).map((item) => item.label ?? '');
}

function click(label: string | RegExp): void {
  const item = tray().menu.find((i) => (typeof label === 'string' ? i.label === label : label.test(i.label ?? '')));
  if (!item?.click) throw new Error(`no menu item ${String(label)} in ${labels(tray().menu).join(' | ')}`);
  item.click();
}

async function callFromWindow(channel: string, ...args: unknown[]): Promise<unknown> {
  const handler = fake.electron.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  const window = mainWindow();
  const event = { sender: window.webContents, senderFrame: { url: window.loaded, parent: null } };
  return handler(event, ...args);
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  const { makeHome } = await import('../helpers/temp-home.js');
  fake.home = makeHome('shell-app');
  process.env['HPC_RELAY_HOME'] = fake.home;
  await import('../../main/index.js');
  await until(() => fake.core !== null && fake.electron.trays.length === 1, 'the core and the tray');
});

afterAll(() => {
  if (previousHome === undefined) delete process.env['HPC_RELAY_HOME'];
  else process.env['HPC_RELAY_HOME'] = previousHome;
});

describe('main/index.ts', () => {
  it('uses HPC_RELAY_HOME as userData, under the product name', () => {
    expect(fake.electron.app.getPath('userData')).toBe(fake.home);
    expect(fake.electron.app.name).toBe('HPC Relay');
    expect(fake.core?.home).toBe(fake.home);
  });

  it('turns the sandbox on for every renderer', () => {
    expect(fake.electron.app.sandboxEnabled).toBe(true);
  });

  it('opens one locked-down window on the built renderer', () => {
    expect(fake.electron.windows).toHaveLength(1);
    const window = mainWindow();
    expect(window.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
    });
    expect(window.options.webPreferences['preload']).toBe(join('/repo', 'out', 'preload', 'index.cjs'));
    expect(window.loaded).toBe(pathToFileURL(join('/repo', 'out', 'renderer', 'index.html')).href);
  });

  it('registers a handler for every contract channel, answering our window from the core', async () => {
    expect([...fake.electron.handlers.keys()].sort()).toEqual(Object.keys(invokeContract).sort());
    await expect(callFromWindow('app:info')).resolves.toEqual({ ok: true, value: { version: '0.1.0', platform: process.platform } });
    const doctor = (await callFromWindow('doctor:run')) as { ok: boolean; value: { id: string; ok: boolean; title?: string }[] };
    expect(doctor.ok).toBe(true);
    expect(doctor.value.map((c) => c.id)).toEqual(expect.arrayContaining(['settings.valid', 'secrets.keychain', 'ssh.connect', 'slurm.sinfo']));
    expect(doctor.value.find((c) => c.id === 'ssh.connect')).toMatchObject({ ok: false, title: 'SSH to the login node' });
    await expect(callFromWindow('cluster:partitions')).resolves.toMatchObject({ ok: false, error: { code: 'SSH_NOT_CONFIGURED' } });
    await expect(callFromWindow('secrets:status')).resolves.toMatchObject({ ok: true, value: expect.arrayContaining([expect.objectContaining({ name: 'slack-bot-token' })]) });
  });

  it('writes settings through electron-store to the config.json the CLI reads, validated by the core', async () => {
    await expect(callFromWindow('settings:set', 'notify.tray', false)).resolves.toMatchObject({ ok: true, value: { key: 'notify.tray', value: false, isSet: true } });
    expect(JSON.parse(readFileSync(join(fake.home, 'config.json'), 'utf8'))).toEqual({ notify: { tray: false } });
    await expect(callFromWindow('settings:set', 'cluster.port', 'twenty-two')).resolves.toMatchObject({ ok: false, error: { code: 'CONFIG_INVALID_VALUE' } });
    await expect(callFromWindow('settings:unset', 'notify.tray')).resolves.toMatchObject({ ok: true, value: { value: true, isSet: false } });
    const view = (await callFromWindow('settings:get')) as { value: { path: string; entries: { key: string }[] } };
    expect(view.value.path).toBe(join(fake.home, 'config.json'));
    expect(view.value.entries.map((e) => e.key)).toContain('cluster.host');
  });

  it('hides the dock icon only on macOS, and registers no login item from a checkout', () => {
    expect(fake.electron.app.dockHidden).toBe(process.platform === 'darwin');
    expect(fake.electron.app.loginItem).toBeNull();
  });

  it('puts a tray icon with status lines and actions from the checkout assets', () => {
    expect(tray().image.path).toMatch(/^\/repo[/\\]assets[/\\]tray[/\\]tray(Template)?\.png$/);
    expect(labels(tray().menu)).toEqual([
      'Cluster: off',
      'Slack: off',
      'Model: off',
      'Jobs: not tracked yet',
      'Set up the cluster…',
      'Open HPC Relay',
      'Run Doctor…',
      'Pause notifications for 1 hour',
      'Quit HPC Relay',
    ]);
    expect(tray().menu.filter((i) => /^(Cluster|Slack|Model|Jobs):/.test(i.label ?? '')).every((i) => i.enabled === false)).toBe(true);
  });

  it('follows the SSH link: a cluster set in the window connects, a refused link needs attention', async () => {
    // Port 1 on the loopback refuses at once: the link keeper starts, fails and says so.
    await callFromWindow('settings:set', 'cluster.port', 1);
    await callFromWindow('settings:set', 'cluster.host', '127.0.0.1');
    await until(() => labels(tray().menu).includes('Cluster: disconnected'), 'the tray to show the refused link');
    expect(tray().image.path).toMatch(/trayAttention(Template)?\.png$/);
    expect(labels(tray().menu)).toContain('Connect to the cluster');
    const status = (await callFromWindow('status:get')) as { value: { ssh: { state: string; detail: string | null } } };
    expect(status.value.ssh.state).toBe('disconnected');
    // The window heard about it too.
    expect(mainWindow().webContents.sent.some(([channel, payload]) => channel === 'status:changed' && (payload as { ssh: { state: string } }).ssh.state === 'disconnected')).toBe(true);
  });

  it('tells the window when a job changes state (data:changed), gathered, so its screens need not poll', async () => {
    const window = mainWindow();
    const tracker = fake.core?.jobs().tracker;
    if (!tracker) throw new Error('no core');
    tracker.emit('transition', { jobKey: '4243', from: 'PENDING', to: 'RUNNING', source: 'squeue', at: Date.now() });
    tracker.emit('transition', { jobKey: '4243', from: 'RUNNING', to: 'COMPLETED', source: 'sacct', at: Date.now() });
    const changed = () => window.webContents.sent.filter(([channel]) => channel === 'data:changed');
    await until(() => changed().length > 0, 'the window to hear of the job');
    expect(changed()).toEqual([['data:changed', { jobIds: ['4243'], approvals: false }]]);
  });

  it('routes a job notification click to that job in the window', async () => {
    const window = mainWindow();
    window.hide();
    await fake.core?.notifier?.notify({ id: 'n1', title: 'train-cnn FAILED', body: 'exit 3 after 2 min', target: 'job:4242', outcome: 'failed' });
    const shown = fake.electron.notifications.at(-1);
    expect(shown?.options).toMatchObject({ title: 'train-cnn FAILED', body: 'exit 3 after 2 min' });
    expect(tray().image.path).toMatch(/tray(Attention|Failed)(Template)?\.png$/);
    // The job service runs (the cluster is set): the tray counts the unseen failure beside its jobs.
    expect(labels(tray().menu)).toContain('Jobs: 0 running, 1 failed');

    // The page has not asked for navigations yet: the target waits for it.
    shown?.emit('click');
    expect(window.visible).toBe(true);
    await expect(callFromWindow('navigation:take')).resolves.toEqual({ ok: true, value: { view: 'job', jobId: '4242' } });
    // Now it listens: the next one is pushed.
    click('Run Doctor…');
    expect(window.webContents.sent.at(-1)).toEqual(['navigate', { view: 'doctor' }]);
  });

  it('counts unseen job ends on the badge until the window is looked at', async () => {
    const window = mainWindow();
    await fake.core?.notifier?.notify({ id: 'n2', title: 'sweep-3 COMPLETED', body: 'val acc 0.91', target: 'job:77', outcome: 'succeeded' });
    const badge = process.platform === 'darwin' ? () => tray().title : () => String(fake.electron.app.badgeCount);
    expect(badge()).toMatch(/1/);
    window.focus();
    expect(fake.electron.app.badgeCount).toBe(0);
  });

  it('pauses notifications for an hour from the tray', async () => {
    const before = fake.electron.notifications.length;
    click('Pause notifications for 1 hour');
    expect(labels(tray().menu).some((l) => /^Resume notifications \(paused until /.test(l))).toBe(true);
    await fake.core?.notifier?.notify({ id: 'n3', title: 'quiet', body: 'not shown', target: 'job:78', outcome: 'succeeded' });
    expect(fake.electron.notifications.length).toBe(before);
    click(/^Resume notifications/);
    await fake.core?.notifier?.notify({ id: 'n4', title: 'loud', body: 'shown', target: 'job:79', outcome: 'succeeded' });
    expect(fake.electron.notifications.length).toBe(before + 1);
  });

  it('checks links after sleep, once for a resume and an unlock together', async () => {
    resume.mockClear();
    fake.electron.powerMonitor.emit('suspend');
    fake.electron.powerMonitor.emit('resume');
    fake.electron.powerMonitor.emit('unlock-screen');
    await until(() => resume.mock.calls.length > 0, 'runtime.resume');
    expect(resume).toHaveBeenCalledTimes(1);
  });

  it('shows the existing window when a second instance starts', () => {
    const window = mainWindow();
    window.hide();
    fake.electron.app.emit('second-instance');
    expect(window.visible).toBe(true);
    expect(fake.electron.windows).toHaveLength(1);
  });

  it('hides the window on close and keeps running; only Quit ends the app, after the services stop', async () => {
    const window = mainWindow();
    let prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    fake.electron.app.emit('window-all-closed');
    expect(fake.electron.app.quitCalls).toBe(0);

    click('Open HPC Relay');
    expect(window.visible).toBe(true);

    const quit = new Promise<void>((resolve) => fake.electron.app.once('quit', () => resolve()));
    click('Quit HPC Relay');
    await quit;
    expect(stop).toHaveBeenCalledTimes(1);
    // The first before-quit waited for the services; the second one went through.
    expect(fake.electron.app.quitCalls).toBe(2);
    expect(tray().destroyed).toBe(true);
    prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(false);
  });
});
