import { afterEach, describe, expect, it } from 'vitest';
import { CronService, type RunView } from '../../main/core/cron/cron-service.js';
import type { DigestJob, DigestSource } from '../../main/core/cron/ports.js';
import { createSlackGateway } from '../../main/core/slack/gateway.js';
import { CronStore } from '../../main/core/store/cron-store.js';
import { openDatabase } from '../../main/core/store/database.js';
import { ManualClock } from '../fakes/manual-clock.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { startSlackEmulator, type SlackEmulator } from '../fakes/slack-emulator.js';
import { webClientPoster } from '../fakes/slack-web-poster.js';

const jobs: DigestJob[] = [
  { jobId: '4242', name: 'train_cnn', state: 'RUNNING', elapsedSeconds: 1800, partition: 'gpu_normal', latestMetrics: { epoch: 10, totalEpochs: 50, values: { val_acc: 0.71 } } },
  { jobId: '4243', name: 'sweep_a', state: 'PENDING', elapsedSeconds: 0, partition: 'gpu_normal', queuePosition: 2 },
];
const digest: DigestSource = { listJobs: async () => jobs };

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()?.(); });

async function setup(homeChannel = 'C0GENERAL01'): Promise<{ emu: SlackEmulator; clock: ManualClock; svc: CronService }> {
  const emu = await startSlackEmulator({ channels: [{ id: 'C0GENERAL01', name: 'general' }, { id: 'C0NOTMINE01', name: 'elsewhere', isMember: false }] });
  cleanups.push(() => emu.close());
  const clock = new ManualClock(Date.parse('2026-03-02T09:00:30Z'));
  const db = openDatabase(':memory:');
  cleanups.push(() => { db.close(); });
  const svc = new CronService({
    store: new CronStore(db), clock, logger: createMemoryLogger(), digest, slack: webClientPoster(emu),
    homeChannel: () => homeChannel, defaultTimezone: 'UTC', retryDelaysMs: [10_000, 30_000],
  });
  cleanups.push(() => svc.stop());
  return { emu, clock, svc };
}

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - started > 10_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function lastRun(svc: CronService, id: string): Promise<RunView | undefined> {
  return (await svc.runs(id, 1))[0];
}

describe('monitors deliver to Slack (the emulator, through Bolt\'s Web API client)', () => {
  it('posts the digest in the home channel and in a DM', async () => {
    const { emu, clock, svc } = await setup();
    const home = await svc.create({ schedule: 'every 5m', to: 'slack', name: 'GPU digest' });
    const dm = await svc.create({ schedule: 'every 5m', to: `dm:${emu.defaultUserId}`, name: 'For Ada' });
    await svc.start();
    clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    expect(emu.messages('C0GENERAL01').map((m) => m.text)).toEqual([
      'GPU digest: 1 running, 1 pending\n• 4242 train_cnn: running 30 min on gpu_normal, epoch 10/50 (val_acc 0.71), ETA 2 h\n• 4243 sweep_a: pending on gpu_normal, 2nd in its queue',
    ]);
    const dmChannel = emu.dmChannelFor(emu.defaultUserId);
    expect(emu.messages(dmChannel).map((m) => m.text.split('\n')[0])).toEqual(['For Ada: 1 running, 1 pending']);
    expect(emu.messages(dmChannel)[0]?.botId).toBe(emu.botId);
    expect(await lastRun(svc, home.id)).toMatchObject({ outcome: 'ok', deliveredTo: 'slack:C0GENERAL01' });
    expect(await lastRun(svc, dm.id)).toMatchObject({ outcome: 'ok', deliveredTo: `dm:${emu.defaultUserId}` });
  });

  it('retries while Slack answers 503, then posts once', async () => {
    const { emu, clock, svc } = await setup();
    const m = await svc.create({ schedule: 'every 5m', to: 'slack' });
    emu.failNext('chat.postMessage', { kind: 'http', status: 503, body: 'upstream connect error' }, 2);
    await svc.start();
    clock.advanceTo('2026-03-02T09:05:00Z');
    await until(async () => ((await lastRun(svc, m.id))?.attempts === 1 ? true : undefined), 'the first failure');
    expect(await lastRun(svc, m.id)).toMatchObject({ outcome: 'running', errorCode: 'SLACK_UNREACHABLE' });
    clock.advanceTo('2026-03-02T09:05:10Z');
    await until(async () => ((await lastRun(svc, m.id))?.attempts === 2 ? true : undefined), 'the second failure');
    clock.advanceTo('2026-03-02T09:05:40Z');
    await svc.idle();
    expect(emu.callsTo('chat.postMessage').map((c) => c.status)).toEqual([503, 503, 200]);
    expect(emu.messages('C0GENERAL01')).toHaveLength(1);
    expect(await lastRun(svc, m.id)).toMatchObject({ outcome: 'ok', attempts: 3, endedAt: Date.parse('2026-03-02T09:05:40Z') });
  });

  it('does not retry what Slack refuses for good: a channel the bot is not in', async () => {
    const { emu, clock, svc } = await setup('C0NOTMINE01');
    const m = await svc.create({ schedule: 'every 5m', to: 'slack' });
    await svc.start();
    clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    expect(emu.callsTo('chat.postMessage')).toHaveLength(1);
    const run = await lastRun(svc, m.id);
    expect(run).toMatchObject({ outcome: 'failed', attempts: 1, errorCode: 'SLACK_NOT_IN_CHANNEL' });
    expect(run?.reason).toMatch(/^The bot is not a member of that channel\. Invite it there/);
  });
});

describe('monitors through the real Slack gateway (its post() and its /hpc cron commands)', () => {
  it('a monitor posts through the gateway; /hpc cron list, pause and resume act on the same monitors', async () => {
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    const clock = new ManualClock(Date.parse('2026-03-02T09:00:30Z'));
    const db = openDatabase(':memory:');
    cleanups.push(() => { db.close(); });
    const svc = new CronService({ store: new CronStore(db), clock, logger: createMemoryLogger(), digest, homeChannel: () => 'C0GENERAL01', defaultTimezone: 'UTC' });
    cleanups.push(() => svc.stop());
    const gw = createSlackGateway({
      botToken: emu.botToken, appToken: emu.appToken, apiUrl: emu.apiUrl, logger: createMemoryLogger(),
      allowedUsers: () => [emu.defaultUserId], ports: { cron: svc }, clientPingTimeoutMs: 1000,
    });
    cleanups.push(() => gw.stop());
    await gw.start();
    svc.attach({ slack: gw });

    const m = await svc.create({ schedule: 'every 5m', to: 'slack', name: 'Via gateway' });
    await svc.start();
    clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    const post = await emu.waitForCall('chat.postMessage', (c) => String(c.params.text).startsWith('Via gateway: 1 running'));
    expect(post.params.channel).toBe('C0GENERAL01');
    expect((await svc.get(m.id)).lastOutcome).toBe('ok');

    emu.sendSlashCommand({ text: 'cron list' });
    const listed = await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('Via gateway'));
    expect(String(listed.body.text)).toMatch(new RegExp(`${m.id}\\s+Via gateway\\s+every 5m\\s+2026-03-02 09:10\\s+ok`));
    emu.sendSlashCommand({ text: `cron pause ${m.id}` });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('is paused'));
    expect((await svc.get(m.id)).status).toBe('paused');
    emu.sendSlashCommand({ text: `cron resume ${m.id}` });
    await emu.waitForResponseUrlPost((p) => String(p.body.text).includes('running again'));
    expect((await svc.get(m.id)).status).toBe('active');
  });
});
