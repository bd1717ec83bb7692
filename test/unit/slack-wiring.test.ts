import { afterEach, describe, expect, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import { buildChartSvg } from '../../main/core/slack/chart.js';
import { corePorts, metricSeriesOf, slackHub } from '../../main/core/slack/wiring.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { localCore } from '../helpers/testbed-core.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function core(): Core {
  const c = localCore({ label: 'slack-wiring' });
  cleanups.push(() => c.close());
  return c;
}

async function gatewayFor(c: Core, emu: SlackEmulator) {
  const gw = createSlackGateway({
    botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(),
    allowedUsers: () => [emu.defaultUserId], homeChannel: () => 'C0GENERAL01', ports: corePorts(c),
  });
  cleanups.push(() => gw.stop());
  await gw.start();
  return gw;
}

const REPORT = {
  idempotencyKey: 'hpc-relay:job:777:COMPLETED:slack', jobId: '777', name: 'cnn_train', state: 'COMPLETED', exitCode: '0:0', elapsedSec: 600,
  timeLimitSec: 3600, maxRssBytes: 2 ** 30, reqMemBytes: 4 * 2 ** 30, nodeList: 'node01', adopted: false, failureClass: null,
  triage: { action: 'none', reason: '' }, title: '✓ cnn_train (777) COMPLETED', body: 'ran 10m.',
};

describe('Slack hub: the notify dispatcher and cron reach whichever gateway runs', () => {
  it('a job-end report from the dispatcher gets the job service’s metric curves as a chart', async () => {
    const c = core();
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    const hub = slackHub(c);
    expect(slackHub(c)).toBe(hub);
    // No gateway yet: the report fails with SLACK_STOPPED and stays in the outbox.
    await expect(hub.reporter.reportJobEnd(REPORT)).rejects.toMatchObject({ code: 'SLACK_STOPPED' });

    const now = Date.now();
    c.jobs().metrics.add('777', 'metrics.csv', [1, 2, 3, 4].map((step) => ({ series: 'val_acc', step, value: 0.5 + step / 10, raw: String(0.5 + step / 10), stepName: 'epoch' })), now);
    c.jobs().metrics.add('777', 'log', [1, 2].map((step) => ({ series: 'val_acc', step, value: 0.5 + step / 10, raw: '' })), now);
    c.jobs().metrics.add('777', 'metrics.csv', [{ series: 'loss', step: 1, value: 2.1, raw: '2.1' }, { series: 'loss', step: 2, value: null, raw: 'nan' }], now);
    // What the step counts travels with the points (the chart's x axis says "epoch"); a series without it says nothing.
    expect(metricSeriesOf(c, '777')).toEqual([
      { name: 'loss', points: [{ step: 1, value: 2.1 }, { step: 2, value: Number.NaN }] },
      { name: 'val_acc', points: [1, 2, 3, 4].map((step) => ({ step, value: 0.5 + step / 10 })), stepLabel: 'epoch' },
    ]);
    expect(buildChartSvg(metricSeriesOf(c, '777'))).toContain('>epoch</text>');

    hub.attach(await gatewayFor(c, emu));
    await hub.reporter.reportJobEnd(REPORT);
    const post = emu.callsTo('chat.postMessage')[0]!;
    expect(JSON.stringify(post.params.blocks)).toContain('peak memory 1.0 GiB of 4.0 GiB');
    expect(JSON.stringify(post.params.blocks)).toContain(':warning: NaN/inf seen');
    expect(emu.uploads).toHaveLength(1);
    expect(emu.uploads[0]!.bytes!.subarray(1, 4).toString('latin1')).toBe('PNG');
    // The same outbox row again (a crash before it was marked): not posted twice.
    await hub.reporter.reportJobEnd(REPORT);
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);

    await hub.poster.post({ user: emu.defaultUserId, text: 'digest: 1 job running' });
    expect(emu.messages(emu.dmChannelFor(emu.defaultUserId)).map((m) => m.text)).toContain('digest: 1 job running');
    hub.attach(null);
    await expect(hub.poster.post({ channel: 'C0GENERAL01', text: 'x' })).rejects.toMatchObject({ code: 'SLACK_STOPPED' });
  });

  it('a failed job submitted outside HPC Relay whose output file the scheduler no longer names: reported without a stderr tail, no warning, no Resubmit', async () => {
    const logger = createMemoryLogger();
    const c = localCore({ label: 'slack-wiring', logger });
    cleanups.push(() => c.close());
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    const hub = slackHub(c);
    hub.attach(await gatewayFor(c, emu));
    await hub.reporter.reportJobEnd({ ...REPORT, idempotencyKey: 'hpc-relay:job:778:FAILED:slack', jobId: '778', state: 'FAILED', exitCode: '1:0', adopted: true, failureClass: 'failed' });
    const post = emu.callsTo('chat.postMessage')[0]!;
    const actions = (post.params.blocks as Array<{ type: string; elements?: Array<{ action_id: string }> }>).find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => e.action_id)).toEqual(['hpc_tail', 'hpc_suggest']);
    expect(logger.atLeast('warn').map((e) => e.msg)).toEqual([]);
    expect(logger.entries.map((e) => e.msg)).toContain('the output file of a job submitted elsewhere is not known');
  });

  it('DM status and cron list answer from the core’s job service and cron monitors', async () => {
    const c = core();
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    await gatewayFor(c, emu);
    emu.sendDirectMessage({ text: 'status' });
    await emu.waitForCall('chat.postMessage', (x) => x.params.text === 'No tracked jobs.');
    emu.sendDirectMessage({ text: 'cron list' });
    await emu.waitForCall('chat.postMessage', (x) => x.params.text === 'No monitors.');
    emu.sendDirectMessage({ text: 'stats 123' });
    const stats = await emu.waitForCall('chat.postMessage', (x) => String(x.params.text).startsWith('`stats` failed'));
    expect(String(stats.params.text).split('\n')).toHaveLength(1);
  });

  it('free text: the command list while llm.enabled is false; the real agent once it is on (here: no API key, so it says so)', async () => {
    const c = core();
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    await gatewayFor(c, emu);
    emu.sendDirectMessage({ text: 'how are my runs doing?' });
    const off = await emu.waitForCall('chat.postMessage');
    expect(String(off.params.text)).toContain('hpc-relay config set llm.enabled true');
    expect(String(off.params.text)).toContain('• `status`');
    // Read per request: no restart needed.
    c.settings.set('llm.enabled', true);
    emu.sendDirectMessage({ text: 'how are my runs doing?' });
    const on = await emu.waitForCall('chat.postMessage', (x) => String(x.params.text).startsWith('The agent'));
    expect(String(on.params.text)).toMatch(/^The agent has no Anthropic API key/);
    emu.sendDirectMessage({ text: 'usage' });
    await emu.waitForCall('chat.postMessage', (x) => String(x.params.text).startsWith('This month: $0.00'));
  });
});
