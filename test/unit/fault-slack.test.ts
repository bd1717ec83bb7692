/**
 * Fault suite, Slack: a job's end report goes out while the link to Slack is disturbed — Slack
 * sends `disconnect`, the socket drops, the Web API fails for a while, the gateway is stopped
 * mid-report and started again, the link drops after Slack took the post but before its answer
 * arrived. The report must be delivered once: one message and one chart in the emulator, the
 * outbox row marked once.
 *
 * The real path: the job service's outbox row (JobStore.finalize), the notify dispatcher, the
 * core's Slack hub and the real gateway (@slack/bolt, web-api, socket-mode) against the emulator.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { NotifyDispatcher } from '../../main/core/notify/dispatcher.js';
import { composeJobEnd } from '../../main/core/notify/job-messages.js';
import { createSlackGateway, type SlackGateway, type SlackGatewayOptions } from '../../main/core/slack/gateway.js';
import { FileThreadMemory } from '../../main/core/slack/threads.js';
import { corePorts, slackHub } from '../../main/core/slack/wiring.js';
import type { SacctJob } from '../../main/core/slurm/sacct-parser.js';
import { createMemoryLogger, type MemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator, type SlackEmulator, type SlackEmulatorOptions } from '../fakes/slack-emulator.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-http-proxy.js';
import { localCore } from '../helpers/testbed-core.js';

const HOME_CHANNEL = 'C0GENERAL01';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function core(): Core {
  const c = localCore({ label: 'fault-slack' });
  cleanups.push(() => c.close());
  return c;
}

function acct(key: string, state: string): SacctJob {
  return {
    kind: 'job', key, baseId: key, arrayTask: null, name: 'cnn_train', state, cancelledBy: null, exitCode: state === 'FAILED' ? 1 : 0, signal: 0, elapsedSec: 600, maxRssBytes: 2 ** 30,
    reqMemBytes: 4 * 2 ** 30, timeLimitSec: 3600, nodeList: 'node01', start: null, end: null, steps: [],
  };
}

/** The job ended: its outbox row for Slack is written (as the tracker does), with metric curves for a chart. */
function jobEnded(c: Core, key: string): void {
  const jobs = c.jobs();
  jobs.store.observeAccounting(acct(key, 'RUNNING'), 'sacct', Date.now());
  jobs.store.finalize(acct(key, 'COMPLETED'), {
    source: 'sacct', now: Date.now(), classification: { failureClass: 'completed', signature: null }, mode: 'notify', channels: ['slack'], compose: composeJobEnd,
  });
  jobs.metrics.add(key, 'metrics.csv', [1, 2, 3, 4, 5].map((step) => ({ series: 'val_acc', step, value: 0.5 + step / 20, raw: String(0.5 + step / 20) })), Date.now());
}

interface Rig {
  c: Core;
  emu: SlackEmulator;
  proxy: FaultProxy;
  dispatcher: NotifyDispatcher;
  threadsFile: string;
  gateway(over?: Partial<SlackGatewayOptions>): Promise<{ gw: SlackGateway; logger: MemoryLogger }>;
  /** The report messages and completed chart uploads for one job in the home channel. */
  reportsOf(key: string): { messages: number; charts: number };
}

async function rig(emuOpts: SlackEmulatorOptions = {}): Promise<Rig> {
  const c = core();
  const emu = await startSlackEmulator(emuOpts);
  cleanups.push(() => emu.close());
  // The Web API goes through a proxy that can cut a request's connection; the socket goes direct.
  const proxy = await startFaultProxy(emu.url);
  cleanups.push(() => proxy.close());
  const hub = slackHub(c);
  const threadsFile = path.join(c.home, 'slack-threads.json');
  const dispatcher = new NotifyDispatcher(c.jobs().outbox, { slack: hub.reporter }, c.jobs().clock, createMemoryLogger(), 3_600_000);
  return {
    c, emu, proxy, dispatcher, threadsFile,
    async gateway(over = {}) {
      const logger = createMemoryLogger();
      const gw = createSlackGateway({
        botToken: emu.botToken, appToken: emu.appToken, apiUrl: `${proxy.url}/api/`, logger, allowedUsers: () => [emu.defaultUserId], homeChannel: () => HOME_CHANNEL,
        ports: corePorts(c), threads: new FileThreadMemory(threadsFile, logger), reconnect: { baseMs: 50, maxMs: 500 }, stopTimeoutMs: 1_000, ...over,
      });
      cleanups.push(() => gw.stop());
      await gw.start();
      hub.attach(gw);
      return { gw, logger };
    },
    reportsOf(key) {
      return {
        messages: emu.messages(HOME_CHANNEL).filter((m) => m.text.includes(`(job ${key})`)).length,
        charts: emu.uploads.filter((u) => u.filename === `job-${key}-metrics.png` && u.completed).length,
      };
    },
  };
}

describe('a job report while the link to Slack is disturbed', () => {
  it('Slack sends disconnect as the report goes out: one report after the reconnect, and its thread answers', async () => {
    const r = await rig();
    const { gw } = await r.gateway();
    jobEnded(r.c, '7001');
    r.emu.disconnect('refresh_requested');
    expect(await r.dispatcher.flush()).toBe(1);
    await r.emu.waitFor(() => (r.emu.totalConnections === 2 && gw.state === 'connected' ? true : undefined), 5_000, 'the reconnect');
    expect(r.reportsOf('7001')).toEqual({ messages: 1, charts: 1 });
    // Over the new socket: a follow-up in the report's thread is handled (the thread is remembered).
    const root = r.emu.messages(HOME_CHANNEL).find((m) => m.text.includes('(job 7001)'))!;
    r.emu.sendAppMention({ text: 'stats 7001', channel: HOME_CHANNEL, threadTs: root.ts });
    await r.emu.waitForCall('chat.postMessage', (x) => x.params.thread_ts === root.ts);
    await r.dispatcher.flush();
    expect(r.reportsOf('7001')).toEqual({ messages: 1, charts: 1 });
    expect(r.c.jobs().outbox.forJob('7001').map((o) => [o.attempts, o.deliveredAt !== null])).toEqual([[1, true]]);
  });

  it('the socket drops and the Web API fails (503, then a reset before Slack saw the request): retried, one report', async () => {
    const r = await rig();
    const { gw } = await r.gateway({});
    jobEnded(r.c, '7002');
    r.emu.dropSockets();
    r.emu.failNext('chat.postMessage', { kind: 'http', status: 503 }, 1);
    r.proxy.cutNext((q) => q.apiMethod === 'chat.postMessage', 'before');
    r.proxy.cutNext((q) => q.apiMethod === 'files.getUploadURLExternal', 'before');
    expect(await r.dispatcher.flush()).toBe(1);
    expect(r.reportsOf('7002')).toEqual({ messages: 1, charts: 1 });
    // The reset came first (the emulator never saw it), then Slack's 503, then the post.
    expect(r.proxy.requests.filter((q) => q.apiMethod === 'chat.postMessage').map((q) => q.cut)).toEqual(['before', null, null]);
    expect(r.emu.callsTo('chat.postMessage').map((x) => x.status)).toEqual([503, 200]);
    await r.emu.waitFor(() => (gw.state === 'connected' && r.emu.connectionCount === 1 ? true : undefined), 5_000, 'the reconnect');
    expect(r.c.jobs().outbox.forJob('7002').map((o) => [o.attempts, o.deliveredAt !== null])).toEqual([[1, true]]);
  });

  it('the link drops after Slack took the report (its answer lost): the post is found in the channel, not posted twice', async () => {
    const r = await rig();
    const { logger } = await r.gateway();
    jobEnded(r.c, '7004');
    r.proxy.cutNext((q) => q.apiMethod === 'chat.postMessage', 'after');
    expect(await r.dispatcher.flush()).toBe(1);
    expect(r.reportsOf('7004')).toEqual({ messages: 1, charts: 1 });
    // Slack took the one post; its answer was lost; the channel's history was read instead of posting again.
    expect(r.proxy.requests.filter((q) => q.apiMethod === 'chat.postMessage').map((q) => q.cut)).toEqual(['after']);
    expect(r.emu.callsTo('chat.postMessage').map((x) => x.status)).toEqual([200]);
    const history = r.emu.callsTo('conversations.history');
    expect(history).toHaveLength(1);
    expect(history[0]!.params).toMatchObject({ channel: HOME_CHANNEL, include_all_metadata: 'true', oldest: expect.stringMatching(/^\d+$/) });
    const root = r.emu.messages(HOME_CHANNEL).find((m) => m.text.includes('(job 7004)'))!;
    expect(root.metadata).toMatchObject({ event_type: 'hpc_relay_report', event_payload: { key: 'hpc-relay:job:7004:COMPLETED:slack' } });
    // The found message is the report: its thread has the chart, the delivery is recorded once.
    expect(r.emu.uploads.find((u) => u.filename === 'job-7004-metrics.png')).toMatchObject({ completed: true, threadTs: root.ts });
    expect(r.c.jobs().outbox.forJob('7004').map((o) => [o.attempts, o.deliveredAt !== null])).toEqual([[1, true]]);
    expect(logger.entries.some((e) => e.msg.startsWith('job report found in Slack'))).toBe(true);
    // Delivered: flushing again posts nothing.
    expect(await r.dispatcher.flush()).toBe(0);
    expect(r.reportsOf('7004')).toEqual({ messages: 1, charts: 1 });
  });

  it('the link drops after Slack completed the chart upload: the file is found in the thread, not uploaded twice', async () => {
    const r = await rig();
    await r.gateway();
    jobEnded(r.c, '7005');
    r.proxy.cutNext((q) => q.apiMethod === 'files.completeUploadExternal', 'after');
    expect(await r.dispatcher.flush()).toBe(1);
    expect(r.reportsOf('7005')).toEqual({ messages: 1, charts: 1 });
    expect(r.emu.callsTo('files.completeUploadExternal')).toHaveLength(1);
    expect(r.emu.callsTo('conversations.replies')).toHaveLength(1);
    // The thread holds the one chart message.
    const root = r.emu.messages(HOME_CHANNEL).find((m) => m.text.includes('(job 7005)'))!;
    expect(r.emu.messages(HOME_CHANNEL).filter((m) => m.threadTs === root.ts && m.files?.length)).toHaveLength(1);
  });

  it('without the history scopes the search cannot run: the report is posted (never lost), and a warning says so once', async () => {
    const scopes = ['chat:write', 'im:write', 'im:read', 'im:history', 'channels:read', 'users:read', 'files:write', 'commands', 'app_mentions:read'];
    const r = await rig({ scopes });
    const { logger } = await r.gateway();
    jobEnded(r.c, '7006');
    jobEnded(r.c, '7007');
    // Both posts are reset before Slack sees them: the outcome is unknown to the relay, so it tries to look.
    r.proxy.cutNext((q) => q.apiMethod === 'chat.postMessage', 'before', 2);
    expect(await r.dispatcher.flush()).toBe(2);
    expect(r.reportsOf('7006')).toEqual({ messages: 1, charts: 1 });
    expect(r.reportsOf('7007')).toEqual({ messages: 1, charts: 1 });
    expect(r.emu.callsTo('conversations.history').map((x) => x.response)).toEqual([
      expect.objectContaining({ ok: false, error: 'missing_scope', needed: 'channels:history' }),
      expect.objectContaining({ ok: false, error: 'missing_scope', needed: 'channels:history' }),
    ]);
    const warnings = logger.atLeast('warn').filter((e) => e.msg.startsWith('Cannot check whether an interrupted job report'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('lacks channels:history');
    expect(warnings[0]!.msg).toContain('hpc-relay slack manifest');
    expect(JSON.stringify(logger.entries)).not.toContain(r.emu.botToken);
  });

  it('the gateway stops mid-report (Slack rate-limiting it) and a new one starts: the outbox keeps the row, one report in the end', async () => {
    const r = await rig();
    const first = await r.gateway();
    jobEnded(r.c, '7003');
    r.emu.failNext('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 30 }, 1);
    const flushing = r.dispatcher.flush();
    await r.emu.waitForCall('chat.postMessage');
    // The app quits (or Slack settings change) while the report waits out the Retry-After.
    await first.gw.stop();
    expect(await flushing).toBe(0);
    slackHub(r.c).attach(null);
    expect(r.reportsOf('7003')).toEqual({ messages: 0, charts: 0 });
    expect(r.c.jobs().outbox.forJob('7003').map((o) => [o.deliveredAt, o.lastError?.slice(0, 40)])).toEqual([[null, 'The Slack gateway stopped before this me']]);

    await r.gateway();
    expect(await r.dispatcher.flush()).toBe(1);
    await r.dispatcher.flush();
    expect(r.reportsOf('7003')).toEqual({ messages: 1, charts: 1 });
  });
});
