import { describe, expect, it } from 'vitest';
import type { JobSummary } from '../../main/core/slack/jobs-api.js';
import { taskRanges } from '../../main/core/jobs/job-groups.js';
import { MAX_STATUS_ROWS, statusRows, statusText } from '../../main/core/slack/status-view.js';

const job = (jobId: string, state: string, over: Partial<JobSummary> = {}): JobSummary => ({ jobId, name: 'train', state, elapsedSec: 60, ...over });

describe('the Slack status table', () => {
  it('writes task indexes as ranges', () => {
    expect(taskRanges([3, 0, 1, 2, 7, 9, 10, 10])).toBe('0-3,7,9-10');
    expect(taskRanges([5])).toBe('5');
    expect(taskRanges([])).toBe('');
  });

  it('folds a job array into one row where its first task was: tasks as ranges, states counted, longest elapsed, the best key metric by its goal', () => {
    const list = [
      job('900', 'RUNNING', { name: 'single', where: 'node1' }),
      ...Array.from({ length: 100 }, (_, t) => job(`800_${t}`, t < 4 ? 'RUNNING' : t < 10 ? 'COMPLETED' : 'PENDING', {
        elapsedSec: t < 10 ? 100 + t : null, ...(t < 10 ? { best: { series: 'val_acc', value: t === 6 ? 0.93 : 0.5, step: 3 } } : {}),
      })),
      job('700_1', 'COMPLETED', { best: { series: 'loss', value: 0.4, step: 9 } }),
      job('700_2', 'COMPLETED', { best: { series: 'loss', value: 0.2, step: 9 } }),
      job('600_5', 'FAILED'),
    ];
    expect(statusRows(list).map((r) => [r.id, r.state, r.elapsedSec, r.best?.value ?? null, r.where])).toEqual([
      ['900', 'RUNNING', 60, null, 'node1'],
      ['800_[0-99]', '4 running, 6 completed, 90 pending', 109, 0.93, '100 tasks'],
      ['700_[1-2]', 'COMPLETED', 60, 0.2, '2 tasks'],
      // One task of an array (the others not tracked): a row of its own.
      ['600_5', 'FAILED', 60, null, ''],
    ]);
    const text = statusText(list);
    expect(text.split('\n')[0]).toBe('*104 jobs* (5 running, 8 completed, 90 pending, 1 failed)');
    expect(text).toMatch(/800_\[0-99\]\s+4 running, 6 completed, 90 pending\s+1m 49s\s+val_acc 0\.93\s+train\s+100 tasks/);
    expect(text).not.toContain('more.');
  });

  it('caps the rows after folding, and says how many are left', () => {
    const list = Array.from({ length: MAX_STATUS_ROWS + 5 }, (_, i) => job(String(1000 + i), 'PENDING'));
    const text = statusText(list);
    expect(text).toContain(`…and 5 more.`);
    expect(text).toContain('1000 ');
    expect(text).not.toContain(`${1000 + MAX_STATUS_ROWS} `);
    expect(statusText([])).toBe('No tracked jobs.');
    // The same number as the job's report shows (five significant digits).
    expect(statusText([job('77', 'COMPLETED', { best: { series: 'val_acc', value: 0.378912, step: 2 } })])).toMatch(/77\s+COMPLETED\s+1m 00s\s+val_acc 0\.37891\s+train/);
  });
});
