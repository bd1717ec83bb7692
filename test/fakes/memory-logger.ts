import type { LogFields, Logger } from '../../main/core/ports.js';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  level: LogLevelName;
  msg: string;
  fields: LogFields;
}

/** A `Logger` that keeps every line in memory so tests can look at what was logged. */
export interface MemoryLogger extends Logger {
  /** Shared by the logger and all its children. */
  readonly entries: LogEntry[];
  /** Entries at `level` or above. */
  atLeast(level: LogLevelName): LogEntry[];
}

const ORDER: Record<LogLevelName, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createMemoryLogger(opts: { echo?: boolean } = {}): MemoryLogger {
  const entries: LogEntry[] = [];
  const make = (bindings: LogFields): MemoryLogger => {
    const log = (level: LogLevelName) => (msg: string, fields?: LogFields) => {
      const entry = { level, msg, fields: { ...bindings, ...fields } };
      entries.push(entry);
      if (opts.echo) console.log(`[${level}] ${msg}`, entry.fields);
    };
    return {
      entries,
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
      atLeast: (level) => entries.filter((e) => ORDER[e.level] >= ORDER[level]),
    };
  };
  return make({});
}
