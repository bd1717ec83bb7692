/**
 * Where jobs submitted from a terminal write their output, learned while the scheduler still knows
 * them: one `scontrol show job` command per tick for every adopted job that has started, by base id,
 * kept with the job so its log can be read after the scheduler forgets it. Over the real store and
 * job service, with the in-memory scheduler answering the exact commands sent.
 */
import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import { keptOutputPaths } from '../../main/core/jobs/output-paths.js';
import type { ConfigStore } from '../../main/core/ports.js';
import { SCONTROL_JOBS_SCRIPT } from '../../main/core/slurm/scontrol-parser.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';

function memoryConfig(data: Record<string, unknown>): ConfigStore {
  let current = data;
  return { read: () => current, write: (d) => { current = d; }, moveAside: () => '/dev/null', path: '(memory)' };
}

/** `scontrolFails`: the scontrol command's channel fails (recorded, then thrown), as on a dropped link. */
function setup(o: { scontrolFails?: boolean } = {}) {
  const slurm = new FakeSlurm();
  const settings = new SettingsService(memoryConfig({ cluster: { host: 'hpc' } }));
  const logger = createMemoryLogger();
  const real = slurm.cluster();
  const cluster = o.scontrolFails ? Object.assign(Object.create(real) as typeof real, {
    exec: async (argv: readonly string[]) => {
      if (argv[2] !== SCONTROL_JOBS_SCRIPT) return real.exec(argv);
      slurm.calls.push([...argv]);
      throw new Error('channel open failure');
    },
  }) : real;
  const jobs = createJobService({ db: openDatabase(':memory:'), cluster: () => cluster, files: slurm.remoteFiles(), settings: () => settings.settings(), logger, templates: { render: () => { throw new Error('no templates here'); } } });
  const scontrolCalls = () => slurm.calls.filter((c) => c[0] === 'sh' && c[2] === SCONTROL_JOBS_SCRIPT);
  return { slurm, jobs, logger, scontrolCalls };
}

describe('output paths of jobs submitted from a terminal', () => {
  it('are asked once, in one command for every started job and array task, and kept; pending tasks when they start', async () => {
    const { slurm, jobs, scontrolCalls } = setup();
    const single = slurm.add({ name: 'terminal', state: 'RUNNING', stdout: '/scratch/u/run 7/train.out' });
    const array = slurm.addArray(3, { name: 'sweep', state: 'PENDING' });
    slurm.set(array[0]!.key, { state: 'RUNNING', stdout: '/scratch/u/sweep-0.out' });
    const waiting = slurm.add({ name: 'queued', state: 'PENDING' });

    const report = await jobs.refresh();
    expect(report.adopted.sort()).toEqual([single.key, ...array.map((t) => t.key), waiting.key].sort());
    // One command, by base id: the single job and the array; nothing for the pending job.
    expect(scontrolCalls().map((c) => c.slice(4))).toEqual([[single.baseId, array[0]!.baseId]]);
    expect(keptOutputPaths(jobs.store, single.key)).toEqual({ stdout: '/scratch/u/run 7/train.out', stderr: '/scratch/u/run 7/train.out' });
    expect(keptOutputPaths(jobs.store, array[0]!.key)?.stdout).toBe('/scratch/u/sweep-0.out');
    // The folded record of the pending tasks names no task: nothing kept for them, nothing guessed.
    expect(keptOutputPaths(jobs.store, array[1]!.key)).toBeNull();
    expect(keptOutputPaths(jobs.store, waiting.key)).toBeNull();

    // Nothing new started: no command.
    await jobs.refresh();
    expect(scontrolCalls()).toHaveLength(1);

    // A pending task starts: its array is asked again, and only it.
    slurm.set(array[1]!.key, { state: 'RUNNING', stdout: '/scratch/u/sweep-1.out' });
    await jobs.refresh();
    expect(scontrolCalls().map((c) => c.slice(4))).toEqual([[single.baseId, array[0]!.baseId], [array[0]!.baseId]]);
    expect(keptOutputPaths(jobs.store, array[1]!.key)?.stdout).toBe('/scratch/u/sweep-1.out');
  });

  it('the log of a terminal job that ended an hour ago, long forgotten by the scheduler, can still be tailed', async () => {
    const { slurm, jobs } = setup();
    const j = slurm.add({ name: 'terminal', state: 'RUNNING', stdout: '/scratch/u/train.out' });
    slurm.files.set('/scratch/u/train.out', Buffer.from('epoch=1 val_acc=0.5\nepoch=2 val_acc=0.7\ndone\n'));
    await jobs.refresh();
    slurm.set(j.key, { state: 'COMPLETED', elapsed: 60 });
    await jobs.refresh();
    expect(jobs.store.get(j.key)?.final).toBe(true);
    // MinJobAge later: the scheduler answers nothing for it any more.
    slurm.jobs.delete(j.key);
    const before = slurm.calls.length;
    expect((await jobs.tail(j.key, 2)).lines).toEqual(['epoch=2 val_acc=0.7', 'done']);
    expect(slurm.calls.slice(before).map((c) => c[0])).toEqual(['sh']);
    expect(slurm.calls.at(-1)?.[2]).toBe('(read ranges)');
  });

  it('a job that started and ended between two looks is asked for at the look that sees its end', async () => {
    const { slurm, jobs, scontrolCalls } = setup();
    const task = slurm.addArray(2, { name: 'short', state: 'PENDING' });
    await jobs.refresh();
    expect(scontrolCalls()).toHaveLength(0);
    slurm.set(task[0]!.key, { state: 'COMPLETED', stdout: '/scratch/u/short-0.out' });
    await jobs.refresh();
    expect(jobs.store.get(task[0]!.key)?.final).toBe(true);
    expect(keptOutputPaths(jobs.store, task[0]!.key)?.stdout).toBe('/scratch/u/short-0.out');
  });

  it('a command that fails is tried again at the next look, three times at most per job; the tick goes on', async () => {
    const { slurm, jobs, logger, scontrolCalls } = setup({ scontrolFails: true });
    const j = slurm.add({ name: 'terminal', state: 'RUNNING' });
    for (let i = 0; i < 5; i++) expect((await jobs.refresh()).squeueCalls).toBe(1);
    expect(scontrolCalls()).toHaveLength(3);
    expect(logger.atLeast('warn').map((e) => e.msg)).toContain('could not ask where jobs submitted elsewhere write their output');
    expect(keptOutputPaths(jobs.store, j.key)).toBeNull();
  });

  it('an array\'s bare id is not guessed at: tail and stats ask for one task; a one-task array and a task key answer', async () => {
    const { slurm, jobs } = setup();
    const tasks = slurm.addArray(3, { name: 'grid', state: 'RUNNING' });
    const lone = slurm.addArray(1, { name: 'lone', state: 'RUNNING' });
    for (const t of [...tasks, ...lone]) slurm.files.set(`/home/u/slurm-${t.key}.out`, Buffer.from(`hello from ${t.key}\n`));
    await jobs.refresh();
    const base = tasks[0]!.baseId;
    await expect(jobs.tail(base)).rejects.toMatchObject({
      code: 'USAGE', message: `Job ${base} is an array of 3 tasks (${base}_0 to ${base}_2): name one task, e.g. ${base}_0. See its tasks with \`hpc-relay jobs --tasks\` (in Slack: \`status\`).`, fix: 'See its tasks with `hpc-relay jobs --tasks` (in Slack: `status`).',
    });
    await expect(jobs.stats(base)).rejects.toMatchObject({ code: 'USAGE' });
    expect((await jobs.tail(`${base}_1`)).lines).toEqual([`hello from ${base}_1`]);
    expect((await jobs.tail(lone[0]!.baseId)).lines).toEqual([`hello from ${lone[0]!.key}`]);
    // Cancel takes the whole array by its id.
    await jobs.cancel(base);
    expect(jobs.jobsOf(base).map((j) => j.state)).toEqual(['CANCELLED', 'CANCELLED', 'CANCELLED']);
  });

  it('a terminal job that failed is triaged from its log like an app job, even one that started and failed between two looks', async () => {
    const { slurm, jobs } = setup();
    const gpu = slurm.add({ name: 'big-batch', state: 'RUNNING', stdout: '/scratch/u/big.out' });
    const quick = slurm.add({ name: 'typo', state: 'PENDING', stdout: '/scratch/u/typo.out' });
    slurm.files.set('/scratch/u/big.out', Buffer.from('epoch=1 loss=2.3\ntorch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB\n'));
    slurm.files.set('/scratch/u/typo.out', Buffer.from('Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n    import tourch\nModuleNotFoundError: No module named \'tourch\'\n'));
    await jobs.refresh();
    slurm.set(gpu.key, { state: 'FAILED', exit: 1 });
    slurm.set(quick.key, { state: 'FAILED', exit: 1 });
    const r = await jobs.refresh();
    expect(r.finalized.map((f) => [f.job.jobKey, f.decision.failureClass, f.decision.action]).sort()).toEqual([
      [gpu.key, 'cuda-oom', 'notify'],
      [quick.key, 'exception', 'notify'],
    ].sort());
    expect(r.finalized.find((f) => f.job.jobKey === gpu.key)?.decision.reason).toMatch(/lower the batch size/);
    expect(r.finalized.find((f) => f.job.jobKey === quick.key)?.decision.reason).toMatch(/ModuleNotFoundError/);
  });
});
