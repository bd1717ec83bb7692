import { describe, expect, it } from 'vitest';
import { SettingsService } from '../../main/core/config/settings.js';
import { createJobService } from '../../main/core/jobs/index.js';
import type { ConfigStore } from '../../main/core/ports.js';
import { openDatabase } from '../../main/core/store/database.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';

function setup(mode: 'notify' | 'remediate') {
  let data: Record<string, unknown> = { cluster: { host: 'hpc' }, triage: { mode } };
  const config: ConfigStore = { read: () => data, write: (d) => { data = d; }, moveAside: () => '/dev/null', path: '(memory)' };
  const settings = new SettingsService(config);
  const slurm = new FakeSlurm();
  const jobs = createJobService({ db: openDatabase(':memory:'), cluster: () => slurm.cluster(), files: slurm.remoteFiles(), settings: () => settings.settings(), logger: createMemoryLogger(), templates: { render: () => { throw new Error('unused'); } } });
  return { slurm, jobs };
}

const sweep = '#!/bin/sh\n#SBATCH --job-name=sweep\n#SBATCH --mem=1G\npython train.py\n';
const traceback = 'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\nKeyError: \'lr\'\n';

describe('triage actions', () => {
  it.each(['notify', 'remediate'] as const)('the same exception in two tasks halts the sweep (%s mode); only remediate cancels its pending tasks', async (mode) => {
    const { slurm, jobs } = setup(mode);
    const sub = await jobs.submitScript({ name: 'sweep.sh', content: sweep, sbatchArgs: ['--array=0-2'] });
    expect(sub.jobIds).toHaveLength(3);
    const dir = jobs.store.submission(jobs.job(sub.jobIds[0]!).submissionId!)!.remoteDir;
    for (const k of sub.jobIds.slice(0, 2)) {
      slurm.set(k, { state: 'FAILED', exit: 1 });
      slurm.files.set(`${dir}/slurm-${k}.err`, Buffer.from(traceback));
    }
    const r = await jobs.refresh();
    expect(r.finalized.map((f) => f.decision.action)).toEqual(['notify', 'halt']);
    const outcomes = await jobs.runTriageActions();
    expect(outcomes).toEqual([{ jobKey: sub.jobIds[1], action: 'halt', ok: true, result: mode === 'remediate' ? 'cancelled 1 pending job(s) of the sweep' : 'sweep halted' }]);
    expect(slurm.calls.some((c) => c[0] === 'scancel')).toBe(mode === 'remediate');
    expect(await jobs.runTriageActions()).toEqual([]);
  });

  it('a bump resubmits the same script with --mem raised 50%, once', async () => {
    const { slurm, jobs } = setup('remediate');
    const sub = await jobs.submitScript({ name: 'train.sh', content: sweep });
    slurm.set(sub.jobId, { state: 'OUT_OF_MEMORY', exit: 0, signal: 125, reqMem: '1G' });
    await jobs.refresh();
    const [o] = await jobs.runTriageActions();
    expect(o).toMatchObject({ jobKey: sub.jobId, action: 'bump-mem', ok: true });
    const sbatch = slurm.calls.filter((c) => c[0] === 'sbatch');
    expect(sbatch).toHaveLength(2);
    expect(sbatch[1]).toContain('--mem=1536M');
    const newKey = o!.result.replace('resubmitted as ', '');
    expect(jobs.job(newKey)).toMatchObject({ reqMemBytes: 1536 * 2 ** 20, sweepId: jobs.job(sub.jobId).sweepId });
    slurm.set(newKey, { state: 'OUT_OF_MEMORY', exit: 0, signal: 125, reqMem: '1536M' });
    const r = await jobs.refresh();
    expect(r.finalized[0]?.decision.action).toBe('notify');
    expect(await jobs.runTriageActions()).toEqual([]);
    expect(slurm.calls.filter((c) => c[0] === 'sbatch')).toHaveLength(2);
  });
});
