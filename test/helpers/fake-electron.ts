/**
 * A fake `electron` main-process module for shell tests: the Electron binary cannot run here.
 * It records what the shell does (windows, trays, menus, notifications, dialogs, IPC handlers)
 * and lets a test play the OS (emit power events, click a notification, answer a dialog).
 *
 * Use it from a test file:
 *
 *   const fake = vi.hoisted(() => ({ electron: null as unknown as FakeElectron }));
 *   vi.mock('electron', async () => {
 *     const { createFakeElectron } = await import('../helpers/fake-electron.js');
 *     fake.electron = createFakeElectron();
 *     return fake.electron;
 *   });
 *
 * vi.mock only reaches modules Vitest transforms (ours). Packages in node_modules are loaded by
 * Node itself, so electron-store's own `import electron from 'electron'` would find the real
 * package, which throws without its binary. `routeElectronForPackages` adds a Node loader hook
 * that hands those packages this same fake instead.
 */
import { EventEmitter } from 'node:events';
import { register } from 'node:module';

type Listener = (...args: unknown[]) => unknown;

export interface FakeMenuItem {
  label?: string;
  type?: string;
  enabled?: boolean;
  click?: () => void;
}

export class FakeWebContents extends EventEmitter {
  private static next = 1;
  readonly id = FakeWebContents.next++;
  destroyed = false;
  sent: [string, unknown][] = [];
  loading = false;
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
  isLoading(): boolean {
    return this.loading;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  destroyed = false;
  focused = 0;
  loaded: string | null = null;
  constructor(readonly options: { webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    super();
    FakeBrowserWindow.all.push(this);
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
  focus(): void {
    this.focused += 1;
    this.emit('focus');
  }
  restore(): void {}
  isMinimized(): boolean {
    return false;
  }
  isVisible(): boolean {
    return this.visible;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  /** Like Electron: a window closed for real emits `closed` and its WebContents is destroyed. */
  close(): void {
    if (this.destroyed) return;
    let prevented = false;
    this.emit('close', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.destroyed = true;
    this.visible = false;
    this.webContents.destroyed = true;
    this.webContents.emit('destroyed');
    this.emit('closed');
  }
}

export class FakeTray extends EventEmitter {
  static all: FakeTray[] = [];
  image: { path: string };
  menu: FakeMenuItem[] = [];
  tooltip = '';
  title = '';
  destroyed = false;
  constructor(image: { path: string }) {
    super();
    this.image = image;
    FakeTray.all.push(this);
  }
  setImage(image: { path: string }): void {
    this.image = image;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setTitle(text: string): void {
    this.title = text;
  }
  setContextMenu(menu: FakeMenuItem[]): void {
    this.menu = menu;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

export class FakeNotification extends EventEmitter {
  static all: FakeNotification[] = [];
  static supported = true;
  shown = false;
  constructor(readonly options: { title: string; body: string }) {
    super();
    FakeNotification.all.push(this);
  }
  static isSupported(): boolean {
    return FakeNotification.supported;
  }
  show(): void {
    this.shown = true;
  }
}

export class FakeApp extends EventEmitter {
  isPackaged = false;
  name = 'hpc-relay';
  paths = new Map<string, string>();
  quitCalls = 0;
  exitCode: number | null = null;
  sandboxEnabled = false;
  badgeCount = 0;
  dockHidden = false;
  focusCalls = 0;
  singleInstance = true;
  loginItem: Record<string, unknown> | null = null;
  readonly dock = { hide: () => (this.dockHidden = true) };
  enableSandbox(): void {
    this.sandboxEnabled = true;
  }
  setAppUserModelId(): void {}
  setName(name: string): void {
    this.name = name;
  }
  getName(): string {
    return this.name;
  }
  setPath(name: string, path: string): void {
    this.paths.set(name, path);
  }
  getPath(name: string): string {
    const path = this.paths.get(name);
    if (!path) throw new Error(`fake app: no path for ${name}`);
    return path;
  }
  requestSingleInstanceLock(): boolean {
    return this.singleInstance;
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
  focus(): void {
    this.focusCalls += 1;
  }
  setBadgeCount(count: number): boolean {
    this.badgeCount = count;
    return true;
  }
  setLoginItemSettings(settings: Record<string, unknown>): void {
    this.loginItem = settings;
  }
  getLoginItemSettings(): { wasOpenedAsHidden: boolean; wasOpenedAtLogin: boolean } {
    return { wasOpenedAsHidden: false, wasOpenedAtLogin: false };
  }
  /** Like Electron: before-quit may be cancelled; otherwise will-quit, then quit. */
  quit(): void {
    this.quitCalls += 1;
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.emit('will-quit', { preventDefault: () => undefined });
    this.emit('quit');
  }
  exit(code = 0): void {
    this.exitCode = code;
  }
}

export interface DialogCall {
  parent: FakeBrowserWindow | null;
  options: { message: string; detail?: string; buttons?: string[]; defaultId?: number; cancelId?: number; signal?: AbortSignal };
}

export function createFakeElectron() {
  FakeBrowserWindow.all = [];
  FakeTray.all = [];
  FakeNotification.all = [];
  const app = new FakeApp();
  const handlers = new Map<string, Listener>();
  const dialogCalls: DialogCall[] = [];
  /** The button index the next message box answers with; a test may replace it with a pending promise. */
  const dialogAnswers: (number | Promise<number>)[] = [];
  const electron = {
    app,
    BrowserWindow: FakeBrowserWindow,
    Tray: FakeTray,
    Notification: FakeNotification,
    Menu: { buildFromTemplate: (template: FakeMenuItem[]) => template },
    nativeImage: { createFromPath: (path: string) => ({ path }) },
    shell: { openExternal: () => Promise.resolve(), openPath: () => Promise.resolve('') },
    powerMonitor: new EventEmitter(),
    ipcMain: Object.assign(new EventEmitter(), {
      handle: (channel: string, fn: Listener) => {
        if (handlers.has(channel)) throw new Error(`second handler for ${channel}`);
        handlers.set(channel, fn);
      },
      removeHandler: (channel: string) => handlers.delete(channel),
    }),
    dialog: {
      showMessageBox: (...args: unknown[]): Promise<{ response: number }> => {
        const [parent, options] = args.length === 2 ? args : [null, args[0]];
        const call = { parent: parent as FakeBrowserWindow | null, options: options as DialogCall['options'] };
        dialogCalls.push(call);
        const answer = Promise.resolve(dialogAnswers.shift() ?? call.options.cancelId ?? 0);
        // Like Electron: an aborted message box closes with its cancel button.
        const aborted = new Promise<number>((resolve) => call.options.signal?.addEventListener('abort', () => resolve(call.options.cancelId ?? 0)));
        return Promise.race([answer, aborted]).then((response) => ({ response }));
      },
    },
    // Test-side handles.
    handlers,
    dialogCalls,
    dialogAnswers,
    windows: FakeBrowserWindow.all,
    trays: FakeTray.all,
    notifications: FakeNotification.all,
  };
  return electron;
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;

const GLOBAL_KEY = '__hpcRelayFakeElectron';

/**
 * Makes packages loaded by Node itself (not transformed by Vitest) get `fake` for `electron`:
 * a loader hook resolves their `import 'electron'` to a module that exports the fake.
 */
export function routeElectronForPackages(packages: readonly string[], fake: object): void {
  (globalThis as Record<string, unknown>)[GLOBAL_KEY] = fake;
  const fakeModule = `data:text/javascript,${encodeURIComponent(`const e = globalThis[${JSON.stringify(GLOBAL_KEY)}]; export default e;`)}`;
  const hooks = `
    const packages = ${JSON.stringify(packages.map((p) => `/node_modules/${p}/`))};
    export async function resolve(specifier, context, next) {
      if (specifier === 'electron' && context.parentURL && packages.some((p) => context.parentURL.includes(p))) {
        return { url: ${JSON.stringify(fakeModule)}, shortCircuit: true };
      }
      return next(specifier, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
