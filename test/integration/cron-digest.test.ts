import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cronServiceFor } from '../../main/core/cron/cron-runtime.js';
import type { Core } from '../../main/core/index.js';
import { ManualClock } from '../fakes/manual-clock.js';
import { startSlackEmulator } from '../fakes/slack-emulator.js';
import { webClientPoster } from '../fakes/slack-web-poster.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';
import { testbedCore, testbedSettings } from '../helpers/testbed-core.js';

const tb = inject('testbed');

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { while (cleanups.length) await cleanups.pop()?.(); });

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function submitSleep(core: Core, name: string): Promise<string> {
  const r = await core.cluster().exec(['sbatch', '--parsable', '--job-name', name, '--time', '5', '--wrap', 'sleep 60']);
  expect(r.code, r.stderr).toBe(0);
  const jobId = r.stdout.trim().split(';')[0] ?? '';
  expect(jobId).toMatch(/^\d+$/);
  cleanups.push(async () => { await core.cluster().exec(['scancel', jobId]); });
  return jobId;
}

describe('cron monitors against the testbed', () => {
  it('delivers a digest of the real running job to the Slack emulator, on schedule', async () => {
    const emu = await startSlackEmulator();
    cleanups.push(() => emu.close());
    const core = testbedCore(tb, { settings: { 'slack.homeChannel': 'C0GENERAL01' } });
    cleanups.push(() => core.close());
    const jobId = await submitSleep(core, 'cron-digest-probe');
    const state = await waitFor(async () => {
      const out = (await core.cluster().run(['squeue', '--noheader', '--jobs', jobId, '--format=%T'])).trim();
      return out === 'RUNNING' ? out : undefined;
    }, 60_000, `job ${jobId} to start`);
    expect(state).toBe('RUNNING');

    const clock = new ManualClock(Date.now());
    const cron = cronServiceFor(core, { clock });
    cron.attach({ slack: webClientPoster(emu) });
    const m = await cron.create({ schedule: 'every 1m', kind: 'digest', to: 'slack', name: 'Testbed digest' });
    await cron.start();
    cleanups.push(() => cron.stop());
    const planned = m.nextRunAt ?? 0;
    expect(planned).toBeGreaterThan(clock.now());
    clock.advanceTo(planned + 2_000);
    await cron.idle();

    const run = (await cron.runs(m.id, 1))[0];
    expect(run, JSON.stringify(run)).toMatchObject({ outcome: 'ok', plannedAt: planned, deliveredTo: 'slack:C0GENERAL01', trigger: 'schedule' });
    const posted = emu.messages('C0GENERAL01');
    expect(posted).toHaveLength(1);
    const text = posted[0]?.text ?? '';
    expect(text.split('\n')[0]).toMatch(/^Testbed digest: \d+ running/);
    expect(text).toMatch(new RegExp(`\\n• ${jobId} cron-digest-probe: running \\d+ (s|min) on ${tb.defaultPartition}(\\n|$)`));
    expect(emu.callsTo('chat.postMessage')[0]?.token).toBe(emu.botToken);
  });

  it('lists a pending job with its place in the queue', async () => {
    const core = testbedCore(tb);
    cleanups.push(() => core.close());
    // Hold a job so it stays pending (priority 0), then read the digest through the real adapter.
    const jobId = await submitSleep(core, 'cron-held-probe');
    await core.cluster().run(['scontrol', 'hold', jobId]);
    const cron = cronServiceFor(core);
    const m = await cron.create({ schedule: 'every 1m', to: `file:${path.join(makeHome('cron-file'), 'out.log')}`, name: 'Held' });
    const run = await cron.runNow(m.id);
    expect(run).toMatchObject({ outcome: 'ok', trigger: 'manual' });
    const file = (run.deliveredTo ?? '').slice('file:'.length);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toMatch(new RegExp(`\\n• ${jobId} cron-held-probe: pending on ${tb.defaultPartition}, \\d+(st|nd|rd|th) in its queue\\n`));
  });

  it('hpc-relay daemon runs a monitor the CLI created, and the CLI sees the outcome', async () => {
    const home = makeHome('cron-daemon');
    for (const [k, v] of Object.entries(testbedSettings(tb))) {
      expect((await runCli(['config', 'set', k, typeof v === 'string' ? v : JSON.stringify(v)], { home })).code).toBe(0);
    }
    const out = path.join(home, 'digest.log');
    const created = await runCli(['cron', 'create', '--schedule', 'every 1m', '--to', `file:${out}`, '--name', 'Daemon digest', '--json'], { home });
    expect(created.code, created.stderr).toBe(0);
    const id = (JSON.parse(created.stdout) as { id: string }).id;
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'hpc-relay.js'), 'daemon'], { env: { ...process.env, HPC_RELAY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    cleanups.push(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } });
    await waitFor(() => (stderr.includes('"msg":"daemon started"') ? true : undefined), 30_000, 'the daemon');
    expect(stderr).toMatch(/"services":\["cluster-link",[^\]]*"cron"\]/);
    const text = await waitFor(() => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : undefined), 75_000, 'the first digest');
    expect(text).toMatch(new RegExp(`^--- \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d \\S+ · monitor ${id} \\(Daemon digest\\) ---\\nDaemon digest: `));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const listed = await runCli(['cron', 'list', '--json'], { home });
    expect((JSON.parse(listed.stdout) as Array<{ id: string; lastOutcome: string }>).find((x) => x.id === id)?.lastOutcome).toBe('ok');
  });
});
