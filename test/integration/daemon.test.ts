import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';
import { testbedSettings } from '../helpers/testbed-core.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';

const tb = inject('testbed');

function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (check()) { clearInterval(t); resolve(); } else if (Date.now() - started > timeoutMs) { clearInterval(t); reject(new Error(`timed out waiting for ${what}`)); }
    }, 100);
  });
}

describe('hpc-relay daemon', () => {
  it('keeps the SSH session up, stops cleanly on SIGTERM with exit 0, and logs no secret', async () => {
    const home = makeHome('daemon');
    for (const [k, v] of Object.entries(testbedSettings(tb))) {
      expect((await runCli(['config', 'set', k, typeof v === 'string' ? v : JSON.stringify(v)], { home })).code).toBe(0);
    }
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'hpc-relay.js'), 'daemon'], {
      env: { ...process.env, HPC_RELAY_HOME: home, HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => /"state":"connected","msg":"ssh state"/.test(stderr), 30_000, 'the SSH session');
    expect(stderr).toMatch(/"msg":"daemon started"/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/"signal":"SIGTERM","msg":"signal received, stopping"/);
    expect(stderr).toMatch(/"msg":"daemon stopped"/);
    const log = fs.readFileSync(path.join(home, 'logs', 'hpc-relay.log'), 'utf8');
    expect(log).toMatch(/"msg":"daemon stopped"/);
    expect(log + stderr).not.toContain(TEST_SECRETS.anthropic);
  });

  it('exits 0 on SIGINT even with no cluster configured, saying what it runs', async () => {
    const home = makeHome('daemon');
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'hpc-relay.js'), 'daemon'], { env: { ...process.env, HPC_RELAY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitFor(() => stderr.includes('"msg":"daemon started"'), 20_000, 'the daemon');
    expect(stderr).toMatch(/"services":\[\]/);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
