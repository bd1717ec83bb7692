import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import { JobsRuntime } from '../../main/core/jobs/jobs-runtime.js';
import type { ConfigStore, Notification } from '../../main/core/ports.js';
import { systemClock } from '../../main/core/ports.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';

function memoryConfig(data: Record<string, unknown>): ConfigStore {
  let current = data;
  return { read: () => current, write: (d) => { current = d; }, moveAside: () => '/dev/null', path: '(memory)' };
}

function setup(mode: 'notify' | 'remediate') {
  const slurm = new FakeSlurm();
  const files = slurm.remoteFiles();
  const settings = new SettingsService(memoryConfig({ cluster: { host: 'hpc' }, triage: { mode } }));
  const logger = createMemoryLogger();
  const jobs = createJobService({ db: openDatabase(':memory:'), cluster: () => slurm.cluster(), files, settings: () => settings.settings(), logger, templates: { render: () => { throw new Error('no templates here'); } } });
  const notes: Notification[] = [];
  const rt = new JobsRuntime({ jobs, session: () => { throw new Error('no SSH in this test'); }, channels: { tray: { notify: async (n) => { notes.push(n); } } }, settings: () => settings.settings(), clock: systemClock, logger, pollMs: 3_600_000 });
  return { slurm, files, jobs, rt, notes };
}

const script = '#!/bin/sh\n#SBATCH --job-name=train\npython train.py\n';

describe('live metrics of running jobs', () => {
  it('reads only the bytes written since the last read, and keeps series per source', async () => {
    const { slurm, files, jobs } = setup('notify');
    const { jobId } = await jobs.submitScript({ name: 'train.sh', content: script });
    slurm.set(jobId, { state: 'RUNNING' });
    await jobs.refresh();
    const sub = jobs.store.submission(jobs.job(jobId).submissionId!)!;
    const log = `${sub.remoteDir}/slurm-${jobId}.out`;
    slurm.files.set(log, Buffer.from('starting\nepoch=1 loss=0.9 acc=0.5\nepo'));
    slurm.files.set(`${sub.remoteDir}/metrics.csv`, Buffer.from('epoch,loss\n1,0.9\n'));
    const before = files.bytesRead;
    await jobs.metricsReader.refresh([jobId]);
    const first = files.bytesRead - before;
    expect(first).toBe(Buffer.byteLength('starting\nepoch=1 loss=0.9 acc=0.5\nepo') + Buffer.byteLength('epoch,loss\n1,0.9\n'));
    slurm.files.set(log, Buffer.concat([slurm.files.get(log)!, Buffer.from('ch=2 loss=0.7 acc=0.6\n')]));
    const mid = files.bytesRead;
    await jobs.metricsReader.refresh([jobId]);
    expect(files.bytesRead - mid).toBe(Buffer.byteLength('ch=2 loss=0.7 acc=0.6\n'));
    const loss = jobs.metrics.series(jobId).filter((p) => p.series === 'loss').map((p) => [p.source, p.step, p.value]);
    expect(loss).toEqual([['csv', 1, 0.9], ['log', 1, 0.9], ['log', 2, 0.7]]);
  });

  it('warns once (notify mode) when a running job logs NaN, and the job keeps running', async () => {
    const { slurm, jobs, rt, notes } = setup('notify');
    const { jobId } = await jobs.submitScript({ name: 'train.sh', content: script });
    slurm.set(jobId, { state: 'RUNNING' });
    await jobs.refresh();
    const dir = jobs.store.submission(jobs.job(jobId).submissionId!)!.remoteDir;
    slurm.files.set(`${dir}/slurm-${jobId}.out`, Buffer.from('epoch=1 loss=0.9\nepoch=2 loss=nan\n'));
    expect(await rt.checkLiveMetrics()).toEqual([{ jobKey: jobId, action: 'warned' }]);
    slurm.files.set(`${dir}/slurm-${jobId}.out`, Buffer.from('epoch=1 loss=0.9\nepoch=2 loss=nan\nepoch=3 loss=inf\n'));
    expect(await rt.checkLiveMetrics()).toEqual([]);
    await rt.dispatcher.flush();
    expect(notes.map((n) => n.title)).toEqual([`⚠ job ${jobId}: loss=nan at epoch 2`]);
    expect(notes[0]!.body).toMatch(/still running/);
    expect(jobs.job(jobId).state).toBe('RUNNING');
  });

  it('cancels a running job whose metrics go inf in remediate mode', async () => {
    const { slurm, jobs, rt, notes } = setup('remediate');
    const { jobId } = await jobs.submitScript({ name: 'train.sh', content: script });
    slurm.set(jobId, { state: 'RUNNING' });
    await jobs.refresh();
    const dir = jobs.store.submission(jobs.job(jobId).submissionId!)!.remoteDir;
    slurm.files.set(`${dir}/metrics.csv`, Buffer.from('epoch,loss\n1,0.9\n2,-inf\n'));
    expect(await rt.checkLiveMetrics()).toEqual([{ jobKey: jobId, action: 'cancelled' }]);
    expect(slurm.calls.some((c) => c[0] === 'scancel' && c[1] === jobId)).toBe(true);
    expect(jobs.job(jobId)).toMatchObject({ state: 'CANCELLED', final: true });
    await rt.dispatcher.flush();
    expect(notes.map((n) => n.title)).toEqual(expect.arrayContaining([`⚠ job ${jobId}: loss=-inf at epoch 2`]));
  });
});
