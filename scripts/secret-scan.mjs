#!/usr/bin/env node
// Closes `npm test`: no secret value the tests used may appear in any settings file, log or
// database written under the test homes, nor in any recorded Slack message the emulator kept.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(os.tmpdir(), 'hpc-relay-test-homes');
const fixture = fs.readFileSync(new URL('../test/fixtures/test-secrets.ts', import.meta.url), 'utf8');
const secrets = [...fixture.matchAll(/:\s*'([^']{12,})'/g)].map((m) => m[1]);
if (secrets.length < 4) {
  console.error('secret-scan: could not read the test secrets from test/fixtures/test-secrets.ts');
  process.exit(1);
}
let files = 0;
const leaks = [];
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile()) {
      files++;
      const text = fs.readFileSync(p).toString('latin1');
      for (const s of secrets) if (text.includes(s)) leaks.push(`${p} contains the test secret ${s.slice(0, 8)}…`);
    }
  }
}
if (fs.existsSync(root)) walk(root);
if (leaks.length) {
  console.error(`secret-scan: ${leaks.length} leak(s):\n${leaks.join('\n')}`);
  process.exit(1);
}
console.log(`secret-scan: ${files} files under ${root} hold none of the ${secrets.length} test secrets.`);
