/**
 * The Jobs list's folding of job arrays (renderer/src/features/jobs/job-groups.ts), in Node: one
 * row per array with its task ranges, states counted in order, the longest elapsed and the best
 * key metric by its goal, placed where its first task was; a lone task or a plain job stays itself.
 * Which way a metric is better comes with it from the core (`goal`), as the window handlers give it.
 */
import { describe, expect, it } from 'vitest';
import type { JobSummaryView } from '../../preload/contract.js';
import { keyMetric } from '../../main/core/slurm/metrics-parser.js';
import { bestKeyMetric, foldJobArrays, stateCountsText, taskRanges } from '../../renderer/src/features/jobs/job-groups.js';
import type { JobArrayGroup, JobListItem } from '../../renderer/src/features/jobs/job-groups.js';

function job(jobId: string, over: Partial<JobSummaryView> = {}): JobSummaryView {
  return {
    jobId, name: `job ${jobId}`, state: 'RUNNING', final: false, elapsedSec: 10, partition: 'gpu', where: 'node1',
    templateId: null, exitCode: null, adopted: false, keyMetric: null, ...over,
  };
}
/** A key metric as the window handlers send it: the goal is the core's (keyMetric), null for a name it does not know. */
const metric = (series: string, value: number | null, step = 1) => ({ series, value, step, goal: keyMetric([series])?.goal ?? null });
const ids = (items: JobListItem[]) => items.map((i) => (i.kind === 'job' ? i.job.jobId : i.group.label));
function group(items: JobListItem[], baseId: string): JobArrayGroup {
  const g = items.find((i): i is Extract<JobListItem, { kind: 'array' }> => i.kind === 'array' && i.group.baseId === baseId);
  if (!g) throw new Error(`no group for ${baseId} in ${ids(items).join(' ')}`);
  return g.group;
}

describe('task ranges', () => {
  it('writes runs as ranges and single tasks alone, sorted and without duplicates', () => {
    expect(taskRanges([0, 1, 2, 3, 7, 9, 10])).toBe('0-3,7,9-10');
    expect(taskRanges([10, 9, 3, 0, 2, 1, 7, 7])).toBe('0-3,7,9-10');
    expect(taskRanges([5])).toBe('5');
    expect(taskRanges([4, 6])).toBe('4,6');
    expect(taskRanges(Array.from({ length: 100 }, (_, i) => 99 - i))).toBe('0-99');
    expect(taskRanges([])).toBe('');
  });
});

describe('folding the list', () => {
  it('folds a 100-task array into one row standing where its first task was, between the other jobs', () => {
    const tasks = Array.from({ length: 100 }, (_, i) => job(`800_${i}`, { name: i === 0 ? 'sweep' : `other ${i}` }));
    const items = foldJobArrays([job('900'), ...tasks, job('700')]);
    expect(ids(items)).toEqual(['900', '800_[0-99]', '700']);
    const g = group(items, '800');
    expect(g.name).toBe('sweep');
    expect(g.tasks).toHaveLength(100);
    expect(g.tasks.map((t) => t.jobId).slice(0, 3)).toEqual(['800_0', '800_1', '800_2']);
  });

  it('places a group at its first task even when other jobs come between its tasks, and keeps the tasks by index', () => {
    const items = foldJobArrays([job('5'), job('800_7'), job('6'), job('800_2'), job('801_0'), job('800_3'), job('801_1')]);
    expect(ids(items)).toEqual(['5', '800_[2-3,7]', '6', '801_[0-1]']);
    expect(group(items, '800').tasks.map((t) => t.jobId)).toEqual(['800_2', '800_3', '800_7']);
    // The name is the first task's in the list.
    expect(group(items, '800').name).toBe('job 800_7');
  });

  it('leaves a lone task of an array and ids that are not array tasks as rows of their own', () => {
    const items = foldJobArrays([job('800_4'), job('12'), job('12_x'), job('_3'), job('13_1_2')]);
    expect(items.map((i) => i.kind)).toEqual(['job', 'job', 'job', 'job', 'job']);
    expect(ids(items)).toEqual(['800_4', '12', '12_x', '_3', '13_1_2']);
    expect(foldJobArrays([])).toEqual([]);
  });

  it('shows one state when the tasks share it, else counts them in the order the states first appear', () => {
    const same = group(foldJobArrays([job('1_0', { state: 'COMPLETED' }), job('1_1', { state: 'COMPLETED' })]), '1');
    expect(same.state).toBe('COMPLETED');
    expect(same.stateCounts).toEqual([{ state: 'COMPLETED', count: 2 }]);

    const states = [...Array(4).fill('RUNNING'), ...Array(6).fill('COMPLETED'), ...Array(90).fill('PENDING')] as string[];
    // Interleaved: the order is by first appearance, not by count or name.
    const order = [0, 10, 4, ...Array.from({ length: 100 }, (_, i) => i).filter((i) => ![0, 10, 4].includes(i))];
    const mixed = group(foldJobArrays(order.map((i) => job(`2_${i}`, { state: states[i] ?? '' }))), '2');
    expect(mixed.state).toBeNull();
    expect(mixed.stateCounts).toEqual([{ state: 'RUNNING', count: 4 }, { state: 'PENDING', count: 90 }, { state: 'COMPLETED', count: 6 }]);
    expect(stateCountsText(mixed.stateCounts)).toBe('4 running, 90 pending, 6 completed');
    expect(stateCountsText([{ state: 'CANCELLED by 0', count: 1 }])).toBe('1 cancelled by 0');
  });

  it('takes the longest elapsed, and none when no task has one', () => {
    expect(group(foldJobArrays([job('3_0', { elapsedSec: 5 }), job('3_1', { elapsedSec: 3600 }), job('3_2', { elapsedSec: null })]), '3').elapsedSec).toBe(3600);
    expect(group(foldJobArrays([job('3_0', { elapsedSec: null }), job('3_1', { elapsedSec: null })]), '3').elapsedSec).toBeNull();
  });

  it('lists the partitions once each', () => {
    expect(group(foldJobArrays([job('3_0'), job('3_1'), job('3_2', { partition: 'cpu' }), job('3_3', { partition: null })]), '3').partitions).toEqual(['gpu', 'cpu']);
  });

  it('folds only what the filters left: a group holds the tasks that match, and folds only if 2 or more do', () => {
    const all = [job('800_0', { state: 'COMPLETED' }), job('800_1', { state: 'FAILED' }), job('800_2', { state: 'COMPLETED' }), job('800_3', { state: 'RUNNING' })];
    const completed = all.filter((j) => j.state === 'COMPLETED');
    const items = foldJobArrays(completed);
    expect(ids(items)).toEqual(['800_[0,2]']);
    expect(group(items, '800').state).toBe('COMPLETED');
    expect(ids(foldJobArrays(all.filter((j) => j.state === 'FAILED')))).toEqual(['800_1']);
  });
});

describe('the best key metric', () => {
  it('is the highest accuracy and the lowest loss', () => {
    const acc = [job('4_0', { keyMetric: metric('val_acc', 0.7) }), job('4_1', { keyMetric: metric('val_acc', 0.91) }), job('4_2', { keyMetric: metric('val_acc', 0.85) })];
    expect(group(foldJobArrays(acc), '4').keyMetric).toEqual(metric('val_acc', 0.91));
    const loss = [job('4_0', { keyMetric: metric('loss', 0.7) }), job('4_1', { keyMetric: metric('loss', 0.2) }), job('4_2', { keyMetric: metric('loss', 0.5) })];
    expect(group(foldJobArrays(loss), '4').keyMetric).toEqual(metric('loss', 0.2));
    expect(bestKeyMetric([job('a', { keyMetric: metric('Accuracy', 0.5) }), job('b', { keyMetric: metric('Accuracy', 0.6) })])).toEqual(metric('Accuracy', 0.6));
    expect(bestKeyMetric([job('a', { keyMetric: metric('val-loss', 1.5) }), job('b', { keyMetric: metric('val-loss', 2.5) })])).toEqual(metric('val-loss', 1.5));
  });

  it('prefers an accuracy over a loss, as the core does, and compares only that series', () => {
    const tasks = [job('5_0', { keyMetric: metric('loss', 0.01) }), job('5_1', { keyMetric: metric('val_acc', 0.6) }), job('5_2', { keyMetric: metric('val_acc', 0.8) }), job('5_3')];
    expect(bestKeyMetric(tasks)).toEqual(metric('val_acc', 0.8));
  });

  it('lets a NaN lose to any number, shows NaN only when that is all there is, and shows none for a series whose goal is unknown', () => {
    expect(bestKeyMetric([job('a', { keyMetric: metric('loss', null) }), job('b', { keyMetric: metric('loss', 3) })])).toEqual(metric('loss', 3));
    expect(bestKeyMetric([job('a', { keyMetric: metric('loss', 3) }), job('b', { keyMetric: metric('loss', null) })])).toEqual(metric('loss', 3));
    expect(bestKeyMetric([job('a', { keyMetric: metric('val_acc', null) }), job('b', { keyMetric: metric('val_acc', null, 2) })])).toEqual(metric('val_acc', null));
    expect(bestKeyMetric([job('a', { keyMetric: metric('reward', 3) }), job('b', { keyMetric: metric('reward', 9) })])).toBeNull();
    expect(bestKeyMetric([job('a'), job('b')])).toBeNull();
  });
});
