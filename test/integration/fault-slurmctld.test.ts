/**
 * Fault suite, scheduler: slurmctld is stopped (SIGTERM, as `systemctl restart` does; see
 * stopSlurmctld for why not SIGKILL on this shared single-node testbed) while jobs run (one
 * queued, two running, ends falling inside the outage), the relay keeps ticking against a
 * scheduler that does not answer, then slurmctld is started again with up.sh's own command
 * (startSlurmctld: up.sh itself waits on the testbed lock, which a concurrent run may hold).
 * States must be reconciled from accounting and every end notified once.
 *
 * Needs root (like `sudo up.sh`) to stop and start slurmctld; the testbed is shared, so the
 * controller is down only for the ~12 s the test needs, and started again whatever happens.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { canRestartSlurm, faultApp, fixtureScript, stopSlurmctld, drainedNode, probeCluster, removeRemoteRun, runTag, sacctState, slurmctldPid, sleep, startSlurmctld, until, type FaultApp } from '../helpers/fault-kit.js';

const tb = inject('testbed');
const TAG = runTag('ctld');
const probe = probeCluster(tb);
let app: FaultApp | null = null;

afterAll(async () => {
  // Never leave the shared testbed without its controller.
  if (canRestartSlurmAsRoot()) {
    if (slurmctldPid() === null) await startSlurmctld();
    await drainedNode(tb.nodeName).catch(() => null);
  }
  await app?.close();
  probe.close();
  await removeRemoteRun(tb, TAG);
});

function canRestartSlurmAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** A job that sleeps `s` seconds and then exits with `code`. */
function sleepThenExit(s: number, code: number): { name: string; content: string } {
  return { name: `sleep${s}-exit${code}.sh`, content: `#!/bin/sh\n#SBATCH --time=00:03:00\n#SBATCH --mem=32M\nsleep ${s}\necho "slept ${s}"\nexit ${code}\n` };
}

describe('slurmctld restarted while jobs run', () => {
  // Restarting slurmctld needs root: skipped on a developer's non-root run, never in CI (which runs as root).
  it.skipIf(!canRestartSlurm() && process.env.CI !== 'true')('jobs that end while the controller is down are reconciled after it comes back and notified once each', async () => {
    const a = await faultApp(tb, `$HOME/hpc-relay-it/${TAG}/app`);
    app = a;
    const subs = [
      await a.jobs.submitScript({ ...fixtureScript('sleep.sh'), scriptArgs: ['6'], sbatchArgs: ['--time=3'] }),
      await a.jobs.submitScript(sleepThenExit(9, 2)),
      await a.jobs.submitScript({ ...fixtureScript('sleep.sh'), scriptArgs: ['4'], sbatchArgs: ['--time=3'] }),
    ];
    const keys = subs.map((s) => s.jobId);
    await until('a job to run', async () => {
      await a.rt.tickNow();
      const gone = keys.map((k) => a.jobs.store.get(k)).find((j) => j?.final);
      // The testbed is shared: say so plainly if something else ended one of ours before the fault.
      if (gone) throw new Error(`job ${gone.jobKey} ended ${gone.state} (cancelled by uid ${gone.cancelledBy ?? '-'}) before the controller was stopped`);
      return keys.some((k) => a.jobs.store.get(k)?.state === 'RUNNING');
    }, 120_000, 1_000);

    const downAt = Date.now();
    await stopSlurmctld('SIGTERM');
    try {
      // While it is down: ticks fail (squeue cannot reach the controller) without harm, and
      // the events file's lines bring sacct answers that still say RUNNING (or PENDING).
      const end = downAt + 12_000;
      while (Date.now() < end) {
        await a.rt.tickNow();
        await sleep(2_000);
      }
      expect(keys.map((k) => a.jobs.store.get(k)?.final)).toEqual([false, false, false]);
      expect(a.notes.filter((n) => keys.some((k) => n.id.startsWith(`hpc-relay:job:${k}:`)))).toEqual([]);
      // At least one wrapper wrote its line while the controller was down.
      expect(keys.some((k) => a.jobs.store.events(k).some((e) => e.kind === 'exit-trap'))).toBe(true);
    } finally {
      await startSlurmctld();
    }
    const downFor = Date.now() - downAt;
    expect(slurmctldPid()).not.toBeNull();

    // Back: the poll tick (played here) reconciles every job from accounting.
    await until('every job to be final', async () => { await a.rt.tickNow(); return keys.every((k) => a.jobs.store.get(k)?.final); }, 150_000, 3_000);
    expect(keys.map((k) => a.jobs.store.get(k)?.state)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);
    expect(a.jobs.store.get(keys[1]!)).toMatchObject({ exitCode: 2 });
    for (const k of keys) expect(await sacctState(probe, k)).toBe(a.jobs.store.get(k)?.state);
    await until('the notifications', () => keys.every((k) => a.notesFor(k).length > 0), 15_000, 100);
    await a.rt.tickNow();
    await sleep(500);
    expect(keys.map((k) => a.notesFor(k).map((n) => n.id))).toEqual(keys.map((k) => [`hpc-relay:job:${k}:${a.jobs.store.get(k)?.state}:tray`]));
    // Transitions are in order and end in one final state each (no flapping back to RUNNING).
    for (const k of keys) {
      const ts = a.jobs.store.transitions(k).map((t) => t.to);
      expect(ts.filter((s) => ['COMPLETED', 'FAILED'].includes(s))).toHaveLength(1);
      expect(['COMPLETED', 'FAILED']).toContain(ts.at(-1));
    }
    expect(downFor).toBeLessThan(120_000);
    // The controller came back without draining the node (it would stop everybody's jobs).
    expect(await drainedNode(tb.nodeName)).toBeNull();
  }, 240_000);
});
