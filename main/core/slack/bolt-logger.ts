import { LogLevel } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';
import type { LogFields, Logger } from '../ports.js';

export type BoltLogLevel = 'debug' | 'info' | 'warn' | 'error';

const SEVERITY: Record<BoltLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

const TO_BOLT: Record<BoltLogLevel, LogLevel> = {
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
};

export function toBoltLogLevel(level: BoltLogLevel): LogLevel {
  return TO_BOLT[level];
}

function isLevel(v: string): v is BoltLogLevel {
  return v in SEVERITY;
}

/** Bolt logs `(...args)`; our port takes one message and structured fields. */
function split(args: unknown[]): { msg: string; fields: LogFields } {
  const words: string[] = [];
  const fields: LogFields = {};
  for (const a of args) {
    if (typeof a === 'string') words.push(a);
    else if (typeof a === 'number' || typeof a === 'boolean') words.push(String(a));
    else if (a instanceof Error) {
      const code = (a as Error & { code?: unknown }).code;
      fields.err = { name: a.name, message: a.message, ...(code !== undefined ? { code } : {}) };
      if (words.length === 0) words.push(a.message);
    } else if (a !== undefined) {
      fields.data = a;
    }
  }
  return { msg: words.join(' '), fields };
}

/**
 * Adapts the core `Logger` port to the logger interface Bolt, the Socket Mode client and the
 * Web API client share. Bolt's own output is quiet by default (warnings and errors only).
 */
export function boltLoggerFor(logger: Logger, level: BoltLogLevel = 'warn'): BoltLogger {
  let current = logger.child({ component: 'slack' });
  let threshold: BoltLogLevel = level;
  const emit = (at: BoltLogLevel, args: unknown[]): void => {
    if (SEVERITY[at] < SEVERITY[threshold]) return;
    const { msg, fields } = split(args);
    current[at](msg, fields);
  };
  return {
    debug: (...args: unknown[]) => emit('debug', args),
    info: (...args: unknown[]) => emit('info', args),
    warn: (...args: unknown[]) => emit('warn', args),
    error: (...args: unknown[]) => emit('error', args),
    setLevel: (l: LogLevel) => {
      if (isLevel(l)) threshold = l;
    },
    getLevel: () => TO_BOLT[threshold],
    setName: (name: string) => {
      current = logger.child({ component: 'slack', name });
    },
  };
}
