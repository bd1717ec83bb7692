/**
 * Cron monitors and their run ledger in the SQLite store. Times are epoch milliseconds.
 *
 * The ledger row of a run in progress has outcome 'running'; a partial unique index allows one such
 * row per monitor, so two processes on the same file (the tray app and a daemon) cannot overlap a
 * monitor's runs either.
 */
import type { Db, Migration } from './database.js';
import { migrateModule } from './module-migrations.js';

export const CRON_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE cron_monitors (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        schedule_input TEXT NOT NULL,
        expression TEXT NOT NULL,
        description TEXT NOT NULL,
        timezone TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('digest', 'prompt', 'heartbeat')),
        prompt TEXT,
        target TEXT NOT NULL,
        repeat INTEGER CHECK (repeat IS NULL OR repeat >= 1),
        runs_started INTEGER NOT NULL DEFAULT 0,
        grace_ms INTEGER,
        min_run_seconds INTEGER,
        status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'finished')),
        cursor_ms INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE cron_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        monitor_id INTEGER NOT NULL REFERENCES cron_monitors(id) ON DELETE CASCADE,
        planned_at INTEGER NOT NULL,
        planned_until INTEGER,
        covers INTEGER NOT NULL DEFAULT 1,
        trigger TEXT NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'manual')),
        started_at INTEGER,
        ended_at INTEGER,
        outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'skipped')),
        reason TEXT,
        error_code TEXT,
        delivered_to TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        owner TEXT
      );
      CREATE INDEX cron_runs_by_monitor ON cron_runs (monitor_id, id);
      CREATE UNIQUE INDEX cron_runs_one_running ON cron_runs (monitor_id) WHERE outcome = 'running';
    `,
  },
];

export type MonitorKind = 'digest' | 'prompt' | 'heartbeat';
export type MonitorStatus = 'active' | 'paused' | 'finished';
export type RunOutcome = 'running' | 'ok' | 'failed' | 'skipped';
export type RunTrigger = 'schedule' | 'catch-up' | 'manual';

export interface MonitorRecord {
  id: number;
  name: string;
  /** The schedule as the user typed it. */
  scheduleInput: string;
  /** Normalized: cron, or "every 45m". */
  expression: string;
  description: string;
  timezone: string;
  kind: MonitorKind;
  prompt: string | null;
  /** slack | dm:U… | tray | file:/abs/path */
  target: string;
  repeat: number | null;
  runsStarted: number;
  graceMs: number | null;
  minRunSeconds: number | null;
  status: MonitorStatus;
  /** Every planned time at or before this is handled (run or recorded skipped). */
  cursorMs: number;
  createdAt: number;
  updatedAt: number;
}

export type NewMonitor = Omit<MonitorRecord, 'id' | 'runsStarted' | 'updatedAt'>;

export interface RunRecord {
  id: number;
  monitorId: number;
  plannedAt: number;
  /** For one skipped row standing for many misses: the newest planned time it covers. */
  plannedUntil: number | null;
  covers: number;
  trigger: RunTrigger;
  startedAt: number | null;
  endedAt: number | null;
  outcome: RunOutcome;
  /** Why it was skipped, or the error of a failed run. */
  reason: string | null;
  errorCode: string | null;
  deliveredTo: string | null;
  attempts: number;
  owner: string | null;
}

interface MonitorSql {
  id: number; name: string; schedule_input: string; expression: string; description: string; timezone: string;
  kind: MonitorKind; prompt: string | null; target: string; repeat: number | null; runs_started: number;
  grace_ms: number | null; min_run_seconds: number | null; status: MonitorStatus; cursor_ms: number; created_at: number; updated_at: number;
}

interface RunSql {
  id: number; monitor_id: number; planned_at: number; planned_until: number | null; covers: number; trigger: RunTrigger;
  started_at: number | null; ended_at: number | null; outcome: RunOutcome; reason: string | null; error_code: string | null;
  delivered_to: string | null; attempts: number; owner: string | null;
}

function monitorOf(r: MonitorSql): MonitorRecord {
  return {
    id: r.id, name: r.name, scheduleInput: r.schedule_input, expression: r.expression, description: r.description,
    timezone: r.timezone, kind: r.kind, prompt: r.prompt, target: r.target, repeat: r.repeat, runsStarted: r.runs_started,
    graceMs: r.grace_ms, minRunSeconds: r.min_run_seconds, status: r.status, cursorMs: r.cursor_ms, createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

function runOf(r: RunSql): RunRecord {
  return {
    id: r.id, monitorId: r.monitor_id, plannedAt: r.planned_at, plannedUntil: r.planned_until, covers: r.covers, trigger: r.trigger,
    startedAt: r.started_at, endedAt: r.ended_at, outcome: r.outcome, reason: r.reason, errorCode: r.error_code,
    deliveredTo: r.delivered_to, attempts: r.attempts, owner: r.owner,
  };
}

export interface FinishFields {
  outcome: 'ok' | 'failed';
  endedAt: number;
  attempts: number;
  reason?: string | null;
  errorCode?: string | null;
  deliveredTo?: string | null;
}

export class CronStore {
  constructor(readonly db: Db) {
    migrateModule(db, 'cron', CRON_MIGRATIONS);
  }

  /** Runs `fn` in an IMMEDIATE transaction: it sees and writes a consistent ledger across processes. */
  immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertMonitor(m: NewMonitor): MonitorRecord {
    const info = this.db.prepare(`
      INSERT INTO cron_monitors (name, schedule_input, expression, description, timezone, kind, prompt, target, repeat, grace_ms, min_run_seconds, status, cursor_ms, created_at, updated_at)
      VALUES (@name, @scheduleInput, @expression, @description, @timezone, @kind, @prompt, @target, @repeat, @graceMs, @minRunSeconds, @status, @cursorMs, @createdAt, @createdAt)
    `).run(m);
    const row = this.getMonitor(Number(info.lastInsertRowid));
    if (!row) throw new Error('the monitor just inserted is gone');
    return row;
  }

  getMonitor(id: number): MonitorRecord | undefined {
    const r = this.db.prepare<[number], MonitorSql>('SELECT * FROM cron_monitors WHERE id = ?').get(id);
    return r ? monitorOf(r) : undefined;
  }

  listMonitors(): MonitorRecord[] {
    return this.db.prepare<[], MonitorSql>('SELECT * FROM cron_monitors ORDER BY id').all().map(monitorOf);
  }

  setStatus(id: number, status: MonitorStatus, at: number, cursorMs?: number): void {
    if (cursorMs === undefined) this.db.prepare('UPDATE cron_monitors SET status = ?, updated_at = ? WHERE id = ?').run(status, at, id);
    else this.db.prepare('UPDATE cron_monitors SET status = ?, cursor_ms = ?, updated_at = ? WHERE id = ?').run(status, cursorMs, at, id);
  }

  advanceCursor(id: number, cursorMs: number, at: number): void {
    this.db.prepare('UPDATE cron_monitors SET cursor_ms = MAX(cursor_ms, ?), updated_at = ? WHERE id = ?').run(cursorMs, at, id);
  }

  countRunStarted(id: number, at: number): void {
    this.db.prepare('UPDATE cron_monitors SET runs_started = runs_started + 1, updated_at = ? WHERE id = ?').run(at, id);
  }

  deleteMonitor(id: number): boolean {
    return this.db.prepare('DELETE FROM cron_monitors WHERE id = ?').run(id).changes > 0;
  }

  /** Newest first. */
  runs(monitorId: number, limit = 20): RunRecord[] {
    return this.db.prepare<[number, number], RunSql>('SELECT * FROM cron_runs WHERE monitor_id = ? ORDER BY id DESC LIMIT ?').all(monitorId, limit).map(runOf);
  }

  /** The most recent ledger row, of any outcome. */
  lastRun(monitorId: number): RunRecord | undefined {
    const r = this.db.prepare<[number], RunSql>('SELECT * FROM cron_runs WHERE monitor_id = ? ORDER BY id DESC LIMIT 1').get(monitorId);
    return r ? runOf(r) : undefined;
  }

  runningRun(monitorId: number): RunRecord | undefined {
    const r = this.db.prepare<[number], RunSql>("SELECT * FROM cron_runs WHERE monitor_id = ? AND outcome = 'running'").get(monitorId);
    return r ? runOf(r) : undefined;
  }

  allRunning(): RunRecord[] {
    return this.db.prepare<[], RunSql>("SELECT * FROM cron_runs WHERE outcome = 'running' ORDER BY id").all().map(runOf);
  }

  getRun(id: number): RunRecord | undefined {
    const r = this.db.prepare<[number], RunSql>('SELECT * FROM cron_runs WHERE id = ?').get(id);
    return r ? runOf(r) : undefined;
  }

  insertSkipped(s: { monitorId: number; plannedAt: number; plannedUntil?: number | null; covers?: number; trigger: RunTrigger; reason: string; at: number }): number {
    const info = this.db.prepare(`
      INSERT INTO cron_runs (monitor_id, planned_at, planned_until, covers, trigger, started_at, ended_at, outcome, reason)
      VALUES (?, ?, ?, ?, ?, NULL, ?, 'skipped', ?)
    `).run(s.monitorId, s.plannedAt, s.plannedUntil ?? null, s.covers ?? 1, s.trigger, s.at, s.reason);
    return Number(info.lastInsertRowid);
  }

  /** The ledger row of a run that starts now; null if the monitor already has one running. */
  startRun(r: { monitorId: number; plannedAt: number; trigger: RunTrigger; at: number; owner: string }): number | null {
    if (this.runningRun(r.monitorId)) return null;
    const info = this.db.prepare(`
      INSERT INTO cron_runs (monitor_id, planned_at, trigger, started_at, outcome, attempts, owner)
      VALUES (?, ?, ?, ?, 'running', 0, ?)
    `).run(r.monitorId, r.plannedAt, r.trigger, r.at, r.owner);
    return Number(info.lastInsertRowid);
  }

  setAttempts(runId: number, attempts: number, lastError: string | null, errorCode: string | null): void {
    this.db.prepare('UPDATE cron_runs SET attempts = ?, reason = ?, error_code = ? WHERE id = ?').run(attempts, lastError, errorCode, runId);
  }

  /** Closes a running row; false when it no longer exists (the monitor was removed meanwhile). */
  finishRun(runId: number, f: FinishFields): boolean {
    return this.db.prepare(`
      UPDATE cron_runs SET outcome = ?, ended_at = ?, attempts = ?, reason = ?, error_code = ?, delivered_to = ?
      WHERE id = ? AND outcome = 'running'
    `).run(f.outcome, f.endedAt, f.attempts, f.reason ?? null, f.errorCode ?? null, f.deliveredTo ?? null, runId).changes > 0;
  }
}
