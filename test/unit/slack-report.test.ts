import { afterEach, describe, expect, it } from 'vitest';
import { buildChartSvg, niceTicks, renderChartPng, resvgRenderer } from '../../main/core/slack/chart.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import type { SlackGateway, SlackGatewayOptions } from '../../main/core/slack/gateway.js';
import { RESUBMIT_ACTION, TAIL_ACTION, reportBlocks } from '../../main/core/slack/job-report.js';
import { fromJobEnd, type JobReportInput, type MetricSeries } from '../../main/core/slack/reporter.js';
import { FileThreadMemory } from '../../main/core/slack/threads.js';
import type { DeliveredReport } from '../../main/core/slack/threads.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { ApiCall, SlackEmulator, SlackEmulatorOptions } from '../fakes/slack-emulator.js';
import { MemoryJobs } from '../fakes/slack-ports.js';
import { makeHome } from '../helpers/temp-home.js';
import path from 'node:path';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which must come first. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const curve = (name: string, f: (i: number) => number, n = 20): MetricSeries => ({ name, stepLabel: 'epoch', points: Array.from({ length: n }, (_, i) => ({ step: i + 1, value: f(i) })) });
const METRICS: MetricSeries[] = [
  curve('train_loss', (i) => 2.3 * Math.exp(-i / 6) + 0.1),
  curve('val_acc', (i) => 0.9 - 0.6 * Math.exp(-i / 5) - (i > 15 ? 0.01 * (i - 15) : 0)),
];

function input(over: Partial<JobReportInput> = {}): JobReportInput {
  return { jobId: '5150', name: 'cnn_train', state: 'COMPLETED', exitCode: '0:0', elapsedSec: 1834, metrics: METRICS, failureClass: null, stderrTail: null, ...over };
}

describe('chart', () => {
  it('renders the metric curves to a PNG of the expected size, with the lines drawn', async () => {
    const png = await renderChartPng(METRICS, { title: 'cnn_train — job 5150' });
    expect(pngSize(png)).toEqual({ width: 960, height: 36 + 260 + 8 });
    expect(png.length).toBeGreaterThan(5_000);
    expect(png.length).toBeLessThan(500_000);
    // The curves are really there: pixels in the first two series colours.
    const { renderAsync } = await import('@resvg/resvg-js');
    const img = await renderAsync(buildChartSvg(METRICS));
    const px = img.pixels;
    let blue = 0;
    let red = 0;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i]! < 60 && px[i + 1]! > 80 && px[i + 1]! < 120 && px[i + 2]! > 200) blue++;
      if (px[i]! > 200 && px[i + 1]! < 60 && px[i + 2]! < 60) red++;
    }
    expect(blue).toBeGreaterThan(200);
    expect(red).toBeGreaterThan(200);
  });

  it('draws NaN/inf as gaps and says so; escapes hostile metric names', () => {
    const svg = buildChartSvg([{ name: '<script>alert(1)</script>', points: [{ step: 1, value: 1 }, { step: 2, value: Number.NaN }, { step: 3, value: Infinity }, { step: 4, value: 0.5 }] }]);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
    expect(svg).toContain('(2 NaN/inf)');
    expect(svg).not.toMatch(/NaN,|,NaN|Infinity/);
  });

  it('picks round tick values', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.13, 2.41, 4)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(-0.013, 0.0042, 4)).toEqual([-0.015, -0.01, -0.005, 0, 0.005]);
    expect(niceTicks(3, 3, 4)).toEqual([2.6, 2.8, 3, 3.2, 3.4]);
  });

  it('a renderer error is the renderer’s (resvg refuses a non-SVG)', async () => {
    await expect(resvgRenderer().renderPng('not svg')).rejects.toThrow();
  });
});

describe('report message', () => {
  it('says state, name, id, elapsed, final and best metrics, with tail/resubmit/suggest buttons', () => {
    const { text, blocks } = reportBlocks(input());
    expect(text).toBe('cnn_train (job 5150) finished: COMPLETED, elapsed 30m 34s');
    const json = JSON.stringify(blocks);
    // train_loss(19) = 2.3·e^(-19/6) + 0.1; val_acc peaks at epoch 16 (0.9 - 0.6·e^-3), then drifts down.
    expect(json).toContain('• `train_loss` final 0.19693\\n');
    expect(json).toContain('• `val_acc` final 0.84658, best 0.87013 at epoch 16');
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string; value: string }> };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([['hpc_tail', '5150'], ['hpc_resubmit', '5150'], ['hpc_suggest', '5150']]);
  });

  it('on failure: the failure class and the stderr tail (last 40 lines), escaped', () => {
    const stderr = Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n') + '\nRuntimeError: CUDA out of memory <!channel>';
    const { blocks } = reportBlocks(input({ state: 'FAILED', exitCode: '1:0', failureClass: 'cuda_oom', stderrTail: stderr, note: 'Notify only: more host memory does not help a GPU OOM.' }));
    const json = JSON.stringify(blocks);
    expect(json).toContain('Failure class: `cuda_oom`');
    expect(json).toContain('line 59');
    expect(json).not.toContain('line 20\\n');
    expect(json).toContain('&lt;!channel&gt;');
    expect(json).not.toContain('<!channel>');
    expect(json).toContain('exit 1:0');
    expect(json).toContain('Notify only');
  });

  it('a job submitted outside HPC Relay (adopted, from the dispatcher\'s payload): no Resubmit, and the thread note says why', () => {
    const { blocks } = reportBlocks(fromJobEnd({ idempotencyKey: 'k', jobId: '777', name: 'outside', state: 'COMPLETED', exitCode: '0:0', elapsedSec: 60, failureClass: null, adopted: true }));
    const actions = blocks.find((b) => b.type === 'actions') as { elements: Array<{ action_id: string }> };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['hpc_tail', 'hpc_suggest']);
    expect(JSON.stringify(blocks)).toContain('Submitted outside HPC Relay, so it cannot resubmit it');
  });
});

describe('SlackReporter against the Slack emulator', () => {
  async function setup(opts: Partial<SlackGatewayOptions> = {}, emuOpts: SlackEmulatorOptions = {}): Promise<{ emu: SlackEmulator; gw: SlackGateway; jobs: MemoryJobs }> {
    const emu = await startSlackEmulator({ ...emuOpts, channels: [{ id: 'C0GENERAL01', name: 'general' }, { id: 'C0RUNS00001', name: 'ml-runs' }, { id: 'C0OUTSIDE01', name: 'outside', isMember: false }] });
    cleanups.push(() => emu.close());
    const jobs = new MemoryJobs([{ jobId: '5150', name: 'cnn_train', state: 'COMPLETED', elapsedSec: 1834 }]);
    jobs.logs.set('5150', ['epoch 20 val_acc=0.86', 'done']);
    const gw = createSlackGateway({
      botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(),
      allowedUsers: () => [emu.defaultUserId], homeChannel: () => 'C0RUNS00001', ports: { jobs }, ...opts,
    });
    cleanups.push(() => gw.stop());
    await gw.start();
    return { emu, gw, jobs };
  }

  it('posts the report to the home channel and the chart PNG into its thread (files.uploadV2)', async () => {
    const { emu, gw } = await setup();
    const d = await gw.reporter.report(input());
    expect(d).toMatchObject({ channel: 'C0RUNS00001', duplicate: false });
    const post = emu.callsTo('chat.postMessage')[0]!;
    expect(post.params).toMatchObject({ channel: 'C0RUNS00001', text: expect.stringContaining('finished: COMPLETED') });
    expect(post.response.ts).toBe(d.ts);
    const upload = emu.uploads[0]!;
    expect(upload).toMatchObject({ completed: true, channelId: 'C0RUNS00001', threadTs: d.ts, filename: 'job-5150-metrics.png', fileId: d.fileId });
    const { width, height } = pngSize(upload.bytes!);
    expect([width, height]).toEqual([960, 304]);
    expect(upload.bytes!.length).toBe(upload.declaredLength);
    expect(upload.bytes!.length).toBeGreaterThan(5_000);
    expect(upload.bytes!.length).toBeLessThan(500_000);
    expect(upload.altText).toContain('train_loss, val_acc');
  });

  it('a retried delivery (same key) is not posted twice, also across a restart', async () => {
    const home = makeHome('slack-threads');
    const file = path.join(home, 'slack-threads.json');
    const { emu, gw } = await setup({ threads: new FileThreadMemory(file) });
    const first = await gw.reporter.report(input({ deliveryKey: 'outbox:17' }));
    const again = await gw.reporter.report(input({ deliveryKey: 'outbox:17' }));
    expect(again).toEqual({ ...first, duplicate: true });
    // A new process reading the same memory file.
    const gw2 = createSlackGateway({ botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(), homeChannel: () => 'C0RUNS00001', threads: new FileThreadMemory(file) });
    cleanups.push(() => gw2.stop());
    await gw2.start();
    expect(await gw2.reporter.reportJobEnd({ idempotencyKey: 'outbox:17', jobId: '5150', name: 'cnn_train', state: 'COMPLETED', exitCode: '0:0', elapsedSec: 1834, failureClass: null })).toBeUndefined();
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
    expect(emu.uploads).toHaveLength(1);
  });

  /** A second process on the same thread-memory file (the first was killed). */
  async function restart(emu: SlackEmulator, file: string, logger = createMemoryLogger()): Promise<SlackGateway> {
    const gw = createSlackGateway({ botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger, homeChannel: () => 'C0RUNS00001', threads: new FileThreadMemory(file, logger) });
    cleanups.push(() => gw.stop());
    await gw.start();
    return gw;
  }

  it('killed after Slack took the post, before the delivery was recorded: the next process finds the post, does not post again, and adds the chart', async () => {
    const file = path.join(makeHome('slack-threads'), 'slack-threads.json');
    /** The process dies the moment it would record the delivery (the attempt is on file by then). */
    class KilledBeforeRecording extends FileThreadMemory {
      override markReportDelivered(): void {
        throw new Error('killed');
      }
    }
    const { emu, gw } = await setup({ threads: new KilledBeforeRecording(file) });
    await expect(gw.reporter.report(input({ deliveryKey: 'outbox:21' }))).rejects.toThrow('killed');
    await gw.stop();
    const [first] = emu.messages('C0RUNS00001');
    expect(first?.metadata).toMatchObject({ event_type: 'hpc_relay_report', event_payload: { key: 'outbox:21', attempt: expect.any(String) } });
    expect(emu.uploads).toHaveLength(0);

    const gw2 = await restart(emu, file);
    const d = await gw2.reporter.report(input({ deliveryKey: 'outbox:21' }));
    expect(d).toMatchObject({ channel: 'C0RUNS00001', ts: first!.ts, duplicate: false, recovered: true, fileId: expect.any(String) });
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
    expect(emu.messages('C0RUNS00001').filter((m) => !m.threadTs)).toHaveLength(1);
    expect(emu.callsTo('conversations.history')[0]!.params).toMatchObject({ channel: 'C0RUNS00001', include_all_metadata: 'true' });
    // The chart was looked for (an earlier process might have uploaded it), then uploaded once into the found thread.
    expect(emu.callsTo('conversations.replies')).toHaveLength(1);
    expect(emu.uploads.filter((u) => u.completed)).toEqual([expect.objectContaining({ threadTs: first!.ts, fileId: d.fileId })]);
    // The found report is the job's thread for follow-ups, and it is delivered now.
    expect(await gw2.reporter.report(input({ deliveryKey: 'outbox:21' }))).toEqual({ ...d, duplicate: true, recovered: undefined });
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
  });

  it('killed after the chart went up, before it was recorded: the next process finds the chart in the thread, uploads nothing', async () => {
    const file = path.join(makeHome('slack-threads'), 'slack-threads.json');
    /** Dies the moment it would record the chart: nothing it does after that reaches the file. */
    class KilledBeforeRecordingChart extends FileThreadMemory {
      private dead = false;
      override markReportDelivered(key: string, d: DeliveredReport): void {
        if (this.dead) return;
        if (d.fileId) {
          this.dead = true;
          throw new Error('killed');
        }
        super.markReportDelivered(key, d);
      }
    }
    const { emu, gw } = await setup({ threads: new KilledBeforeRecordingChart(file) });
    // The chart step's failure is logged, not thrown; the process "dies" there.
    await gw.reporter.report(input({ deliveryKey: 'outbox:22' }));
    await gw.stop();
    expect(emu.uploads.filter((u) => u.completed)).toHaveLength(1);

    const gw2 = await restart(emu, file);
    const d = await gw2.reporter.report(input({ deliveryKey: 'outbox:22' }));
    expect(d).toMatchObject({ duplicate: true, fileId: emu.uploads[0]!.fileId });
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
    expect(emu.callsTo('files.getUploadURLExternal')).toHaveLength(1);
  });

  it('killed after recording the attempt, before the post reached Slack: posted once; without the history scope, posted once with a warning', async () => {
    for (const scopes of [undefined, ['chat:write', 'im:write', 'im:read', 'im:history', 'channels:read', 'users:read', 'files:write', 'commands', 'app_mentions:read']]) {
      const file = path.join(makeHome('slack-threads'), 'slack-threads.json');
      const { emu, gw } = await setup({ threads: new FileThreadMemory(file) }, scopes ? { scopes } : {});
      // Slack refuses the first process's post (it dies after that); the attempt stays on file.
      emu.failNext('chat.postMessage', { kind: 'error', error: 'channel_not_found' });
      await expect(gw.reporter.report(input({ deliveryKey: 'outbox:23', metrics: [] }))).rejects.toMatchObject({ code: 'SLACK_CHANNEL_NOT_FOUND' });
      await gw.stop();
      expect(emu.messages('C0RUNS00001')).toHaveLength(0);

      const logger = createMemoryLogger();
      const gw2 = await restart(emu, file, logger);
      const d = await gw2.reporter.report(input({ deliveryKey: 'outbox:23', metrics: [] }));
      expect(d).toMatchObject({ duplicate: false, ts: emu.messages('C0RUNS00001')[0]!.ts });
      expect(d.recovered).toBeUndefined();
      expect(emu.messages('C0RUNS00001')).toHaveLength(1);
      expect(emu.callsTo('conversations.history')).toHaveLength(1);
      const warnings = logger.atLeast('warn').filter((e) => e.msg.startsWith('Cannot check whether an interrupted job report'));
      expect(warnings.map((w) => w.fields.needed)).toEqual(scopes ? ['channels:history'] : []);
    }
  });

  it('follow-ups in the job thread: !tail without a job id, and the Tail/Resubmit buttons, answer there', async () => {
    const { emu, gw, jobs } = await setup();
    const d = await gw.reporter.report(input());
    emu.sendEvent({ type: 'message', channel: 'C0RUNS00001', channel_type: 'channel', user: emu.defaultUserId, text: '!tail', thread_ts: d.ts });
    const tail = await emu.waitForCall('chat.postMessage', (c: ApiCall) => String(c.params.text).startsWith('Last 2 lines of job 5150'));
    expect(tail.params.thread_ts).toBe(d.ts);
    emu.sendButtonClick({ actionId: TAIL_ACTION, value: '5150', channelId: 'C0RUNS00001', messageTs: d.ts });
    await emu.waitFor(() => (emu.callsTo('chat.postMessage').filter((c) => String(c.params.text).startsWith('Last 2 lines')).length === 2 ? true : undefined));
    emu.sendButtonClick({ actionId: RESUBMIT_ACTION, value: '5150', channelId: 'C0RUNS00001', messageTs: d.ts });
    const re = await emu.waitForCall('chat.postMessage', (c: ApiCall) => String(c.params.text).startsWith('Resubmitted job 5150'));
    expect(re.params.thread_ts).toBe(d.ts);
    expect(jobs.called('resubmit')).toEqual([{ method: 'resubmit', args: ['5150', {}] }]);
    // A forged button value never reaches the port.
    emu.sendButtonClick({ actionId: RESUBMIT_ACTION, value: '5150; rm -rf ~', channelId: 'C0RUNS00001', messageTs: d.ts });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('no valid job id'));
    expect(jobs.called('resubmit')).toHaveLength(1);
  });

  it('resolves #name home channels, DMs the first allowed user without one, and names the fix when the bot is not in the channel', async () => {
    const named = await setup({ homeChannel: () => '#ml-runs' });
    expect((await named.gw.reporter.report(input({ metrics: [] }))).channel).toBe('C0RUNS00001');
    expect(named.emu.uploads).toHaveLength(0);

    const dm = await setup({ homeChannel: () => undefined });
    expect((await dm.gw.reporter.report(input({ metrics: [] }))).channel).toBe(dm.emu.dmChannelFor(dm.emu.defaultUserId));

    const outside = await setup({ homeChannel: () => 'C0OUTSIDE01' });
    await expect(outside.gw.reporter.report(input())).rejects.toMatchObject({ code: 'SLACK_NOT_IN_CHANNEL', fix: expect.stringContaining('/invite') });

    const nowhere = await setup({ homeChannel: () => undefined, allowedUsers: () => [] });
    await expect(nowhere.gw.reporter.report(input())).rejects.toMatchObject({ code: 'SLACK_NO_REPORT_TARGET' });
  });

  it('a report waits out a rate limit and is still delivered', async () => {
    const { emu, gw } = await setup();
    emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 1 }, 2);
    const t0 = Date.now();
    const d = await gw.reporter.report(input({ metrics: [] }));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(d.ts).toBeTruthy();
    expect(emu.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 429, 200]);
  });
});
