import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotifyDispatcher, idempotencyKey, type SlackReporter } from '../../main/core/notify/dispatcher.js';
import { composeJobEnd, type JobEndReport } from '../../main/core/notify/job-messages.js';
import type { Notification, Notifier } from '../../main/core/ports.js';
import { systemClock } from '../../main/core/ports.js';
import { openDatabase } from '../../main/core/store/database.js';
import { JobStore } from '../../main/core/store/job-store.js';
import { OutboxStore } from '../../main/core/store/outbox-store.js';
import type { SacctJob } from '../../main/core/slurm/sacct-parser.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { makeHome } from '../helpers/temp-home.js';

function acct(key: string, state: string, over: Partial<SacctJob> = {}): SacctJob {
  return {
    kind: 'job', key, baseId: key, arrayTask: null, name: 'train', state, cancelledBy: null, exitCode: 0, signal: 0, elapsedSec: 125, maxRssBytes: 3 * 2 ** 30,
    reqMemBytes: 8 * 2 ** 30, timeLimitSec: 3600, nodeList: 'node7', start: null, end: null, steps: [], ...over,
  };
}

/** A job store with `keys` ended (adopted, then finalized with outbox rows for `channels`). */
function ended(file: string, keys: string[], channels = ['tray', 'slack']) {
  const store = new JobStore(openDatabase(file));
  for (const k of keys) {
    store.observeAccounting(acct(k, 'RUNNING'), 'sacct', 1);
    store.finalize(acct(k, k.endsWith('3') ? 'FAILED' : 'COMPLETED', k.endsWith('3') ? { exitCode: 3 } : {}), {
      source: 'sacct', now: 2, classification: { failureClass: k.endsWith('3') ? 'failed' : 'completed', signature: null }, mode: 'notify', channels, compose: composeJobEnd,
    });
  }
  return { store, outbox: new OutboxStore(store.db) };
}

class RecordingTray implements Notifier {
  readonly seen: Notification[] = [];
  failNext = 0;
  async notify(n: Notification): Promise<void> {
    if (this.failNext > 0) { this.failNext--; throw new Error('tray is busy'); }
    this.seen.push(n);
  }
}

describe('notify dispatcher', () => {
  it('delivers each outbox row once to its channel, with a stable idempotency key and the job facts', async () => {
    const { outbox } = ended(':memory:', ['101', '103']);
    const tray = new RecordingTray();
    const slack: JobEndReport[] = [];
    const reporter: SlackReporter = { reportJobEnd: async (r) => { slack.push(r); } };
    const d = new NotifyDispatcher(outbox, { tray, slack: reporter }, systemClock, createMemoryLogger());
    expect(await d.flush()).toBe(4);
    expect(await d.flush()).toBe(0);
    expect(tray.seen.map((n) => [n.id, n.title, n.target, n.outcome])).toEqual([
      ['hpc-relay:job:101:COMPLETED:tray', '✓ train (101) COMPLETED', 'job:101', 'succeeded'],
      ['hpc-relay:job:103:FAILED:tray', '✗ train (103) FAILED (exit 3:0)', 'job:103', 'failed'],
    ]);
    expect(tray.seen[0]!.body).toBe('ran 00:02:05 of 01:00:00, peak memory 3.0 GB of 8.0 GB, on node7.');
    expect(tray.seen[1]!.body).toMatch(/It failed\.$/);
    expect(slack[1]).toMatchObject({ idempotencyKey: 'hpc-relay:job:103:FAILED:slack', jobId: '103', state: 'FAILED', exitCode: '3:0', maxRssBytes: 3 * 2 ** 30, triage: { action: 'notify' } });
    expect(outbox.all().every((r) => r.deliveredAt !== null)).toBe(true);
    expect(idempotencyKey({ jobKey: '1', finalState: 'TIMEOUT', channel: 'tray' })).toBe('hpc-relay:job:1:TIMEOUT:tray');
  });

  it('keeps a row whose channel failed and delivers it on the next pass, never twice', async () => {
    const { outbox } = ended(':memory:', ['201'], ['tray']);
    const tray = new RecordingTray();
    tray.failNext = 1;
    const logger = createMemoryLogger();
    const d = new NotifyDispatcher(outbox, { tray }, systemClock, logger);
    expect(await d.flush()).toBe(0);
    expect(outbox.forJob('201')[0]).toMatchObject({ deliveredAt: null, lastError: 'tray is busy' });
    expect(logger.atLeast('warn')[0]?.msg).toMatch(/will retry/);
    expect(await d.flush()).toBe(1);
    expect(await d.flush()).toBe(0);
    expect(tray.seen).toHaveLength(1);
  });

  it('leaves rows for channels this process lacks (a daemon without a tray) to the process that has them', async () => {
    const file = path.join(makeHome('notify'), 'hpc-relay.db');
    const { outbox } = ended(file, ['301']);
    const slack: JobEndReport[] = [];
    const daemon = new NotifyDispatcher(outbox, { slack: { reportJobEnd: async (r) => { slack.push(r); } } }, systemClock, createMemoryLogger());
    expect(await daemon.flush()).toBe(1);
    const tray = new RecordingTray();
    const app = new NotifyDispatcher(new OutboxStore(openDatabase(file)), { tray }, systemClock, createMemoryLogger());
    expect(await app.start()).toBe(1);
    app.stop();
    expect([slack.length, tray.seen.length]).toEqual([1, 1]);
  });

  it('after a restart delivers what was left and repeats nothing: exactly once across processes', async () => {
    const file = path.join(makeHome('notify'), 'hpc-relay.db');
    ended(file, ['401', '402'], ['tray']);
    const tray = new RecordingTray();
    // First process delivers 401 only, then "crashes" holding a claim on 402 it never delivered.
    const first = new OutboxStore(openDatabase(file), 50);
    const [r401, r402] = first.pending(['tray'], Date.now());
    expect(first.claim(r401!.id, Date.now())).toBe(true);
    await tray.notify({ id: idempotencyKey(r401!), title: r401!.title, body: r401!.body });
    first.markDelivered(r401!.id, Date.now());
    expect(first.claim(r402!.id, Date.now())).toBe(true);
    // The restarted process: 402's stale claim expires and it is delivered; 401 is not repeated.
    await new Promise((r) => setTimeout(r, 60));
    const second = new NotifyDispatcher(new OutboxStore(openDatabase(file), 50), { tray }, systemClock, createMemoryLogger());
    expect(await second.flush()).toBe(1);
    const third = new NotifyDispatcher(new OutboxStore(openDatabase(file), 50), { tray }, systemClock, createMemoryLogger());
    expect(await third.flush()).toBe(0);
    expect(tray.seen.map((n) => n.id)).toEqual(['hpc-relay:job:401:COMPLETED:tray', 'hpc-relay:job:402:COMPLETED:tray']);
  });

  it('a process killed mid-delivery: the restarted one takes its claimed row over on its first pass, without waiting for the TTL', async () => {
    const file = path.join(makeHome('notify'), 'hpc-relay.db');
    ended(file, ['601'], ['tray']);
    const killed = spawnSync(process.execPath, ['-e', '0']).pid;
    const first = new OutboxStore(openDatabase(file), 60_000, `${os.hostname()}:${killed}:x1`);
    const [row] = first.pending(['tray'], Date.now());
    expect(first.claim(row!.id, Date.now())).toBe(true);
    const tray = new RecordingTray();
    const logger = createMemoryLogger();
    const second = new NotifyDispatcher(new OutboxStore(openDatabase(file)), { tray }, systemClock, logger);
    expect(await second.flush()).toBe(1);
    expect(tray.seen.map((n) => n.id)).toEqual(['hpc-relay:job:601:COMPLETED:tray']);
    expect(logger.entries.some((r) => r.msg.startsWith('taking over notifications'))).toBe(true);
  });

  it('coalesces concurrent flushes into passes that never deliver a row twice', async () => {
    const { outbox } = ended(':memory:', ['501', '502', '503'], ['tray']);
    const tray = new RecordingTray();
    const d = new NotifyDispatcher(outbox, { tray }, systemClock, createMemoryLogger());
    await Promise.all([d.flush(), d.flush(), d.flush()]);
    expect(tray.seen.map((n) => n.id).sort()).toEqual(['hpc-relay:job:501:COMPLETED:tray', 'hpc-relay:job:502:COMPLETED:tray', 'hpc-relay:job:503:FAILED:tray']);
    expect(d.delivered).toBe(3);
  });
});
