/**
 * The `data:changed` feed (main/ipc/changes.ts) over a real core: job transitions from the job
 * tracker and approvals opened, decided or expired in the running gateway's broker reach the
 * window as one event per short moment, and nothing after it stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DataChanged } from '../../preload/contract.js';
import { FileConfigStore } from '../../main/core/config/file-config-store.js';
import { createCore } from '../../main/core/index.js';
import type { Core } from '../../main/core/index.js';
import { silentLogger } from '../../main/core/log/logger.js';
import type { SecretStore } from '../../main/core/ports.js';
import { SecretRegistry } from '../../main/core/secrets/redact.js';
import { ApprovalBroker } from '../../main/core/slack/approvals.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { slackHub } from '../../main/core/slack/wiring.js';
import type { Transition } from '../../main/core/store/job-store.js';
import { watchChanges } from '../../main/ipc/changes.js';
import { ManualClock } from '../fakes/manual-clock.js';
import { makeHome } from '../helpers/temp-home.js';

class MemoryKeychain implements SecretStore {
  readonly values = new Map<string, string>();
  async get(account: string) { return this.values.get(account) ?? null; }
  async set(account: string, value: string) { this.values.set(account, value); }
  async delete(account: string) { return this.values.delete(account); }
}

const GATHER_MS = 20;
const cores: Core[] = [];

function setup() {
  const home = makeHome('changes');
  const core = createCore({
    home, configStore: new FileConfigStore(home), keychain: new MemoryKeychain(), keychainError: null, env: {}, registry: new SecretRegistry(), logger: silentLogger,
    prompt: { ask: async () => null },
  });
  cores.push(core);
  const sent: DataChanged[] = [];
  const stop = watchChanges(core, (c) => void sent.push(c), { gatherMs: GATHER_MS });
  return { core, sent, stop };
}

const transition = (jobKey: string, to: string): Transition => ({ jobKey, from: 'PENDING', to, source: 'squeue', at: Date.now() });
const settle = () => new Promise((resolve) => setTimeout(resolve, GATHER_MS * 4));

afterEach(async () => {
  for (const c of cores.splice(0)) await c.close();
});

describe('the data:changed feed', () => {
  it('tells of job transitions, several within a moment as one event naming each job once', async () => {
    const { core, sent } = setup();
    const tracker = core.jobs().tracker;
    tracker.emit('transition', transition('41', 'RUNNING'));
    tracker.emit('transition', transition('42_3', 'RUNNING'));
    tracker.emit('transition', transition('41', 'COMPLETED'));
    expect(sent).toEqual([]);
    await settle();
    expect(sent).toEqual([{ jobIds: ['41', '42_3'], approvals: false }]);

    tracker.emit('transition', transition('43', 'FAILED'));
    await settle();
    expect(sent.at(-1)).toEqual({ jobIds: ['43'], approvals: false });
    expect(sent).toHaveLength(2);
  });

  it('tells of approvals opened, decided and expired in the attached gateway, and of another gateway attached', async () => {
    const { core, sent } = setup();
    const clock = new ManualClock(Date.now());
    const broker = new ApprovalBroker(clock);
    slackHub(core).attach({ approvals: broker } as unknown as SlackGateway);
    await settle();
    // A new gateway: its list replaces the last one's.
    expect(sent).toEqual([{ jobIds: [], approvals: true }]);

    const first = broker.open({ summary: 'cancel job 7', requestedBy: 'U1' });
    await settle();
    expect(sent).toHaveLength(2);
    await broker.decide(first.id, true, 'U1');
    await settle();
    expect(sent).toHaveLength(3);

    broker.open({ summary: 'cancel job 8', requestedBy: 'U1', ttlMs: 1000 });
    await settle();
    expect(sent).toHaveLength(4);
    clock.advanceTo(clock.now() + 1001);
    await settle();
    expect(sent).toHaveLength(5);
    expect(sent.every((c) => c.approvals && c.jobIds.length === 0)).toBe(true);

    // Detached: the old broker is no longer watched.
    slackHub(core).attach(null);
    await settle();
    expect(sent).toHaveLength(6);
    broker.open({ summary: 'cancel job 9', requestedBy: 'U1' });
    await settle();
    expect(sent).toHaveLength(6);
  });

  it('gathers a job change and an approval change of the same moment into one event', async () => {
    const { core, sent } = setup();
    const broker = new ApprovalBroker();
    slackHub(core).attach({ approvals: broker } as unknown as SlackGateway);
    await settle();
    sent.length = 0;
    core.jobs().tracker.emit('transition', transition('50', 'CANCELLED'));
    broker.open({ summary: 'rm -rf ~/runs', requestedBy: 'U1' });
    await settle();
    expect(sent).toEqual([{ jobIds: ['50'], approvals: true }]);
    broker.closeAll();
  });

  it('says nothing once stopped, also of a change it was gathering', async () => {
    const { core, sent, stop } = setup();
    const broker = new ApprovalBroker();
    slackHub(core).attach({ approvals: broker } as unknown as SlackGateway);
    await settle();
    sent.length = 0;
    core.jobs().tracker.emit('transition', transition('60', 'RUNNING'));
    stop();
    await settle();
    core.jobs().tracker.emit('transition', transition('60', 'COMPLETED'));
    broker.open({ summary: 'cancel job 60', requestedBy: 'U1' });
    await settle();
    expect(sent).toEqual([]);
    expect(core.jobs().tracker.listenerCount('transition')).toBe(0);
    broker.closeAll();
  });

  it('keeps going when sending one event fails (a payload the contract refuses is logged, not thrown at the tracker)', async () => {
    const { core } = setup();
    const got: DataChanged[] = [];
    let fail = true;
    const stop = watchChanges(core, (c) => {
      if (fail) {
        fail = false;
        throw new Error('the window is gone');
      }
      got.push(c);
    }, { gatherMs: GATHER_MS });
    expect(() => core.jobs().tracker.emit('transition', transition('70', 'RUNNING'))).not.toThrow();
    await settle();
    core.jobs().tracker.emit('transition', transition('71', 'RUNNING'));
    await settle();
    expect(got).toEqual([{ jobIds: ['71'], approvals: false }]);
    stop();
  });
});
