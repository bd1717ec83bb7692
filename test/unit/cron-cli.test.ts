import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nextRunText } from '../../main/cli/cron-commands.js';
import { runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';

interface ListedMonitor {
  id: string;
  name: string;
  schedule: string;
  expression: string;
  timezone: string;
  kind: string;
  to: string;
  status: string;
  repeat: number | null;
  nextRunAt: string | null;
  lastOutcome: string | null;
  costPerRun: string | null;
}

async function list(home: string): Promise<ListedMonitor[]> {
  const r = await runCli(['cron', 'list', '--json'], { home });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ListedMonitor[];
}

describe('hpc-relay cron (spawned as a process)', () => {
  it('create, list --json, pause, resume, remove', async () => {
    const home = makeHome('cron-cli');
    const before = Date.now();
    const created = await runCli(['cron', 'create', '--schedule', 'every 5m', '--kind', 'digest', '--to', 'slack', '--name', 'GPU digest'], { home, env: { TZ: 'Asia/Bangkok' } });
    const createdBy = Date.now();
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^Created monitor 1 "GPU digest" \(digest\): every 5 minutes \(\*\/5 \* \* \* \*, Asia\/Bangkok\) → the Slack home channel\.\nNext run: \d{4}-\d\d-\d\d \d\d:\d[05] \(in \d+ (s|min)\)\./);
    // The next run it prints (Bangkok wall time, UTC+7 all year) is planned from the moment the monitor
    // was created, somewhere between `before` and `createdBy`: the first 5-minute boundary after it.
    const printed = Date.parse(`${(/Next run: (\S+) (\S+) /.exec(created.stdout) ?? []).slice(1).join('T')}:00+07:00`);
    expect(printed).toBeGreaterThan(before);
    expect(printed - createdBy).toBeLessThanOrEqual(5 * 60_000);
    expect(printed % (5 * 60_000)).toBe(0);

    const out = path.join(home, 'heartbeat.log');
    const second = await runCli(['cron', 'create', '--schedule', 'weekdays at 18:00', '--kind', 'heartbeat', '--to', `file:${out}`, '--tz', 'Europe/Berlin', '--repeat', '3', '--json'], { home });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: '2', kind: 'heartbeat', to: `file:${out}`, timezone: 'Europe/Berlin', expression: '0 18 * * 1,2,3,4,5', repeat: 3, status: 'active' });

    const prompt = await runCli(['cron', 'create', '--schedule', 'hourly', '--prompt', 'Check the CNN run and report val accuracy', '--to', 'dm:U012ABCDEF', '--repeat', '1'], { home });
    expect(prompt.code, prompt.stderr).toBe(0);
    expect(prompt.stdout).toMatch(/\(prompt\): every hour .*, once → a Slack DM to U012ABCDEF\./);
    expect(prompt.stdout).toMatch(/Estimated cost: ≈ \$0\.\d\d per run \(claude-sonnet-5-5: ~4 turns/);

    const listedFrom = Date.now();
    let all = await list(home);
    const listedBy = Date.now();
    expect(all.map((m) => [m.id, m.name, m.schedule, m.kind, m.to, m.status, m.lastOutcome])).toEqual([
      ['1', 'GPU digest', 'every 5m', 'digest', 'slack', 'active', null],
      ['2', 'Heartbeat', 'weekdays at 18:00', 'heartbeat', `file:${out}`, 'active', null],
      ['3', 'Check the CNN run and report val accura…', 'hourly', 'prompt', 'dm:U012ABCDEF', 'active', null],
    ]);
    // `cron list` plans an active monitor's next run from the moment it lists (not from its
    // creation, which was two spawned commands earlier: a 5-minute boundary may have passed since).
    // The list process read its clock between `listedFrom` and `listedBy` (a spawned CLI can take
    // seconds on a loaded machine), so the next run is the first 5-minute boundary after a moment
    // in that window: after `listedFrom`, and at most 5 minutes after `listedBy`.
    const next = Date.parse(all[0]?.nextRunAt ?? '');
    expect(next).toBeGreaterThan(listedFrom);
    expect(next - listedBy).toBeLessThanOrEqual(5 * 60_000);
    expect(next % (5 * 60_000)).toBe(0);
    expect(all[0]?.timezone).toBe('Asia/Bangkok');
    expect(all[2]?.costPerRun).toMatch(/per run/);

    const table = await runCli(['cron', 'list'], { home });
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+SCHEDULE\s+KIND\s+TO\s+STATUS\s+NEXT RUN\s+LAST OUTCOME$/);
    expect(table.stdout).toMatch(/\n1\s+GPU digest\s+every 5 minutes\s+digest\s+slack\s+active\s+\d{4}-/);

    const paused = await runCli(['cron', 'pause', '1'], { home });
    expect(paused.code, paused.stderr).toBe(0);
    expect(paused.stdout).toBe('Monitor 1 "GPU digest" is paused.\n');
    all = await list(home);
    expect(all[0]).toMatchObject({ status: 'paused', nextRunAt: null });

    const resumed = await runCli(['cron', 'resume', '1'], { home });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^Monitor 1 "GPU digest" is running again\. Next run: /);
    expect((await list(home))[0]?.status).toBe('active');

    const runs = await runCli(['cron', 'runs', '1', '--json'], { home });
    expect(runs.code).toBe(0);
    expect(JSON.parse(runs.stdout)).toEqual([]);

    const removed = await runCli(['cron', 'remove', '2'], { home });
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe('Monitor 2 removed.\n');
    expect((await list(home)).map((m) => m.id)).toEqual(['1', '3']);
    expect(fs.existsSync(path.join(home, 'hpc-relay.db'))).toBe(true);
  }, 120_000);

  it('a bad schedule exits 1 with the one sentence and examples; nothing is created', async () => {
    const home = makeHome('cron-cli');
    const r = await runCli(['cron', 'create', '--schedule', 'every fortnight', '--to', 'tray'], { home });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('hpc-relay: "every fortnight" is not a schedule HPC Relay understands. Try "every 5m", "every 2h", "hourly", "daily at 9am", "weekdays at 18:00", "mondays at 9", or a cron expression such as "*/5 * * * *".\n');
    const cron = await runCli(['cron', 'create', '--schedule', '61 * * * *'], { home });
    expect(cron.code).toBe(1);
    expect(cron.stderr).toMatch(/^hpc-relay: "61 \* \* \* \*" is not a valid schedule: 61 is an invalid expression for minute/);
    const target = await runCli(['cron', 'create', '--schedule', 'every 5m', '--to', 'email:ada'], { home });
    expect(target.code).toBe(1);
    expect(target.stderr).toMatch(/^hpc-relay: "email:ada" is not a delivery target/);
    const tz = await runCli(['cron', 'create', '--schedule', 'every 5m', '--tz', 'Moon/Base'], { home });
    expect(tz.code).toBe(1);
    expect(tz.stderr).toMatch(/"Moon\/Base" is not a time zone/);
    const missing = await runCli(['cron', 'pause', '42'], { home });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('hpc-relay: There is no monitor 42. `hpc-relay cron list` shows the IDs.\n');
    expect(await list(home)).toEqual([]);
  }, 120_000);

  it('usage mistakes exit 2', async () => {
    const home = makeHome('cron-cli');
    const cases: string[][] = [
      ['cron', 'create'],
      ['cron', 'create', '--schedule', 'every 5m', '--kind', 'poem'],
      ['cron', 'create', '--schedule', 'every 5m', '--kind', 'prompt'],
      ['cron', 'create', '--schedule', 'every 5m', '--kind', 'digest', '--prompt', 'hi'],
      ['cron', 'create', '--schedule', 'every 5m', '--repeat', 'twice'],
      ['cron', 'create', '--schedule', 'every 5m', '--grace', 'soon'],
      ['cron', 'pause'],
      ['cron', 'remove', '1', '2'],
      ['cron', 'frobnicate'],
    ];
    for (const args of cases) {
      const r = await runCli(args, { home });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    const repeat = await runCli(['cron', 'create', '--schedule', 'every 5m', '--repeat', '0'], { home });
    expect(repeat.stderr).toBe('hpc-relay: --repeat takes a whole number of runs, at least 1 (got "0").\n');
    expect(await list(home)).toEqual([]);
  }, 120_000);
});

describe('the next run as the CLI prints it (a fixed clock)', () => {
  const at = Date.parse('2026-03-02T09:05:00Z'); // 16:05 in Bangkok
  const text = (msBefore: number) => nextRunText(at, 'Asia/Bangkok', at - msBefore);

  it('counts down to the planned time, rounding to the unit it names', () => {
    expect(text(5 * 60_000)).toBe('2026-03-02 16:05 (in 5 min)');
    expect(text(59_400)).toBe('2026-03-02 16:05 (in 59 s)');
    expect(text(59_600)).toBe('2026-03-02 16:05 (in 1 min)');
    expect(text(59 * 60_000 + 40_000)).toBe('2026-03-02 16:05 (in 1 h)');
    expect(text(60 * 60_000)).toBe('2026-03-02 16:05 (in 1 h)');
    expect(nextRunText(null, 'Asia/Bangkok', at)).toBe('-');
  });

  it('a run that fell due between reading the monitor and printing it is "in 0 s", never "ago"', () => {
    expect(text(0)).toBe('2026-03-02 16:05 (in 0 s)');
    expect(text(-3)).toBe('2026-03-02 16:05 (in 0 s)');
  });
});
