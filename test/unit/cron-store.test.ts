import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import { CRON_MIGRATIONS, CronStore } from '../../main/core/store/cron-store.js';
import { MIGRATIONS, openDatabase } from '../../main/core/store/database.js';
import { migrateModule, moduleVersion } from '../../main/core/store/module-migrations.js';
import { makeHome } from '../helpers/temp-home.js';

describe('module migrations', () => {
  it('keep their own version per module, apart from the core schema, and apply once', () => {
    const file = path.join(makeHome('cron-db'), 'hpc-relay.db');
    const db = openDatabase(file);
    expect(moduleVersion(db, 'cron')).toBe(0);
    new CronStore(db);
    expect(moduleVersion(db, 'cron')).toBe(CRON_MIGRATIONS.at(-1)?.version);
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)?.version);
    db.close();
    const again = openDatabase(file);
    expect(() => new CronStore(again)).not.toThrow();
    expect(again.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'cron_monitors'").get()).toEqual({ n: 1 });
    again.close();
  });

  it('rolls a failing migration back whole and keeps the version', () => {
    const db = openDatabase(':memory:');
    expect(migrateModule(db, 'demo', [{ version: 1, up: 'CREATE TABLE demo_a (x)' }])).toBe(1);
    expect(() => migrateModule(db, 'demo', [{ version: 1, up: 'CREATE TABLE demo_a (x)' }, { version: 2, up: 'CREATE TABLE demo_b (x); SELECT * FROM nowhere;' }])).toThrow();
    expect(moduleVersion(db, 'demo')).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'demo_b'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database from a newer version with a sentence', () => {
    const db = openDatabase(':memory:');
    migrateModule(db, 'demo', [{ version: 1, up: 'SELECT 1' }, { version: 2, up: 'SELECT 1' }]);
    let err: unknown;
    try { migrateModule(db, 'demo', [{ version: 1, up: 'SELECT 1' }]); } catch (e) { err = e; }
    expect(isRelayError(err, 'STORE_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/written by a newer HPC Relay \(demo schema 2, this version knows 1\)\. Update HPC Relay/);
    db.close();
  });
});

describe('the run ledger', () => {
  it('allows one running row per monitor, even to a second connection', () => {
    const file = path.join(makeHome('cron-db'), 'hpc-relay.db');
    const a = new CronStore(openDatabase(file));
    const b = new CronStore(openDatabase(file));
    const m = a.insertMonitor({
      name: 'm', scheduleInput: 'every 5m', expression: '*/5 * * * *', description: 'every 5 minutes', timezone: 'UTC', kind: 'digest',
      prompt: null, target: 'tray', repeat: null, graceMs: null, minRunSeconds: null, status: 'active', cursorMs: 0, createdAt: 0,
    });
    const first = a.startRun({ monitorId: m.id, plannedAt: 1, trigger: 'schedule', at: 1, owner: 'a' });
    expect(first).not.toBeNull();
    expect(b.startRun({ monitorId: m.id, plannedAt: 2, trigger: 'schedule', at: 2, owner: 'b' })).toBeNull();
    // Even past the check, the partial unique index refuses a second running row.
    expect(() => b.db.prepare("INSERT INTO cron_runs (monitor_id, planned_at, trigger, outcome) VALUES (?, 3, 'schedule', 'running')").run(m.id)).toThrow(/UNIQUE/);
    expect(a.finishRun(first ?? 0, { outcome: 'ok', endedAt: 5, attempts: 1, deliveredTo: 'tray' })).toBe(true);
    expect(a.finishRun(first ?? 0, { outcome: 'failed', endedAt: 6, attempts: 1 })).toBe(false);
    expect(b.startRun({ monitorId: m.id, plannedAt: 2, trigger: 'schedule', at: 7, owner: 'b' })).not.toBeNull();
    expect(a.deleteMonitor(m.id)).toBe(true);
    expect(b.runs(m.id)).toEqual([]);
    a.db.close();
    b.db.close();
  });
});
