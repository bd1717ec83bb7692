/**
 * The research loop's end report: the reason, every run in a table (its values, the metric's best
 * and final value, its state) with the best marked, the target and how close the best got, the
 * model cost, and a chart of the runs uploaded into the loop's thread. Through the real path: the
 * agent's poster is the Slack hub's thread poster over a running gateway (Bolt's WebClient), and
 * the Slack emulator receives the post and the file.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import type { ThreadFile, ThreadPoster, ThreadRef } from '../../main/core/agent/ports.js';
import { buildRunsChartSvg } from '../../main/core/slack/chart.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import { slackHub } from '../../main/core/slack/wiring.js';
import { reply, type RecordedRequest, type ScriptedReply } from '../fakes/anthropic-emulator.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator, type SlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { localCore } from '../helpers/testbed-core.js';
import { harness, requestText, type Harness } from './agent-harness.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const CHANNEL = 'C0GENERAL01';
const THREAD = '1700000000.000300';
const CONV = `slack:${CHANNEL}:${THREAD}`;
const WHERE: ThreadRef = { channelId: CHANNEL, threadTs: THREAD };

const objective = (lr: number): number => Math.round((0.9 - 0.25 * Math.abs(Math.log10(lr / 0.03))) * 10_000) / 10_000;

function proposer(rounds: Record<number, Array<Record<string, unknown>>>) {
  return (req: RecordedRequest): ScriptedReply => {
    const round = Number(/Round (\d+):/.exec(requestText(req.body))?.[1]);
    const runs = rounds[round];
    if (!runs) throw new Error(`no proposal scripted for round ${round}`);
    return reply.toolUse('propose_runs', { runs: runs.map((params) => ({ params })), note: 'bracketing the learning rate <!channel>' });
  };
}

/** Ends every pending job: COMPLETED with a val_acc curve from the objective, or FAILED with no metrics for the lrs in `failing`. */
async function finishJobs(h: Harness, failing: readonly number[] = []): Promise<void> {
  for (const job of [...h.services.submitted]) {
    if (h.services.states.get(job.jobId) !== 'PENDING') continue;
    const lr = Number(job.params.lr ?? 0.01);
    if (failing.includes(lr)) {
      h.services.states.set(job.jobId, 'FAILED');
      await h.agent.onJobFinished({ jobId: job.jobId, state: 'FAILED', exitCode: '1:0', elapsedSec: 3 });
      continue;
    }
    const acc = objective(lr);
    // The curve peaks a step before the end: the final value is a little below the best.
    h.services.metrics.set(job.jobId, {
      jobId: job.jobId, dir: `/scratch/u/${job.jobId}/results`,
      series: { val_acc: [{ step: 1, value: Math.round(acc * 0.8 * 1e4) / 1e4 }, { step: 2, value: acc }, { step: 3, value: Math.round((acc - 0.01) * 1e4) / 1e4 }] },
      summary: { best_val_acc: acc, best_epoch: 2 },
    });
    h.services.states.set(job.jobId, 'COMPLETED');
    await h.agent.onJobFinished({ jobId: job.jobId, state: 'COMPLETED', exitCode: '0:0', elapsedSec: 40 });
  }
}

function core(): Core {
  const c = localCore({ label: 'research-report' });
  cleanups.push(() => c.close());
  return c;
}

/** The agent posting through the Slack hub's thread poster, over a running gateway to the emulator. */
async function overSlack(): Promise<{ h: Harness; emu: SlackEmulator }> {
  const emu = await startSlackEmulator();
  cleanups.push(() => emu.close());
  const c = core();
  const gw = createSlackGateway({
    botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(),
    allowedUsers: () => [emu.defaultUserId], homeChannel: () => CHANNEL,
  });
  cleanups.push(() => gw.stop());
  await gw.start();
  const hub = slackHub(c);
  hub.attach(gw);
  cleanups.push(async () => hub.attach(null));
  const h = await harness({ poster: hub.threadPoster });
  cleanups.push(() => h.close());
  return { h, emu };
}

function threadTexts(emu: SlackEmulator): string[] {
  return emu.callsTo('chat.postMessage').filter((c) => c.params.channel === CHANNEL && c.params.thread_ts === THREAD).map((c) => String(c.params.text));
}

describe('research loop end report (through the Slack hub, the real gateway and the emulator)', () => {
  it('4 runs, one without a metric: the table of every run with the best marked, the target and the gap, the cost, and the chart in the thread', async () => {
    const { h, emu } = await overSlack();
    const rounds = { 1: [{ lr: 0.001, batch_size: 32 }, { lr: 0.3 }], 2: [{ lr: 0.03, batch_size: 128 }, { lr: 0.1, batch_size: 256 }] };
    h.emu.enqueue(proposer(rounds), proposer(rounds));
    const goal = `research val_acc ≥ 0.95 on cnn_train, at most 4 runs, 2 at a time, with epochs=2 output_dir=/tmp/<!here> python=/opt/${TEST_SECRETS.anthropic}/python, tune lr,batch_size`;
    const loopId = await h.agent.research.start(goal, { conversationId: CONV, where: WHERE });
    await finishJobs(h);
    await finishJobs(h, [0.1]);
    expect(h.store.loop(loopId)).toMatchObject({ status: 'done', stopReason: 'used all 4 runs without reaching the target', iteration: 2 });

    const texts = threadTexts(emu);
    // Started, round 1, round 2 (with round 1's results and the best so far), the end report: one progress line per round, no more.
    expect(texts).toHaveLength(4);
    expect(texts[2]).toContain('Research round 2: Results: #1 lr=0.001 batch_size=32 → val_acc 0.531, #2 lr=0.3 → val_acc 0.650. Best so far val_acc 0.650 (#2); target ≥ 0.95.');
    const end = texts[3] ?? '';
    const lines = end.split('\n');
    expect(lines[0]).toMatch(/^Research done: used all 4 runs without reaching the target\. best val_acc 0\.900 by #3 \(job 1002: .*lr=0\.03 batch_size=128\)\. 4 runs in 2 rounds; model cost (&lt; )?\$\d+\.\d\d\.$/);
    expect(lines[1]).toBe('Target val_acc ≥ 0.95: not reached; the best, 0.900 (#3, job 1002), is 0.0500 short.');
    expect(lines[2]).toMatch(/^Every run \(all with epochs=2 output_dir=\/tmp\/&lt;!here&gt; python=.*\):$/);
    expect(lines.slice(3, 9).join('\n')).toBe([
      '```#  job   lr     batch_size  best val_acc  final  state',
      '1  1000  0.001  32          0.531         0.521  COMPLETED',
      '2  1001  0.3    default     0.650         0.640  COMPLETED',
      '3  1002  0.03   128         0.900         0.890  COMPLETED  ← best',
      '4  1003  0.1    256         no metric     —      FAILED',
      '```',
    ].join('\n').replace('\n```', '```'));
    // Nothing from outside reaches Slack unescaped, and no secret at all.
    for (const t of texts) {
      expect(t).not.toContain('<!here>');
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain(TEST_SECRETS.anthropic);
    }

    // The chart: one PNG in the loop's thread, of a sane size, described for screen readers.
    const upload = await emu.waitFor(() => emu.uploads.find((u) => u.completed), 10_000, 'the research chart');
    expect(emu.uploads).toHaveLength(1);
    expect(upload).toMatchObject({ channelId: CHANNEL, threadTs: THREAD, filename: `research-${loopId.slice(0, 8)}-val_acc.png` });
    expect(upload.title).toBe('Research: val_acc ≥ 0.95 on cnn_train, 4 runs');
    expect(upload.altText).toBe('val_acc, the best of each of 4 runs by run number; target ≥ 0.95; best 0.900 by run 3; 1 without a result.');
    const png = upload.bytes ?? Buffer.alloc(0);
    expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(png.length).toBeGreaterThan(5_000);
    expect(png.length).toBeLessThan(2_000_000);
    expect(h.logger.atLeast('warn')).toEqual([]);
  });

  it('a loop stopped while a run has no result yet: the run shows as running, and the chart still goes up', async () => {
    const { h, emu } = await overSlack();
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }, { lr: 0.3 }] }));
    const loopId = await h.agent.research.start('research val_acc ≥ 0.95 on cnn_train, 2 at a time', { conversationId: CONV, where: WHERE });
    // One ends, its batch mate still runs; then `stop`.
    const [first] = h.services.submitted;
    h.services.metrics.set(first!.jobId, { jobId: first!.jobId, dir: '/x', series: {}, summary: { val_acc: 0.61 } });
    h.services.states.set(first!.jobId, 'COMPLETED');
    await h.agent.onJobFinished({ jobId: first!.jobId, state: 'COMPLETED' });
    expect(await h.agent.research.stop(CONV, '<@U0ADA>')).toBe(true);
    expect(h.store.loop(loopId)?.status).toBe('stopped');
    const end = threadTexts(emu).at(-1) ?? '';
    expect(end).toMatch(/^Research stopped: stopped by <@U0ADA>\. best val_acc 0\.610 by #1/);
    expect(end).toContain('Target val_acc ≥ 0.95: not reached; the best, 0.610 (#1, job 1000), is 0.340 short.');
    // summary.json's single value: the best, and no curve to take a final value from.
    expect(end).toContain('1  1000  0.001  0.610         —      COMPLETED  ← best');
    expect(end).toContain('2  1001  0.3    —             —      running');
    expect(end).toContain('Still running (not cancelled): `1001`.');
    const upload = await emu.waitFor(() => emu.uploads.find((u) => u.completed), 10_000, 'the research chart');
    expect(upload.threadTs).toBe(THREAD);
    expect(upload.bytes?.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  });
});

describe('research loop end report without Slack', () => {
  it('no run produced the metric: said so in the target line and the table; a poster without files gets the text alone', async () => {
    const h = await harness();
    cleanups.push(() => h.close());
    h.emu.enqueue(proposer({ 1: [{ lr: 0.001 }] }));
    await h.agent.research.start('research val_loss ≤ 0.2 on cnn_train, at most 1 runs', { conversationId: CONV, where: WHERE });
    await finishJobs(h, [0.001]);
    const end = h.poster.posts.at(-1)?.text ?? '';
    expect(end).toMatch(/^Research done: used all 1 runs without reaching the target\. no run produced val_loss\. 1 run in 1 round; model cost/);
    expect(end).toContain('Target val_loss ≤ 0.2: not reached; no run produced val_loss.');
    expect(end).toContain('1  1000  0.001  no metric      —      FAILED');
    expect(end).not.toContain('← best');
  });

  it('a chart that cannot be uploaded is logged and skipped; the report is posted first and stands', async () => {
    const files: ThreadFile[] = [];
    const texts: string[] = [];
    const poster: ThreadPoster = {
      async post(_where, text) { texts.push(text); },
      async postFile(_where, file) {
        files.push(file);
        throw new Error('upload refused');
      },
    };
    const h = await harness({ poster });
    cleanups.push(() => h.close());
    h.emu.enqueue(proposer({ 1: [{ lr: 0.03 }] }));
    await h.agent.research.start('research val_acc ≥ 0.85 on cnn_train, at most 3 runs', { conversationId: CONV, where: WHERE });
    await finishJobs(h);
    expect(texts.at(-1)).toMatch(/^Research done: target met\./);
    expect(texts.at(-1)).toContain('Target val_acc ≥ 0.85: met, best 0.900 (#1, job 1000).');
    expect(files).toHaveLength(1);
    expect(files[0]!.bytes.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
    expect(h.logger.atLeast('warn').map((e) => e.msg)).toEqual(['research chart not posted']);
  });
});

describe('the chart of runs (SVG)', () => {
  it('dots by run number, the target as a dashed line, runs without a value as ×, text escaped', () => {
    const svg = buildRunsChartSvg([{ run: 1, value: 0.5 }, { run: 2, value: null }, { run: 3, value: 0.8 }], { metric: 'val_<acc>', goal: 'max', target: 0.85, title: 'a & b' });
    expect(svg).toContain('a &amp; b');
    expect(svg).toContain('val_&lt;acc&gt;: the best of each run · target ≥ 0.85 (dashed) · × no result');
    expect(svg).not.toContain('<acc>');
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(1);
    expect(svg).toContain('target 0.85');
    // Two dots, a ring around the best, one ×, whole-number ticks 1 2 3.
    expect(svg.match(/<circle [^>]*r="4\.5"/g)).toHaveLength(2);
    expect(svg.match(/<circle [^>]*r="9"/g)).toHaveLength(1);
    expect(svg.match(/<path d="M/g)).toHaveLength(1);
    for (const t of ['1', '2', '3']) expect(svg).toContain(`text-anchor="middle" fill="#374151">${t}</text>`);
    expect(svg).not.toContain('>1.5</text>');
  });
});
