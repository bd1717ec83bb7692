/**
 * The metrics of a job submitted from a terminal (adopted), read once at its end from the log the
 * scheduler named: all of a short log; of a long one, its last part (the final numbers count).
 * Over the real store and job service, with the in-memory scheduler's files.
 */
import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import { JobsRuntime } from '../../main/core/jobs/jobs-runtime.js';
import { keptOutputPaths } from '../../main/core/jobs/output-paths.js';
import type { SweepEndReport } from '../../main/core/notify/sweep-messages.js';
import type { Notification } from '../../main/core/ports.js';
import { systemClock } from '../../main/core/ports.js';
import type { ConfigStore } from '../../main/core/ports.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { until } from '../helpers/wait.js';

function memoryConfig(data: Record<string, unknown>): ConfigStore {
  let current = data;
  return { read: () => current, write: (d) => { current = d; }, moveAside: () => '/dev/null', path: '(memory)' };
}

async function adoptedJob(log: string, config: Record<string, unknown> = {}) {
  const slurm = new FakeSlurm();
  const settings = new SettingsService(memoryConfig({ cluster: { host: 'hpc' }, ...config }));
  const logger = createMemoryLogger();
  const jobs = createJobService({ db: openDatabase(':memory:'), cluster: () => slurm.cluster(), files: slurm.remoteFiles(), settings: () => settings.settings(), logger, templates: { render: () => { throw new Error('no templates here'); } } });
  const path = `/home/u/train ${slurm.jobs.size + 1000}.out`;
  const j = slurm.add({ name: 'terminal', state: 'RUNNING', stdout: path });
  slurm.files.set(path, Buffer.from(log));
  // The queue's look adopts it and asks the scheduler where its output goes (kept).
  await jobs.refresh();
  expect(jobs.store.get(j.key)?.adopted).toBe(true);
  expect(keptOutputPaths(jobs.store, j.key)?.stdout).toBe(path);
  return { jobs, key: j.key, slurm, settings, logger };
}

const epochs = (from: number, to: number, pad = '') => Array.from({ length: to - from + 1 }, (_, i) => `epoch=${from + i} val_acc=${((from + i) / 1000).toFixed(3)}${pad}\n`).join('');

describe('metrics of a job submitted from a terminal', () => {
  it('reads a short log whole', async () => {
    const { jobs, key } = await adoptedJob(`starting\n${epochs(1, 3)}`);
    expect(await jobs.catchUpMetrics(key)).toBe(3);
    expect(jobs.metrics.series(key).map((p) => [p.series, p.step, p.value])).toEqual([['val_acc', 1, 0.001], ['val_acc', 2, 0.002], ['val_acc', 3, 0.003]]);
    expect(await jobs.catchUpMetrics(key)).toBe(0);
  });

  it('of a log longer than the reads allow, reads the last part from its first whole line: the final epoch is there, the first is not', async () => {
    const pad = ` note=${'x'.repeat(200)}`;
    const { jobs, key } = await adoptedJob(epochs(1, 3000, pad));
    // Two reads of 256 KB cover the last 512 KB of a ~660 KB log.
    await jobs.catchUpMetrics(key, 2);
    const steps = jobs.metrics.series(key).map((p) => p.step);
    expect(steps.at(-1)).toBe(3000);
    expect(steps).not.toContain(1);
    // Every point is a whole line's: no value from a cut line.
    expect(jobs.metrics.series(key).every((p) => p.value === p.step / 1000)).toBe(true);
    expect(steps.length).toBeGreaterThan(2000);
  });

  it('with Slack off: at its end its numbers are read for the window and status', async () => {
    const { jobs, key, slurm, settings, logger } = await adoptedJob(`starting\n${epochs(1, 4)}`);
    const notices: Notification[] = [];
    // Only the tray: no Slack report asks for anything. The poll is an hour away; ticks are driven here.
    const rt = new JobsRuntime({ jobs, session: () => { throw new Error('no SSH in this test'); }, channels: { tray: { notify: async (n) => { notices.push(n); } } }, settings: () => settings.settings(), clock: systemClock, logger, pollMs: 3_600_000 });
    await rt.start();
    try {
      await rt.tickNow();
      expect(jobs.metrics.series(key)).toEqual([]);
      slurm.set(key, { state: 'COMPLETED', elapsed: 90 });
      await rt.tickNow();
      await until('the tray notice', () => notices.length >= 1, 5_000, 20);
      await until('the end-of-job read', () => jobs.metrics.series(key).length > 0, 5_000, 20);
      expect(jobs.metrics.series(key).map((p) => p.step)).toEqual([1, 2, 3, 4]);
      expect(jobs.bestMetric(key)).toMatchObject({ series: 'val_acc', value: 0.004 });
      // (The completion watcher has no SSH session here: its warning is the only one.)
      expect(logger.atLeast('warn').map((e) => e.msg).filter((m) => m !== 'could not open the events stream')).toEqual([]);
      expect((await jobs.listJobs()).find((j) => j.jobId === key)?.best).toMatchObject({ series: 'val_acc', value: 0.004 });
    } finally {
      await rt.stop();
    }
  });

  it('a job array submitted from a terminal: at its end its tasks\' logs are read in one command and its one report ranks them', async () => {
    const { jobs, settings, logger, slurm } = await adoptedJob('not part of the array\n', { slack: { enabled: true } });
    const tasks = slurm.addArray(3, { name: 'lr-grid', state: 'RUNNING' });
    tasks.forEach((t, i) => slurm.files.set(`/home/u/slurm-${t.key}.out`, Buffer.from(`lr=${i}\n${epochs(1, 3).replaceAll('val_acc=0.00', `val_acc=0.${i}`)}`)));
    const sweeps: SweepEndReport[] = [];
    const slack = { reportJobEnd: async () => undefined, reportSweepEnd: async (r: SweepEndReport) => { sweeps.push(r); } };
    const rt = new JobsRuntime({ jobs, session: () => { throw new Error('no SSH in this test'); }, channels: { slack }, settings: () => settings.settings(), clock: systemClock, logger, pollMs: 3_600_000 });
    await rt.start();
    try {
      await rt.tickNow();
      for (const t of tasks) expect(keptOutputPaths(jobs.store, t.key)?.stdout).toBe(`/home/u/slurm-${t.key}.out`);
      for (const t of tasks) slurm.set(t.key, { state: 'COMPLETED', elapsed: 30 });
      const from = slurm.calls.length;
      await rt.tickNow();
      await until('the array report', () => sweeps.length > 0, 5_000, 20);
      const facts = sweeps[0]!.facts;
      expect(facts.sweepId).toBe(`adopted:${tasks[0]!.baseId}`);
      expect(facts.metric).toEqual({ name: 'val_acc', goal: 'max' });
      expect(facts.tasks.map((t) => [t.jobKey, t.best?.value])).toEqual(tasks.map((t, i) => [t.key, Number(`0.${i}3`)]));
      // The three logs: one command for their sizes, one that reads them, one that finds nothing new.
      const reads = slurm.calls.slice(from).filter((c) => c[2] === '(read ranges)');
      expect(reads.length).toBeLessThanOrEqual(3);
      expect(reads.every((c) => tasks.every((t) => c.includes(`/home/u/slurm-${t.key}.out`)))).toBe(true);
      expect(sweeps).toHaveLength(1);
      expect(logger.atLeast('warn').map((e) => e.msg).filter((m) => m !== 'could not open the events stream')).toEqual([]);
    } finally {
      await rt.stop();
    }
  });
});
