import { describe, expect, it } from 'vitest';
import { jobsTable, watchSummary } from '../../main/cli/jobs-commands.js';
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

  it('a BEST column when a job has a key metric: its best value, an array its best task\'s (val_acc highest)', () => {
    const withMetrics = [
      job('42', 'RUNNING', { name: 'cnn', where: 'node1', best: { series: 'val_acc', value: 0.87312, step: 7 } }),
      ...[0, 1].map((t) => job(`41_${t}`, 'COMPLETED', { best: { series: 'val_acc', value: 0.5 + t / 10, step: 3 } })),
      job('40', 'FAILED', { exitCode: '3:0' }),
    ];
    expect(jobsTable(withMetrics).split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'JOB NAME STATE ELAPSED EXIT BEST WHERE',
      '42 cnn RUNNING 00:01:30 val_acc 0.87312 node1',
      '41_[0-1] train COMPLETED 00:01:30 0:0 val_acc 0.6 2 tasks',
      '40 train FAILED 00:01:30 3:0',
    ]);
  });
});

describe('hpc-relay watch JOB: the line it ends with', () => {
  it('a job: its state, time, exit and best metric; ok only when it completed', () => {
    expect(watchSummary('42', [job('42', 'COMPLETED', { name: 'cnn', best: { series: 'val_acc', value: 0.83, step: 3 } })])).toEqual({
      text: 'Job 42 (cnn) COMPLETED: after 00:01:30, exit 0:0, best val_acc 0.83.', ok: true, best: { series: 'val_acc', value: 0.83, step: 3 },
    });
    expect(watchSummary('40', [job('40', 'TIMEOUT', { exitCode: '0:0', final: true })])).toMatchObject({ text: 'Job 40 (train) TIMEOUT: after 00:01:30, exit 0:0.', ok: false });
  });

  it('an array: its states counted, the longest run, the best task; ok only when every task completed', () => {
    const tasks = [0, 1, 2].map((t) => job(`41_${t}`, t === 1 ? 'FAILED' : 'COMPLETED', { elapsedSec: 60 + t, best: { series: 'loss', value: 1 - t / 10, step: 2 } }));
    expect(watchSummary('41', tasks)).toEqual({
      text: 'Job array 41_[0-2] (train): 2 completed, 1 failed, longest 00:01:02, best loss 0.8 (task 41_2).', ok: false, best: { series: 'loss', value: 0.8, step: 2 },
    });
    expect(watchSummary('41', tasks.map((t) => ({ ...t, state: 'COMPLETED' }))).ok).toBe(true);
    expect(watchSummary('9', [])).toEqual({ text: 'Job 9 has ended.', ok: false });
  });
});
