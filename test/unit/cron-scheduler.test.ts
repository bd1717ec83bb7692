import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CronService, SKIPPED_ROWS_MAX, type CronServiceOptions, type RunView } from '../../main/core/cron/cron-service.js';
import type { AgentRunner, DigestJob, DigestSource, SlackPoster } from '../../main/core/cron/ports.js';
import { RelayError, isRelayError } from '../../main/core/errors.js';
import type { Clock, Notification, Notifier } from '../../main/core/ports.js';
import type { CronApi } from '../../main/core/slack/jobs-api.js';
import { CronStore } from '../../main/core/store/cron-store.js';
import { openDatabase, type Db } from '../../main/core/store/database.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { makeHome } from '../helpers/temp-home.js';

// ---------------------------------------------------------------------------------------------
// A fake clock. advance() is time passing while awake: timers fire in order. sleep() is a laptop
// lid closed: the wall clock jumps, and pending timers move with it (timers do not count time
// spent suspended), so nothing fires until something looks at the clock again.
// ---------------------------------------------------------------------------------------------

interface Timer { at: number; seq: number; fn: () => void }

class FakeClock implements Clock {
  private timers: Timer[] = [];
  private seq = 0;
  constructor(public t: number) {}
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return { cancel: () => { this.timers = this.timers.filter((x) => x !== timer); } };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await settle();
  }
  async advanceTo(iso: string): Promise<void> { await this.advance(Date.parse(iso) - this.t); }
  sleep(ms: number): void {
    this.t += ms;
    for (const x of this.timers) x.at += ms;
  }
  get pending(): number { return this.timers.length; }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
}

// ---------------------------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------------------------

class FakeDigest implements DigestSource {
  calls: number[] = [];
  jobs: DigestJob[] = [{ jobId: '1234', name: 'train_cnn', state: 'RUNNING', elapsedSeconds: 2 * 3600, partition: 'gpu_normal', latestMetrics: { epoch: 37, totalEpochs: 50, values: { val_acc: 0.82 } } }];
  failures: Error[] = [];
  gate: Promise<void> | null = null;
  constructor(private readonly clock: FakeClock) {}
  async listJobs(): Promise<DigestJob[]> {
    this.calls.push(this.clock.now());
    if (this.gate) await this.gate;
    const f = this.failures.shift();
    if (f) throw f;
    return this.jobs;
  }
}

class RecordingNotifier implements Notifier {
  readonly seen: Notification[] = [];
  async notify(n: Notification): Promise<void> { this.seen.push(n); }
}

class RecordingPoster implements SlackPoster {
  readonly posts: Array<{ channel?: string; user?: string; text: string }> = [];
  async post(msg: { channel?: string; user?: string; text: string }): Promise<void> { this.posts.push(msg); }
}

const unreachable = () => new RelayError('SSH_UNREACHABLE', 'hpc is not reachable (ENETUNREACH).');
const T0 = '2026-03-02T09:00:30Z'; // a Monday

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()?.(); });

function dbFile(): string {
  return path.join(makeHome('cron'), 'hpc-relay.db');
}

function openDb(file: string): Db {
  const db = openDatabase(file);
  cleanups.push(() => { db.close(); });
  return db;
}

interface Rig {
  clock: FakeClock;
  digest: FakeDigest;
  notifier: RecordingNotifier;
  slack: RecordingPoster;
  svc: CronService;
  store: CronStore;
  file: string;
}

function rig(opts: { clock?: FakeClock; file?: string; over?: Partial<CronServiceOptions> } = {}): Rig {
  const clock = opts.clock ?? new FakeClock(Date.parse(T0));
  const file = opts.file ?? dbFile();
  const store = new CronStore(openDb(file));
  const digest = new FakeDigest(clock);
  const notifier = new RecordingNotifier();
  const slack = new RecordingPoster();
  const svc = new CronService({
    store, clock, logger: createMemoryLogger(), digest, notifier, slack,
    homeChannel: () => 'C0GENERAL01',
    defaultTimezone: 'UTC',
    retryDelaysMs: [10_000, 30_000, 60_000],
    ...opts.over,
  });
  cleanups.push(() => svc.stop());
  return { clock, digest, notifier, slack, svc, store, file };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const brief = (r: RunView) => ({ planned: iso(r.plannedAt), outcome: r.outcome, trigger: r.trigger, reason: r.reason });

async function ledger(svc: CronService, id: string): Promise<RunView[]> {
  return (await svc.runs(id, 1000)).reverse();
}

describe('the scheduler on a fake clock', () => {
  it('runs on schedule, delivering a digest to the tray', async () => {
    const { clock, svc, notifier, digest } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray', name: 'GPU digest' });
    expect(iso(m.nextRunAt)).toBe('2026-03-02T09:05:00.000Z');
    await svc.start();
    await clock.advanceTo('2026-03-02T09:04:59Z');
    expect(digest.calls).toEqual([]);
    await clock.advanceTo('2026-03-02T09:05:01Z');
    await svc.idle();
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:05:00.000Z']);
    expect(notifier.seen).toHaveLength(1);
    expect(notifier.seen[0]).toMatchObject({ title: 'GPU digest', target: `cron:${m.id}` });
    expect(notifier.seen[0]?.body).toContain('• 1234 train_cnn: running 2 h on gpu_normal, epoch 37/50 (val_acc 0.82), ETA 42 min');
    const runs = await ledger(svc, m.id);
    expect(runs.map(brief)).toEqual([{ planned: '2026-03-02T09:05:00.000Z', outcome: 'ok', trigger: 'schedule', reason: null }]);
    expect(runs[0]).toMatchObject({ deliveredTo: 'tray', attempts: 1, startedAt: Date.parse('2026-03-02T09:05:00Z') });
    const listed = (await svc.list())[0];
    expect(listed?.lastOutcome).toBe('ok');
    expect(iso(listed?.nextRunAt ?? null)).toBe('2026-03-02T09:10:00.000Z');
  });

  it('sleep across several planned runs → exactly one catch-up run on wake, the rest recorded skipped', async () => {
    const { clock, svc, digest, slack } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'slack' });
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    expect(digest.calls).toHaveLength(1);

    clock.sleep(23 * 60_000); // lid closed at 09:05, opened at 09:28: 09:10, :15, :20, :25 missed
    await svc.wake();
    await svc.idle();

    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:05:00.000Z', '2026-03-02T09:28:00.000Z']);
    expect(slack.posts).toHaveLength(2);
    expect(slack.posts[1]).toMatchObject({ channel: 'C0GENERAL01' });
    expect((await ledger(svc, m.id)).map(brief)).toEqual([
      { planned: '2026-03-02T09:05:00.000Z', outcome: 'ok', trigger: 'schedule', reason: null },
      { planned: '2026-03-02T09:10:00.000Z', outcome: 'skipped', trigger: 'catch-up', reason: 'missed while asleep' },
      { planned: '2026-03-02T09:15:00.000Z', outcome: 'skipped', trigger: 'catch-up', reason: 'missed while asleep' },
      { planned: '2026-03-02T09:20:00.000Z', outcome: 'skipped', trigger: 'catch-up', reason: 'missed while asleep' },
      { planned: '2026-03-02T09:25:00.000Z', outcome: 'ok', trigger: 'catch-up', reason: null },
    ]);

    // And the schedule goes on as before, with no second catch-up.
    await clock.advanceTo('2026-03-02T09:30:00Z');
    await svc.idle();
    expect(digest.calls.map(iso).at(-1)).toBe('2026-03-02T09:30:00.000Z');
    expect(digest.calls).toHaveLength(3);
  });

  it('catches up the same way when nobody calls wake(): the next check sees the wall clock', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    clock.sleep(23 * 60_000);
    await clock.advance(15_000); // the scheduler checks at least every 15 s of awake time
    await svc.idle();
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:05:00.000Z', '2026-03-02T09:28:15.000Z']);
    const runs = await ledger(svc, m.id);
    expect(runs.filter((r) => r.outcome === 'skipped')).toHaveLength(3);
    expect(runs.filter((r) => r.outcome === 'ok')).toHaveLength(2);
  });

  it('records an older miss as skipped without running it: daily at 9, woken at 09:20 (grace 15 min)', async () => {
    const clock = new FakeClock(Date.parse('2026-03-02T08:00:00Z'));
    const { svc, digest } = rig({ clock });
    const m = await svc.create({ schedule: 'daily at 9am', to: 'tray' });
    await svc.start();
    clock.sleep(80 * 60_000);
    await svc.wake();
    await svc.idle();
    expect(digest.calls).toEqual([]);
    expect((await ledger(svc, m.id)).map(brief)).toEqual([{ planned: '2026-03-02T09:00:00.000Z', outcome: 'skipped', trigger: 'catch-up', reason: 'missed while asleep' }]);
    expect(iso((await svc.get(m.id)).nextRunAt)).toBe('2026-03-03T09:00:00.000Z');
  });

  it('…but runs it when woken within the grace window (09:10), and honours a per-monitor grace', async () => {
    const clock = new FakeClock(Date.parse('2026-03-02T08:00:00Z'));
    const { svc, digest } = rig({ clock });
    const a = await svc.create({ schedule: 'daily at 9am', to: 'tray' });
    const b = await svc.create({ schedule: 'daily at 9am', to: 'tray', graceMs: 5 * 60_000 });
    await svc.start();
    clock.sleep(70 * 60_000);
    await svc.wake();
    await svc.idle();
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:10:00.000Z']);
    expect((await ledger(svc, a.id)).map(brief)).toEqual([{ planned: '2026-03-02T09:00:00.000Z', outcome: 'ok', trigger: 'catch-up', reason: null }]);
    expect((await ledger(svc, b.id)).map((r) => r.outcome)).toEqual(['skipped']);
  });

  it('a long sleep leaves one summarising skipped row, not thousands, and still only one run', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every minute', to: 'tray' });
    await svc.start();
    clock.sleep(3 * 86_400_000 + 20_000); // three days and 20 s
    await svc.wake();
    await svc.idle();
    expect(digest.calls).toHaveLength(1);
    const runs = await ledger(svc, m.id);
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ outcome: 'skipped', covers: 3 * 1440 - 1, plannedAt: Date.parse('2026-03-02T09:01:00Z'), plannedUntil: Date.parse('2026-03-05T08:59:00Z') });
    expect(runs[0]?.reason).toBe(`missed while asleep (${3 * 1440 - 1} planned runs)`);
    expect(runs[1]).toMatchObject({ outcome: 'ok', plannedAt: Date.parse('2026-03-05T09:00:00Z') });
    expect(SKIPPED_ROWS_MAX).toBeLessThan(3 * 1440);
  });

  it('prevents overlap: a planned time that comes while the previous run is still going is skipped', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every minute', to: 'tray' });
    let release: () => void = () => undefined;
    digest.gate = new Promise<void>((r) => { release = r; });
    await svc.start();
    await clock.advanceTo('2026-03-02T09:01:00Z');
    await clock.advanceTo('2026-03-02T09:03:00Z');
    expect(digest.calls).toHaveLength(1);
    digest.gate = null;
    release();
    await svc.idle();
    await clock.advanceTo('2026-03-02T09:04:00Z');
    await svc.idle();
    expect((await ledger(svc, m.id)).map(brief)).toEqual([
      { planned: '2026-03-02T09:01:00.000Z', outcome: 'ok', trigger: 'schedule', reason: null },
      { planned: '2026-03-02T09:02:00.000Z', outcome: 'skipped', trigger: 'schedule', reason: 'previous run still going' },
      { planned: '2026-03-02T09:03:00.000Z', outcome: 'skipped', trigger: 'schedule', reason: 'previous run still going' },
      { planned: '2026-03-02T09:04:00.000Z', outcome: 'ok', trigger: 'schedule', reason: null },
    ]);
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:01:00.000Z', '2026-03-02T09:04:00.000Z']);
  });

  it('retries with backoff while the network is not back (10 s, then 30 s), then delivers', async () => {
    const { clock, svc, digest, notifier } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    digest.failures = [unreachable(), unreachable()];
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    expect((await svc.get(m.id)).lastOutcome).toBe('running (retrying: hpc is not reachable (ENETUNREACH).)');
    await clock.advance(9_000);
    expect(digest.calls).toHaveLength(1);
    await clock.advance(1_000);
    expect(digest.calls).toHaveLength(2);
    await clock.advance(30_000);
    await svc.idle();
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:05:00.000Z', '2026-03-02T09:05:10.000Z', '2026-03-02T09:05:40.000Z']);
    expect(notifier.seen).toHaveLength(1);
    const runs = await ledger(svc, m.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ outcome: 'ok', attempts: 3, reason: null, errorCode: null, deliveredTo: 'tray', endedAt: Date.parse('2026-03-02T09:05:40Z') });
  });

  it('wake() retries a run waiting for the network at once', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    digest.failures = [unreachable()];
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await clock.advance(2_000);
    await svc.wake();
    await svc.idle();
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:05:00.000Z', '2026-03-02T09:05:02.000Z']);
    expect((await ledger(svc, m.id))[0]).toMatchObject({ outcome: 'ok', attempts: 2 });
  });

  it('bounds the retries: it gives up before the next planned run, which then runs normally', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every minute', to: 'tray' });
    digest.failures = [unreachable(), unreachable(), unreachable(), unreachable()];
    await svc.start();
    await clock.advanceTo('2026-03-02T09:01:00Z');
    await clock.advanceTo('2026-03-02T09:01:59Z');
    await svc.idle();
    // 09:01:00, +10 s, +30 s; the next retry (+60 s) would run into 09:02.
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:01:00.000Z', '2026-03-02T09:01:10.000Z', '2026-03-02T09:01:40.000Z']);
    const first = (await ledger(svc, m.id))[0];
    expect(first).toMatchObject({ outcome: 'failed', attempts: 3, errorCode: 'SSH_UNREACHABLE' });
    expect(first?.reason).toMatch(/not reachable.*gave up after 3 attempts; the next planned run tries again/);
    await clock.advanceTo('2026-03-02T09:02:00Z');
    await clock.advance(10_000);
    await svc.idle();
    expect((await ledger(svc, m.id)).map((r) => [r.outcome, r.attempts])).toEqual([['failed', 3], ['ok', 2]]);
  });

  it('does not retry an error that waiting will not fix', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    digest.failures = [new RelayError('REMOTE_COMMAND_FAILED', '`squeue` failed on the cluster (exit 1): invalid user.')];
    await svc.start();
    await clock.advanceTo('2026-03-02T09:06:00Z');
    await svc.idle();
    expect(digest.calls).toHaveLength(1);
    expect((await ledger(svc, m.id))[0]).toMatchObject({ outcome: 'failed', attempts: 1, errorCode: 'REMOTE_COMMAND_FAILED' });
    expect((await svc.get(m.id)).lastOutcome).toBe('failed: `squeue` failed on the cluster (exit 1): invalid user.');
  });

  it('a repeat count of 1 runs once, then the monitor is finished and cannot be resumed', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray', repeat: 1 });
    expect(m.runsLeft).toBe(1);
    await svc.start();
    await clock.advanceTo('2026-03-02T09:20:00Z');
    await svc.idle();
    expect(digest.calls).toHaveLength(1);
    const after = await svc.get(m.id);
    expect(after).toMatchObject({ status: 'finished', runsLeft: 0, nextRunAt: null, lastOutcome: 'ok' });
    await expect(svc.resume(m.id)).rejects.toThrow(/has finished its 1 run\. Create a new one/);
  });

  it('pause and resume: nothing runs while paused, and the paused time is not made up', async () => {
    const { clock, svc, digest } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    await svc.start();
    await svc.pause(m.id);
    expect(await svc.get(m.id)).toMatchObject({ status: 'paused', paused: true, nextRunAt: null });
    await clock.advanceTo('2026-03-02T09:31:00Z');
    await svc.idle();
    expect(digest.calls).toEqual([]);
    await svc.resume(m.id);
    expect(iso((await svc.get(m.id)).nextRunAt)).toBe('2026-03-02T09:35:00.000Z');
    await clock.advanceTo('2026-03-02T09:35:00Z');
    await svc.idle();
    expect(digest.calls.map(iso)).toEqual(['2026-03-02T09:35:00.000Z']);
    expect((await ledger(svc, m.id)).map((r) => r.outcome)).toEqual(['ok']);
  });

  it('remove deletes the monitor and its ledger; unknown IDs get a sentence', async () => {
    const { svc } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    await svc.remove(m.id);
    expect(await svc.list()).toEqual([]);
    await expect(svc.pause(m.id)).rejects.toThrow(`There is no monitor ${m.id}. \`hpc-relay cron list\` shows the IDs.`);
    await expect(svc.remove('abc')).rejects.toThrow(/"abc" is not a monitor ID/);
  });

  it('a heartbeat stays quiet until a job has run long enough, then says where it is', async () => {
    const { clock, svc, digest, slack } = rig();
    const m = await svc.create({ schedule: 'hourly', kind: 'heartbeat', to: 'dm:U0HUMAN001', minRunSeconds: 3 * 3600 });
    await svc.start();
    await clock.advanceTo('2026-03-02T10:00:00Z');
    await svc.idle();
    expect(slack.posts).toEqual([]);
    expect((await ledger(svc, m.id))[0]).toMatchObject({ outcome: 'ok', reason: 'nothing to report', deliveredTo: null });
    digest.jobs = [{ jobId: '1234', name: 'train_cnn', state: 'RUNNING', elapsedSeconds: 4 * 3600, partition: 'gpu_normal', latestMetrics: { epoch: 37, totalEpochs: 50, values: {} }, epochSeconds: 553.85 }];
    await clock.advanceTo('2026-03-02T11:00:00Z');
    await svc.idle();
    expect(slack.posts).toEqual([{ user: 'U0HUMAN001', text: 'Job 1234 (train_cnn) still running, epoch 37/50, ETA 2 h' }]);
    expect((await ledger(svc, m.id))[1]).toMatchObject({ outcome: 'ok', deliveredTo: 'dm:U0HUMAN001' });
  });

  it('a prompt monitor shows its cost per run and, without an agent, fails saying the agent is not enabled', async () => {
    const { clock, svc } = rig({ over: { model: () => 'claude-sonnet-4-5' } });
    const m = await svc.create({ schedule: 'every 5m', prompt: 'Check my CNN run; report val accuracy and loss.', to: 'tray' });
    expect(m.kind).toBe('prompt');
    expect(m.costPerRun).toMatch(/^≈ \$0\.\d\d per run \(claude-sonnet-4-5: ~4 turns, ~\d+k input \+ 1\.6k output tokens\)$/);
    expect(m.costPerRunUsd).toBeGreaterThan(0.01);
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    const run = (await ledger(svc, m.id))[0];
    expect(run).toMatchObject({ outcome: 'failed', errorCode: 'AGENT_NOT_ENABLED', attempts: 1 });
    expect(run?.reason).toMatch(/^The agent is not enabled, so prompt monitor \d+ cannot run\. Set llm\.enabled/);
  });

  it('a prompt monitor with an agent delivers what the agent answers', async () => {
    const prompts: string[] = [];
    const agent: AgentRunner = { async run(req) { prompts.push(req.prompt); return { text: 'Val accuracy plateaued at 82% after epoch 12.' }; } };
    const { clock, svc, notifier } = rig({ over: { agent } });
    await svc.create({ schedule: 'every 5m', prompt: 'Summarise the run', to: 'tray', name: 'CNN watch' });
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    expect(prompts).toEqual(['Summarise the run']);
    expect(notifier.seen[0]).toMatchObject({ title: 'CNN watch', body: 'CNN watch\nVal accuracy plateaued at 82% after epoch 12.' });
  });

  it('appends to a file target with a stamped header', async () => {
    const dir = makeHome('cron-file');
    const out = path.join(dir, 'digest.log');
    const { clock, svc } = rig();
    const m = await svc.create({ schedule: 'every 5m', to: `file:${out}`, name: 'to file', timezone: 'Asia/Bangkok' });
    await svc.start();
    await clock.advanceTo('2026-03-02T09:10:00Z');
    await svc.idle();
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toBe(
      `--- 2026-03-02 16:05 Asia/Bangkok · monitor ${m.id} (to file) ---\nto file: 1 running\n• 1234 train_cnn: running 2 h on gpu_normal, epoch 37/50 (val_acc 0.82), ETA 42 min\n\n` +
      `--- 2026-03-02 16:10 Asia/Bangkok · monitor ${m.id} (to file) ---\nto file: 1 running\n• 1234 train_cnn: running 2 h on gpu_normal, epoch 37/50 (val_acc 0.82), ETA 42 min\n\n`,
    );
    expect((await ledger(svc, m.id)).map((r) => r.deliveredTo)).toEqual([`file:${out}`, `file:${out}`]);
  });

  it('says what to do when Slack has no home channel or is not connected', async () => {
    const { clock, svc } = rig({ over: { homeChannel: () => undefined } });
    const a = await svc.create({ schedule: 'every 5m', to: 'slack' });
    const { svc: svc2, clock: clock2 } = rig({ over: { slack: undefined } });
    const b = await svc2.create({ schedule: 'every 5m', to: 'dm:U0HUMAN001' });
    await svc.start();
    await svc2.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await clock2.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    await svc2.idle();
    expect((await svc.get(a.id)).lastOutcome).toMatch(/^failed: slack\.homeChannel is not set, so monitor \d+ has no channel to post in\. Set it with `hpc-relay config set slack\.homeChannel/);
    expect((await svc2.get(b.id)).lastOutcome).toMatch(/^failed: Slack is not connected in this process/);
  });

  it('escapes what Slack would read as a mention or link, and only for Slack', async () => {
    const { clock, svc, digest, slack, notifier } = rig();
    digest.jobs = [{ jobId: '7', name: '<!channel> & <https://x.example|y>', state: 'RUNNING', elapsedSeconds: 60, partition: 'gpu_dev' }];
    await svc.create({ schedule: 'every 5m', to: 'slack', name: 'S' });
    await svc.create({ schedule: 'every 5m', to: 'tray', name: 'T' });
    await svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await svc.idle();
    expect(slack.posts[0]?.text).toBe('S: 1 running\n• 7 &lt;!channel&gt; &amp; &lt;https://x.example|y&gt;: running 1 min on gpu_dev');
    expect(notifier.seen[0]?.body).toBe('T: 1 running\n• 7 <!channel> & <https://x.example|y>: running 1 min on gpu_dev');
  });

  it('validates what it is given', async () => {
    const { svc } = rig();
    const codes = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isRelayError(e) ? e.code : String(e)));
    expect(await codes(svc.create({ schedule: 'every fortnight' }))).toBe('CRON_INVALID_SCHEDULE');
    expect(await codes(svc.create({ schedule: 'every 5m', to: 'email:me' }))).toBe('CRON_INVALID_TARGET');
    expect(await codes(svc.create({ schedule: 'every 5m', to: 'dm:bob' }))).toBe('CRON_INVALID_TARGET');
    expect(await codes(svc.create({ schedule: 'every 5m', kind: 'prompt' }))).toBe('CRON_INVALID_OPTION');
    expect(await codes(svc.create({ schedule: 'every 5m', kind: 'digest', prompt: 'x' }))).toBe('CRON_INVALID_OPTION');
    expect(await codes(svc.create({ schedule: 'every 5m', repeat: 0 }))).toBe('CRON_INVALID_OPTION');
    expect(await codes(svc.create({ schedule: 'every 5m', timezone: 'Nowhere/Land' }))).toBe('CRON_INVALID_OPTION');
    expect(await svc.list()).toEqual([]);
  });

  it('is the CronApi the Slack commands call', async () => {
    const { svc } = rig();
    const api: CronApi = svc;
    const m = await svc.create({ schedule: 'every 5m', to: 'tray' });
    await api.pause(m.id);
    expect((await api.list())[0]).toMatchObject({ id: m.id, schedule: 'every 5m', paused: true, nextRunAt: null, lastOutcome: null });
    await api.resume(m.id);
    expect((await api.list())[0]?.paused).toBe(false);
  });
});

describe('persistence and restarts', () => {
  it('a new CronService over the same file sees the monitors and ledger, and catches up what was missed while stopped', async () => {
    const file = dbFile();
    const clock = new FakeClock(Date.parse(T0));
    const a = rig({ clock, file });
    const m = await a.svc.create({ schedule: 'every 5m', to: 'tray', name: 'kept' });
    const p = await a.svc.create({ schedule: 'hourly', to: 'tray', name: 'paused one' });
    await a.svc.pause(p.id);
    await a.svc.start();
    await clock.advanceTo('2026-03-02T09:05:00Z');
    await a.svc.stop();
    expect(a.digest.calls).toHaveLength(1);

    clock.sleep(17 * 60_000); // stopped at 09:05, started again at 09:22: 09:10, :15 and :20 missed
    const b = rig({ clock, file });
    const listed = await b.svc.list();
    expect(listed.map((x) => [x.id, x.name, x.status, x.lastOutcome])).toEqual([[m.id, 'kept', 'active', 'ok'], [p.id, 'paused one', 'paused', null]]);
    await b.svc.start();
    await b.svc.idle();
    expect(b.digest.calls.map(iso)).toEqual(['2026-03-02T09:22:00.000Z']);
    expect((await ledger(b.svc, m.id)).map(brief)).toEqual([
      { planned: '2026-03-02T09:05:00.000Z', outcome: 'ok', trigger: 'schedule', reason: null },
      { planned: '2026-03-02T09:10:00.000Z', outcome: 'skipped', trigger: 'catch-up', reason: 'missed while HPC Relay was not running' },
      { planned: '2026-03-02T09:15:00.000Z', outcome: 'skipped', trigger: 'catch-up', reason: 'missed while HPC Relay was not running' },
      { planned: '2026-03-02T09:20:00.000Z', outcome: 'ok', trigger: 'catch-up', reason: null },
    ]);
    expect(await ledger(b.svc, p.id)).toEqual([]);
  });

  it('a run left "running" by a process that died is closed as interrupted on start', async () => {
    const file = dbFile();
    const a = rig({ file });
    const m = await a.svc.create({ schedule: 'every 5m', to: 'tray' });
    const runId = a.store.startRun({ monitorId: Number(m.id), plannedAt: Date.parse('2026-03-02T09:00:00Z'), trigger: 'schedule', at: Date.parse('2026-03-02T09:00:00Z'), owner: `${os.hostname()}:999999999:dead` });
    expect(runId).not.toBeNull();
    await a.svc.start();
    await a.svc.idle();
    expect(a.store.getRun(runId ?? 0)).toMatchObject({ outcome: 'failed', reason: 'interrupted: HPC Relay stopped during the run' });
  });

  it('leaves alone a run that a live process on this machine is doing', async () => {
    const file = dbFile();
    const a = rig({ file });
    const m = await a.svc.create({ schedule: 'every 5m', to: 'tray' });
    // The test runner's parent is alive and is not this process.
    const runId = a.store.startRun({ monitorId: Number(m.id), plannedAt: 0, trigger: 'schedule', at: 0, owner: `${os.hostname()}:${process.ppid}:live` });
    await a.svc.start();
    await a.clock.advanceTo('2026-03-02T09:05:00Z');
    await a.svc.idle();
    expect(a.store.getRun(runId ?? 0)?.outcome).toBe('running');
    expect(a.digest.calls).toEqual([]);
    expect((await ledger(a.svc, m.id)).map((r) => [r.outcome, r.reason])).toEqual([['running', null], ['skipped', 'previous run still going']]);
  });

  it('two schedulers on one file (the app and a daemon) run each planned time once between them', async () => {
    const file = dbFile();
    const clock = new FakeClock(Date.parse(T0));
    const a = rig({ clock, file });
    const b = rig({ clock, file });
    const m = await a.svc.create({ schedule: 'every minute', to: 'tray' });
    await a.svc.start();
    await b.svc.start();
    await clock.advanceTo('2026-03-02T09:10:30Z');
    await a.svc.idle();
    await b.svc.idle();
    expect(a.digest.calls.length + b.digest.calls.length).toBe(10);
    const runs = await ledger(a.svc, m.id);
    expect(runs.map((r) => r.outcome)).toEqual(Array(10).fill('ok'));
    expect(new Set(runs.map((r) => r.plannedAt)).size).toBe(10);
  });
});
