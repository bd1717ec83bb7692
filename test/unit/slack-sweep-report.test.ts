/**
 * The sweep report in Slack: its blocks (escaped, ranked, capped chart), and its post plus chart
 * upload in the thread through the real WebClient against the Slack emulator, exactly once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway } from '../../main/core/slack/gateway.js';
import { RESUBMIT_ACTION, SUGGEST_ACTION, TAIL_ACTION } from '../../main/core/slack/job-report.js';
import { SWEEP_CHART_SERIES, buildSweepChartSvg, chartedTasks, sweepReportBlocks, sweepReporterFor, type SweepCurve } from '../../main/core/slack/sweep-report.js';
import type { SweepFacts, SweepTaskFacts } from '../../main/core/store/sweep-facts.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator, type SlackEmulator } from '../fakes/slack-emulator.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const HOSTILE = '<!channel>';
const TICKS = '```a``b`';

/** 12 tasks; val_acc best at task 7; tasks 4 and 9 did not complete; task 5 and 6 carry hostile grid values. */
function facts(n = 12): SweepFacts {
  const tasks: SweepTaskFacts[] = Array.from({ length: n }, (_, t) => ({
    task: t, jobKey: `900_${t}`, state: t === 4 ? 'OUT_OF_MEMORY' : t === 9 ? 'FAILED' : 'COMPLETED', failureClass: t === 4 ? 'host-oom' : t === 9 ? 'exception' : null,
    exitCode: t === 9 ? 1 : 0, signal: 0, elapsedSec: 60, attempts: 1,
    params: { lr: String(0.01 * (t + 1)), ...(t === 5 ? { tag: HOSTILE } : {}), ...(t === 6 ? { tag: TICKS } : {}) },
    best: t === 4 ? null : { value: t === 7 ? 0.93 : 0.5 + t / 100, step: 2 },
  }));
  return { sweepId: 'sub-9', anchorKey: '900_0', name: `grid ${HOSTILE}`, baseIds: ['900'], tasks, metric: { name: 'val_acc', goal: 'max' }, spanSec: 3725 };
}

function curves(f: SweepFacts): SweepCurve[] {
  return f.tasks.filter((t) => t.best).map((t) => ({ task: t.task, points: [{ step: 1, value: (t.best?.value ?? 0) - 0.2 }, { step: 2, value: t.best?.value ?? 0 }] }));
}

describe('sweep report blocks', () => {
  it('counts, span, the best task named, the top 5 with grid values, failed tasks with their class, buttons on the best task', () => {
    const f = facts();
    const { text, blocks } = sweepReportBlocks({ facts: f, curves: curves(f) });
    const json = JSON.stringify(blocks);
    expect(json).toContain('finished: *12 tasks: 10 completed, 1 out of memory, 1 failed*');
    expect(json).toContain('Took 1h 02m 05s');
    expect(json).toContain('*Best: task 7* (`lr=0.08`) `val_acc` *0.93*');
    expect(json).toContain('Top 5 of 12 by `val_acc` (higher is better)');
    // Ranked by value: 7 (0.93), 11, 10, then the failed task 9 (marked) by what it reached, then 8.
    const top = /```([\s\S]*?)```/.exec((blocks[2] as { text: { text: string } }).text.text)?.[1] ?? '';
    expect(top.split('\n').map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      '# task val_acc params', '1 7 0.93 lr=0.08', '2 11 0.61 lr=0.12', '3 10 0.6 lr=0.11', '4 9 FAILED 0.59 lr=0.1', '5 8 0.58 lr=0.09',
    ]);
    expect(json).toContain('• task 4 (`lr=0.05`): `OUT_OF_MEMORY`, class `host-oom`');
    expect(json).toContain('• task 9 (`lr=0.1`): `FAILED`, class `exception`');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string; text: { text: string } }> };
    expect(actions.elements.map((e) => [e.action_id, e.value, e.text.text])).toEqual([
      [TAIL_ACTION, '900_7', 'Tail best task'], [RESUBMIT_ACTION, '900_7', 'Resubmit best task'], [SUGGEST_ACTION, '900_7', 'Suggest next'],
    ]);
    expect(json).toContain(`the best ${SWEEP_CHART_SERIES} of 11 tasks' \`val_acc\` curves (at most ${SWEEP_CHART_SERIES} are drawn)`);
    expect(text).toBe('Sweep grid &lt;!channel&gt; (array 900) finished: 12 tasks: 10 completed, 1 out of memory, 1 failed; best: task 7 (lr=0.08) val_acc 0.93');
  });

  it('escapes hostile grid values and names: no mention reaches Slack, no backtick run closes a code span or block', () => {
    const f = facts();
    // Put the hostile tasks in the top 5 and among the failed ones.
    const t5 = f.tasks[5] as SweepTaskFacts;
    const t6 = f.tasks[6] as SweepTaskFacts;
    t5.best = { value: 0.99, step: 2 };
    t6.state = 'TIMEOUT';
    t6.failureClass = `${TICKS}${HOSTILE}`;
    const { text, blocks } = sweepReportBlocks({ facts: f, curves: curves(f) });
    const json = JSON.stringify({ text, blocks });
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).toContain('*Best: task 5* (`lr=0.06 tag=&lt;!channel&gt;`)');
    for (const b of blocks) {
      const mrkdwn = (b as { text?: { text?: string } }).text?.text ?? '';
      // Inside code blocks a ``` run is broken by a zero-width space, and inline code spans carry no backtick.
      const inBlocks = [...mrkdwn.matchAll(/```([\s\S]*?)```/g)].map((m) => m[1] ?? '');
      for (const body of inBlocks) expect(body).not.toContain('```');
      const outside = mrkdwn.replace(/```[\s\S]*?```/g, '');
      for (const span of outside.match(/`[^`]*`/g) ?? []) expect(span.slice(1, -1)).not.toContain('`');
      expect((outside.match(/`/g) ?? []).length % 2).toBe(0);
    }
    const svg = buildSweepChartSvg({ facts: f, curves: curves(f) });
    expect(svg).not.toContain('<!channel>');
    expect(svg).toContain('&lt;!channel&gt;');
  });

  it('without a key metric: no ranking, buttons on the first failed task, no chart', () => {
    const f = { ...facts(10), metric: null };
    f.tasks.forEach((t) => { t.best = null; });
    const { blocks } = sweepReportBlocks({ facts: f, curves: [] });
    const json = JSON.stringify(blocks);
    expect(json).toContain('no ranking');
    expect(json).not.toContain('The chart');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ value: string }> };
    expect(actions.elements.map((e) => e.value)).toEqual(['900_4', '900_4', '900_4']);
    expect(chartedTasks({ facts: f, curves: [] })).toEqual([]);
  });

  it('an array submitted from a terminal is called a job array; without metric lines it says what it looks for; Tail, no Resubmit', () => {
    const f: SweepFacts = { ...facts(10), sweepId: 'adopted:900', name: 'train', metric: null };
    f.tasks.forEach((t) => { t.best = null; t.params = null; });
    const { text, blocks } = sweepReportBlocks({ facts: f, curves: [] });
    expect(text).toMatch(/^Job array train \(900\) finished: 10 tasks/);
    const json = JSON.stringify(blocks);
    expect(json).toContain('Job array *train* (900) finished');
    expect(json).toContain('No task\'s log had a key metric line');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual([TAIL_ACTION, SUGGEST_ACTION]);
  });

  it('a terminal array whose tasks\' logs had val_acc is ranked like a sweep, best task first, with Tail and Suggest but no Resubmit', () => {
    const f: SweepFacts = { ...facts(10), sweepId: 'adopted:900', name: 'train' };
    f.tasks.forEach((t) => { t.params = null; });
    const { text, blocks } = sweepReportBlocks({ facts: f, curves: [] });
    const json = JSON.stringify(blocks);
    expect(text).toMatch(/^Job array train \(900\) finished: 10 tasks.*; best: task \d+/);
    expect(json).toContain('*Best: task');
    expect(json).toContain('Top ');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual([TAIL_ACTION, SUGGEST_ACTION]);
    expect(new Set(actions.elements.map((e) => e.value)).size).toBe(1);
  });
});

describe('sweep report against the Slack emulator', () => {
  async function setup(): Promise<{ emu: SlackEmulator; gw: SlackGateway }> {
    const emu = await startSlackEmulator({ channels: [{ id: 'C0RUNS00001', name: 'ml-runs' }] });
    cleanups.push(() => emu.close());
    const gw = createSlackGateway({
      botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(), allowedUsers: () => [emu.defaultUserId], homeChannel: () => 'C0RUNS00001',
    });
    cleanups.push(() => gw.stop());
    await gw.start();
    return { emu, gw };
  }

  it('posts one report to the home channel and one chart PNG of the best 8 tasks into its thread; a retried delivery posts nothing', async () => {
    const { emu, gw } = await setup();
    const f = facts();
    const reporter = sweepReporterFor(gw.reporter);
    const d = await reporter.report({ deliveryKey: 'hpc-relay:job:900_0:SWEEP_FINISHED:slack', facts: f, curves: curves(f) });
    expect(d).toMatchObject({ channel: 'C0RUNS00001', duplicate: false, fileId: expect.any(String) });
    const posts = emu.callsTo('chat.postMessage');
    expect(posts).toHaveLength(1);
    expect(posts[0]?.params).toMatchObject({ channel: 'C0RUNS00001', text: expect.stringContaining('finished: 12 tasks') });
    expect(JSON.stringify(posts[0]?.params)).not.toContain('<!channel>');
    const [msg] = emu.messages('C0RUNS00001');
    expect(msg?.metadata).toMatchObject({ event_type: 'hpc_relay_report', event_payload: { key: 'hpc-relay:job:900_0:SWEEP_FINISHED:slack' } });
    expect(emu.uploads).toHaveLength(1);
    const up = emu.uploads[0];
    expect(up).toMatchObject({ completed: true, channelId: 'C0RUNS00001', threadTs: d.ts, filename: 'sweep-900-val_acc.png', fileId: d.fileId });
    expect(up?.bytes?.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(up?.bytes?.length).toBe(up?.declaredLength);
    expect(up?.altText).toBe('val_acc curves of tasks 7, 11, 10, 9, 8, 6, 5, 3 of sweep 900');
    // The thread's follow-ups are about the best task.
    expect(sweepReporterFor(gw.reporter)).toBe(reporter);
    const again = await reporter.report({ deliveryKey: 'hpc-relay:job:900_0:SWEEP_FINISHED:slack', facts: f, curves: curves(f) });
    expect(again).toEqual({ ...d, duplicate: true });
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
    expect(emu.uploads).toHaveLength(1);
  });
});
