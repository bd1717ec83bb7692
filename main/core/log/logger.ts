import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import type { LogFields, Logger } from '../ports.js';
import type { SecretRegistry } from '../secrets/redact.js';

export interface LoggerOptions {
  /** Log file (JSON lines); its directory is created. */
  file?: string;
  /** Also write JSON lines to stderr (the daemon does, for journald and containers). */
  stderr?: boolean;
  level?: pino.LevelWithSilent;
  registry: SecretRegistry;
}

/** Field names whose values are dropped whatever they hold. */
const REDACT_PATHS = ['token', 'botToken', 'appToken', 'apiKey', 'password', 'passphrase', '*.token', '*.botToken', '*.appToken', '*.apiKey', '*.password', '*.passphrase', 'headers.authorization', '*.headers.authorization'];

class PinoLogger implements Logger {
  constructor(private readonly p: pino.Logger) {}
  debug(msg: string, fields?: LogFields): void { this.p.debug(fields ?? {}, msg); }
  info(msg: string, fields?: LogFields): void { this.p.info(fields ?? {}, msg); }
  warn(msg: string, fields?: LogFields): void { this.p.warn(fields ?? {}, msg); }
  error(msg: string, fields?: LogFields): void { this.p.error(fields ?? {}, msg); }
  child(bindings: LogFields): Logger { return new PinoLogger(this.p.child(bindings)); }
  flush(): void { this.p.flush(); }
}

/** Structured logs (pino). Every line passes through the secret redactor before it is written. */
export function createLogger(opts: LoggerOptions): Logger & { flush(): void } {
  const streams: pino.StreamEntry[] = [];
  if (opts.file) {
    fs.mkdirSync(path.dirname(opts.file), { recursive: true, mode: 0o700 });
    streams.push({ level: 'trace', stream: pino.destination({ dest: opts.file, sync: true, mkdir: true }) });
  }
  if (opts.stderr) streams.push({ level: 'trace', stream: pino.destination({ fd: 2, sync: true }) });
  const p = pino(
    {
      // No destination at all: a silent logger (no /dev/null, which Windows lacks).
      level: streams.length ? (opts.level ?? 'info') : 'silent',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: { streamWrite: (s) => opts.registry.redact(s) },
      base: { pid: process.pid },
    },
    pino.multistream(streams),
  );
  return new PinoLogger(p);
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {}, child() { return silentLogger; },
};
