/**
 * The composition root (main/index.ts) run against a mocked `electron`: the Electron binary
 * cannot run here, so this checks the wiring — secure window, hide-on-close, tray menu,
 * single instance, and a handler for every contract channel answering real data.
 */
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { invokeContract } from '../../preload/contract.js';

interface FakeAppState extends EventEmitter {
  quitCalls: number;
  sandboxEnabled: boolean;
}

// Filled in by the electron mock below, which runs when main/index.ts first imports electron.
const fake = vi.hoisted(() => ({
  app: null as unknown as FakeAppState,
  windows: [] as unknown[],
  trays: [] as unknown[],
  handlers: new Map<string, (...args: unknown[]) => unknown>(),
}));

vi.mock('electron', async () => {
  // Imported here: the factory is hoisted above this file's own imports.
  const { EventEmitter } = await import('node:events');
  class FakeApp extends EventEmitter {
    isPackaged = false;
    quitCalls = 0;
    sandboxEnabled = false;
    enableSandbox(): void {
      this.sandboxEnabled = true;
    }
    setAppUserModelId(): void {}
    requestSingleInstanceLock(): boolean {
      return true;
    }
    getVersion(): string {
      return '0.1.0';
    }
    getAppPath(): string {
      return '/repo';
    }
    whenReady(): Promise<void> {
      return Promise.resolve();
    }
    quit(): void {
      this.quitCalls += 1;
      this.emit('before-quit');
    }
    exit(): void {}
  }
  fake.app = new FakeApp();
  class BrowserWindow extends EventEmitter {
    readonly webContents = Object.assign(new EventEmitter(), { isDestroyed: () => false, id: 1 });
    visible = false;
    loaded: string | null = null;
    constructor(readonly options: Record<string, unknown>) {
      super();
      fake.windows.push(this);
    }
    loadURL(url: string): Promise<void> {
      this.loaded = url;
      return Promise.resolve();
    }
    show(): void {
      this.visible = true;
    }
    hide(): void {
      this.visible = false;
    }
    focus(): void {}
    restore(): void {}
    isMinimized(): boolean {
      return false;
    }
    isDestroyed(): boolean {
      return false;
    }
  }
  class Tray extends EventEmitter {
    menu: unknown = null;
    constructor(readonly image: unknown) {
      super();
      fake.trays.push(this);
    }
    setToolTip(): void {}
    setContextMenu(menu: unknown): void {
      this.menu = menu;
    }
    destroy(): void {}
  }
  return {
    app: fake.app,
    BrowserWindow,
    Tray,
    Menu: { buildFromTemplate: (template: unknown) => template },
    nativeImage: { createFromPath: (path: string) => ({ path }) },
    shell: { openExternal: () => Promise.resolve() },
    ipcMain: { handle: (channel: string, fn: (...args: unknown[]) => unknown) => fake.handlers.set(channel, fn), removeHandler: () => undefined },
  };
});

interface FakeWindow extends EventEmitter {
  options: { webPreferences: Record<string, unknown> };
  visible: boolean;
  loaded: string | null;
  webContents: EventEmitter;
}
interface FakeTray extends EventEmitter {
  image: { path: string };
  menu: { label?: string; type?: string; click?: () => void }[];
}

function mainWindow(): FakeWindow {
  const window = fake.windows[0] as FakeWindow | undefined;
  if (!window) throw new Error('no window was created');
  return window;
}

function callFromWindow(channel: string): Promise<unknown> {
  const handler = fake.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  const window = mainWindow();
  const event = { sender: window.webContents, senderFrame: { url: window.loaded, parent: null } };
  return Promise.resolve(handler(event));
}

beforeAll(async () => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  await import('../../main/index.js');
  await new Promise((resolve) => setTimeout(resolve, 0));
});

describe('main/index.ts', () => {
  it('turns the sandbox on for every renderer', () => {
    expect(fake.app.sandboxEnabled).toBe(true);
  });

  it('opens one locked-down window on the built renderer', () => {
    expect(fake.windows).toHaveLength(1);
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

  it('registers a handler for every contract channel, answering our window', async () => {
    expect([...fake.handlers.keys()].sort()).toEqual(Object.keys(invokeContract).sort());
    await expect(callFromWindow('app:info')).resolves.toEqual({ ok: true, value: { version: '0.1.0', platform: process.platform } });
    const doctor = (await callFromWindow('doctor:run')) as { ok: boolean; value: { id: string; ok: boolean }[] };
    expect(doctor.ok).toBe(true);
    expect(doctor.value.map((c) => c.id)).toEqual(['keychain']);
    await expect(callFromWindow('cluster:partitions')).resolves.toMatchObject({ ok: false, error: { code: 'SSH_NOT_CONFIGURED' } });
  });

  it('puts a tray icon with Open and Quit from the checkout assets', () => {
    const tray = fake.trays[0] as FakeTray;
    expect(tray.image.path).toMatch(/^\/repo[/\\]assets[/\\]tray[/\\]tray(Template)?\.png$/);
    expect(tray.menu.filter((item) => item.label).map((item) => item.label)).toEqual(['Open HPC Relay', 'Quit HPC Relay']);
  });

  it('hides the window on close and keeps running; only Quit ends the app', () => {
    const window = mainWindow();
    window.emit('ready-to-show');
    expect(window.visible).toBe(true);

    let prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(window.visible).toBe(false);
    expect(fake.app.quitCalls).toBe(0);

    const tray = fake.trays[0] as FakeTray;
    tray.menu.find((item) => item.label === 'Open HPC Relay')?.click?.();
    expect(window.visible).toBe(true);

    tray.menu.find((item) => item.label === 'Quit HPC Relay')?.click?.();
    expect(fake.app.quitCalls).toBe(1);
    prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(false);
  });
});
