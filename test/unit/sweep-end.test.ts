/**
 * A sweep (an array HPC Relay submitted) ends with one notification per channel, written in the
 * transaction of its last task's final state; its COMPLETED tasks are not announced on their
 * own, its failed ones are. Over the real store (better-sqlite3 in a temp file) and the real
 * notify dispatcher.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../main/core/store/database.js';
import { JobStore, LOST_TRIAGE_ACTION_MS, type FinalizeOptions, type SubmissionRow } from '../../main/core/store/job-store.js';
import { OutboxStore } from '../../main/core/store/outbox-store.js';
import { MetricsStore } from '../../main/core/store/metrics-store.js';
import { SWEEP_FINISHED } from '../../main/core/store/sweep-facts.js';
import { composeJobEnd } from '../../main/core/notify/job-messages.js';
import { composeSweepEnd, type SweepEndReport } from '../../main/core/notify/sweep-messages.js';
import { NotifyDispatcher } from '../../main/core/notify/dispatcher.js';
import type { JobEndReport } from '../../main/core/notify/job-messages.js';
import type { Notification } from '../../main/core/ports.js';
import { systemClock } from '../../main/core/ports.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import type { SacctJob } from '../../main/core/slurm/sacct-parser.js';
import { makeHome } from '../helpers/temp-home.js';
import { JobTracker } from '../../main/core/jobs/job-tracker.js';
import { forwardJobEnds } from '../../main/core/agent/wiring.js';
import type { FinalizeResult } from '../../main/core/store/job-store.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';

const GRID = [{ lr: '0.01' }, { lr: '0.02' }, { lr: '0.03' }, { lr: '0.04' }];

function submission(over: Partial<SubmissionRow> = {}): SubmissionRow {
  return {
    id: 'sub-1', kind: 'template', source: 'sweep', params: { grid: 'lr=0.01,0.02,0.03,0.04' }, scriptHash: 'abc', sbatchArgs: ['--array=0-3', '--mem=100M'], scriptArgs: [],
    remoteDir: '/home/u/hpc-relay/jobs/sub-1', scriptPath: '/home/u/hpc-relay/jobs/sub-1/sweep.slurm', wrapperPath: '/home/u/hpc-relay/jobs/sub-1/relay-wrapper.sh',
    stdoutPattern: '/x/slurm-%A_%a.out', stderrPattern: '/x/slurm-%A_%a.err', baseId: '200', arraySpec: '0-3', sweepId: 'sub-1', resubmitOf: null, submittedAt: 1000, ...over,
  };
}

function acct(key: string, state: string, over: Partial<SacctJob> = {}): SacctJob {
  const [baseId = key, task] = key.split('_');
  return {
    kind: 'job', key, baseId, arrayTask: task === undefined ? null : Number(task), name: 'hpc-relay-sweep', state, cancelledBy: null, exitCode: state === 'COMPLETED' ? 0 : 1, signal: 0,
    elapsedSec: 60, maxRssBytes: 2 ** 20, reqMemBytes: 100 * 2 ** 20, timeLimitSec: 600, nodeList: 'vm', start: '2026-01-01T00:00:00', end: '2026-01-01T00:10:00', steps: [], ...over,
  };
}

const sweep = { compose: composeSweepEnd };
const fin = (state: string, over: Partial<FinalizeOptions> = {}): FinalizeOptions => ({
  source: 'sacct', now: 5000, mode: 'notify', channels: ['tray', 'slack'], compose: composeJobEnd, sweep,
  classification: state === 'COMPLETED' ? { failureClass: 'completed', signature: null } : state === 'OUT_OF_MEMORY' ? { failureClass: 'host-oom', signature: null } : { failureClass: 'exception', signature: 'ValueError: bad lr' },
  ...over,
});

function sweepStore(file = path.join(makeHome('sweep'), 'hpc-relay.db')): { store: JobStore; outbox: OutboxStore; metrics: MetricsStore; file: string } {
  const store = new JobStore(openDatabase(file));
  store.recordSubmission(submission(), { name: 'hpc-relay-sweep', tasks: [0, 1, 2, 3], partition: null, taskParams: GRID });
  const metrics = new MetricsStore(store.db);
  // val_acc per task (task 2 is the best), at epochs 1 and 2.
  [[0.5, 0.6], [0.7, 0.8], [0.85, 0.91], [0.4, 0.3]].forEach((v, t) => metrics.add(`200_${t}`, 'metrics.csv', v.map((value, i) => ({ series: 'val_acc', step: i + 1, value, raw: String(value) })), 1500));
  return { store, outbox: new OutboxStore(store.db), metrics, file };
}

async function deliverAll(outbox: OutboxStore): Promise<{ tray: Notification[]; jobs: JobEndReport[]; sweeps: SweepEndReport[] }> {
  const tray: Notification[] = [];
  const jobs: JobEndReport[] = [];
  const sweeps: SweepEndReport[] = [];
  const d = new NotifyDispatcher(outbox, {
    tray: { notify: async (n) => { tray.push(n); } },
    slack: { reportJobEnd: async (r) => { jobs.push(r); }, reportSweepEnd: async (r) => { sweeps.push(r); } },
  }, systemClock, createMemoryLogger());
  await d.flush();
  return { tray, jobs, sweeps };
}

describe('sweep end notifications', () => {
  it('4 tasks, 3 completed and 1 failed: one failure and one sweep notification per channel, none for the completed tasks', async () => {
    const { store, outbox } = sweepStore();
    store.finalize(acct('200_0', 'COMPLETED'), fin('COMPLETED'));
    store.finalize(acct('200_3', 'FAILED', { exitCode: 1 }), fin('FAILED'));
    store.finalize(acct('200_1', 'COMPLETED'), fin('COMPLETED'));
    expect(outbox.all().filter((o) => o.finalState === SWEEP_FINISHED)).toEqual([]);
    store.finalize(acct('200_2', 'COMPLETED'), fin('COMPLETED', { now: 9000 }));

    // Every task's rows exist (exactly-once per task); the completed ones were written done, never tried.
    const completed = outbox.all().filter((o) => o.finalState === 'COMPLETED');
    expect(completed).toHaveLength(6);
    expect(completed.every((o) => o.deliveredAt !== null && o.attempts === 0)).toBe(true);

    const { tray, jobs, sweeps } = await deliverAll(outbox);
    expect(tray.map((n) => n.id)).toEqual(['hpc-relay:job:200_3:FAILED:tray', `hpc-relay:job:200_0:${SWEEP_FINISHED}:tray`]);
    expect(jobs.map((r) => [r.jobId, r.state])).toEqual([['200_3', 'FAILED']]);
    expect(sweeps).toHaveLength(1);
    const note = tray[1] as Notification;
    expect(note.title).toBe('✗ sweep hpc-relay-sweep (200) finished: 4 tasks: 3 completed, 1 failed');
    expect(note.body).toContain('Best: task 2 (lr=0.03) val_acc 0.91.');
    expect(note.body).toContain('Next: task 1 0.8, task 0 0.6, task 3 0.4 (FAILED).');
    expect(note.body).toContain('Not completed: task 3 FAILED (exception).');
    expect(note.body).toContain('Took 00:10:00.');
    expect(note.outcome).toBe('failed');
    expect(sweeps[0]?.facts.tasks.map((t) => [t.task, t.state, t.params, t.best?.value])).toEqual([
      [0, 'COMPLETED', { lr: '0.01' }, 0.6], [1, 'COMPLETED', { lr: '0.02' }, 0.8], [2, 'COMPLETED', { lr: '0.03' }, 0.91], [3, 'FAILED', { lr: '0.04' }, 0.4],
    ]);
    // Delivered once: another pass has nothing.
    expect((await deliverAll(outbox)).tray).toEqual([]);
  });

  it('cancelling the whole array: no notification per cancelled task, one sweep notification that counts them', async () => {
    const { store, outbox } = sweepStore();
    store.finalize(acct('200_0', 'COMPLETED'), fin('COMPLETED'));
    const cancel: FinalizeOptions['classification'] = { failureClass: 'cancelled', signature: null };
    for (const t of [1, 2, 3]) store.finalize(acct(`200_${t}`, 'CANCELLED', { cancelledBy: 1000 }), fin('CANCELLED', { classification: cancel, now: 6000 + t }));
    const { tray, jobs, sweeps } = await deliverAll(outbox);
    expect(jobs).toEqual([]);
    expect(tray.map((n) => n.id)).toEqual([`hpc-relay:job:200_0:${SWEEP_FINISHED}:tray`]);
    expect(tray[0]?.title).toBe('✗ sweep hpc-relay-sweep (200) finished: 4 tasks: 1 completed, 3 cancelled');
    expect(sweeps).toHaveLength(1);
    // Every task's rows still exist (exactly once each), the cancelled ones written done.
    expect(outbox.all().filter((o) => o.finalState === 'CANCELLED').map((o) => [o.jobKey, o.deliveredAt !== null, o.attempts])).toEqual(
      ['200_1', '200_1', '200_2', '200_2', '200_3', '200_3'].map((k) => [k, true, 0]),
    );
  });

  it('two processes finalizing the last two tasks on one file: one sweep row per channel; a replay adds none', () => {
    const { store: a, file } = sweepStore();
    const b = new JobStore(openDatabase(file));
    a.finalize(acct('200_0', 'COMPLETED'), fin('COMPLETED'));
    a.finalize(acct('200_1', 'COMPLETED'), fin('COMPLETED'));
    // Each process ends one of the last two tasks, and each also sees (and replays) the other's.
    const results = [a.finalize(acct('200_2', 'COMPLETED'), fin('COMPLETED')), b.finalize(acct('200_3', 'COMPLETED'), fin('COMPLETED')),
      b.finalize(acct('200_2', 'COMPLETED'), fin('COMPLETED')), a.finalize(acct('200_3', 'COMPLETED'), fin('COMPLETED'))];
    expect(results.map((r) => r !== null)).toEqual([true, true, false, false]);
    expect(b.settleSweeps({ now: 10 ** 9, channels: ['tray', 'slack'], sweep })).toEqual([]);
    const rows = new OutboxStore(b.db).all().filter((o) => o.finalState === SWEEP_FINISHED);
    expect(rows.map((o) => [o.jobKey, o.channel, o.deliveredAt])).toEqual([['200_0', 'tray', null], ['200_0', 'slack', null]]);
    expect(rows[0]?.title).toBe('✓ sweep hpc-relay-sweep (200) finished: 4 tasks: 4 completed');
    a.db.close();
    b.db.close();
  });

  it('a crash in the last task\'s transaction loses neither its final state nor the sweep row, and doubles neither', () => {
    const { store, outbox } = sweepStore();
    for (const t of [0, 1, 2]) store.finalize(acct(`200_${t}`, 'COMPLETED'), fin('COMPLETED'));
    const crash = { compose: () => { throw new Error('killed mid-transaction'); } };
    expect(() => store.finalize(acct('200_3', 'COMPLETED'), fin('COMPLETED', { sweep: crash }))).toThrow('killed mid-transaction');
    // Rolled back together: the task is still open, nothing of it is in the outbox.
    expect(store.get('200_3')?.final).toBe(false);
    expect(outbox.forJob('200_3')).toEqual([]);
    expect(store.finalize(acct('200_3', 'COMPLETED'), fin('COMPLETED'))).not.toBeNull();
    expect(store.finalize(acct('200_3', 'COMPLETED'), fin('COMPLETED'))).toBeNull();
    expect(outbox.all().filter((o) => o.finalState === SWEEP_FINISHED).map((o) => o.channel)).toEqual(['tray', 'slack']);
  });

  it('single jobs are unchanged: their COMPLETED end is notified, and there is no sweep row', async () => {
    const store = new JobStore(openDatabase(path.join(makeHome('sweep'), 'hpc-relay.db')));
    store.recordSubmission(submission({ id: 'one', sweepId: 'one', baseId: '300', arraySpec: null, sbatchArgs: [] }), { name: 'train', tasks: null, partition: null });
    store.finalize(acct('300', 'COMPLETED'), fin('COMPLETED'));
    const outbox = new OutboxStore(store.db);
    expect(outbox.all().map((o) => [o.jobKey, o.finalState, o.channel, o.deliveredAt])).toEqual([['300', 'COMPLETED', 'tray', null], ['300', 'COMPLETED', 'slack', null]]);
    const { tray, jobs, sweeps } = await deliverAll(outbox);
    expect([tray.map((n) => n.id), jobs.map((r) => r.jobId), sweeps]).toEqual([['hpc-relay:job:300:COMPLETED:tray'], ['300'], []]);
  });

  it('a task triage resubmits: the sweep ends when the resubmitted task ends, counted by its last attempt', async () => {
    const { store, outbox } = sweepStore();
    for (const t of [0, 1, 2]) store.finalize(acct(`200_${t}`, 'COMPLETED'), fin('COMPLETED', { mode: 'remediate' }));
    const oom = store.finalize(acct('200_3', 'OUT_OF_MEMORY'), fin('OUT_OF_MEMORY', { mode: 'remediate' }));
    expect(oom?.decision.action).toBe('bump-mem');
    // The resubmit has not run yet: the sweep is not over.
    expect(outbox.all().filter((o) => o.finalState === SWEEP_FINISHED)).toEqual([]);
    const [action] = store.pendingTriageActions();
    expect(store.claimTriageAction(action?.id ?? -1, 6000)).toBe(true);
    expect(store.settleSweeps({ now: 7000, channels: ['tray', 'slack'], sweep })).toEqual([]);
    store.recordSubmission(submission({ id: 'sub-2', baseId: '210', arraySpec: '3', resubmitOf: '200_3', submittedAt: 7000 }), { name: 'hpc-relay-sweep', tasks: [3], partition: null });
    store.finishTriageAction(action?.id ?? -1, true, 'resubmitted as 210_3', 7000);
    store.finalize(acct('210_3', 'COMPLETED'), fin('COMPLETED', { mode: 'remediate', now: 9000 }));

    const { tray } = await deliverAll(outbox);
    expect(tray.map((n) => n.id)).toEqual(['hpc-relay:job:200_3:OUT_OF_MEMORY:tray', `hpc-relay:job:200_0:${SWEEP_FINISHED}:tray`]);
    expect(tray[1]?.title).toBe('✓ sweep hpc-relay-sweep (200 +1 resubmitted) finished: 4 tasks: 4 completed');
    expect(tray[1]?.body).toContain('1 task was resubmitted; the last attempt counts.');
    const facts = store.sweepFacts('sub-1');
    // The resubmitted task keeps its grid values (from its first attempt's record).
    expect(facts?.tasks[3]).toMatchObject({ jobKey: '210_3', state: 'COMPLETED', attempts: 2, params: { lr: '0.04' } });
  });

  it('a last task whose resubmit failed: the sweep is announced on the next settle, once', () => {
    const { store, outbox } = sweepStore();
    for (const t of [0, 1, 2]) store.finalize(acct(`200_${t}`, 'COMPLETED'), fin('COMPLETED', { mode: 'remediate' }));
    store.finalize(acct('200_3', 'OUT_OF_MEMORY'), fin('OUT_OF_MEMORY', { mode: 'remediate' }));
    const [action] = store.pendingTriageActions();
    store.claimTriageAction(action?.id ?? -1, 6000);
    store.finishTriageAction(action?.id ?? -1, false, 'sbatch refused it', 6500);
    const o = { now: 7000, channels: ['tray', 'slack'], sweep };
    expect(store.settleSweeps(o)).toEqual(['sub-1']);
    expect(store.settleSweeps(o)).toEqual([]);
    expect(outbox.all().filter((r) => r.finalState === SWEEP_FINISHED)).toHaveLength(2);
  });

  it('a resubmit lost to a crash (claimed, never finished) holds the sweep back only for a while', () => {
    const { store, outbox } = sweepStore();
    for (const t of [0, 1, 2]) store.finalize(acct(`200_${t}`, 'COMPLETED'), fin('COMPLETED', { mode: 'remediate' }));
    store.finalize(acct('200_3', 'OUT_OF_MEMORY'), fin('OUT_OF_MEMORY', { mode: 'remediate' }));
    store.claimTriageAction(store.pendingTriageActions()[0]?.id ?? -1, 6000);
    const o = (now: number) => ({ now, channels: ['tray'], sweep });
    expect(store.settleSweeps(o(6000 + LOST_TRIAGE_ACTION_MS - 1))).toEqual([]);
    expect(store.settleSweeps(o(6000 + LOST_TRIAGE_ACTION_MS))).toEqual(['sub-1']);
    expect(outbox.all().filter((r) => r.finalState === SWEEP_FINISHED).map((r) => r.channel)).toEqual(['tray']);
  });

  it('a task that ends after its sweep was announced (resubmitted by hand) is announced on its own', () => {
    const { store, outbox } = sweepStore();
    for (const t of [0, 1, 2, 3]) store.finalize(acct(`200_${t}`, 'COMPLETED'), fin('COMPLETED'));
    store.recordSubmission(submission({ id: 'sub-3', baseId: '220', arraySpec: '2', resubmitOf: '200_2', submittedAt: 8000 }), { name: 'hpc-relay-sweep', tasks: [2], partition: null });
    store.finalize(acct('220_2', 'COMPLETED'), fin('COMPLETED', { now: 9000 }));
    expect(outbox.forJob('220_2').map((r) => r.deliveredAt)).toEqual([null, null]);
    expect(outbox.all().filter((r) => r.finalState === SWEEP_FINISHED)).toHaveLength(2);
  });

  it('a sweep the compose step declines (a halted rollout) gets no sweep row; its completed tasks stay quiet', () => {
    const { store, outbox } = sweepStore();
    const halted = { compose: () => null };
    for (const t of [0, 1, 2, 3]) store.finalize(acct(`200_${t}`, t === 0 ? 'FAILED' : 'COMPLETED'), fin(t === 0 ? 'FAILED' : 'COMPLETED', { sweep: halted }));
    expect(outbox.all().filter((r) => r.deliveredAt === null).map((r) => [r.jobKey, r.finalState])).toEqual([['200_0', 'FAILED'], ['200_0', 'FAILED']]);
  });

  it('the tracker still emits every task\'s end (the agent\'s research loop listens to them), and the sweep row comes with the last', async () => {
    const slurm = new FakeSlurm();
    const store = new JobStore(openDatabase(path.join(makeHome('sweep'), 'hpc-relay.db')));
    const tracker = new JobTracker({ cluster: () => slurm.cluster(), store, files: slurm.remoteFiles(), clock: systemClock, logger: createMemoryLogger(), options: () => ({ mode: 'notify', channels: ['tray'], sweep }) });
    const tasks = slurm.addArray(3);
    const base = tasks[0]?.baseId ?? '';
    store.recordSubmission(submission({ baseId: base, arraySpec: '0-2' }), { name: 'hpc-relay-sweep', tasks: [0, 1, 2], partition: null, taskParams: GRID });
    const ends: FinalizeResult[] = [];
    tracker.on('final', (r) => ends.push(r));
    // What the agent is handed (forwardJobEnds): every task's end, and the sweep once its last task has ended.
    const agentJobs: string[] = [];
    const agentSweeps: string[][] = [];
    forwardJobEnds({
      onJobFinished: async (j) => { agentJobs.push(j.jobId); },
      onSweepFinished: async (f) => { agentSweeps.push(f.tasks.map((t) => `${t.jobKey}:${t.state}:${t.params?.['lr'] ?? ''}`)); },
    }, tracker, createMemoryLogger());
    await tracker.tick();
    slurm.set(tasks[0]?.key ?? '', { state: 'COMPLETED', elapsed: 60 });
    await tracker.tick();
    expect(tracker.endedSweep(tasks[0]?.key ?? '')).toBeNull();
    expect(agentSweeps).toEqual([]);
    for (const t of tasks) slurm.set(t.key, { state: 'COMPLETED', elapsed: 60 });
    await tracker.tick();
    expect(ends.map((r) => [r.job.jobKey, r.job.state]).sort()).toEqual(tasks.map((t) => [t.key, 'COMPLETED']));
    expect(agentJobs.sort()).toEqual(tasks.map((t) => t.key).sort());
    expect(agentSweeps).toEqual([tasks.map((t, i) => `${t.key}:COMPLETED:${GRID[i]?.lr ?? ''}`)]);
    expect(tracker.endedSweep(`${base}_2`)?.baseIds).toEqual([base]);
    const outbox = new OutboxStore(store.db);
    expect(outbox.pending(['tray'], Date.now()).map((o) => [o.jobKey, o.finalState])).toEqual([[`${base}_0`, SWEEP_FINISHED]]);
  });

  it('an array submitted from a terminal (adopted, some tasks ended before it was seen) is told once too; its failure is told as it happens; it cannot be resubmitted', async () => {
    const slurm = new FakeSlurm();
    const store = new JobStore(openDatabase(path.join(makeHome('sweep'), 'hpc-relay.db')));
    const tracker = new JobTracker({ cluster: () => slurm.cluster(), store, files: slurm.remoteFiles(), clock: systemClock, logger: createMemoryLogger(), options: () => ({ mode: 'remediate', channels: ['tray', 'slack'], sweep }) });
    const tasks = slurm.addArray(5, { name: 'train', state: 'RUNNING', elapsed: 30 });
    const key = (i: number) => tasks[i]?.key ?? '';
    for (const i of [0, 1]) slurm.set(key(i), { state: 'COMPLETED', elapsed: 60 });
    await tracker.tick();
    expect(tasks.map((t) => store.get(t.key)?.adopted)).toEqual([true, true, true, true, true]);
    // The two that ended before it was seen are quiet: they are told with the array.
    const outbox = new OutboxStore(store.db);
    expect(outbox.pending(['tray', 'slack'], Date.now())).toEqual([]);
    slurm.set(key(2), { state: 'FAILED', exit: 1, elapsed: 70 });
    await tracker.tick();
    expect(outbox.pending(['tray'], Date.now()).map((o) => [o.jobKey, o.finalState])).toEqual([[key(2), 'FAILED']]);
    for (const i of [3, 4]) slurm.set(key(i), { state: 'COMPLETED', elapsed: 80 });
    await tracker.tick();
    const { tray, jobs, sweeps } = await deliverAll(outbox);
    expect(tray.map((n) => n.id)).toEqual([`hpc-relay:job:${key(2)}:FAILED:tray`, `hpc-relay:job:${store.sweepFacts(`adopted:${tasks[0]?.baseId}`)?.anchorKey}:${SWEEP_FINISHED}:tray`]);
    expect(tray[1]?.title).toBe(`✗ array train (${tasks[0]?.baseId}) finished: 5 tasks: 4 completed, 1 failed`);
    expect(jobs.map((r) => r.jobId)).toEqual([key(2)]);
    expect(sweeps).toHaveLength(1);
    expect(sweeps[0]?.facts.tasks.map((t) => [t.task, t.state])).toEqual([[0, 'COMPLETED'], [1, 'COMPLETED'], [2, 'FAILED'], [3, 'COMPLETED'], [4, 'COMPLETED']]);
    // Nothing was resubmitted: it has no script HPC Relay kept.
    expect(slurm.calls.some((c) => c[0] === 'sbatch')).toBe(false);
  });
});
