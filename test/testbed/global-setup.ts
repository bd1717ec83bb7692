// Vitest globalSetup for the `integration` and `bench` projects: make sure the real single-node
// SLURM + sshd testbed is up (test/testbed/up.sh, idempotent and quick when already up), then hand
// its connection facts to the tests: `inject('testbed')` from 'vitest'.
//
// HPC_RELAY_TESTBED=external  skip up.sh; just read testbed.json (someone already brought it up).
// HPC_RELAY_TESTBED_DIR       state dir (default /var/tmp/hpc-relay-testbed), also read by up.sh.
//
// The testbed is left running afterwards: other suites and engineers share it.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { parseTestbedInfo, testbedDir } from './testbed-info.js';
import type { TestbedInfo } from './testbed-info.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UP_SCRIPT = path.join(HERE, 'up.sh');
/** up.sh may wait up to 5 min for a concurrent up.sh (flock), then needs ~15 s cold. */
const UP_TIMEOUT_MS = 7 * 60_000;
const TAIL_LINES = 60;

function fixHint(): string {
  if (process.env['CI'] === 'true') {
    return 'CI must provide the testbed: apt-get install -y --no-install-recommends $(cat test/testbed/packages.txt), then this suite runs up.sh as root.';
  }
  return 'Bring it up with:  sudo bash test/testbed/up.sh  (packages: test/testbed/packages.txt), then re-run the tests.';
}

/** Run up.sh, streaming its output to our stderr; resolves on exit 0, rejects with the output tail. */
function runUp(): Promise<void> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const keep = (chunk: Buffer): void => {
      process.stderr.write(chunk);
      tail.push(...chunk.toString('utf8').split('\n'));
      if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
    };
    const child = spawn('bash', [UP_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`test/testbed/up.sh timed out after ${UP_TIMEOUT_MS / 1000}s.\n${tail.join('\n')}\n${fixHint()}`));
    }, UP_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not run test/testbed/up.sh: ${err.message}\n${fixHint()}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve();
        return;
      }
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      reject(new Error(`test/testbed/up.sh ${how}:\n${tail.join('\n').trimEnd()}\n\n${fixHint()}`));
    });
  });
}

async function readInfo(): Promise<TestbedInfo> {
  const file = path.join(testbedDir(), 'testbed.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`testbed: cannot read ${file} (${why}).\n${fixHint()}`, { cause: err });
  }
  return parseTestbedInfo(JSON.parse(text) as unknown, file);
}

export default async function setup(project: TestProject): Promise<void> {
  if (process.env['HPC_RELAY_TESTBED'] === 'external') {
    process.stderr.write('[testbed] HPC_RELAY_TESTBED=external: not running up.sh, reading testbed.json\n');
  } else {
    // Never skip silently: a testbed that will not come up fails the whole integration run.
    await runUp();
  }
  const info = await readInfo();
  project.provide('testbed', info);
}
