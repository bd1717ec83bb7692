import { RelayError } from '../errors.js';
import type { Db, Migration } from './database.js';

/**
 * Schema versions per feature module (cron, …), kept apart from the core's `user_version` so
 * modules can grow their own tables without touching database.ts's MIGRATIONS list.
 *
 * Each migration runs in its own IMMEDIATE transaction that re-reads the version first, so two
 * processes opening the same file at once (the daemon and a CLI command) never apply one twice.
 */
export function migrateModule(db: Db, module: string, migrations: readonly Migration[]): number {
  db.exec('CREATE TABLE IF NOT EXISTS module_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const read = db.prepare<[string], { version: number }>('SELECT version FROM module_versions WHERE module = ?');
  const write = db.prepare('INSERT INTO module_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version');
  const current = (): number => read.get(module)?.version ?? 0;
  let last = 0;
  for (const m of migrations) {
    if (m.version <= last) throw new Error(`module ${module}: migration versions must increase (${m.version} after ${last})`);
    last = m.version;
  }
  const newest = migrations.at(-1)?.version ?? 0;
  if (current() > newest) {
    throw new RelayError('STORE_FAILED', `The database was written by a newer HPC Relay (${module} schema ${current()}, this version knows ${newest}).`, {
      fix: 'Update HPC Relay, or move hpc-relay.db aside to start over.',
    });
  }
  for (const m of migrations) {
    db.transaction(() => {
      if (m.version <= current()) return;
      db.exec(m.up);
      write.run(module, m.version);
    }).immediate();
  }
  return current();
}

export function moduleVersion(db: Db, module: string): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'module_versions'").get();
  if (!exists) return 0;
  return db.prepare<[string], { version: number }>('SELECT version FROM module_versions WHERE module = ?').get(module)?.version ?? 0;
}
