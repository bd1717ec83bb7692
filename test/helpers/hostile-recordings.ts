/**
 * What the relay sent to the cloud emulators, kept on disk for the secret scan that closes
 * `npm test` (scripts/secret-scan.mjs): every emulator appends one JSON line per outgoing message
 * (Slack Web API call, response_url post, ack payload, file upload; Anthropic request body) to
 * `<test homes root>/<emulator>/<pid>-<port>.jsonl`, as it happens, so a test that fails or a
 * process that dies still leaves its record behind. Tokens and API keys travel in headers and
 * are never written: a value found in these files is one the relay put in a message.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TEST_HOMES_ROOT } from './temp-home.js';

export type RecordingKind = 'slack-emulator' | 'anthropic-emulator';

/** `<TEST_HOMES_ROOT>/<kind>/<pid>-<port>.jsonl` */
export function defaultRecordingFile(kind: RecordingKind, url: string): string {
  const port = new URL(url).port || '0';
  return path.join(TEST_HOMES_ROOT, kind, `${process.pid}-${port}.jsonl`);
}

/** Buffers become latin1 text (so the scan sees their bytes), everything else stays JSON. */
export function jsonSafe(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

/** An append-only JSON-lines file; null writes nothing. */
export class RecordingFile {
  constructor(readonly file: string | null) {}

  append(entry: Record<string, unknown>): void {
    if (this.file === null) return;
    const line = `${JSON.stringify(jsonSafe({ ...entry, at: Date.now() }))}\n`;
    try {
      fs.appendFileSync(this.file, line);
    } catch (e) {
      // First write, or the root was cleaned meanwhile (scripts/clean-test-homes.mjs): make it again.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      fs.appendFileSync(this.file, line);
    }
  }
}
