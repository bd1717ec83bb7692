/**
 * The metrics of a job submitted from a terminal (adopted), read once at its end from the log the
 * scheduler named: all of a short log; of a long one, its last part (the final numbers count).
 * Over the real store and job service, with the in-memory scheduler's files.
 */
import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import { OUTPUT_PATHS_EVENT } from '../../main/core/jobs/output-paths.js';
import type { ConfigStore } from '../../main/core/ports.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';

function memoryConfig(data: Record<string, unknown>): ConfigStore {
  let current = data;
  return { read: () => current, write: (d) => { current = d; }, moveAside: () => '/dev/null', path: '(memory)' };
}

async function adoptedJob(log: string) {
  const slurm = new FakeSlurm();
  const settings = new SettingsService(memoryConfig({ cluster: { host: 'hpc' } }));
  const jobs = createJobService({ db: openDatabase(':memory:'), cluster: () => slurm.cluster(), files: slurm.remoteFiles(), settings: () => settings.settings(), logger: createMemoryLogger(), templates: { render: () => { throw new Error('no templates here'); } } });
  const j = slurm.add({ name: 'terminal', state: 'RUNNING' });
  await jobs.refresh();
  expect(jobs.store.get(j.key)?.adopted).toBe(true);
  const path = `/home/u/train-${j.key}.out`;
  slurm.files.set(path, Buffer.from(log));
  // As outputPaths() keeps it once the scheduler has named the file.
  jobs.store.addEvent(j.key, OUTPUT_PATHS_EVENT, { stdout: path, stderr: path }, 1);
  return { jobs, key: j.key };
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
});
