import { describe, expect, it } from 'vitest';
import { jobsTable } from '../../main/cli/jobs-commands.js';
import type { JobSummary } from '../../main/core/jobs/job-types.js';

const job = (jobId: string, state: string, over: Partial<JobSummary> = {}): JobSummary => ({
  jobId, name: 'train', state, elapsedSec: 90, exitCode: state === 'COMPLETED' ? '0:0' : null, adopted: false, final: state === 'COMPLETED', ...over,
});

describe('hpc-relay jobs: the table', () => {
  const list = [
    job('42', 'RUNNING', { name: 'cnn', where: 'node1' }),
    ...[0, 1, 2, 3].map((t) => job(`41_${t}`, t < 2 ? 'COMPLETED' : 'RUNNING', { elapsedSec: 60 + t, adopted: true })),
    job('40', 'FAILED', { exitCode: '3:0' }),
  ];

  it('folds a job array into one row (tasks as ranges, states counted, the longest elapsed, the shared exit code only)', () => {
    expect(jobsTable(list).split('\n').map((l) => l.replace(/\s+/g, ' '))).toEqual([
      'JOB NAME STATE ELAPSED EXIT WHERE',
      '42 cnn RUNNING 00:01:30 node1',
      '41_[0-3] train 2 completed, 2 running 00:01:03 4 tasks (adopted)',
      '40 train FAILED 00:01:30 3:0',
    ]);
  });

  it('--tasks lists every task as it is', () => {
    const lines = jobsTable(list, true).split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[2]?.replace(/\s+/g, ' ')).toBe('41_0 train COMPLETED 00:01:00 0:0 (adopted)');
  });
});
