import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_KEYS } from '../../main/core/config/keys.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';
import { TEST_SECRETS } from '../fixtures/test-secrets.js';
import { SAMPLES } from '../fixtures/setting-samples.js';

const cliText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

describe('hpc-relay CLI (spawned as a process)', () => {
  it('round-trips every settings key through config set/get, and the file is what the app reads', async () => {
    const home = makeHome('cli');
    for (const k of SETTING_KEYS) {
      const set = await runCli(['config', 'set', k, cliText(SAMPLES[k]!.good)], { home });
      expect(set.code, `${k}: ${set.stderr}`).toBe(0);
    }
    const all = await runCli(['config', 'get', '--json'], { home });
    expect(all.code).toBe(0);
    const parsed = JSON.parse(all.stdout) as Record<string, unknown>;
    for (const k of SETTING_KEYS) expect(parsed[k], k).toEqual(SAMPLES[k]!.good);
    const one = await runCli(['config', 'get', 'cluster.port'], { home });
    expect(one.stdout.trim()).toBe('2222');
    const file = JSON.parse(fs.readFileSync(path.join(home, 'config.json'), 'utf8'));
    expect(file.cluster.port).toBe(2222);
  }, 120_000);

  it('treats a value that is not JSON as text, and unset restores the default', async () => {
    const home = makeHome('cli');
    expect((await runCli(['config', 'set', 'cluster.host', 'login.hpc.example.edu'], { home })).code).toBe(0);
    expect((await runCli(['config', 'get', 'cluster.host'], { home })).stdout).toBe('login.hpc.example.edu\n');
    await runCli(['config', 'set', 'cluster.pollSeconds', '300'], { home });
    const unset = await runCli(['config', 'unset', 'cluster.pollSeconds'], { home });
    expect(unset.stdout).toBe('cluster.pollSeconds = 60 (default)\n');
  });

  it('exits 1 with one sentence (no stack) for a bad value or unknown key, and 2 for usage errors', async () => {
    const home = makeHome('cli');
    const bad = await runCli(['config', 'set', 'cluster.pollSeconds', '10'], { home });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^hpc-relay: cluster\.pollSeconds must be a whole number of seconds from 30 to 3600 \(got 10\)\./);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const unknown = await runCli(['config', 'get', 'cluster.hots'], { home });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"cluster.hots" is not a setting');
    const usage = await runCli(['config', 'set', 'cluster.host'], { home });
    expect(usage.code).toBe(2);
    expect((await runCli(['frobnicate'], { home })).code).toBe(2);
    const verbose = await runCli(['--verbose', 'config', 'set', 'cluster.pollSeconds', '10'], { home });
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });

  it('prints help for every command and exits 0', async () => {
    const home = makeHome('cli');
    for (const args of [['--help'], ['config', '--help'], ['config', 'set', '--help'], ['secrets', '--help'], ['doctor', '--help'], ['daemon', '--help'], ['exec', '--help']]) {
      const r = await runCli(args, { home });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: hpc-relay/);
    }
  });

  it('recovers from a corrupt settings file: moved aside, warned, defaults used', async () => {
    const home = makeHome('cli');
    fs.writeFileSync(path.join(home, 'config.json'), 'not json at all');
    const r = await runCli(['config', 'get'], { home });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/could not be read and was moved to/);
    expect(r.stdout).toMatch(/cluster\.pollSeconds\s+60/);
    expect(fs.readdirSync(home).some((f) => f.startsWith('config.json.corrupt-'))).toBe(true);
  });

  it('doctor --json has the documented shape and exits 1 while the cluster is not configured', async () => {
    const home = makeHome('cli');
    const r = await runCli(['doctor', '--json'], { home, env: { HPC_RELAY_SLACK_BOT_TOKEN: TEST_SECRETS.slackBot } });
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { id: string; ok: boolean; warning: boolean; message: string; fix: string | null }[] };
    expect(report.ok).toBe(false);
    for (const c of report.checks) {
      expect(Object.keys(c).sort()).toEqual(['fix', 'id', 'message', 'ok', 'warning']);
      expect(typeof c.warning).toBe('boolean');
      if (!c.ok) expect(c.fix).toBeTruthy();
    }
    const ssh = report.checks.find((c) => c.id === 'ssh.connect');
    expect(ssh).toMatchObject({ ok: false, message: 'No cluster is configured.' });
    expect(ssh?.fix).toContain('hpc-relay config set cluster.host');
  });

  it('takes secrets from the environment first and never prints their values', async () => {
    const home = makeHome('cli');
    const env = { HPC_RELAY_SLACK_BOT_TOKEN: TEST_SECRETS.slackBot, HPC_RELAY_ANTHROPIC_API_KEY: TEST_SECRETS.anthropic };
    const r = await runCli(['secrets', 'status', '--json'], { home, env });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as { name: string; source: string }[];
    expect(status.find((s) => s.name === 'slack-bot-token')?.source).toBe('env');
    expect(status.find((s) => s.name === 'anthropic-api-key')?.source).toBe('env');
    expect(status.find((s) => s.name === 'slack-app-token')?.source).not.toBe('env');
    expect(r.stdout + r.stderr).not.toContain(TEST_SECRETS.slackBot);
  });

  it('checks token formats on entry and refuses names it does not know', async () => {
    const home = makeHome('cli');
    const wrong = await runCli(['secrets', 'set', 'slack-bot-token'], { home, input: 'xapp-this-is-the-wrong-token\n' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('must start with "xoxb-"');
    expect(wrong.stderr).not.toContain('xapp-this-is-the-wrong-token');
    const empty = await runCli(['secrets', 'set', 'slack-app-token'], { home, input: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('is empty');
    const unknown = await runCli(['secrets', 'set', 'github-token'], { home, input: 'x' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('"github-token" is not a secret HPC Relay uses');
  });
});
