import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Every test's settings home lives under one root, so the secret scan that closes `npm test`
 * can read every settings file, log and database the suite produced.
 */
export const TEST_HOMES_ROOT = path.join(os.tmpdir(), 'hpc-relay-test-homes');

export function makeHome(label = 'home'): string {
  fs.mkdirSync(TEST_HOMES_ROOT, { recursive: true });
  return fs.mkdtempSync(path.join(TEST_HOMES_ROOT, `${label}-`));
}
