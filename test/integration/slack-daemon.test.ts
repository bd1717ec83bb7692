/**
 * `hpc-relay daemon` (the built CLI, a separate process) with Slack enabled against the Slack
 * emulator, tokens from the HPC_RELAY_SLACK_* environment: a DM is answered, SIGTERM stops it
 * cleanly, and no token reaches its log.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import type { SlackEmulator } from '../fakes/slack-emulator.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function configure(home: string, emu: SlackEmulator): Promise<void> {
  for (const [k, v] of [['slack.enabled', 'true'], ['slack.apiUrl', emu.apiUrl], ['slack.allowedUsers', JSON.stringify([emu.defaultUserId])]] as const) {
    const r = await runCli(['config', 'set', k, v], { home });
    expect(r.code, r.stderr).toBe(0);
  }
}

function daemon(home: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'hpc-relay.js'), 'daemon'], {
    env: { ...process.env, HPC_RELAY_HOME: home, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  cleanups.push(async () => { if (child.exitCode === null) child.kill('SIGKILL'); await exited; });
  return { child, exited, output: () => output };
}

describe('hpc-relay daemon with Slack', () => {
  it('answers a DM, stops on SIGTERM with exit 0 within seconds, and logs no token', async () => {
    const emu = await startSlackEmulator({ botToken: TEST_SECRETS.slackBot, appToken: TEST_SECRETS.slackApp });
    cleanups.push(() => emu.close());
    const home = makeHome('slack-daemon');
    await configure(home, emu);
    const d = daemon(home, { HPC_RELAY_SLACK_BOT_TOKEN: TEST_SECRETS.slackBot, HPC_RELAY_SLACK_APP_TOKEN: TEST_SECRETS.slackApp });
    await emu.waitForConnections(1, 30_000);
    await emu.waitFor(() => (d.output().includes('"msg":"daemon started"') ? true : undefined), 30_000, 'the daemon to start');
    expect(d.output()).toMatch(/"services":\[[^\]]*"slack-gateway"/);

    emu.sendDirectMessage({ text: 'ping' });
    const pong = await emu.waitForCall('chat.postMessage', (c) => c.params.text === 'pong', 15_000);
    expect(pong.token).toBe(TEST_SECRETS.slackBot);
    // `status` answers from the daemon's job service (its store is empty in a fresh home).
    emu.sendDirectMessage({ text: 'status' });
    await emu.waitForCall('chat.postMessage', (c) => c.params.text === 'No tracked jobs.', 15_000);

    const t0 = Date.now();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    await emu.waitFor(() => (emu.connectionCount === 0 ? true : undefined), 5000, 'the link to close');

    const logDir = path.join(home, 'logs');
    const logs = fs.readdirSync(logDir).map((f) => fs.readFileSync(path.join(logDir, f), 'utf8')).join('\n');
    expect(logs).toMatch(/"msg":"connected to Slack"/);
    expect(logs).toMatch(/"msg":"daemon stopped"/);
    for (const secret of [TEST_SECRETS.slackBot, TEST_SECRETS.slackApp]) {
      expect(logs).not.toContain(secret);
      expect(d.output()).not.toContain(secret);
    }
  });

  it('with a refused token: logs the fix, still runs, still exits 0', async () => {
    const emu = await startSlackEmulator({ botToken: TEST_SECRETS.slackBot, appToken: TEST_SECRETS.slackApp });
    cleanups.push(() => emu.close());
    const home = makeHome('slack-daemon');
    await configure(home, emu);
    const d = daemon(home, { HPC_RELAY_SLACK_BOT_TOKEN: 'xoxb-0000000000-revoked-Token', HPC_RELAY_SLACK_APP_TOKEN: TEST_SECRETS.slackApp });
    await emu.waitFor(() => (d.output().includes('"msg":"daemon started"') ? true : undefined), 30_000, 'the daemon to start');
    expect(d.output()).toMatch(/Slack refused the bot token \(invalid_auth\)/);
    expect(d.output()).toContain('hpc-relay secrets set slack-bot-token');
    expect(emu.totalConnections).toBe(0);
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(d.output()).not.toContain('xoxb-0000000000-revoked-Token');
  });
});
