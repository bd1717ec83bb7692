/**
 * The IPC boundary with a mocked `electron`: the sender check, argument validation, error
 * envelopes, and that the contract, the preload and the handler registrations line up.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MockInstance } from 'vitest';
import type { IpcMainInvokeEvent, WebContents } from 'electron';
import type { InvokeHandlers } from '../../main/ipc/register-handlers.js';
import type { SenderCheck } from '../../main/ipc/trusted-sender.js';

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

const status = {
  ssh: { state: 'connected' as const, detail: null },
  slack: { state: 'off' as const, detail: null },
  model: { state: 'off' as const, detail: null },
  jobs: { known: true, running: [{ id: '41', name: 'train', state: 'RUNNING' }] },
  unseen: { succeeded: 1, failed: 0 },
  notificationsPausedUntil: null,
};

let calls: string[];
let ours: FakeContents;
let promptContents: FakeContents;
let promptUrl: string;
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
  promptContents = new FakeContents();
  const record = <T>(channel: string, value: T): T => {
    calls.push(channel);
    return value;
  };
  const notUnderTest = (channel: string): never => {
    calls.push(channel);
    throw new RelayError('USAGE', `${channel} is not under test here.`);
  };
  const statuses = [{ name: 'slack-bot-token', label: 'Slack bot token', source: 'unset' as const, detail: null }];
  const entry = { key: 'cluster.pollSeconds', value: 60, isSet: false, description: 'Seconds between checks.', expected: 'a number' };
  const handlers: InvokeHandlers = {
    'app:info': () => record('app:info', { version: '0.1.0', platform: 'linux' }),
    'status:get': () => record('status:get', status),
    'navigation:take': () => record('navigation:take', null),
    'doctor:run': async () => record('doctor:run', [{ id: 'keychain', ok: true, message: 'The keychain is reachable.', fix: null }]),
    'cluster:partitions': () => {
      calls.push('cluster:partitions');
      throw new RelayError('SSH_NOT_CONFIGURED', 'Not connected to a cluster yet.', { fix: 'Set up SSH first.' });
    },
    'settings:get': () => record('settings:get', { path: '/home/config.json', entries: [entry], problems: [] }),
    'settings:set': (key, value) => record('settings:set', { ...entry, key, value, isSet: true }),
    'settings:unset': (key) => record('settings:unset', { ...entry, key }),
    'secrets:status': () => record('secrets:status', statuses),
    'secrets:set': () => record('secrets:set', statuses),
    'secrets:delete': () => record('secrets:delete', statuses),
    // The window's feature channels: the boundary checks here are the same for every channel;
    // what they do is tested over a real core (shell-window-handlers, the renderer tests).
    'cluster:hosts': () => record('cluster:hosts', []),
    'cluster:test': (stage) => record('cluster:test', { stage, status: 'skipped' as const, message: 'not under test', fix: null }),
    'cluster:trustHostKey': () => record('cluster:trustHostKey', { stage: 'hostkey' as const, status: 'skipped' as const, message: 'not under test', fix: null }),
    'slack:manifest': () => record('slack:manifest', '{}'),
    'slack:check': () => record('slack:check', []),
    'model:check': () => record('model:check', { id: 'model.key', ok: true, message: 'not under test', fix: null }),
    'jobs:list': () => record('jobs:list', []),
    'jobs:refresh': () => record('jobs:refresh', []),
    'jobs:detail': () => notUnderTest('jobs:detail'),
    'jobs:log': () => record('jobs:log', { text: '', start: 0, nextOffset: 0, size: null }),
    'jobs:metrics': () => record('jobs:metrics', []),
    'jobs:cancel': () => notUnderTest('jobs:cancel'),
    'jobs:resubmit': (jobId) => record('jobs:resubmit', { jobId, name: null, jobIds: [jobId] }),
    'jobs:submit': () => record('jobs:submit', { jobId: '1', name: null, jobIds: ['1'] }),
    'templates:list': () => record('templates:list', []),
    'templates:validate': () => record('templates:validate', []),
    'monitors:list': () => record('monitors:list', []),
    'monitors:create': () => notUnderTest('monitors:create'),
    'monitors:pause': () => record('monitors:pause', []),
    'monitors:resume': () => record('monitors:resume', []),
    'monitors:remove': () => record('monitors:remove', []),
    'activity:list': () => record('activity:list', []),
    'approvals:list': () => record('approvals:list', []),
    'approvals:decide': (_id, approve) => record('approvals:decide', { approved: approve, text: 'decided' }),
    'jobs:openSlackThread': () => record('jobs:openSlackThread', { permalink: 'https://team.slack.com/archives/C1/p1' }),
    'prompt:question': () => record('prompt:question', { kind: 'secret' as const, title: 'Login to hpc', message: 'Verification code:' }),
    'prompt:answer': () => record('prompt:answer', null),
  };
  const promptPage = 'data:text/html;base64,UFJPTVBU';
  const promptCheck: SenderCheck = ({ sender, senderFrame }) => sender === promptContents.asWebContents() && senderFrame?.parent === null && senderFrame.url === promptPage;
  promptUrl = promptPage;
  unregister = registerHandlers({ handlers, senders: { window: trust.isTrusted, prompt: promptCheck } });
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

  it.each([
    ['settings:set', []],
    ['settings:set', ['cluster.port']],
    ['settings:set', [42, 22]],
    ['settings:set', ['', 22]],
    ['settings:set', ['cluster.port', 22, 'extra']],
    ['settings:set', ['cluster.port', () => 22]],
    ['settings:set', ['cluster.port', Number.NaN]],
    ['settings:unset', [{ key: 'cluster.port' }]],
    ['secrets:set', ['slack-bot-token']],
    ['secrets:set', ['slack-bot-token', 42]],
    ['secrets:set', ['slack-bot-token', '']],
    ['secrets:set', ['slack-bot-token', 'x'.repeat(8193)]],
    ['secrets:delete', []],
    ['navigation:take', ['job:1']],
    ['cluster:test', ['ssh', null]],
    ['cluster:test', ['dns']],
    ['cluster:test', ['dns', { host: 'hpc', command: 'id' }]],
    ['cluster:trustHostKey', ['SHA256:' + 'A'.repeat(43), { host: 'hpc', port: 0 }]],
    ['cluster:trustHostKey', ['SHA256:short']],
    ['jobs:detail', ['12; rm -rf ~']],
    ['jobs:detail', [12]],
    ['jobs:log', ['12', 'stdout', 1.5]],
    ['jobs:log', ['12', 'both', 0]],
    ['jobs:resubmit', ['12', { mem: '4G', script: 'x' }]],
    ['jobs:submit', ['../cnn_train', {}]],
    ['jobs:submit', ['cnn_train', { epochs: { $gt: 1 } }]],
    ['monitors:pause', ['1 OR 1=1']],
    ['monitors:create', [{ schedule: 'hourly', kind: 'rm', to: 'slack' }]],
    ['slack:check', [{}]],
    ['approvals:decide', []],
    ['approvals:decide', ['AAAAAAAAAAAAAAAAAAAAAA']],
    ['approvals:decide', ['AAAAAAAAAAAAAAAAAAAAAA', 'yes']],
    ['approvals:decide', ['AAAAAAAAAAAAAAAAAAAAAA', 1]],
    ['approvals:decide', ['short', true]],
    ['approvals:decide', ['AAAAAAAAAAAAAAAAAAAAAAA', true]],
    ['approvals:decide', ['AAAAAAAAAAAAAAAAAAAA/+', true]],
    ['approvals:decide', ['../../AAAAAAAAAAAAAAAAA', false]],
    ['approvals:decide', [{ id: 'AAAAAAAAAAAAAAAAAAAAAA' }, true]],
    ['approvals:decide', ['AAAAAAAAAAAAAAAAAAAAAA', true, 'extra']],
    ['approvals:list', ['all']],
    ['jobs:openSlackThread', ['https://evil.example/']],
    ['jobs:openSlackThread', []],
  ])('rejects %s with %j', async (channel, args) => {
    await expect(invokeMain(channel, eventFrom(ours), ...args)).rejects.toThrow(new RegExp(`${channel}: invalid arguments`));
    expect(calls).toEqual([]);
  });

  it('passes an approval id and a boolean through to the handler', async () => {
    await expect(invokeMain('approvals:decide', eventFrom(ours), 'Ab_-0123456789abcdefgh', false)).resolves.toEqual({ ok: true, value: { approved: false, text: 'decided' } });
    expect(calls).toEqual(['approvals:decide']);
  });

  it('passes JSON values through to the handler', async () => {
    await expect(invokeMain('settings:set', eventFrom(ours), 'slack.allowedUsers', ['U012ABCDEF'])).resolves.toMatchObject({ ok: true, value: { key: 'slack.allowedUsers', value: ['U012ABCDEF'] } });
    await expect(invokeMain('secrets:set', eventFrom(ours), 'slack-bot-token', 'xoxb-1')).resolves.toMatchObject({ ok: true });
    expect(calls).toEqual(['settings:set', 'secrets:set']);
  });
});

describe('audiences', () => {
  it('lets only the prompt window call the prompt channels', async () => {
    await expect(invokeMain('prompt:question', eventFrom(ours))).rejects.toThrow(/not trusted/);
    await expect(invokeMain('prompt:answer', eventFrom(ours), '123456')).rejects.toThrow(/not trusted/);
    await expect(invokeMain('prompt:question', eventFrom(promptContents, promptUrl))).resolves.toMatchObject({ ok: true, value: { kind: 'secret' } });
    await expect(invokeMain('prompt:answer', eventFrom(promptContents, promptUrl), '123456')).resolves.toEqual({ ok: true, value: null });
    expect(calls).toEqual(['prompt:question', 'prompt:answer']);
  });

  it('refuses the app window\'s channels to the prompt window', async () => {
    for (const channel of ['app:info', 'settings:get', 'secrets:status', 'doctor:run']) {
      await expect(invokeMain(channel, eventFrom(promptContents, promptUrl))).rejects.toThrow(/not trusted/);
    }
    await expect(invokeMain('secrets:set', eventFrom(promptContents, promptUrl), 'slack-bot-token', 'xoxb-1')).rejects.toThrow(/not trusted/);
    expect(calls).toEqual([]);
  });

  it('gives every channel an audience the registration knows', () => {
    for (const { audience } of Object.values(invokeContract)) expect(['window', 'prompt']).toContain(audience);
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
    const payload = status;
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
    push([ours.asWebContents(), gone.asWebContents()], 'status:changed', status);
    push([ours.asWebContents(), gone.asWebContents()], 'navigate', { view: 'job', jobId: '41' });
    expect(ours.sent).toEqual([['status:changed', status], ['navigate', { view: 'job', jobId: '41' }]]);
    expect(gone.sent).toEqual([]);
  });

  it('refuses a payload that breaks the contract', () => {
    const wrong = { ...status, ssh: { state: 'sideways', detail: null } } as unknown as Parameters<typeof push<'status:changed'>>[2];
    expect(() => push([ours.asWebContents()], 'status:changed', wrong)).toThrow();
    const nowhere = { view: 'elsewhere' } as unknown as Parameters<typeof push<'navigate'>>[2];
    expect(() => push([ours.asWebContents()], 'navigate', nowhere)).toThrow();
    const vague = { jobIds: '41', approvals: 'yes' } as unknown as Parameters<typeof push<'data:changed'>>[2];
    expect(() => push([ours.asWebContents()], 'data:changed', vague)).toThrow();
    expect(ours.sent).toEqual([]);
  });

  it('tells the window what changed (data:changed), and the preload hands the window only that', async () => {
    const other = new FakeContents();
    push([ours.asWebContents(), other.asWebContents()], 'data:changed', { jobIds: ['41', '42_3'], approvals: true });
    expect(ours.sent).toEqual([['data:changed', { jobIds: ['41', '42_3'], approvals: true }]]);

    // The renderer's side: window.hpc.onDataChanged gets the payload, never the IPC event.
    await import('../../preload/index.js');
    const api = electron.exposed.get('hpc') as Record<string, (listener: (payload: unknown) => void) => () => void>;
    const received: unknown[] = [];
    const stop = api['onDataChanged']?.((payload) => received.push(payload));
    const [forward] = [...(electron.rendererListeners.get('data:changed') ?? [])];
    forward?.({ sender: 'the IPC event' }, ours.sent[0]?.[1]);
    expect(received).toEqual([{ jobIds: ['41', '42_3'], approvals: true }]);
    stop?.();
    expect(electron.rendererListeners.get('data:changed')?.size).toBe(0);
  });
});
