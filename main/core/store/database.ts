import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RelayError, storeFailure } from '../errors.js';
import { JOBS_SCHEMA_V2, METRIC_STEP_NAME_V4, OUTBOX_CLAIM_OWNER_V5, SUBMISSION_INTENTS_V3 } from './jobs-schema.js';

export type Db = Database.Database;

export interface Migration {
  version: number;
  up: string;
}

/** The schema, in order. A migration is never edited once released: add a new one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}'
      );
    `,
  },
  { version: 2, up: JOBS_SCHEMA_V2 },
  { version: 3, up: SUBMISSION_INTENTS_V3 },
  { version: 4, up: METRIC_STEP_NAME_V4 },
  { version: 5, up: OUTBOX_CLAIM_OWNER_V5 },
];

export interface OpenOptions {
  /**
   * better-sqlite3 is not N-API: in `npm start` (Electron) the app passes a copy built for
   * Electron's ABI (scripts/electron-native.mjs); tests and the CLI use the Node build.
   */
  nativeBinding?: string;
}

/**
 * Opens (creating if needed) the store in the settings home: WAL so the app and a CLI can read
 * while the daemon writes, foreign keys on, migrations applied in one transaction each.
 */
export function openDatabase(file: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    db = new Database(file, opts.nativeBinding ? { nativeBinding: opts.nativeBinding } : {});
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    throw new RelayError('STORE_FAILED', `The database ${file} could not be opened: ${(e as Error).message}.`, {
      fix: 'Check that the settings directory is writable and the disk is not full; run `hpc-relay doctor`.',
      cause: e,
    });
  }
  const guarded = guardStore(db);
  migrate(guarded, MIGRATIONS);
  return guarded;
}

type AnyCall = (...args: unknown[]) => unknown;

/** Runs `fn`; a failure of the file or its disk (full, I/O error, read-only, damaged) comes out as STORE_FAILED. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw storeFailure(e) ?? e;
  }
}

/**
 * `target` with every method guarded; a method that returns `target` itself (chaining) returns
 * the guarded object, and `wrap` may guard what others return (statements, transactions).
 */
function guardMethods<T extends object>(target: T, wrap: (prop: string | symbol, result: unknown) => unknown = (_p, r) => r): T {
  const proxy: T = new Proxy(target, {
    get(t, prop) {
      const v: unknown = Reflect.get(t, prop, t);
      if (typeof v !== 'function') return v;
      const method = v as AnyCall;
      return (...args: unknown[]) => {
        const r = guarded(() => method.apply(t, args));
        return r === t ? proxy : wrap(prop, r);
      };
    },
  });
  return proxy;
}

/** A transaction function (callable, with .deferred/.immediate/.exclusive): a failed COMMIT is guarded too. */
function guardTransaction(t: AnyCall): AnyCall {
  const wrap = (f: AnyCall): AnyCall => function (this: unknown, ...args: unknown[]) {
    return guarded(() => f.apply(this, args));
  };
  const variants = t as unknown as Record<string, unknown>;
  const out = wrap(t) as AnyCall & Record<string, unknown>;
  for (const k of ['default', 'deferred', 'immediate', 'exclusive', 'database']) {
    const v = variants[k];
    out[k] = typeof v === 'function' ? wrap(v as AnyCall) : v;
  }
  return out;
}

/**
 * The connection as every store uses it, except that SQLite's failures of the file or its disk
 * (SQLITE_FULL, SQLITE_IOERR*, SQLITE_READONLY*, SQLITE_CORRUPT) are thrown as RelayError
 * STORE_FAILED with the fix, wherever they happen (a statement, a pragma, a transaction's COMMIT):
 * the CLI, Slack and the window then say what to do instead of "database or disk is full".
 */
export function guardStore(db: Db): Db {
  return guardMethods(db, (prop, r) => {
    if (prop === 'prepare' && typeof r === 'object' && r !== null) return guardMethods(r);
    if (prop === 'transaction' && typeof r === 'function') return guardTransaction(r as AnyCall);
    return r;
  });
}

export function migrate(db: Db, migrations: readonly Migration[]): number {
  const version = () => db.pragma('user_version', { simple: true }) as number;
  for (const m of migrations) {
    if (m.version <= version()) continue;
    // IMMEDIATE, and the version read again inside: a daemon and a CLI opening a fresh file at the
    // same moment must not both run one migration (the second would fail on CREATE TABLE).
    db.transaction(() => {
      if (m.version <= version()) return;
      db.exec(m.up);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
