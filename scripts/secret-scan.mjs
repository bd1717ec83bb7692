#!/usr/bin/env node
// Closes `npm test`: no secret value the tests used may appear in any settings file, log or
// database written under the test homes, nor in anything the relay sent to the emulators: every
// Slack message (Web API call, response_url post, ack payload, upload) and every Anthropic request
// body they recorded, one JSON line each, under <root>/slack-emulator/ and <root>/anthropic-emulator/
// (test/helpers/hostile-recordings.ts writes them).
//
// HPC_RELAY_TEST_HOMES  the root to scan (default $TMPDIR/hpc-relay-test-homes); the scan's own
//                       test points it at a temporary root holding a planted secret.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = process.env.HPC_RELAY_TEST_HOMES || path.join(os.tmpdir(), 'hpc-relay-test-homes');
const fixture = fs.readFileSync(new URL('../test/fixtures/test-secrets.ts', import.meta.url), 'utf8');
const secrets = [...fixture.matchAll(/:\s*'([^']{12,})'/g)].map((m) => m[1]);
if (secrets.length < 4) {
  console.error('secret-scan: could not read the test secrets from test/fixtures/test-secrets.ts');
  process.exit(1);
}
const RECORDINGS = { 'slack-emulator': 'Slack message', 'anthropic-emulator': 'Anthropic request body' };
let files = 0;
const recorded = { 'slack-emulator': 0, 'anthropic-emulator': 0 };
const leaks = [];

/** Every string inside a JSON value (keys too), so an escaped form cannot hide a secret. */
function strings(value, out) {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { out.push(k); strings(v, out); }
  return out;
}

function check(text, where) {
  for (const s of secrets) if (text.includes(s)) leaks.push(`${where} contains the test secret ${s.slice(0, 8)}…`);
}

/** A recording: each line is one message; the raw line and its decoded strings are both checked. */
function scanRecording(p, kind) {
  const lines = fs.readFileSync(p, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    recorded[kind]++;
    const where = `${p}:${i + 1} (${RECORDINGS[kind]})`;
    check(line, where);
    try {
      const decoded = strings(JSON.parse(line), []);
      // A nested JSON text (an Anthropic body) is decoded once more.
      for (const s of decoded) {
        check(s, where);
        if (/^\s*[[{]/.test(s)) {
          try { for (const t of strings(JSON.parse(s), [])) check(t, where); } catch { /* not JSON */ }
        }
      }
    } catch {
      // A line cut short (a process killed mid-write) was still checked raw above.
    }
  });
}

function walk(dir, kind) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, dir === root && e.name in RECORDINGS ? e.name : kind);
    else if (e.isFile()) {
      files++;
      check(fs.readFileSync(p).toString('latin1'), p);
      if (kind && p.endsWith('.jsonl')) scanRecording(p, kind);
    }
  }
}
if (fs.existsSync(root)) walk(root, null);
if (leaks.length) {
  console.error(`secret-scan: ${leaks.length} leak(s):\n${[...new Set(leaks)].join('\n')}`);
  process.exit(1);
}
console.log(`secret-scan: ${files} files under ${root} (${recorded['slack-emulator']} recorded Slack messages, ${recorded['anthropic-emulator']} Anthropic request bodies) hold none of the ${secrets.length} test secrets.`);
