import { RelayError, describeError } from '../core/errors.js';

/** A usage mistake: exit code 2. */
export class UsageError extends RelayError {
  constructor(message: string, fix?: string) {
    super('USAGE', message, fix ? { fix } : {});
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** One clear sentence on stderr, the stack only with --verbose; returns the exit code. */
export function reportError(e: unknown, verbose: boolean): number {
  const msg = describeError(e);
  process.stderr.write(`hpc-relay: ${msg}\n`);
  if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return e instanceof RelayError && e.code === 'USAGE' ? 2 : 1;
}

export function formatValue(v: unknown): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}
