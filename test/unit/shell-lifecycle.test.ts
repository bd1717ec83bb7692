/** Quit, sleep, start at login and the tray's actions: the small modules main/index.ts wires together. */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { App, PowerMonitor } from 'electron';
import { installGracefulQuit } from '../../main/app/graceful-quit.js';
import { HIDDEN_ARG, applyLoginItem, startedHidden } from '../../main/app/login-item.js';
import { wirePower } from '../../main/app/power.js';
import { CLUSTER_LINK_SERVICE, createTrayActions } from '../../main/app/tray-actions.js';
import type { TrayActionDeps } from '../../main/app/tray-actions.js';
import type { TrayAction } from '../../main/app/tray-menu.js';
import type { Core } from '../../main/core/index.js';
import { silentLogger } from '../../main/core/log/logger.js';
import { clusterLinkService } from '../../main/core/runtime/runtime.js';

afterEach(() => {
  vi.useRealTimers();
});

class QuittingApp extends EventEmitter {
  quits = 0;
  quit(): void {
    this.quits += 1;
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.emit('quit');
  }
  asApp(): Pick<App, 'on' | 'quit'> {
    return this as unknown as Pick<App, 'on' | 'quit'>;
  }
}

describe('installGracefulQuit', () => {
  it('lets the services stop first, then quits for real', async () => {
    const app = new QuittingApp();
    const order: string[] = [];
    installGracefulQuit(app.asApp(), { shutdown: async () => { order.push('shutdown'); }, timeoutMs: 5_000, onTimeout: () => order.push('timeout') });
    const quit = new Promise<void>((resolve) => app.once('quit', () => resolve()));
    app.quit();
    app.quit(); // a second Cmd+Q while stopping changes nothing
    await quit;
    expect(order).toEqual(['shutdown']);
    expect(app.quits).toBe(3);
  });

  it('quits anyway when the services do not stop in time', async () => {
    vi.useFakeTimers();
    const app = new QuittingApp();
    let timedOut = false;
    installGracefulQuit(app.asApp(), { shutdown: () => new Promise(() => undefined), timeoutMs: 5_000, onTimeout: () => (timedOut = true) });
    let quit = false;
    app.once('quit', () => (quit = true));
    app.quit();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(quit).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(timedOut).toBe(true);
    expect(quit).toBe(true);
  });

  it('quits when stopping fails', async () => {
    const app = new QuittingApp();
    installGracefulQuit(app.asApp(), { shutdown: () => Promise.reject(new Error('boom')), timeoutMs: 5_000, onTimeout: () => undefined });
    const quit = new Promise<void>((resolve) => app.once('quit', () => resolve()));
    app.quit();
    await quit;
  });
});

describe('wirePower', () => {
  it('checks links on resume and unlock, one check at a time', async () => {
    const power = new EventEmitter();
    let release: () => void = () => undefined;
    let checks = 0;
    wirePower(power as unknown as Pick<PowerMonitor, 'on'>, () => {
      checks += 1;
      return new Promise<void>((resolve) => (release = resolve));
    }, silentLogger);
    power.emit('suspend');
    expect(checks).toBe(0);
    power.emit('resume');
    power.emit('unlock-screen');
    expect(checks).toBe(1);
    release();
    await new Promise((resolve) => setTimeout(resolve, 0));
    power.emit('unlock-screen');
    expect(checks).toBe(2);
  });

  it('survives a failed check', async () => {
    const power = new EventEmitter();
    let checks = 0;
    wirePower(power as unknown as Pick<PowerMonitor, 'on'>, async () => {
      checks += 1;
      throw new Error('no network');
    }, silentLogger);
    power.emit('resume');
    await new Promise((resolve) => setTimeout(resolve, 0));
    power.emit('resume');
    expect(checks).toBe(2);
  });
});

describe('start at login', () => {
  const app = (isPackaged: boolean) => {
    const calls: unknown[] = [];
    return { calls, app: { isPackaged, setLoginItemSettings: (s: unknown) => calls.push(s) } as unknown as Pick<App, 'isPackaged' | 'setLoginItemSettings'> };
  };

  it('registers a hidden login item for a packaged app on macOS and Windows', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      const { app: a, calls } = app(true);
      expect(applyLoginItem(a, platform, true)).toBe(true);
      expect(calls).toEqual([{ openAtLogin: true, openAsHidden: true, args: [HIDDEN_ARG] }]);
    }
  });

  it('never registers a checkout, nor on Linux', () => {
    const dev = app(false);
    expect(applyLoginItem(dev.app, 'darwin', true)).toBe(false);
    const linux = app(true);
    expect(applyLoginItem(linux.app, 'linux', true)).toBe(false);
    expect([...dev.calls, ...linux.calls]).toEqual([]);
  });

  it('starts hidden with --hidden, or when macOS opened it at login', () => {
    const settings = (wasOpenedAtLogin: boolean) => ({ getLoginItemSettings: () => ({ wasOpenedAsHidden: false, wasOpenedAtLogin }) }) as unknown as Pick<App, 'getLoginItemSettings'>;
    expect(startedHidden(settings(false), ['electron', '.', HIDDEN_ARG], 'win32')).toBe(true);
    expect(startedHidden(settings(false), ['electron', '.'], 'win32')).toBe(false);
    expect(startedHidden(settings(true), ['HPC Relay'], 'darwin')).toBe(true);
    expect(startedHidden(settings(false), ['HPC Relay'], 'darwin')).toBe(false);
  });
});

describe('tray actions', () => {
  function setup(restartWorks = true) {
    const log: string[] = [];
    const runtime = {
      restartService: async (name: string) => { log.push(`restart ${name}`); return restartWorks; },
      stopService: async (name: string) => { log.push(`stop ${name}`); return true; },
      refresh: async () => { log.push('refresh'); return []; },
    };
    const deps: TrayActionDeps = {
      showWindow: () => log.push('show'),
      navigate: (t) => log.push(`navigate ${JSON.stringify(t)}`),
      dispatch: (e) => log.push(`dispatch ${JSON.stringify(e)}`),
      pauseNotifications: () => log.push('pause'),
      runtime: async () => runtime,
      quit: () => log.push('quit'),
      onError: (what) => log.push(`error ${what}`),
    };
    return { act: createTrayActions(deps), log };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it.each<[TrayAction, string[]]>([
    [{ type: 'open' }, ['show']],
    [{ type: 'open-job', jobId: '12' }, ['dispatch {"type":"job-seen","jobId":"12"}', 'navigate {"view":"job","jobId":"12"}']],
    [{ type: 'open-jobs' }, ['navigate {"view":"jobs"}']],
    [{ type: 'setup' }, ['navigate {"view":"setup"}']],
    [{ type: 'doctor' }, ['navigate {"view":"doctor"}']],
    [{ type: 'pause-notifications' }, ['pause']],
    [{ type: 'resume-notifications' }, ['dispatch {"type":"unpause"}']],
    [{ type: 'quit' }, ['quit']],
    [{ type: 'connect' }, ['restart cluster-link']],
    [{ type: 'disconnect' }, ['stop cluster-link']],
  ])('%j', async (action, expected) => {
    const { act, log } = setup();
    act(action);
    await settle();
    expect(log).toEqual(expected);
  });

  it('starts idle services when the link never ran', async () => {
    const { act, log } = setup(false);
    act({ type: 'connect' });
    await settle();
    expect(log).toEqual(['restart cluster-link', 'refresh']);
  });

  it('names the service the runtime runs the link as', async () => {
    const core = {
      settings: { settings: () => ({ cluster: { host: 'hpc' } }) },
      cluster: () => ({ ssh: Object.assign(new EventEmitter(), { state: { kind: 'disconnected' } }), close: () => undefined }),
      logger: silentLogger,
    } as unknown as Core;
    const service = await clusterLinkService(core);
    expect(service?.name).toBe(CLUSTER_LINK_SERVICE);
  });
});
