#!/usr/bin/env node
// Opens `npm test`: the secret scan at its end reads only what this run wrote.
// A test that mounts a small tmpfs under the root (the full-disk test) may have left it mounted if
// it was killed: detach such mounts first, and never fail the run over leftovers (the scan then
// reads them too, which is only stricter).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.join(os.tmpdir(), 'hpc-relay-test-homes');

function mountsUnder(dir) {
  try {
    return fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
  } catch {
    return [];
  }
}

for (const m of mountsUnder(root)) {
  try {
    execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  } catch {
    // not ours to detach, or already gone
  }
}
try {
  fs.rmSync(root, { recursive: true, force: true });
} catch (e) {
  console.warn(`clean-test-homes: could not remove every leftover under ${root} (${e.code ?? e.message}); the secret scan reads them too.`);
}
