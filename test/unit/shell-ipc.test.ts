/**
 * The IPC boundary with a mocked `electron`: the sender check, argument validation, error
 * envelopes, and that the contract, the preload and the handler registrations line up.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import type { InvokeHandlers } from '../../main/ipc/register-handlers.js';

const electron = vi.hoisted(() => {
  type Listener = (...args: unknown[]) => unknown;
  return {
    handlers: new Map<string, Listener>(),
    exposed: new Map<string, unknown>(),
    rendererListeners: new Map<string, Set<Listener>>(),
    invoke: vi.fn((..._args: unknown[]) => Promise.resolve({ ok: true, value: null })),
  };
});

vi.mock('electron', () => ({
  ipcMain: {
    handle: (channel: string, fn: (...args: unknown[]) => unknown) => {
      if (electron.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
      electron.handlers.set(channel, fn);
    },
    removeHandler: (channel: string) => electron.handlers.delete(channel),
  },
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => electron.exposed.set(key, api),
  },
  ipcRenderer: {
    invoke: electron.invoke,
    on: (channel: string, fn: (...args: unknown[]) => unknown) => {
      const set = electron.rendererListeners.get(channel) ?? new Set();
      set.add(fn);
      electron.rendererListeners.set(channel, set);
    },
    removeListener: (channel: string, fn: (...args: unknown[]) => unknown) => electron.rendererListeners.get(channel)?.delete(fn),
  },
}));

const { invokeContract, pushContract } = await import('../../preload/contract.js');
const { registerHandlers } = await import('../../main/ipc/register-handlers.js');
const { createSenderTrust } = await import('../../main/ipc/trusted-sender.js');
const { push } = await import('../../main/ipc/push.js');
const { RelayError } = await import('../../main/core/errors.js');

const ownUrl = 'file:///opt/hpc-relay/out/renderer/index.html';

class FakeContents extends EventEmitter {
  destroyed = false;
  sent: [string, unknown][] = [];
  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, payload: unknown): void {
    this.sent.push([channel, payload]);
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('destroyed');
  }
  asWebContents(): WebContents {
    return this as unknown as WebContents;
  }
}

function eventFrom(contents: FakeContents, url = ownUrl, parent: object | null = null): IpcMainInvokeEvent {
  return { sender: contents.asWebContents(), senderFrame: { url, parent } } as unknown as IpcMainInvokeEvent;
}

function invokeMain(channel: string, event: IpcMainInvokeEvent, ...args: unknown[]): Promise<unknown> {
  const handler = electron.handlers.get(channel);
  if (!handler) throw new Error(`no handler for ${channel}`);
  return Promise.resolve(handler(event, ...args));
}

let calls: string[];
let ours: FakeContents;
let unregister: () => void;
let warnings: MockInstance<typeof console.warn>;

beforeEach(() => {
  unregister?.();
  calls = [];
  // Rejections and handler failures are logged; keep them out of the test output, check some.
  warnings = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const trust = createSenderTrust((url) => url === ownUrl);
  ours = new FakeContents();
  trust.trust(ours.asWebContents());
  const handlers: InvokeHandlers = {
    'app:info': () => {
      calls.push('app:info');
      return { version: '0.1.0', platform: 'linux' };
    },
    'doctor:run': async () => {
      calls.push('doctor:run');
      return [{ id: 'keychain', ok: true, message: 'The keychain is reachable.', fix: null }];
    },
    'cluster:partitions': () => {
      calls.push('cluster:partitions');
      throw new RelayError('SSH_NOT_CONFIGURED', 'Not connected to a cluster yet.', { fix: 'Set up SSH first.' });
    },
  };
  unregister = registerHandlers({ handlers, isTrustedSender: trust.isTrusted });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('registerHandlers', () => {
  it('registers exactly one handler per contract channel', () => {
    expect([...electron.handlers.keys()].sort()).toEqual(Object.keys(invokeContract).sort());
  });

  it('answers our own window with the value in an ok envelope', async () => {
    await expect(invokeMain('app:info', eventFrom(ours))).resolves.toEqual({ ok: true, value: { version: '0.1.0', platform: 'linux' } });
    await expect(invokeMain('doctor:run', eventFrom(ours))).resolves.toMatchObject({ ok: true, value: [{ id: 'keychain' }] });
  });

  it('sends a coded error back as data, message and fix apart', async () => {
    await expect(invokeMain('cluster:partitions', eventFrom(ours))).resolves.toEqual({
      ok: false,
      error: { code: 'SSH_NOT_CONFIGURED', message: 'Not connected to a cluster yet.', fix: 'Set up SSH first.' },
    });
  });

  it('removes every handler again', () => {
    unregister();
    expect(electron.handlers.size).toBe(0);
    unregister = () => undefined;
  });
});

describe('trusted sender check', () => {
  it('rejects a WebContents we never registered, without running the handler', async () => {
    const stranger = new FakeContents();
    await expect(invokeMain('doctor:run', eventFrom(stranger))).rejects.toThrow(/not trusted/);
    expect(calls).toEqual([]);
    expect(warnings).toHaveBeenCalledWith(expect.stringMatching(/rejected doctor:run from untrusted sender/));
  });

  it('rejects our WebContents once it shows a foreign page', async () => {
    await expect(invokeMain('app:info', eventFrom(ours, 'https://evil.example/'))).rejects.toThrow(/not trusted/);
    await expect(invokeMain('app:info', eventFrom(ours, 'file:///tmp/other.html'))).rejects.toThrow(/not trusted/);
    expect(calls).toEqual([]);
  });

  it('rejects an iframe inside our page and a message with no frame', async () => {
    await expect(invokeMain('app:info', eventFrom(ours, ownUrl, { url: ownUrl }))).rejects.toThrow(/not trusted/);
    const frameless = { sender: ours.asWebContents(), senderFrame: null } as unknown as IpcMainInvokeEvent;
    await expect(invokeMain('app:info', frameless)).rejects.toThrow(/not trusted/);
    expect(calls).toEqual([]);
  });

  it('forgets a WebContents when it is destroyed', async () => {
    ours.destroy();
    await expect(invokeMain('app:info', eventFrom(ours))).rejects.toThrow(/not trusted/);
  });
});

describe('argument validation', () => {
  it('rejects arguments the contract does not allow, without running the handler', async () => {
    await expect(invokeMain('doctor:run', eventFrom(ours), { all: true })).rejects.toThrow(/doctor:run: invalid arguments/);
    await expect(invokeMain('app:info', eventFrom(ours), '../../etc/passwd')).rejects.toThrow(/invalid arguments/);
    expect(calls).toEqual([]);
  });
});

describe('preload', () => {
  it('exposes window.hpc with one function per contract entry and nothing else', async () => {
    await import('../../preload/index.js');
    const api = electron.exposed.get('hpc') as Record<string, unknown>;
    const methods = [...Object.values(invokeContract), ...Object.values(pushContract)].map((d) => d.method);
    expect(Object.keys(api).sort()).toEqual(methods.sort());
    for (const method of methods) expect(typeof api[method]).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
    expect([...electron.exposed.keys()]).toEqual(['hpc']);
  });

  it('maps each invoke method to its channel', async () => {
    await import('../../preload/index.js');
    const api = electron.exposed.get('hpc') as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const [channel, { method }] of Object.entries(invokeContract)) {
      electron.invoke.mockClear();
      await api[method]?.();
      expect(electron.invoke).toHaveBeenCalledWith(channel);
    }
  });

  it('hands listeners the payload only, and unsubscribes them', async () => {
    await import('../../preload/index.js');
    const api = electron.exposed.get('hpc') as Record<string, (listener: (p: unknown) => void) => () => void>;
    const received: unknown[] = [];
    const unsubscribe = api['onStatusChanged']?.((payload) => received.push(payload));
    const listeners = electron.rendererListeners.get('status:changed');
    expect(listeners?.size).toBe(1);
    const payload = { cluster: 'connected', slack: 'connecting' };
    for (const listener of listeners ?? []) listener({ sender: 'the IPC event must not leak' }, payload);
    expect(received).toEqual([payload]);
    unsubscribe?.();
    expect(electron.rendererListeners.get('status:changed')?.size).toBe(0);
  });
});

describe('push', () => {
  it('sends a checked payload to live WebContents only', () => {
    const gone = new FakeContents();
    gone.destroy();
    push([ours.asWebContents(), gone.asWebContents()], 'status:changed', { cluster: 'connected', slack: 'disconnected' });
    expect(ours.sent).toEqual([['status:changed', { cluster: 'connected', slack: 'disconnected' }]]);
    expect(gone.sent).toEqual([]);
  });

  it('refuses a payload that breaks the contract', () => {
    const wrong = { cluster: 'sideways', slack: 'connected' } as unknown as Parameters<typeof push<'status:changed'>>[2];
    expect(() => push([ours.asWebContents()], 'status:changed', wrong)).toThrow();
    expect(ours.sent).toEqual([]);
  });
});
