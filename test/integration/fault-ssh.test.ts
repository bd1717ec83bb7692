/**
 * Fault suite, SSH: the connection under the job service is killed (server side, only this test's
 * own connection: test/testbed/ssh-kit.ts) while the events stream follows the events file, while
 * a job's output is read, and in the middle of a submission. Nothing may be missed, lost or done
 * twice: the scheduler is asked by job name (the test's own marker) how many jobs really exist.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { ExecResult } from '../../main/core/cluster/ssh-session.js';
import { READ_RANGES_SCRIPT } from '../../main/core/jobs/remote-files.js';
import { serverPids, signalPids, killServerSide } from '../testbed/ssh-kit.js';
import { faultApp, finalIn, fixtureScript, jobIdsNamed, probeCluster, removeRemoteRun, runTag, sacctState, sleep, until, type FaultApp } from '../helpers/fault-kit.js';

const tb = inject('testbed');
const TAG = runTag('ssh');
const probe = probeCluster(tb);
const apps: FaultApp[] = [];

afterAll(async () => {
  for (const a of apps) await a.close();
  probe.close();
  await removeRemoteRun(tb, TAG);
});

async function app(label: string): Promise<FaultApp> {
  const a = await faultApp(tb, `$HOME/hpc-relay-it/${TAG}/${label}`);
  apps.push(a);
  return a;
}

/** A job that prints `n` numbered lines of about 40 bytes: output big enough to arrive in many chunks. */
function bigOutput(n: number): { name: string; content: string } {
  return { name: 'big.sh', content: `#!/bin/sh\n#SBATCH --time=00:05:00\n#SBATCH --mem=32M\ni=0\nwhile [ $i -lt ${n} ]; do i=$((i + 1)); echo "line $i of ${n} padding-padding-padding"; done\n` };
}

/** After a faulty submit: exactly one job with this name exists on the scheduler, the store has it once (as the app's own), and its end is notified once. */
async function assertOneJob(a: FaultApp, name: string, submitted: { jobId: string }): Promise<void> {
  expect(await jobIdsNamed(probe, name)).toEqual([submitted.jobId]);
  const rows = a.jobs.store.list().filter((j) => j.name === name);
  expect(rows.map((j) => [j.jobKey, j.adopted, j.submissionId !== null])).toEqual([[submitted.jobId, false, true]]);
  await finalIn(a, submitted.jobId, 150_000, 5_000);
  expect(a.jobs.store.get(submitted.jobId)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
  await until('the notification', () => a.notesFor(submitted.jobId).length > 0, 15_000, 100);
  await a.rt.tickNow();
  expect(a.notesFor(submitted.jobId).map((n) => n.id)).toEqual([`hpc-relay:job:${submitted.jobId}:COMPLETED:tray`]);
  // Still one job: nothing submitted it again behind the scenes.
  expect(await jobIdsNamed(probe, name)).toEqual([submitted.jobId]);
}

describe.concurrent('SSH connection killed under the job service', () => {
  it('mid-tail of the events file: the link hangs (sshd stopped) while a job ends, then dies; the stream reopens from its offset and the end is notified once', async () => {
    const a = await app('stream');
    const sub = await a.jobs.submitScript({ ...fixtureScript('sleep.sh'), scriptArgs: ['4'], sbatchArgs: [`--job-name=${TAG}-stream`, '--time=3'] });
    const opens = a.rt.watcher.opens;
    const handshakes = a.session.handshakes;
    const pids = await serverPids(a.session);
    signalPids(pids, 'SIGSTOP');
    try {
      await until('the job to end on the cluster', async () => (await sacctState(probe, sub.jobId)) === 'COMPLETED', 150_000, 1_000);
      // The app heard nothing: its link is frozen.
      expect(a.jobs.store.get(sub.jobId)?.final).toBe(false);
      expect(a.notesFor(sub.jobId)).toEqual([]);
    } finally {
      signalPids(pids, 'SIGKILL');
    }
    await finalIn(a, sub.jobId, 60_000);
    expect(a.session.handshakes).toBeGreaterThan(handshakes);
    expect(a.rt.watcher.opens).toBeGreaterThan(opens);
    expect(a.jobs.store.get(sub.jobId)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    // The wrapper's line, written while the link was down, was replayed from the saved offset: once.
    expect(a.jobs.store.events(sub.jobId).filter((e) => e.kind === 'exit-trap')).toHaveLength(1);
    await until('the notification', () => a.notesFor(sub.jobId).length > 0, 15_000, 100);
    await a.rt.tickNow();
    await sleep(500);
    expect(a.notesFor(sub.jobId).map((n) => n.id)).toEqual([`hpc-relay:job:${sub.jobId}:COMPLETED:tray`]);
  });

  it('mid-read of a job\'s output (tail, and a live view reading on from an offset): the read is redone on a new connection, nothing missed or doubled', async () => {
    const a = await app('tail');
    const sub = await a.jobs.submitScript(bigOutput(6000));
    await finalIn(a, sub.jobId, 150_000, 5_000);
    const file = (await a.jobs.tail(sub.jobId, 0)).path!;
    const full = await probe.run(['cat', file], { timeoutMs: 60_000, idempotent: true, maxOutputBytes: 8 * 2 ** 20 });
    expect(full.split('\n')).toHaveLength(6001);

    // The connection dies after the first bytes of the read arrive.
    let killed = 0;
    const handshakes = a.session.handshakes;
    a.session.hook = async (argv, opts, run) => {
      if (argv[0] !== 'sh' || argv[2] !== READ_RANGES_SCRIPT || killed > 0) return undefined;
      const pids = await serverPids(a.session);
      return run(argv, { ...opts, onData: (chunk, stream) => { if (killed++ === 0) signalPids(pids, 'SIGKILL'); opts.onData?.(chunk, stream); } });
    };
    const tail = await a.jobs.tail(sub.jobId, 6000);
    expect(killed).toBeGreaterThan(0);
    expect(a.session.handshakes).toBeGreaterThan(handshakes);
    expect(tail.lines).toEqual(full.split('\n').slice(0, 6000));
    a.session.hook = null;

    // A live view reads on from its offset; the connection is killed between reads.
    let text = '';
    let offset = 0;
    for (let i = 0; ; i++) {
      if (i === 3) await killServerSide(a.session);
      const r = await a.jobs.readOutput(sub.jobId, offset, 'stdout', 16 * 1024);
      text += r.text;
      offset = r.nextOffset;
      if (r.size !== null && offset >= r.size) break;
    }
    expect(text).toBe(full);
  });

  it('mid-submit, between the upload and sbatch: the connection is gone when sbatch starts; one job, recorded once', async () => {
    const a = await app('gone');
    const name = `${TAG}-gone`;
    let fired = false;
    a.session.hook = async (argv) => {
      if (argv[0] !== 'sbatch' || fired) return undefined;
      fired = true;
      await killServerSide(a.session);
      await until('the session to see the drop', () => !a.session.connected, 10_000, 20);
      return undefined;
    };
    const sub = await a.jobs.submitScript({ ...fixtureScript('ok.sh'), sbatchArgs: [`--job-name=${name}`] });
    expect(fired).toBe(true);
    await assertOneJob(a, name, sub);
  });

  it('mid-submit, sbatch sent on a link that hangs and then dies (it never ran): the submit is not lost; one job, recorded once', async () => {
    const a = await app('hang');
    const name = `${TAG}-hang`;
    let fired = false;
    a.session.hook = async (argv, opts, run) => {
      if (argv[0] !== 'sbatch' || fired) return undefined;
      fired = true;
      const pids = await serverPids(a.session);
      signalPids(pids, 'SIGSTOP');
      const killer = sleep(1_500).then(() => signalPids(pids, 'SIGKILL'));
      try {
        return await run(argv, opts);
      } finally {
        await killer;
      }
    };
    const sub = await a.jobs.submitScript({ ...fixtureScript('ok.sh'), sbatchArgs: [`--job-name=${name}`] });
    expect(fired).toBe(true);
    await assertOneJob(a, name, sub);
  });

  it('mid-submit, right after sbatch printed the job id and before its answer reached the app: the submit is not doubled; one job, recorded once', async () => {
    const a = await app('answer');
    const name = `${TAG}-answer`;
    let printed = '';
    a.session.hook = async (argv, opts, run): Promise<ExecResult | undefined> => {
      if (argv[0] !== 'sbatch' || printed) return undefined;
      const pids = await serverPids(a.session);
      // sbatch runs for real; the shell then holds the channel open, so its exit status can only
      // come after the connection is killed, which happens the moment the job id arrives.
      return run(['sh', '-c', '"$@"; s=$?; sleep 60; exit $s', 'sh', ...argv], {
        ...opts,
        onData: (chunk, stream) => {
          if (stream === 'stdout' && !printed) {
            printed = chunk.toString().trim();
            signalPids(pids, 'SIGKILL');
          }
        },
      });
    };
    const sub = await a.jobs.submitScript({ ...fixtureScript('ok.sh'), sbatchArgs: [`--job-name=${name}`] });
    expect(printed).toMatch(/^\d+/);
    expect(sub.jobId).toBe(printed.split(';')[0]);
    await assertOneJob(a, name, sub);
  });
});
