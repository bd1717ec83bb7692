/**
 * The job service against the real testbed SLURM (2 CPUs): every test submits its own jobs and
 * they all run at once (it.concurrent), so the file takes about as long as its slowest job
 * (the TIMEOUT one, ~90 s). Each core gets its own remote directory and store, so the events
 * file, adoption and notifications of one test never mix with another's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import { createJobService, type JobService } from '../../main/core/jobs/index.js';
import { JobsRuntime } from '../../main/core/jobs/jobs-runtime.js';
import { systemClock, type Notification } from '../../main/core/ports.js';
import type { FinalizeResult } from '../../main/core/store/job-store.js';
import { makeHome } from '../helpers/temp-home.js';
import { testbedCore } from '../helpers/testbed-core.js';
import { CountingCluster } from '../helpers/counting-cluster.js';
import { until } from '../helpers/wait.js';
import { SCONTROL_JOBS_SCRIPT } from '../../main/core/slurm/scontrol-parser.js';
import { READ_RANGES_SCRIPT } from '../../main/core/jobs/remote-files.js';

const tb = inject('testbed');
const RUN = `${process.pid}-${Date.now()}`;
const SCRIPTS = path.join(import.meta.dirname, '..', 'fixtures', 'slurm', 'scripts');
const script = (name: string) => ({ name, content: fs.readFileSync(path.join(SCRIPTS, name)) });

interface App {
  core: Core;
  jobs: JobService;
  rt: JobsRuntime;
  notes: Notification[];
}

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  const core = testbedCore(tb);
  await core.cluster().exec(['sh', '-c', 'rm -rf -- "$HOME/hpc-relay-it/$1"-*', 'sh', RUN]).finally(() => core.close());
});

/** A core with the job runtime running (events stream, dispatcher with a recording tray); no poll tick (tests tick themselves). */
async function app(label: string, settings: Record<string, unknown> = {}): Promise<App> {
  const core = testbedCore(tb, { settings: { 'cluster.remoteDir': `$HOME/hpc-relay-it/${RUN}-${label}`, ...settings } });
  const notes: Notification[] = [];
  const jobs = core.jobs();
  const rt = new JobsRuntime({
    jobs, session: () => core.cluster().ssh, channels: { tray: { notify: async (n) => { notes.push(n); } } }, settings: () => core.settings.settings(), clock: systemClock,
    logger: core.logger, pollMs: 3_600_000,
  });
  await rt.start();
  await rt.watcher.ready;
  cleanup.push(async () => { await rt.stop(); await core.close(); });
  return { core, jobs, rt, notes };
}

/**
 * Resolves when the job is final in this core's store (whoever noticed it). With `tickMs`, the
 * test plays the poll timer: ends that never run the trap (a SIGKILL) are found by the tick.
 */
function final(jobs: JobService, key: string, timeoutMs: number, tick?: { rt: JobsRuntime; everyMs: number }): Promise<FinalizeResult | null> {
  return new Promise((resolve, reject) => {
    if (jobs.store.get(key)?.final) return resolve(null);
    const ticker = tick ? setInterval(() => { void tick.rt.tickNow(); }, tick.everyMs) : undefined;
    const done = () => { clearTimeout(timer); clearInterval(ticker); jobs.tracker.off('final', on); };
    const timer = setTimeout(() => { done(); reject(new Error(`job ${key} did not end within ${timeoutMs / 1000} s (state ${jobs.store.get(key)?.state})`)); }, timeoutMs);
    const on = (r: FinalizeResult) => {
      if (r.job.jobKey !== key) return;
      done();
      resolve(r);
    };
    jobs.tracker.on('final', on);
  });
}



describe.concurrent('jobs on the real testbed', () => {
  it('a job that completes is noticed through the events file within seconds, not at the poll tick', async () => {
    const a = await app('complete');
    const sub = await a.jobs.submitScript({ ...script('ok.sh'), scriptArgs: ['a b', '--lr=0.1'] });
    expect(sub.jobIds).toEqual([sub.jobId]);
    const r = await final(a.jobs, sub.jobId, 150_000);
    const job = a.jobs.store.get(sub.jobId)!;
    expect(job).toMatchObject({ state: 'COMPLETED', exitCode: 0, signal: 0, name: 'relay-ok', adopted: false, reqMemBytes: 64 * 2 ** 20, timeLimitSec: 300 });
    const end = a.jobs.store.transitions(sub.jobId).at(-1)!;
    expect(end).toMatchObject({ from: expect.any(String), to: 'COMPLETED', source: 'events' });
    const trap = a.jobs.store.events(sub.jobId).find((e) => e.kind === 'exit-trap')!;
    expect(trap.detail).toMatchObject({ exitCode: 0 });
    // From the line the job's wrapper wrote to the final state: seconds, against a 30 s+ poll.
    expect(end.at - (trap.detail.epoch as number) * 1000).toBeLessThan(10_000);
    expect(r?.transition.source ?? end.source).toBe('events');
    await until('the tray notification', () => a.notes.length > 0, 10_000, 100);
    expect(a.notes).toEqual([expect.objectContaining({ id: `hpc-relay:job:${sub.jobId}:COMPLETED:tray`, title: `✓ relay-ok (${sub.jobId}) COMPLETED` })]);
    const tail = await a.jobs.tail(sub.jobId, 3);
    expect(tail.lines).toEqual(['arg:--lr=0.1', 'epoch=1 loss=0.5 acc=0.75', 'done']);
  });

  it('exit 3 ends FAILED with exit code 3, through the events file, and stderr can be tailed', async () => {
    const a = await app('exit3');
    const sub = await a.jobs.submitScript(script('exit3.sh'));
    await final(a.jobs, sub.jobId, 150_000);
    expect(a.jobs.store.get(sub.jobId)).toMatchObject({ state: 'FAILED', exitCode: 3, signal: 0, failureClass: 'failed' });
    expect(a.jobs.store.transitions(sub.jobId).at(-1)?.source).toBe('events');
    expect(a.jobs.store.events(sub.jobId).find((e) => e.kind === 'exit-trap')?.detail).toMatchObject({ exitCode: 3 });
    expect((await a.jobs.tail(sub.jobId, 5, 'stderr')).lines).toEqual(['about to fail']);
    expect(await a.jobs.stats(sub.jobId)).toMatchObject({ state: 'FAILED', exitCode: '3:0' });
  });

  it('--time=1 ends TIMEOUT (about 75-90 s), classified timeout; in notify mode nothing is resubmitted', async () => {
    const a = await app('timeout');
    const sub = await a.jobs.submitScript({ ...script('sleep.sh'), sbatchArgs: ['--time=1'], scriptArgs: ['300'] });
    const r = await final(a.jobs, sub.jobId, 230_000, { rt: a.rt, everyMs: 30_000 });
    expect(a.jobs.store.get(sub.jobId)).toMatchObject({ state: 'TIMEOUT', failureClass: 'timeout', timeLimitSec: 60 });
    // SLURM's SIGTERM at the limit reaches the wrapper, whose fork-free trap still reports.
    expect(a.jobs.store.events(sub.jobId).find((e) => e.kind === 'exit-trap')?.detail).toMatchObject({ exitCode: 143 });
    const decision = r?.decision;
    expect(decision).toMatchObject({ action: 'notify' });
    expect(decision?.reason).toMatch(/triage\.mode is notify.*--time=00:02:00/);
    expect(a.jobs.store.pendingTriageActions()).toEqual([]);
  }, 240_000);

  it('cancel: a held job is cancelled with scancel and shows CANCELLED by the user at once', async () => {
    const a = await app('cancel');
    const sub = await a.jobs.submitScript({ ...script('sleep.sh'), sbatchArgs: ['--hold'], scriptArgs: ['60'] });
    await a.jobs.cancel(sub.jobId);
    expect(a.jobs.store.get(sub.jobId)).toMatchObject({ state: 'CANCELLED', final: true, cancelledBy: 1001, failureClass: 'cancelled' });
    expect(a.jobs.store.transitions(sub.jobId).at(-1)?.source).toBe('cancel');
    await expect(a.jobs.cancel(sub.jobId)).rejects.toThrow(/already ended \(CANCELLED\)/);
  });

  it('a job submitted with plain sbatch outside the app is adopted from squeue and its end is notified', async () => {
    const a = await app('adopt');
    const out = await a.core.cluster().exec(['sbatch', '--parsable', '--job-name=relay-outside', '--mem=32M', '--time=2', '--output=/dev/null', '--wrap=sleep 4']);
    expect(out.code, out.stderr).toBe(0);
    const id = out.stdout.trim();
    const t = await a.jobs.refresh();
    expect(t.adopted).toContain(id);
    expect(a.jobs.store.get(id)).toMatchObject({ adopted: true, name: 'relay-outside', submissionId: null });
    // Outside jobs have no trap: the tick (called directly here) notices the end.
    await until('the adopted job to end', async () => { await a.rt.tickNow(); return a.jobs.store.get(id)?.final; }, 150_000, 2_000);
    expect(a.jobs.store.get(id)).toMatchObject({ state: 'COMPLETED' });
    await until('its notification', () => a.notes.some((n) => n.id === `hpc-relay:job:${id}:COMPLETED:tray`), 10_000, 100);
    await a.rt.tickNow();
    expect(a.notes.filter((n) => n.id.startsWith(`hpc-relay:job:${id}:`))).toHaveLength(1);
  });

  it('a job submitted with plain sbatch can be tailed: its output file comes from the scheduler and is kept with the job', async () => {
    const a = await app('outside-tail');
    const dir = `hpc-relay-it/${RUN}-outside-tail`;
    expect((await a.core.cluster().exec(['mkdir', '-p', dir])).code).toBe(0);
    const out = await a.core.cluster().exec(['sbatch', '--parsable', '--job-name=relay-outside-tail', '--mem=32M', '--time=2', `--output=${dir}/out-%j.txt`, '--wrap=echo hello-from-outside; echo "second line"; sleep 2']);
    expect(out.code, out.stderr).toBe(0);
    const id = out.stdout.trim();
    expect((await a.jobs.refresh()).adopted).toContain(id);
    await until('the job to end', async () => { await a.rt.tickNow(); return a.jobs.store.get(id)?.final; }, 150_000, 2_000);
    // Asked of the scheduler while it ran (or at the look that saw its end), before anyone tailed it.
    expect(a.jobs.store.events(id).filter((e) => e.kind === 'output-paths').map((e) => e.detail['stdout'])).toEqual([expect.stringMatching(new RegExp(`/${dir}/out-${id}\\.txt$`))]);
    const t = await a.jobs.tail(id, 5);
    expect(t.path).toMatch(new RegExp(`/${dir}/out-${id}\\.txt$`));
    expect(t.lines).toEqual(['hello-from-outside', 'second line']);
    // Kept: read again from the record, without asking the scheduler.
    expect(a.jobs.store.events(id).filter((e) => e.kind === 'output-paths').map((e) => e.detail['stdout'])).toEqual([t.path]);
    await expect(a.jobs.readOutput(id, 0)).resolves.toMatchObject({ text: 'hello-from-outside\nsecond line\n' });
    expect(a.jobs.store.events(id).filter((e) => e.kind === 'output-paths')).toHaveLength(1);
  });

  it('an array submitted with plain sbatch (one task at a time) is adopted whole and told once when its last task ends, its tasks ranked by the val_acc their logs print', async () => {
    const a = await app('adopt-array');
    const dir = `hpc-relay-it/${RUN}-adopt-array`;
    expect((await a.core.cluster().exec(['mkdir', '-p', dir])).code).toBe(0);
    const out = await a.core.cluster().exec(['sbatch', '--parsable', '--job-name=relay-outside-array', '--array=0-2%1', '--mem=32M', '--time=2', `--output=${dir}/task-%A_%a.out`,
      '--wrap=echo "epoch=1 val_acc=0.1$SLURM_ARRAY_TASK_ID"; sleep 1; echo "epoch=2 val_acc=0.5$SLURM_ARRAY_TASK_ID"; sleep 1']);
    expect(out.code, out.stderr).toBe(0);
    const base = out.stdout.trim();
    const keys = [0, 1, 2].map((t) => `${base}_${t}`);
    // `squeue --array` lists the throttled tasks one by one: the whole array is known at once.
    const t = await a.jobs.refresh();
    expect(keys.filter((k) => t.adopted.includes(k) || a.jobs.store.get(k)?.final)).toEqual(keys);
    await until('the array to end', async () => { await a.rt.tickNow(); return keys.every((k) => a.jobs.store.get(k)?.final); }, 150_000, 2_000);
    expect(keys.map((k) => a.jobs.store.get(k)?.state)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    const mine = () => a.notes.filter((n) => keys.some((k) => n.id.startsWith(`hpc-relay:job:${k}:`)));
    await until('its notification', () => mine().length > 0, 10_000, 100);
    await a.rt.tickNow();
    // One notification, filed under the task first recorded.
    expect(mine().map((n) => n.id)).toEqual([expect.stringMatching(new RegExp(`^hpc-relay:job:${base}_[0-2]:SWEEP_FINISHED:tray$`))]);
    expect(mine()[0]?.title).toMatch(new RegExp(`^✓ array relay-outside-array \\(${base}\\) finished: 3 tasks`));
    // Each task's log, where the scheduler said it goes, was read at the array's end.
    expect(mine()[0]?.body).toMatch(/^Best: task 2 val_acc 0\.52\. Next: task 1 0\.51, task 0 0\.5\b/);
    expect(keys.map((k) => a.jobs.metrics.series(k).map((p) => p.value))).toEqual([[0.10, 0.50], [0.11, 0.51], [0.12, 0.52]]);
  });

  it('an array of 20 tasks is tracked with exactly one squeue and one sacct per tick', async () => {
    const core = testbedCore(tb, { settings: { 'cluster.remoteDir': `$HOME/hpc-relay-it/${RUN}-array` } });
    const counting = new CountingCluster(core.cluster().ssh);
    const jobs = createJobService({ db: core.db(), cluster: () => counting, settings: () => core.settings.settings(), logger: core.logger });
    cleanup.push(() => core.close());
    const sub = await jobs.submitScript({ ...script('array.sh'), sbatchArgs: ['--array=0-19'] });
    expect(sub.jobIds).toHaveLength(20);
    let ticks = 0;
    const base = sub.jobIds[0]?.split('_')[0] ?? '';
    await until('all 20 tasks to end', async () => {
      counting.programs.length = 0;
      counting.commands.length = 0;
      const r = await jobs.refresh();
      ticks++;
      const squeue = counting.programs.filter((p) => p === 'squeue').length;
      const sacct = counting.programs.filter((p) => p === 'sacct').length;
      // This store is new: jobs earlier tests left in the shared testbed's queue (COMPLETING ones)
      // are adopted, so a tick may also ask where they write (one scontrol command by base id) and
      // read the end of the log of one that failed (one read). Neither names the array: the array
      // itself costs the squeue and the sacct, nothing more.
      const others = counting.commands.filter((c) => c[0] !== 'squeue' && c[0] !== 'sacct');
      for (const c of others) {
        expect(c[2] === SCONTROL_JOBS_SCRIPT || c[2] === READ_RANGES_SCRIPT, c.join(' ')).toBe(true);
        expect(c.slice(4).some((a) => a === base || a.includes(`${RUN}-array/`)), c.join(' ')).toBe(false);
      }
      expect(others.length).toBeLessThanOrEqual(2);
      expect({ squeue, sacct, all: counting.programs.length - others.length }).toEqual({ squeue: 1, sacct: 1, all: 2 });
      expect([r.squeueCalls, r.sacctCalls]).toEqual([1, 1]);
      return sub.jobIds.every((k) => jobs.store.get(k)?.final);
    }, 180_000, 3_000);
    expect(ticks).toBeGreaterThan(1);
    expect(sub.jobIds.map((k) => jobs.store.get(k)?.state)).toEqual(Array(20).fill('COMPLETED'));
    expect(new Set(sub.jobIds.map((k) => jobs.store.get(k)?.arrayTask))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i)));
    expect((await jobs.tail(`${sub.jobId}_7`, 1)).lines).toEqual(['task 7']);
  }, 200_000);

  it('OverMemoryKill (FAILED 0:9 + "Exceeded job memory limit") is host OOM: remediate bumps --mem 50% once, then only notifies', async () => {
    const a = await app('oom', { 'triage.mode': 'remediate' });
    const sub = await a.jobs.submitScript(script('oom.sh'));
    // OverMemoryKill sends SIGKILL: no trap runs, the tick (played here every 5 s) finds the end.
    const first = await final(a.jobs, sub.jobId, 150_000, { rt: a.rt, everyMs: 5_000 });
    expect(a.jobs.store.get(sub.jobId)).toMatchObject({ state: 'FAILED', exitCode: 0, signal: 9, failureClass: 'host-oom', reqMemBytes: 100 * 2 ** 20 });
    expect(first?.decision).toMatchObject({ action: 'bump-mem', changes: { mem: '150M' } });
    const sweep = a.jobs.store.get(sub.jobId)!.sweepId;
    const second = await until('the resubmitted job', () => a.jobs.store.sweepJobs(sweep).find((j) => j.jobKey !== sub.jobId), 30_000, 200);
    expect(a.jobs.store.submission(second.submissionId!)).toMatchObject({ sbatchArgs: ['--mem=150M'], resubmitOf: sub.jobId });
    expect(second.reqMemBytes).toBe(150 * 2 ** 20);
    const again = await final(a.jobs, second.jobKey, 150_000, { rt: a.rt, everyMs: 5_000 });
    expect(a.jobs.store.get(second.jobKey)).toMatchObject({ failureClass: 'host-oom' });
    expect(again?.decision.action).toBe('notify');
    expect(again?.decision.reason).toMatch(/already acted once/);
    expect(a.jobs.store.triageActions(sweep).map((t) => [t.jobKey, t.action, t.status])).toEqual([[sub.jobId, 'bump-mem', 'done']]);
    expect(a.jobs.store.sweepJobs(sweep)).toHaveLength(2);
  }, 240_000);

  it('after a dropped connection the stream reopens, and lines written while it was down are replayed', async () => {
    const a = await app('reconnect');
    // A real drop: the SSH connection goes away under the stream; the next command reconnects.
    const opens = a.rt.watcher.opens;
    a.core.cluster().ssh.close();
    await until('the stream to reopen', () => a.rt.watcher.opens > opens && a.rt.watcher.open, 30_000, 200);
    const one = await a.jobs.submitScript(script('ok.sh'));
    await final(a.jobs, one.jobId, 150_000);
    expect(a.jobs.store.transitions(one.jobId).at(-1)?.source).toBe('events');

    // Down while a job ends: its line is replayed from the saved offset when the stream comes back.
    a.rt.watcher.stop();
    const two = await a.jobs.submitScript(script('ok.sh'));
    await until('the job to end on the cluster', async () => /COMPLETED/.test((await a.core.cluster().exec(['sacct', '-X', '-n', '-P', '-o', 'State', '-j', two.jobId])).stdout), 150_000, 1_000);
    expect(a.jobs.store.get(two.jobId)?.final).toBe(false);
    a.rt.watcher.start();
    await final(a.jobs, two.jobId, 30_000);
    expect(a.jobs.store.events(two.jobId).filter((e) => e.kind === 'exit-trap')).toHaveLength(1);
    expect(a.jobs.store.get(two.jobId)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
  });

  it('hostile values reach the script and sbatch as data: nothing is executed, no marker file appears', async () => {
    const a = await app('hostile');
    const dir = makeHome('jobs-marker');
    fs.chmodSync(dir, 0o777);
    const marker = path.join(dir, 'pwned');
    const hostile = [`$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; echo '`, `a|b; touch ${marker}`, '--chdir=/'];
    const sub = await a.jobs.submitScript({ ...script('args.sh'), scriptArgs: hostile, sbatchArgs: [`--comment=$(touch ${marker})`, `--job-name=x|$(touch ${marker})`] });
    await final(a.jobs, sub.jobId, 150_000);
    expect(a.jobs.store.get(sub.jobId)).toMatchObject({ state: 'COMPLETED', name: `x|$(touch ${marker})` });
    expect((await a.jobs.tail(sub.jobId, 1)).lines).toEqual([hostile.map((h) => `[${h}]`).join('')]);
    expect(fs.existsSync(marker)).toBe(false);
    await expect(a.jobs.submitScript({ ...script('args.sh'), sbatchArgs: ['--wrap=touch x'] })).rejects.toThrow(/--wrap is not allowed/);
  });
});
