import { describe, expect, it } from 'vitest';
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import { parseEventLine } from '../../main/core/jobs/completion-watcher.js';
import { JobTracker, logPath } from '../../main/core/jobs/job-tracker.js';
import { parseRanges } from '../../main/core/jobs/remote-files.js';
import { systemClock } from '../../main/core/ports.js';
import { openDatabase } from '../../main/core/store/database.js';
import { JobStore, type SubmissionRow } from '../../main/core/store/job-store.js';
import { OutboxStore } from '../../main/core/store/outbox-store.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';

function setup(mode: 'notify' | 'remediate' = 'notify') {
  const slurm = new FakeSlurm();
  const store = new JobStore(openDatabase(':memory:'));
  const files = slurm.remoteFiles();
  const tracker = new JobTracker({ cluster: () => slurm.cluster(), store, files, clock: systemClock, logger: createMemoryLogger(), options: () => ({ mode, channels: ['tray'] }) });
  return { slurm, store, files, tracker, outbox: new OutboxStore(store.db) };
}

function submission(baseId: string, arraySpec: string | null, over: Partial<SubmissionRow> = {}): SubmissionRow {
  const dir = `/home/u/hpc-relay/jobs/s-${baseId}`;
  return {
    id: `s-${baseId}`, kind: 'script', source: 'train.sh', params: {}, scriptHash: 'h', sbatchArgs: [], scriptArgs: [], remoteDir: dir, scriptPath: `${dir}/train.sh`, wrapperPath: `${dir}/relay-wrapper.sh`,
    stdoutPattern: `${dir}/slurm-${arraySpec ? '%A_%a' : '%j'}.out`, stderrPattern: `${dir}/slurm-${arraySpec ? '%A_%a' : '%j'}.err`, baseId, arraySpec, sweepId: `s-${baseId}`, resubmitOf: null, submittedAt: 1, ...over,
  };
}

describe('job tracker: one squeue and one sacct per tick, whatever the number of jobs', () => {
  it.each([1, 100, 1000])('tracks %i array tasks with exactly 1 squeue + 1 sacct per tick, and finalizes them', async (n) => {
    const { slurm, store, tracker, outbox } = setup();
    const tasks = slurm.addArray(n);
    const base = tasks[0]!.baseId;
    store.recordSubmission(submission(base, `0-${n - 1}`), { name: 'train', tasks: tasks.map((t) => t.task!), partition: null });

    const r1 = await tracker.tick();
    expect(slurm.count()).toEqual({ squeue: 1, sacct: 1 });
    expect([r1.squeueCalls, r1.sacctCalls, r1.otherCalls]).toEqual([1, 1, 0]);
    expect(store.unfinished()).toHaveLength(n);

    for (const t of tasks) slurm.set(t.key, { state: 'RUNNING', elapsed: 30 });
    const before = slurm.calls.length;
    const r2 = await tracker.tick();
    expect(slurm.count(before)).toEqual({ squeue: 1, sacct: 1 });
    expect(r2.transitions.filter((t) => t.to === 'RUNNING')).toHaveLength(n);

    for (const t of tasks) slurm.set(t.key, { state: 'COMPLETED', elapsed: 60, maxRssK: 2048 });
    const mid = slurm.calls.length;
    const r3 = await tracker.tick();
    expect(slurm.count(mid)).toEqual({ squeue: 1, sacct: 1 });
    expect(r3.finalized).toHaveLength(n);
    expect(store.unfinished()).toHaveLength(0);
    expect(outbox.all()).toHaveLength(n);
    expect(slurm.calls.find((c) => c[0] === 'sacct')!.at(-1)).toBe(base);

    // Nothing left open: the next tick is the squeue alone (it still adopts jobs from elsewhere).
    const end = slurm.calls.length;
    await tracker.tick();
    expect(slurm.count(end)).toEqual({ squeue: 1 });
  });

  it('adopts a job submitted outside the app from squeue, and notifies its end', async () => {
    const { slurm, store, tracker, outbox } = setup();
    const outside = slurm.add({ name: 'by-hand', state: 'RUNNING' });
    const r = await tracker.tick();
    expect(r.adopted).toEqual([outside.key]);
    expect(store.get(outside.key)).toMatchObject({ adopted: true, state: 'RUNNING', name: 'by-hand' });
    // Running: where it writes is asked once (one scontrol command), for its triage and tail later.
    expect([r.otherCalls, slurm.count()]).toEqual([1, { squeue: 1, sh: 1, sacct: 1 }]);
    slurm.set(outside.key, { state: 'FAILED', exit: 2 });
    const from = slurm.calls.length;
    const r2 = await tracker.tick();
    expect(r2.finalized.map((f) => f.job.jobKey)).toEqual([outside.key]);
    expect(outbox.forJob(outside.key).map((o) => o.title)).toEqual([`✗ by-hand (${outside.key}) FAILED (exit 2:0)`]);
    // Its end: squeue, sacct, and one read of the end of its log for triage (nothing asked again).
    expect([r2.otherCalls, slurm.count(from)]).toEqual([1, { squeue: 1, sacct: 1, sh: 1 }]);
    expect(slurm.calls.at(-1)?.slice(2)).toEqual(['(read ranges)', `/home/u/slurm-${outside.key}.out`]);
  });

  it('reads the output of all failed app jobs in one command and classifies OverMemoryKill as host OOM', async () => {
    const { slurm, store, tracker } = setup('remediate');
    const a = slurm.add({ state: 'RUNNING', reqMem: '100M' });
    const b = slurm.add({ state: 'RUNNING' });
    store.recordSubmission(submission(a.baseId, null), { name: 'oom', tasks: null, partition: null });
    store.recordSubmission(submission(b.baseId, null), { name: 'exc', tasks: null, partition: null });
    slurm.files.set(logPath(`/home/u/hpc-relay/jobs/s-${a.baseId}/slurm-%j.out`, { jobKey: a.key, baseId: a.baseId, arrayTask: null }), Buffer.from('slurmstepd-vm: error: Exceeded job memory limit\n'));
    slurm.files.set(`/home/u/hpc-relay/jobs/s-${b.baseId}/slurm-${b.key}.err`, Buffer.from('Traceback (most recent call last):\n  File "x", line 1\nValueError: bad value 3\n'));
    slurm.set(a.key, { state: 'FAILED', exit: 0, signal: 9 });
    slurm.set(b.key, { state: 'FAILED', exit: 1 });
    const r = await tracker.tick();
    expect(r.otherCalls).toBe(1);
    expect(slurm.count()).toEqual({ squeue: 1, sacct: 1, sh: 1 });
    expect(store.get(a.key)).toMatchObject({ failureClass: 'host-oom' });
    expect(store.get(b.key)).toMatchObject({ failureClass: 'exception', failureSignature: 'ValueError: bad value #' });
    expect(r.finalized.find((f) => f.job.jobKey === a.key)?.decision).toMatchObject({ action: 'bump-mem', changes: { mem: '150M' } });
  });

  it('applies a folded range of never-started array tasks to each tracked task in it', async () => {
    const store = new JobStore(openDatabase(':memory:'));
    store.recordSubmission(submission('39', '0-9%2'), { name: 'wrap', tasks: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], partition: null });
    const text = '39_0|wrap|COMPLETED|0:0|00:00:01||64M|04:00:00|vm|2026-11-28T04:14:10|2026-11-28T04:14:11\n39_[1-9%2]|wrap|CANCELLED by 1001|0:0|00:00:00||64M|04:00:00|None assigned|None|2026-11-28T04:14:17\n';
    const cluster = { run: async (argv: readonly string[]) => (argv[0] === 'sacct' ? text : '') } as unknown as ClusterService;
    const tracker = new JobTracker({ cluster: () => cluster, store, files: new FakeSlurm().remoteFiles(), clock: systemClock, logger: createMemoryLogger(), options: () => ({ mode: 'notify', channels: [] }) });
    const r = await tracker.reconcile(null, 'sacct');
    expect(r.stillOpen).toEqual([]);
    expect(store.get('39_0')?.state).toBe('COMPLETED');
    expect(store.byBaseId('39').filter((j) => j.state === 'CANCELLED')).toHaveLength(9);
    expect(store.get('39_5')).toMatchObject({ cancelledBy: 1001, final: true });
  });

  it('an events reconcile moves a job forward but never back (accounting lags the queue)', async () => {
    const { slurm, store, tracker } = setup();
    const j = slurm.add({ state: 'RUNNING' });
    await tracker.tick();
    slurm.set(j.key, { state: 'PENDING' });
    await tracker.reconcile([j.key], 'events');
    expect(store.get(j.key)?.state).toBe('RUNNING');
  });

  it('reads event lines and range output', () => {
    expect(parseEventLine('1234 0 1795840041')).toEqual({ jobKey: '1234', exitCode: 0, epoch: 1795840041 });
    expect(parseEventLine('900_7 137 1795840041\r')).toEqual({ jobKey: '900_7', exitCode: 137, epoch: 1795840041 });
    for (const bad of ['', 'unknown 0 1', '12 x 1', '12 0', '$(rm) 0 1', '12 0 1 extra']) expect(parseEventLine(bad)).toBeNull();
    const out = `0 11 5\n${Buffer.from('world\n').toString('base64')}\n1 - -\n\n`;
    expect(parseRanges(out, [{ path: '/a', offset: 5, cap: 100 }, { path: '/b', offset: 0, cap: 100 }])).toEqual([
      { path: '/a', size: 11, start: 5, data: Buffer.from('world\n') },
      { path: '/b', size: null, start: 0, data: Buffer.alloc(0) },
    ]);
    expect(() => parseRanges('garbage\n\n', [{ path: '/a', offset: 0, cap: 1 }])).toThrow(/cannot read/);
  });
});

describe('job tracker: slurmdbd quirks', () => {
  it('a pending array cancelled whole: the fleeting record under the array\'s own id ("allocation") makes no job; the range record ends the tasks', async () => {
    const { slurm, store, tracker, outbox } = setup();
    const tasks = slurm.addArray(3, { name: 'held' });
    const base = tasks[0]!.baseId;
    await tracker.tick();
    expect(store.byBaseId(base).map((j) => j.jobKey)).toEqual(tasks.map((t) => t.key));
    // scancel: the queue is empty, and sacct first answers with the array's own id, then with its range.
    const line = (id: string, name: string) => `${id}|${name}|CANCELLED by 1001|0:0|00:00:00||32M|00:02:00|None assigned|2026-11-28T11:41:39|2026-11-28T11:41:39\n`;
    let sacct = line(base, 'allocation');
    const real = slurm.cluster();
    const cluster = Object.assign(Object.create(real) as ClusterService, {
      run: async (argv: readonly string[]) => (argv[0] === 'squeue' ? '' : argv[0] === 'sacct' ? sacct : real.run(argv)),
    });
    const quirky = new JobTracker({ cluster: () => cluster, store, files: slurm.remoteFiles(), clock: systemClock, logger: createMemoryLogger(), options: () => ({ mode: 'notify', channels: ['tray'] }) });
    const first = await quirky.tick();
    expect(first.finalized).toEqual([]);
    expect(store.get(base)).toBeNull();
    expect(store.unfinished().map((j) => j.jobKey)).toEqual(tasks.map((t) => t.key));
    sacct = line(`${base}_[0-2]`, 'held');
    const second = await quirky.tick();
    expect(second.finalized.map((f) => [f.job.jobKey, f.job.state])).toEqual(tasks.map((t) => [t.key, 'CANCELLED']));
    expect(store.byBaseId(base).map((j) => j.jobKey)).toEqual(tasks.map((t) => t.key));
    expect(outbox.all().some((r) => r.jobKey === base)).toBe(false);
  });
});
