import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase, MIGRATIONS } from '../../main/core/store/database.js';
import { JobStore, type FinalizeOptions, type SubmissionRow } from '../../main/core/store/job-store.js';
import { OutboxStore } from '../../main/core/store/outbox-store.js';
import { MetricsStore } from '../../main/core/store/metrics-store.js';
import type { SacctJob } from '../../main/core/slurm/sacct-parser.js';
import type { SqueueRow } from '../../main/core/slurm/squeue-parser.js';
import { makeHome } from '../helpers/temp-home.js';

function submission(over: Partial<SubmissionRow> = {}): SubmissionRow {
  return {
    id: 'sub-1', kind: 'script', source: 'train.sh', params: { lr: 0.1 }, scriptHash: 'abc', sbatchArgs: ['--mem=100M'], scriptArgs: [], remoteDir: '/home/u/hpc-relay/jobs/sub-1',
    scriptPath: '/home/u/hpc-relay/jobs/sub-1/train.sh', wrapperPath: '/home/u/hpc-relay/jobs/sub-1/relay-wrapper.sh', stdoutPattern: '/x/slurm-%j.out', stderrPattern: '/x/slurm-%j.err',
    baseId: '100', arraySpec: null, sweepId: 'sub-1', resubmitOf: null, submittedAt: 1000, ...over,
  };
}

function acct(key: string, state: string, over: Partial<SacctJob> = {}): SacctJob {
  const [baseId = key, task] = key.split('_');
  return {
    kind: 'job', key, baseId, arrayTask: task === undefined ? null : Number(task), name: 'train', state, cancelledBy: null, exitCode: 0, signal: 0, elapsedSec: 10, maxRssBytes: 2 ** 20,
    reqMemBytes: 100 * 2 ** 20, timeLimitSec: 600, nodeList: 'vm', start: '2026-01-01T00:00:00', end: '2026-01-01T00:00:10', steps: [], ...over,
  };
}

function queued(key: string, state: string, name = 'train'): SqueueRow {
  const [baseId = key, task] = key.split('_');
  return { key, baseId, arrayTask: task === undefined ? null : Number(task), name, state, reason: 'None', elapsedSec: 5, timeLimitSec: 600, partition: 'gpu_normal', nodes: 1 };
}

const fin = (over: Partial<FinalizeOptions> = {}): FinalizeOptions => ({
  source: 'sacct', now: 5000, classification: { failureClass: 'completed', signature: null }, mode: 'notify', channels: ['tray', 'slack'],
  compose: (job, d) => ({ title: `Job ${job.jobKey} ${job.state}`, body: d.reason, payload: { action: d.action } }), ...over,
});

describe('job store (migration 2)', () => {
  it('migrates to the latest version and keeps released migrations in order', () => {
    const db = openDatabase(':memory:');
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['submissions', 'jobs', 'job_transitions', 'job_events', 'notification_outbox', 'metrics', 'file_cursors', 'sweeps', 'triage_actions']));
  });

  it('records a submission with one row per array task, each PENDING with a submit transition', () => {
    const s = new JobStore(openDatabase(':memory:'));
    const jobs = s.recordSubmission(submission({ arraySpec: '0-2', baseId: '200' }), { name: 'sweep', tasks: [0, 1, 2], partition: null });
    expect(jobs.map((j) => j.jobKey)).toEqual(['200_0', '200_1', '200_2']);
    expect(jobs.every((j) => j.state === 'PENDING' && !j.adopted && j.submissionId === 'sub-1')).toBe(true);
    expect(s.transitions('200_1')).toEqual([{ jobKey: '200_1', from: null, to: 'PENDING', source: 'submit', at: 1000 }]);
    expect(s.submission('sub-1')).toMatchObject({ params: { lr: 0.1 }, sbatchArgs: ['--mem=100M'] });
  });

  it('adopts jobs it did not submit, attaches unknown tasks of its own arrays, and records only real changes', () => {
    const s = new JobStore(openDatabase(':memory:'));
    s.recordSubmission(submission({ arraySpec: 'weird', baseId: '300' }), { name: 'sweep', tasks: null, partition: null });
    const first = s.observeQueue([queued('300_4', 'PENDING'), queued('42', 'RUNNING', 'theirs')], 2000);
    expect(first.adopted).toEqual(['42']);
    expect(s.get('42')).toMatchObject({ adopted: true, sweepId: 'adopted:42', submissionId: null });
    expect(s.get('300_4')).toMatchObject({ adopted: false, submissionId: 'sub-1' });
    expect(s.transitions('42')[0]).toMatchObject({ from: null, to: 'RUNNING', source: 'adopt' });
    const again = s.observeQueue([queued('300_4', 'PENDING'), queued('42', 'RUNNING', 'theirs')], 3000);
    expect(again).toEqual({ adopted: [], transitions: [] });
    const moved = s.observeQueue([queued('300_4', 'RUNNING')], 4000);
    expect(moved.transitions).toEqual([{ jobKey: '300_4', from: 'PENDING', to: 'RUNNING', source: 'squeue', at: 4000 }]);
  });

  it('finalizes once: state, transition, stats and one outbox row per channel in one transaction', () => {
    const s = new JobStore(openDatabase(':memory:'));
    const outbox = new OutboxStore(s.db);
    s.recordSubmission(submission(), { name: 'train', tasks: null, partition: null });
    const r = s.finalize(acct('100', 'COMPLETED', { maxRssBytes: 3 * 2 ** 20 }), fin({ source: 'events' }));
    expect(r?.transition).toEqual({ jobKey: '100', from: 'PENDING', to: 'COMPLETED', source: 'events', at: 5000 });
    expect(s.get('100')).toMatchObject({ final: true, state: 'COMPLETED', exitCode: 0, maxRssBytes: 3 * 2 ** 20, failureClass: 'completed', finishedAt: 5000 });
    expect(outbox.forJob('100').map((o) => [o.channel, o.finalState, o.title])).toEqual([['tray', 'COMPLETED', 'Job 100 COMPLETED'], ['slack', 'COMPLETED', 'Job 100 COMPLETED']]);
    expect(s.finalize(acct('100', 'COMPLETED'), fin())).toBeNull();
    expect(outbox.forJob('100')).toHaveLength(2);
    // A queue that lags behind accounting never reopens a final job.
    s.observeQueue([queued('100', 'COMPLETING')], 6000);
    expect(s.get('100')?.state).toBe('COMPLETED');
    expect(s.transitions('100')).toHaveLength(2);
  });

  it('refuses a second outbox row for the same job, final state and channel at the database level', () => {
    const s = new JobStore(openDatabase(':memory:'));
    s.recordSubmission(submission(), { name: 'train', tasks: null, partition: null });
    s.finalize(acct('100', 'FAILED', { exitCode: 3 }), fin({ channels: ['tray'] }));
    const dup = () => s.db.prepare("INSERT INTO notification_outbox (job_key, final_state, channel, title, body, created_at) VALUES ('100', 'FAILED', 'tray', 't', 'b', 1)").run();
    expect(dup).toThrow(/UNIQUE constraint failed/);
  });

  it('two connections to one file finalizing the same job: exactly one wins', () => {
    const file = path.join(makeHome('store'), 'hpc-relay.db');
    const a = new JobStore(openDatabase(file));
    const b = new JobStore(openDatabase(file));
    a.recordSubmission(submission(), { name: 'train', tasks: null, partition: null });
    const results = [a.finalize(acct('100', 'COMPLETED'), fin()), b.finalize(acct('100', 'COMPLETED'), fin())];
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(new OutboxStore(b.db).forJob('100')).toHaveLength(2);
    a.db.close();
    b.db.close();
  });

  it('takes at most one automatic bump per failure class per sweep, then only notifies', () => {
    const s = new JobStore(openDatabase(':memory:'));
    s.recordSubmission(submission({ arraySpec: '0-2', baseId: '400' }), { name: 'sweep', tasks: [0, 1, 2], partition: null });
    const oom = { failureClass: 'host-oom' as const, signature: null };
    const d0 = s.finalize(acct('400_0', 'OUT_OF_MEMORY'), fin({ mode: 'remediate', classification: oom }))!.decision;
    const d1 = s.finalize(acct('400_1', 'OUT_OF_MEMORY'), fin({ mode: 'remediate', classification: oom }))!.decision;
    const d2 = s.finalize(acct('400_2', 'TIMEOUT'), fin({ mode: 'remediate', classification: { failureClass: 'timeout', signature: null } }))!.decision;
    expect([d0.action, d1.action, d2.action]).toEqual(['bump-mem', 'notify', 'bump-time']);
    expect(d0.changes).toEqual({ mem: '150M' });
    expect(d1.reason).toMatch(/already acted once/);
    expect(s.pendingTriageActions().map((a) => [a.jobKey, a.action])).toEqual([['400_0', 'bump-mem'], ['400_2', 'bump-time']]);
    expect(() => s.db.prepare("INSERT INTO triage_actions (sweep_id, job_key, failure_class, action, status, created_at) VALUES ('sub-1', 'x', 'host-oom', 'bump-mem', 'pending', 1)").run()).toThrow(/UNIQUE/);
    const [first] = s.pendingTriageActions();
    expect(s.claimTriageAction(first!.id, 1)).toBe(true);
    expect(s.claimTriageAction(first!.id, 1)).toBe(false);
  });

  it('halts a sweep when a second job fails with the same exception, and then takes no automatic action', () => {
    const s = new JobStore(openDatabase(':memory:'));
    s.recordSubmission(submission({ arraySpec: '0-2', baseId: '500' }), { name: 'sweep', tasks: [0, 1, 2], partition: null });
    const exc = { failureClass: 'exception' as const, signature: "KeyError: 'x'" };
    expect(s.finalize(acct('500_0', 'FAILED', { exitCode: 1 }), fin({ mode: 'remediate', classification: exc }))!.decision.action).toBe('notify');
    expect(s.finalize(acct('500_1', 'FAILED', { exitCode: 1 }), fin({ mode: 'remediate', classification: exc }))!.decision.action).toBe('halt');
    expect(s.sweepHalted('sub-1')).toBe(true);
    const after = s.finalize(acct('500_2', 'OUT_OF_MEMORY'), fin({ mode: 'remediate', classification: { failureClass: 'host-oom', signature: null } }))!.decision;
    expect(after).toMatchObject({ action: 'notify' });
    expect(after.reason).toMatch(/halted/);
  });

  it('never plans a resubmit for an adopted job', () => {
    const s = new JobStore(openDatabase(':memory:'));
    s.observeQueue([queued('77', 'RUNNING')], 1);
    const d = s.finalize(acct('77', 'TIMEOUT'), fin({ mode: 'remediate', classification: { failureClass: 'timeout', signature: null } }))!.decision;
    expect(d.action).toBe('notify');
    expect(d.reason).toMatch(/not submitted by HPC Relay/);
    expect(s.pendingTriageActions()).toEqual([]);
  });

  it('adopts a job first seen in accounting, already ended, as PENDING so finalize records the end', () => {
    const s = new JobStore(openDatabase(':memory:'));
    s.observeAccounting(acct('88', 'COMPLETED'), 'sacct', 1);
    expect(s.get('88')).toMatchObject({ state: 'PENDING', adopted: true, final: false });
    expect(s.finalize(acct('88', 'COMPLETED'), fin())?.transition).toMatchObject({ from: 'PENDING', to: 'COMPLETED' });
  });
});

describe('outbox store', () => {
  it('claims a row once, releases it on failure, and never offers a delivered row again', () => {
    const s = new JobStore(openDatabase(':memory:'));
    const o = new OutboxStore(s.db, 1000);
    s.recordSubmission(submission(), { name: 'train', tasks: null, partition: null });
    s.finalize(acct('100', 'COMPLETED'), fin({ channels: ['tray'] }));
    const [row] = o.pending(['tray'], 10);
    expect(o.claim(row!.id, 10)).toBe(true);
    expect(o.claim(row!.id, 11)).toBe(false);
    expect(o.pending(['tray'], 11)).toEqual([]);
    // A claim older than the TTL is taken to be a crash mid-delivery.
    expect(o.pending(['tray'], 2000)).toHaveLength(1);
    o.markFailed(row!.id, 'tray unavailable');
    expect(o.pending(['tray'], 12)[0]).toMatchObject({ attempts: 1, lastError: 'tray unavailable' });
    expect(o.claim(row!.id, 13)).toBe(true);
    o.markDelivered(row!.id, 14);
    expect(o.pending(['tray'], 99_999)).toEqual([]);
    expect(o.forJob('100')[0]).toMatchObject({ deliveredAt: 14, attempts: 2 });
    expect(o.pending(['slack'], 10)).toEqual([]);
  });

  it('takes over at once the claims of a process that is gone; a running one keeps its claims, another host waits for the TTL', () => {
    const s = new JobStore(openDatabase(':memory:'));
    for (const k of ['1', '2', '3', '4']) {
      s.observeAccounting(acct(k, 'RUNNING'), 'sacct', 1);
      s.finalize(acct(k, 'COMPLETED'), fin({ channels: ['tray'] }));
    }
    const host = os.hostname();
    // A pid that was running a moment ago and has exited; the parent of this test process runs.
    const gonePid = spawnSync(process.execPath, ['-e', '0']).pid;
    const holders = [`${host}:${gonePid}:a1`, `${host}:${process.ppid}:b2`, `other-host:${gonePid}:c3`, `${host}:${process.pid}:d4`];
    const rows = new OutboxStore(s.db).pending(['tray'], 10);
    rows.forEach((r, i) => expect(new OutboxStore(s.db, 60_000, holders[i]).claim(r.id, 10)).toBe(true));
    const mine = new OutboxStore(s.db, 60_000, `${host}:${process.pid}:e5`);
    expect(mine.pending(['tray'], 11)).toEqual([]);
    // Gone: the exited pid, and this very pid under another token (a restart that got the same pid).
    expect(mine.releaseAbandoned()).toBe(2);
    expect(mine.pending(['tray'], 12).map((r) => r.jobKey)).toEqual(['1', '4']);
    expect(mine.claim(rows[0]!.id, 12)).toBe(true);
    // Its own claims, a live process's and an unknown host's are left alone.
    expect(mine.releaseAbandoned()).toBe(0);
    expect(mine.pending(['tray'], 13).map((r) => r.jobKey)).toEqual(['4']);
    expect(mine.pending(['tray'], 60_011).map((r) => r.jobKey)).toEqual(['2', '3', '4']);
  });
});

describe('metrics store', () => {
  it('keeps series per job and source, NaN as a null value with its text, and file cursors', () => {
    const m = new MetricsStore(openDatabase(':memory:'));
    m.add('1', 'csv', [{ series: 'loss', step: 1, value: 0.5, raw: '0.5' }, { series: 'loss', step: 2, value: null, raw: 'nan' }], 1);
    m.add('1', 'csv', [{ series: 'loss', step: 2, value: 0.25, raw: '0.25' }], 2);
    expect(m.series('1')).toEqual([{ source: 'csv', series: 'loss', step: 1, value: 0.5, raw: '0.5' }, { source: 'csv', series: 'loss', step: 2, value: 0.25, raw: '0.25' }]);
    expect(m.cursor('1', '/f')).toEqual({ offset: 0, state: { partial: '' } });
    m.setCursor('1', '/f', { offset: 42, state: { partial: 'epo', header: ['epoch', 'loss'] } });
    expect(m.cursor('1', '/f')).toEqual({ offset: 42, state: { partial: 'epo', header: ['epoch', 'loss'] } });
  });
});
