/**
 * Staged rollout of sweeps on the real testbed: a job array of 4+ tasks is submitted held and
 * released in stages (task 0 as canary, then 1–2, then the rest), each stage only once every task
 * before it COMPLETED. A failing canary stops the sweep: the tasks never released are cancelled
 * without running, and one notification says so instead of one per cancelled task (and no
 * "sweep finished" besides). A sweep that runs to its end is told once: one SWEEP_FINISHED
 * notification, none per completed task.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROLLOUT_HALTED, RolloutStore, rolloutStages, taskSpec } from '../../main/core/jobs/rollout.js';
import type { JobRow } from '../../main/core/store/job-store.js';
import { SWEEP_FINISHED } from '../../main/core/store/sweep-facts.js';
import { finalOf, shScript, startJobsApp, type JobsApp } from '../helpers/e2e-cluster.js';

const tb = inject('testbed');
const RUN = `${process.pid}-${Date.now()}`;
let app: JobsApp;

beforeAll(async () => {
  app = await startJobsApp(tb, `$HOME/hpc-relay-it/rollout-${RUN}`);
});
afterAll(async () => {
  await app?.stop();
});

const rollout = (baseId: string) => new RolloutStore(app.core.db()).get(baseId);
const rows = (keys: string[]): JobRow[] => keys.map((k) => app.jobs.store.get(k)).filter((j): j is JobRow => j !== null);

async function queue(baseId: string): Promise<Map<string, string>> {
  const out = await app.core.cluster().run(['squeue', '--array', '--noheader', '-j', baseId, '--format=%i|%r']);
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split('|') as [string, string]));
}

describe('staged rollout of a sweep', () => {
  it('plans stages and array specs', () => {
    expect(rolloutStages([3, 1, 0, 2, 5, 4])).toEqual([[0], [1, 2], [3, 4, 5]]);
    expect(rolloutStages([0, 1, 2, 3])).toEqual([[0], [1, 2], [3]]);
    expect([taskSpec([0]), taskSpec([1, 2]), taskSpec([3, 4, 5, 9, 11, 12])]).toEqual(['0', '1-2', '3-5,9,11-12']);
  });

  it('a failing canary stops a 4-task sweep: tasks 1–3 are cancelled without running, one notification says so', async () => {
    const sub = await app.jobs.submitScript({
      ...shScript('sweep.sh', 'if [ "$SLURM_ARRAY_TASK_ID" = 0 ]; then echo "canary: bad config" >&2; exit 1; fi\necho "task $SLURM_ARRAY_TASK_ID ran"'),
      sbatchArgs: ['--array=0-3', '--time=2'], rollout: 'staged',
    });
    expect(sub.jobIds).toEqual([0, 1, 2, 3].map((t) => `${sub.jobId}_${t}`));
    expect(sub.stages).toEqual([[0], [1, 2], [3]]);
    // Submitted held; only the canary was released.
    const q = await queue(sub.jobId);
    for (const t of [1, 2, 3]) expect(q.get(`${sub.jobId}_${t}`) ?? 'left the queue', `task ${t}`).toBe('JobHeldUser');

    const canary = await finalOf(app, `${sub.jobId}_0`, 120_000);
    expect(canary?.job).toMatchObject({ state: 'FAILED', exitCode: 1 });
    // The rest end as CANCELLED (held tasks never run the trap: the test plays the poll tick).
    await Promise.all([1, 2, 3].map((t) => finalOf(app, `${sub.jobId}_${t}`, 90_000, { everyMs: 2_000 })));
    const rest = rows([1, 2, 3].map((t) => `${sub.jobId}_${t}`));
    expect(rest.map((j) => [j.state, j.startedAt, j.nodeList])).toEqual(Array(3).fill(['CANCELLED', null, null]));
    const out = await app.core.cluster().exec(['ls', '--', ...[1, 2, 3].map((t) => `${app.jobs.store.submissionByBaseId(sub.jobId)?.remoteDir ?? ''}/slurm-${sub.jobId}_${t}.out`)]);
    expect(out.stdout.trim()).toBe('');

    expect(rollout(sub.jobId)).toMatchObject({ status: 'halted', released: 1, note: `Sweep ${sub.jobId} stopped after its canary: task 0 FAILED (exit 1:0). 3 task(s) that had not started were cancelled.` });
    // Notifications: the canary's end and the halt; nothing for the three that never ran (their rows are done with).
    await new Promise((r) => setTimeout(r, 1_500));
    await app.rt.tickNow();
    const mine = app.notes.filter((n) => n.id.includes(`:${sub.jobId}`));
    expect(mine.map((n) => n.id).sort()).toEqual([`hpc-relay:job:${sub.jobId}_0:${ROLLOUT_HALTED}:tray`, `hpc-relay:job:${sub.jobId}_0:FAILED:tray`].sort());
    expect(mine.find((n) => n.id.includes(ROLLOUT_HALTED))?.title).toBe(`✗ sweep sweep.sh (${sub.jobId}) stopped after its canary`);
    expect(app.jobs.outbox.all().filter((o) => o.jobKey.startsWith(`${sub.jobId}_`) && o.finalState === 'CANCELLED').map((o) => o.deliveredAt !== null)).toEqual([true, true, true]);
    // The halt speaks for the sweep: no "sweep finished" row was written for it.
    expect(app.jobs.outbox.all().filter((o) => o.jobKey.startsWith(`${sub.jobId}_`) && o.finalState === SWEEP_FINISHED)).toEqual([]);
  }, 240_000);

  it('the sweep template rolls out in stages by default: 0, then 1–2, then 3, each after the one before completed', async () => {
    const sub = await app.jobs.submit('sweep', {
      grid: 'lr=0.01,0.02,0.03,0.04', max_parallel: '4', cpus: '1', args: '--epochs=1 --synthetic --synthetic_train=128 --synthetic_val=32',
    });
    expect(sub.stages).toEqual([[0], [1, 2], [3]]);
    const keys = [0, 1, 2, 3].map((t) => `${sub.jobId}_${t}`);
    await Promise.all(keys.map((k) => finalOf(app, k, 200_000)));
    const [t0, t1, t2, t3] = rows(keys);
    expect([t0, t1, t2, t3].map((j) => j?.state)).toEqual(Array(4).fill('COMPLETED'));
    // Start and end times from accounting (second resolution, same clock): no task started before its stage was released.
    const at = (s: string | null | undefined) => s ?? '';
    expect(at(t1?.startedAt) >= at(t0?.endedAt) && at(t2?.startedAt) >= at(t0?.endedAt), JSON.stringify([t0, t1, t2].map((j) => [j?.startedAt, j?.endedAt]))).toBe(true);
    expect(at(t3?.startedAt) >= at(t1?.endedAt) && at(t3?.startedAt) >= at(t2?.endedAt), JSON.stringify([t1, t2, t3].map((j) => [j?.startedAt, j?.endedAt]))).toBe(true);
    await app.jobs.refresh();
    expect(rollout(sub.jobId)).toMatchObject({ status: 'done', released: 3 });
    // One notification for the whole sweep, none per completed task (their rows are done, never tried).
    await app.rt.tickNow();
    const mine = () => app.notes.filter((n) => n.id.startsWith(`hpc-relay:job:${sub.jobId}_`));
    for (let i = 0; i < 40 && mine().length === 0; i++) await new Promise((r) => setTimeout(r, 250));
    await new Promise((r) => setTimeout(r, 1_000));
    expect(mine().map((n) => n.id)).toEqual([`hpc-relay:job:${sub.jobId}_0:${SWEEP_FINISHED}:tray`]);
    const note = mine()[0];
    expect(note?.title).toBe(`✓ sweep hpc-relay-sweep (${sub.jobId}) finished: 4 tasks: 4 completed`);
    expect(note?.outcome).toBe('succeeded');
    // The key metric, read after the last task ended: the best task named with its grid value.
    expect(note?.body).toMatch(/^Best: task [0-3] \(lr=0\.0[1-4]\) val_acc \d/);
    expect(note?.body).toMatch(/Took \d\d:\d\d:\d\d\.$/);
    const rowsOf = app.jobs.outbox.all().filter((o) => keys.includes(o.jobKey));
    expect(rowsOf.filter((o) => o.finalState === 'COMPLETED').map((o) => [o.jobKey, o.deliveredAt !== null, o.attempts]).sort()).toEqual(keys.map((k) => [k, true, 0]));
    expect(rowsOf.filter((o) => o.finalState === SWEEP_FINISHED).map((o) => [o.jobKey, o.attempts, o.deliveredAt !== null])).toEqual([[`${sub.jobId}_0`, 1, true]]);
    // Resubmitting a task of it is not held again.
    expect(app.jobs.store.submissionByBaseId(sub.jobId)?.sbatchArgs).not.toContain('--hold');
  }, 300_000);
});
