/**
 * The job commands as a user runs them (spawned `hpc-relay`, built by `npm run build:cli`), and
 * exactly-once notification across a SIGKILL: the tray app is played by a child process
 * (test/fixtures/slurm/relay-child.mjs) that is killed mid-job and started again.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../main/core/store/database.js';
import { OutboxStore } from '../../main/core/store/outbox-store.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { makeHome } from '../helpers/temp-home.js';
import { testbedCore } from '../helpers/testbed-core.js';
import { until } from '../helpers/wait.js';

const tb = inject('testbed');
const RUN = `${process.pid}-${Date.now()}`;
const SCRIPTS = path.join(import.meta.dirname, '..', 'fixtures', 'slurm', 'scripts');
const CHILD = path.join(import.meta.dirname, '..', 'fixtures', 'slurm', 'relay-child.mjs');
const children: ChildProcessWithoutNullStreams[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  const core = testbedCore(tb);
  await core.cluster().exec(['sh', '-c', 'rm -rf -- "$HOME/hpc-relay-it/$1"-*', 'sh', RUN]).finally(() => core.close());
});

/** A settings home aimed at the testbed, with its own remote directory. */
async function home(label: string): Promise<string> {
  const h = makeHome(`jobs-${label}`);
  const core = testbedCore(tb, { home: h, settings: { 'cluster.remoteDir': `$HOME/hpc-relay-it/${RUN}-${label}`, 'cluster.pollSeconds': 30 } });
  await core.close();
  return h;
}


interface Listed { jobId: string; name: string; state: string; exitCode: string | null; adopted: boolean; final: boolean }

async function jobsJson(h: string): Promise<Listed[]> {
  const r = await runCli(['jobs', '--json'], { home: h });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Listed[];
}

function spawnWith(args: string[], env: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams & { out: () => string } {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', () => undefined);
  return Object.assign(child, { out: () => out });
}

function exited(c: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((resolve) => c.once('exit', (code) => resolve(code)));
}

describe.concurrent('hpc-relay job commands on the real testbed', () => {
  it('submit --json, jobs --json (reconciled without a daemon), tail, resubmit, cancel, and one-sentence errors', async () => {
    const h = await home('cli');
    const sub = await runCli(['submit', path.join(SCRIPTS, 'ok.sh'), '--param', 'lr=0.1', '--json', '--', 'two words'], { home: h });
    expect(sub.code, sub.stderr).toBe(0);
    const { jobId } = JSON.parse(sub.stdout) as { jobId: string };
    expect(jobId).toMatch(/^\d+$/);
    const done = await until('the job to complete', async () => (await jobsJson(h)).find((j) => j.jobId === jobId && j.final), 150_000, 2_000);
    expect(done).toMatchObject({ jobId, name: 'relay-ok', state: 'COMPLETED', exitCode: '0:0', adopted: false });
    const tail = await runCli(['tail', jobId, '-n', '4'], { home: h });
    expect(tail).toMatchObject({ code: 0, stdout: 'arg:--lr=0.1\narg:two words\nepoch=1 loss=0.5 acc=0.75\ndone\n' });

    const re = await runCli(['resubmit', jobId, '--mem', '96M', '--time', '00:03:00', '--json'], { home: h });
    expect(re.code, re.stderr).toBe(0);
    const again = (JSON.parse(re.stdout) as { jobId: string }).jobId;
    expect(again).not.toBe(jobId);
    const cancel = await runCli(['cancel', again], { home: h });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^Cancelled job ${again}`));
    const listed = await jobsJson(h);
    expect(listed.find((j) => j.jobId === again)?.state).toMatch(/^(CANCELLED|COMPLETED)$/);

    const unknown = await runCli(['tail', '99999999'], { home: h });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^hpc-relay: HPC Relay does not know job 99999999\. Run `hpc-relay jobs`.*\n$/);
    const missing = await runCli(['submit', './no-such-script.sh'], { home: h });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/There is no file \.\/no-such-script\.sh\. Give the path/);
    expect((await runCli(['submit', path.join(SCRIPTS, 'ok.sh'), '--param', 'no equals sign'], { home: h })).code).toBe(2);
    expect((await runCli(['tail', jobId, '-n', 'lots'], { home: h })).code).toBe(2);
  }, 200_000);

  it('tail shows a job\'s terminal escapes and invisible characters defused, and --raw prints them as written', async () => {
    const h = await home('cli');
    const sub = await runCli(['submit', path.join(SCRIPTS, 'escapes.sh'), '--json'], { home: h });
    expect(sub.code, sub.stderr).toBe(0);
    const { jobId } = JSON.parse(sub.stdout) as { jobId: string };
    await until('the job to complete', async () => (await jobsJson(h)).find((j) => j.jobId === jobId && j.final), 150_000, 2_000);
    const tail = await runCli(['tail', jobId, '-n', '3'], { home: h });
    expect(tail).toMatchObject({ code: 0, stdout: 'red text\nepoch 3/3\nzero\\u200bwidth\n' });
    const raw = await runCli(['tail', jobId, '-n', '3', '--raw'], { home: h });
    expect(raw).toMatchObject({ code: 0, stdout: '\u001b]0;pwned\u0007\u001b[31mred\u001b[0m text\nepoch 1/3\repoch 2/3\repoch 3/3\nzero\u200bwidth\n' });
  }, 200_000);

  it('watch prints state changes as they happen (the end through the events file) and ends on SIGINT', async () => {
    const h = await home('watch');
    const watch = spawnWith([path.join(REPO_ROOT, 'bin', 'hpc-relay.js'), 'watch', '--json'], { HPC_RELAY_HOME: h });
    // The first tick runs at start; wait for it so the watcher's stream is open too.
    await new Promise((r) => setTimeout(r, 3_000));
    const sub = await runCli(['submit', path.join(SCRIPTS, 'exit3.sh'), '--json'], { home: h });
    expect(sub.code, sub.stderr).toBe(0);
    const { jobId } = JSON.parse(sub.stdout) as { jobId: string };
    const line = await until('watch to print the end', () => watch.out().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { jobId: string; to: string; source: string }).find((e) => e.jobId === jobId && e.to === 'FAILED'), 150_000, 250);
    expect(line).toMatchObject({ jobId, to: 'FAILED', source: 'events' });
    expect(watch.out()).toContain(`"jobId":"${jobId}","name":"relay-exit3","from":null,"to":"PENDING","source":"submit"`);
    watch.kill('SIGINT');
    expect(await exited(watch)).toBe(0);
  }, 200_000);

  it('watch JOB follows one job to its end and exits with its outcome: a terminal run with its best val_acc (0), a failed one (1)', async () => {
    const h = await home('watch-one');
    const dir = `hpc-relay-it/${RUN}-watch-one`;
    const sb = await runCli(['exec', '--', 'sh', '-c', 'mkdir -p "$1" && sbatch --parsable --job-name=relay-watch-outside --mem=32M --time=2 --output="$1/out-%j.txt" --wrap="$2"', 'sh', dir,
      'for e in 1 2 3; do echo "epoch=$e val_acc=0.8$e"; sleep 1; done'], { home: h });
    expect(sb.code, sb.stderr).toBe(0);
    const outside = sb.stdout.trim();
    const w = await runCli(['watch', outside], { home: h, timeoutMs: 120_000 });
    expect(w.code, w.stderr).toBe(0);
    // (SLURM's elapsed time of three 1 s sleeps is 3 s, or more on a loaded machine.)
    expect(w.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^Job ${outside} \\(relay-watch-outside\\) COMPLETED: after 00:00:\\d\\d, exit 0:0, best val_acc 0\\.83\\.$`));

    const sub = await runCli(['submit', path.join(SCRIPTS, 'exit3.sh'), '--json'], { home: h });
    expect(sub.code, sub.stderr).toBe(0);
    const { jobId } = JSON.parse(sub.stdout) as { jobId: string };
    const f = await runCli(['watch', jobId, '--json'], { home: h, timeoutMs: 120_000 });
    expect(f.code, f.stderr).toBe(1);
    expect(JSON.parse(f.stdout.trim().split('\n').at(-1) ?? '{}')).toMatchObject({ jobId, ended: true, ok: false, summary: expect.stringMatching(new RegExp(`^Job ${jobId} \\(relay-exit3\\) FAILED: .*exit 3:0\\.$`)) });
    expect((await runCli(['watch', '99999999'], { home: h })).code).toBe(1);
  }, 200_000);

  it('kill -9 of the app mid-job, restart: exactly one notification for the job', async () => {
    const h = await home('crash');
    const notes = path.join(h, 'notifications.jsonl');
    const start = async () => {
      const c = spawnWith([CHILD, h, notes], {});
      await until('the child to start', () => c.out().includes('started'), 30_000, 100);
      return c;
    };
    const mine = () => (fs.existsSync(notes) ? fs.readFileSync(notes, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; pid: number }) : []);

    const first = await start();
    const sub = await runCli(['submit', path.join(SCRIPTS, 'sleep.sh'), '--time', '00:03:00', '--json', '--', '6'], { home: h });
    expect(sub.code, sub.stderr).toBe(0);
    const { jobId } = JSON.parse(sub.stdout) as { jobId: string };
    await new Promise((r) => setTimeout(r, 2_000));
    first.kill('SIGKILL');
    await exited(first);

    // The job ends while no app runs; `hpc-relay jobs` reconciles it (one outbox row, not delivered: the CLI has no tray).
    const probe = testbedCore(tb);
    await until('the job to end on the cluster', async () => /COMPLETED/.test((await probe.cluster().exec(['sacct', '-X', '-n', '-P', '-o', 'State', '-j', jobId])).stdout), 150_000, 2_000);
    await probe.close();
    expect((await jobsJson(h)).find((j) => j.jobId === jobId)).toMatchObject({ state: 'COMPLETED', final: true });
    expect(mine()).toEqual([]);

    // Restarted: it delivers the row it finds; killed again right after, and started a third time.
    const second = await start();
    await until('the notification', () => mine().length > 0, 30_000, 100);
    second.kill('SIGKILL');
    await exited(second);
    const third = await start();
    await new Promise((r) => setTimeout(r, 4_000));
    third.kill('SIGTERM');
    expect(await exited(third)).toBe(0);

    const forJob = mine().filter((n) => n.id.startsWith(`hpc-relay:job:${jobId}:`));
    expect(forJob.map((n) => n.id)).toEqual([`hpc-relay:job:${jobId}:COMPLETED:tray`]);
    expect(forJob[0]?.pid).toBe(second.pid);
    const db = openDatabase(path.join(h, 'hpc-relay.db'));
    expect(new OutboxStore(db).forJob(jobId).map((r) => [r.channel, r.attempts, r.deliveredAt !== null])).toEqual([['tray', 1, true]]);
    db.close();
  }, 240_000);
});
