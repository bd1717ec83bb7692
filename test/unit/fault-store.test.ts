/**
 * Fault suite, store: the disk holding hpc-relay.db fills up while the relay runs. A delivery
 * whose mark cannot be written is not delivered again and is marked when space returns.
 *
 * The disk: a 2 MB tmpfs mounted over the settings home when this runs as root and the kernel
 * (here gVisor) allows it, filled with a file until ENOSPC.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService, type JobService } from '../../main/core/jobs/index.js';
import { NotifyDispatcher } from '../../main/core/notify/dispatcher.js';
import type { ConfigStore, Notification } from '../../main/core/ports.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';
import type { OutboxStore } from '../../main/core/store/outbox-store.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { makeHome } from '../helpers/temp-home.js';

const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already gone
    }
  }
});

/** A 2 MB tmpfs at a new directory, or null when it cannot be mounted here (not root, no tmpfs). */
function smallDisk(): string | null {
  const dir = makeHome('fault-store-disk');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    return null;
  }
  mounts.push(dir);
  return dir;
}

const CAN_MOUNT = (() => {
  const d = smallDisk();
  if (!d) return false;
  execFileSync('umount', [d]);
  mounts.splice(mounts.indexOf(d), 1);
  return true;
})();

/** Fills the file system holding `dir` to the last byte; returns a function that frees it again. */
function fill(dir: string): () => void {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // The last partial chunk too, so not even a page is left.
  try {
    for (;;) fs.writeSync(fd, Buffer.alloc(512, 1));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  return () => fs.rmSync(file, { force: true });
}

function settings(): SettingsService {
  let data: Record<string, unknown> = { cluster: { host: 'hpc' }, notify: { tray: true } };
  const config: ConfigStore = { read: () => data, write: (d) => { data = d; }, moveAside: () => '/dev/null', path: '(memory)' };
  return new SettingsService(config);
}

interface Relay {
  db: Db;
  slurm: FakeSlurm;
  jobs: JobService;
  outbox: OutboxStore;
  dispatcher: NotifyDispatcher;
  tray: Notification[];
  /** Runs in the tray's notify() before it returns (a delivery that fills the disk, say). */
  onNotify: (() => void) | null;
}

function relay(file: string): Relay {
  const db = openDatabase(file);
  const slurm = new FakeSlurm();
  const jobs = createJobService({ db, cluster: () => slurm.cluster(), files: slurm.remoteFiles(), settings: () => settings().settings(), logger: createMemoryLogger(), templates: { render: () => { throw new Error('unused'); } } });
  const tray: Notification[] = [];
  const r: Relay = { db, slurm, jobs, outbox: jobs.outbox, tray, onNotify: null, dispatcher: null as unknown as NotifyDispatcher };
  r.dispatcher = new NotifyDispatcher(jobs.outbox, { tray: { notify: async (n) => { tray.push(n); r.onNotify?.(); } } }, jobs.clock, createMemoryLogger(), 3_600_000);
  return r;
}

const script = { name: 'train.sh', content: '#!/bin/sh\n#SBATCH --mem=1G\npython train.py\n' };

describe('the store on a full disk', () => {
  it.skipIf(!CAN_MOUNT)('the disk fills while a notification is being delivered: it is delivered once, and marked when space returns', async () => {
    const disk = smallDisk()!;
    const r = relay(path.join(disk, 'hpc-relay.db'));
    let free: (() => void) | null = null;
    try {
      const a = await r.jobs.submitScript(script);
      r.slurm.set(a.jobId, { state: 'FAILED', exit: 2 });
      await r.jobs.refresh();
      // A WAL large enough to be reused would let the mark through: start from a checkpointed, truncated one.
      r.db.pragma('wal_checkpoint(TRUNCATE)');
      r.onNotify = () => { r.onNotify = null; free = fill(disk); };
      // Delivered; the mark cannot be written. No rejection (nobody awaits a timer's flush).
      await expect(r.dispatcher.flush()).resolves.toBe(1);
      expect(r.tray).toHaveLength(1);
      expect(r.outbox.forJob(a.jobId).map((o) => o.deliveredAt)).toEqual([null]);
      // Still full: later passes do not deliver it again.
      await expect(r.dispatcher.flush()).resolves.toBe(0);
      expect(r.tray).toHaveLength(1);
      (free as (() => void) | null)?.();
      free = null;
      await r.dispatcher.flush();
      await r.dispatcher.flush();
      expect(r.tray.map((n) => n.id)).toEqual([`hpc-relay:job:${a.jobId}:FAILED:tray`]);
      expect(r.outbox.forJob(a.jobId).map((o) => o.deliveredAt !== null)).toEqual([true]);
      expect(r.db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    } finally {
      (free as (() => void) | null)?.();
      r.db.close();
    }
  });
});
