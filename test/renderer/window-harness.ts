/**
 * The app window in a real browser (Debian's Chromium) against the built renderer, with
 * `window.hpc` bound to a REAL core in this test process: every contract method of the app
 * window is a Playwright binding that calls the same handler functions main/index.ts registers
 * (main/ipc/window-handlers.ts), through the same argument check and error envelope
 * (main/ipc/invoke.ts). Only Electron's transport is replaced: a binding answers the page's top
 * frame only, as the shell's sender check does. Pushes (status:changed, navigate, data:changed)
 * are delivered with page.evaluate, the way webContents.send delivers them to the preload's
 * listeners; data:changed comes from the same change feed main/index.ts sends (main/ipc/changes.ts).
 */
import { invokeContract, pushContract } from '../../preload/contract.js';
import type { InvokeChannel, NavTarget, PushEvent, PushPayload } from '../../preload/contract.js';
import type { Page } from 'playwright-core';
import { createNavigator } from '../../main/app/navigator.js';
import type { Navigator } from '../../main/app/navigator.js';
import { createShellState } from '../../main/app/shell-state.js';
import type { ShellState } from '../../main/app/shell-state.js';
import type { Core } from '../../main/core/index.js';
import { systemClock } from '../../main/core/ports.js';
import type { Runtime } from '../../main/core/runtime/runtime.js';
import { watchChanges } from '../../main/ipc/changes.js';
import { invokeChecked } from '../../main/ipc/invoke.js';
import type { InvokeHandler } from '../../main/ipc/invoke.js';
import { windowHandlers } from '../../main/ipc/window-handlers.js';
import type { WindowHandlers } from '../../main/ipc/window-handlers.js';

export interface BoundWindow {
  handlers: WindowHandlers;
  navigator: Navigator;
  shell: ShellState;
  /** Channel names called, in order (for assertions). */
  calls: string[];
  /** Links main was asked to open in the system browser (shell.openExternal), in order. */
  opened: string[];
  /** Failures the handlers returned as `{ ok: false }`, with their code. */
  failures: { channel: string; code: string; message: string }[];
  push<E extends PushEvent>(event: E, payload: PushPayload<E>): Promise<void>;
  /**
   * Holds the answers to `channel` (a slow main process) until the returned release is called:
   * for the races between what the window loads and what the user types meanwhile.
   */
  hold(channel: InvokeChannel): () => void;
  dispose(): void;
}

const bindingName = (channel: string) => `__hpc_${channel.replace(/[^A-Za-z0-9]/g, '_')}`;

/** Binds window.hpc in `page` (call before page.goto) to handlers over `core` and `runtime`. */
export async function bindWindow(page: Page, core: Core, runtime: Runtime, opts: { windowUser?: string; refreshFallbackMs?: number } = {}): Promise<BoundWindow> {
  const calls: string[] = [];
  const held = new Map<string, Promise<void>>();
  const opened: string[] = [];
  const failures: BoundWindow['failures'] = [];
  let ready = false;

  const push = async <E extends PushEvent>(event: E, payload: PushPayload<E>): Promise<void> => {
    if (!ready || page.isClosed()) return;
    const checked = pushContract[event].payload.parse(payload);
    await page.evaluate(([e, p]) => (window as unknown as { __hpcPush?: (e: string, p: unknown) => void }).__hpcPush?.(e, p), [event, checked] as const).catch(() => undefined);
  };

  const shell = createShellState(core.status.snapshot(), systemClock, () => void push('status:changed', shell.status()));
  const unsubscribe = core.status.subscribe((status) => shell.dispatch({ type: 'status', status }));
  const navigator = createNavigator({ showWindow: () => undefined, send: (target: NavTarget) => void push('navigate', target) });
  // Job transitions and approval changes, as main/index.ts sends them to the window.
  const stopChanges = watchChanges(core, (change) => void push('data:changed', change));
  const handlers = windowHandlers({
    services: async () => ({ core, runtime }),
    appInfo: () => ({ version: '0.1.0', platform: process.platform, ...(opts.refreshFallbackMs ? { refreshFallbackMs: opts.refreshFallbackMs } : {}) }),
    status: () => shell.status(),
    navigator,
    // shell.openExternal: recorded instead of starting a browser.
    openExternal: async (url) => void opened.push(url),
    ...(opts.windowUser ? { windowUser: () => opts.windowUser ?? '' } : {}),
  });

  const windowChannels = (Object.keys(invokeContract) as InvokeChannel[]).filter((c) => invokeContract[c].audience === 'window') as (keyof WindowHandlers)[];
  for (const channel of windowChannels) {
    await page.exposeBinding(bindingName(channel), async (source, ...args: unknown[]) => {
      // The shell answers only our page's top frame (main/ipc/trusted-sender.ts).
      if (source.frame !== page.mainFrame()) throw new Error(`${channel}: sender is not trusted`);
      calls.push(channel);
      await held.get(channel);
      const handler = handlers[channel] as InvokeHandler<typeof channel>;
      const result = await invokeChecked(channel, handler, args, () => undefined);
      if (!result.ok) failures.push({ channel, code: result.error.code, message: result.error.message });
      return result;
    });
  }
  const methods = windowChannels.map((c) => [invokeContract[c].method, bindingName(c)] as const);
  const pushes = Object.entries(pushContract).map(([event, { method }]) => [method, event] as const);
  await page.addInitScript(
    ({ methods: m, pushes: p }) => {
      type Fn = (...args: unknown[]) => Promise<unknown>;
      const w = window as unknown as Record<string, unknown>;
      const listeners = new Map<string, Set<(payload: unknown) => void>>();
      const api: Record<string, unknown> = {};
      for (const [method, binding] of m) api[method] = (...args: unknown[]) => (w[binding] as Fn)(...args);
      for (const [method, event] of p) {
        api[method] = (listener: (payload: unknown) => void) => {
          const set = listeners.get(event) ?? new Set();
          set.add(listener);
          listeners.set(event, set);
          return () => set.delete(listener);
        };
      }
      Object.defineProperty(window, '__hpcPush', {
        value: (event: string, payload: unknown) => listeners.get(event)?.forEach((l) => l(payload)),
      });
      Object.defineProperty(window, 'hpc', { value: Object.freeze(api) });
    },
    { methods, pushes },
  );
  ready = true;
  return {
    handlers,
    navigator,
    shell,
    calls,
    opened,
    failures,
    push,
    hold: (channel) => {
      let release: () => void = () => undefined;
      held.set(channel, new Promise<void>((resolve) => { release = resolve; }));
      return () => {
        held.delete(channel);
        release();
      };
    },
    dispose: () => {
      ready = false;
      unsubscribe();
      stopChanges();
    },
  };
}
