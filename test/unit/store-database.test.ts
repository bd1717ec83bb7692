import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openDatabase } from '../../main/core/store/database.js';
import { isRelayError } from '../../main/core/errors.js';
import { makeHome } from '../helpers/temp-home.js';

describe('SQLite store (better-sqlite3)', () => {
  it('creates the database in WAL mode with every migration applied, and reopens without re-running them', () => {
    const file = path.join(makeHome('db'), 'hpc-relay.db');
    const db = openDatabase(file);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    db.prepare('INSERT INTO audit_log (at, actor, action) VALUES (?, ?, ?)').run('2026-01-01T00:00:00Z', 'cli', 'test');
    db.close();
    const again = openDatabase(file);
    expect(again.prepare('SELECT count(*) AS n FROM audit_log').get()).toEqual({ n: 1 });
    again.close();
  });

  it('applies a failing migration not at all (transaction) and keeps the version', () => {
    const db = openDatabase(':memory:');
    const v = db.pragma('user_version', { simple: true }) as number;
    expect(() => migrate(db, [...MIGRATIONS, { version: v + 1, up: 'CREATE TABLE t (x); SELECT * FROM no_such_table;' }])).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(v);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get()).toBeUndefined();
  });

  it('says what to do when the file cannot be opened', () => {
    const home = makeHome('db');
    fs.writeFileSync(path.join(home, 'not-a-dir'), '');
    let err: unknown;
    try { openDatabase(path.join(home, 'not-a-dir', 'hpc-relay.db')); } catch (e) { err = e; }
    expect(isRelayError(err, 'STORE_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/could not be opened.*disk is not full/);
  });
});
