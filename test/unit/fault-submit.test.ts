/**
 * Fault suite, submit: the connection drops while sbatch runs (the session answers
 * SSH_COMMAND_INTERRUPTED: it may or may not have run). The job service must neither lose the
 * submission nor make a second job: it looks the submission's marker up on the scheduler and runs
 * sbatch again only when no job carries it. The real thing, on the testbed, is in
 * test/integration/fault-ssh.test.ts; this pins the decisions with a scripted scheduler.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import type { ExecOptions, ExecResult } from '../../main/core/cluster/ssh-session.js';
import { SettingsService } from '../../main/core/config/settings.js';
import { RelayError } from '../../main/core/errors.js';
import { createJobService } from '../../main/core/jobs/index.js';
import type { RemoteFiles } from '../../main/core/jobs/remote-files.js';
import type { Clock, ConfigStore } from '../../main/core/ports.js';
import { jobIdWithMarker, sbatchArgv } from '../../main/core/slurm/sbatch.js';
import { openDatabase } from '../../main/core/store/database.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';

/** What the scripted scheduler does with each sbatch: run it and answer, run it and lose the answer, or lose it before it ran. */
type SbatchFate = 'ok' | 'ran-then-dropped' | 'dropped-before' | 'ran-then-killed' | 'refused';

function interrupted(): RelayError {
  return new RelayError('SSH_COMMAND_INTERRUPTED', 'The connection to hpc dropped while `sbatch` was running: it may or may not have finished, so HPC Relay did not run it again.');
}

function setup(fates: SbatchFate[], opts: { sacctFails?: boolean; showInQueue?: boolean } = {}) {
  let data: Record<string, unknown> = { cluster: { host: 'hpc' } };
  const config: ConfigStore = { read: () => data, write: (d) => { data = d; }, moveAside: () => '/dev/null', path: '(memory)' };
  const settings = new SettingsService(config);
  const calls: string[][] = [];
  const jobs: { id: string; comment: string }[] = [];
  let next = 500;
  const waits: number[] = [];
  const time = { now: 0 };
  const clock: Clock = { now: () => time.now, setTimeout: (fn, ms) => { waits.push(ms); queueMicrotask(fn); return { cancel: () => undefined }; } };
  const answer = (argv: readonly string[]): string => {
    calls.push([...argv]);
    if (argv[0] === 'squeue') return opts.showInQueue === false ? '' : jobs.map((j) => `${j.id}|${j.comment}\n`).join('');
    if (argv[0] === 'sacct') {
      if (opts.sacctFails) throw new RelayError('REMOTE_COMMAND_FAILED', '`sacct` failed on the cluster (exit 1): sacct: error: Invalid field requested: "SubmitLine".');
      return jobs.map((j) => `${j.id}|sbatch --parsable --comment=${j.comment} /r/relay-wrapper.sh\n`).join('');
    }
    throw new Error(`unexpected ${argv.join(' ')}`);
  };
  const cluster = {
    run: async (argv: readonly string[], _o?: ExecOptions) => answer(argv),
    exec: async (argv: readonly string[], _o?: ExecOptions): Promise<ExecResult> => {
      if (argv[0] !== 'sbatch') return { stdout: answer(argv), stderr: '', code: 0, signal: null, truncated: false };
      calls.push([...argv]);
      const fate = fates.shift() ?? 'ok';
      if (fate === 'dropped-before') throw interrupted();
      if (fate === 'refused') return { stdout: '', stderr: 'sbatch: error: Batch job submission failed: Invalid partition name specified\n', code: 1, signal: null, truncated: false };
      const comment = argv.find((a) => a.startsWith('--comment='))?.slice('--comment='.length) ?? '';
      const id = String(next++);
      jobs.push({ id, comment });
      if (fate === 'ran-then-dropped') throw interrupted();
      // The process stops here (SIGKILL, a crash): the answer reaches nobody, and nothing after it runs.
      if (fate === 'ran-then-killed') throw new Error('the process died');
      return { stdout: `${id}\n`, stderr: '', code: 0, signal: null, truncated: false };
    },
    remoteDir: async () => '/home/u/hpc-relay',
  } as unknown as ClusterService;
  const files: RemoteFiles = {
    resolveDir: async () => '/home/u/hpc-relay', ensureDir: async () => undefined, upload: async () => undefined, touchSize: async () => 0, readRanges: async () => [],
  };
  const service = createJobService({ db: openDatabase(':memory:'), cluster: () => cluster, files, settings: () => settings.settings(), logger: createMemoryLogger(), clock });
  const sbatches = () => calls.filter((c) => c[0] === 'sbatch');
  return { service, calls, jobs, waits, sbatches, time };
}

const script = { name: 'train.sh', content: '#!/bin/sh\n#SBATCH --mem=1G\necho hi\n' };

describe('a submit whose connection drops while sbatch runs', () => {
  it('every sbatch carries its submission\'s marker in --comment, after a comment of the user\'s', async () => {
    const { service, sbatches } = setup(['ok', 'ok']);
    const a = await service.submitScript(script);
    const b = await service.submitScript({ ...script, sbatchArgs: ['--comment=my run'] });
    const [sa, sb] = sbatches();
    const subA = service.store.submission(service.job(a.jobId).submissionId!)!;
    const subB = service.store.submission(service.job(b.jobId).submissionId!)!;
    expect(sa?.filter((x) => x.startsWith('--comment'))).toEqual([`--comment=hpc-relay:${subA.id}`]);
    expect(sb?.filter((x) => x.startsWith('--comment'))).toEqual([`--comment=my run hpc-relay:${subB.id}`]);
    // The stored options stay the user's own (a resubmit adds its own marker).
    expect(subB.sbatchArgs).toEqual(['--comment=my run']);
  });

  it('ran, answer lost: the job is found by its marker and recorded once; sbatch is not run again', async () => {
    const { service, jobs, sbatches, calls } = setup(['ran-then-dropped']);
    const r = await service.submitScript(script);
    expect(jobs).toHaveLength(1);
    expect(r.jobId).toBe(jobs[0]!.id);
    expect(sbatches()).toHaveLength(1);
    expect(calls.map((c) => c[0])).toEqual(['sbatch', 'squeue']);
    expect(service.store.list().map((j) => [j.jobKey, j.adopted, j.submissionId !== null])).toEqual([[r.jobId, false, true]]);
  });

  it('ran, answer lost, the job already left the queue: accounting (SubmitLine) finds it', async () => {
    const { service, jobs, sbatches } = setup(['ran-then-dropped'], { showInQueue: false });
    const r = await service.submitScript(script);
    expect(r.jobId).toBe(jobs[0]!.id);
    expect(sbatches()).toHaveLength(1);
  });

  it('never ran: after looking a few times (0, 2, 5 s) it runs sbatch once more; one job', async () => {
    const { service, jobs, sbatches, waits } = setup(['dropped-before', 'ok']);
    const r = await service.submitScript(script);
    expect(jobs).toHaveLength(1);
    expect(r.jobId).toBe(jobs[0]!.id);
    expect(sbatches()).toHaveLength(2);
    expect(waits).toEqual([2_000, 5_000]);
    expect(service.store.list()).toHaveLength(1);
  });

  it('dropped twice and never ran: the one-sentence interruption error, and no more than two sbatch runs', async () => {
    const { service, jobs, sbatches } = setup(['dropped-before', 'dropped-before', 'ok']);
    await expect(service.submitScript(script)).rejects.toMatchObject({ code: 'SSH_COMMAND_INTERRUPTED' });
    expect(sbatches()).toHaveLength(2);
    expect(jobs).toEqual([]);
    expect(service.store.list()).toEqual([]);
  });

  it('a SLURM whose sacct cannot show SubmitLine still finds a queued job, and is not refused for it', async () => {
    const { service, jobs, sbatches } = setup(['ran-then-dropped'], { sacctFails: true });
    const r = await service.submitScript(script);
    expect(r.jobId).toBe(jobs[0]!.id);
    expect(sbatches()).toHaveLength(1);
  });

  it('reads the marker from squeue and sacct lines (arrays by their base id), and nothing else', () => {
    const m = 'hpc-relay:0b7c1d4e-1111-4222-8333-944445555666';
    expect(jobIdWithMarker(`12|(null)\n345|${m}\n`, m)).toBe('345');
    expect(jobIdWithMarker(`77_3|sbatch --parsable --array=0-4 --comment=${m} /w.sh\n77_4|sbatch --comment=${m}\n`, m)).toBe('77');
    expect(jobIdWithMarker(`88_[0-9]|x ${m}\n`, m)).toBe('88');
    expect(jobIdWithMarker('12|(null)\n13|hpc-relay:other\n', m)).toBeNull();
    expect(sbatchArgv({ sbatchArgs: [], wrapperPath: '/w', eventsPath: '/e', scriptPath: '/s', scriptArgs: [], chdir: '/d', stdoutPattern: '/o', stderrPattern: '/e2', jobName: null, marker: m })).toContain(`--comment=${m}`);
  });
});

describe('a submit whose sbatch ran but which was never recorded', () => {
  const SETTLE = 3 * 60_000;
  const squeueRow = (key: string) => ({ key, baseId: key, arrayTask: null, name: 'train.sh', state: 'RUNNING', reason: 'None', elapsedSec: 5, timeLimitSec: 60, partition: 'gpu', nodes: 1 });

  it('killed between sbatch and the record: once no sbatch can still be running, the marker finds the job and it is recorded as HPC Relay\'s own', async () => {
    const { service, jobs, calls, time } = setup(['ran-then-killed']);
    await expect(service.submitScript({ ...script, params: { lr: '0.1' } })).rejects.toThrow('the process died');
    expect(jobs).toHaveLength(1);
    expect(service.store.list()).toEqual([]);
    expect(service.store.intents().map((i) => i.submission.source)).toEqual(['train.sh']);

    // Too young: an sbatch for it may still be running elsewhere (another process); nothing is asked.
    time.now = SETTLE - 1;
    expect(await service.recoverSubmissions()).toEqual([]);
    expect(calls.filter((c) => c[0] !== 'sbatch')).toEqual([]);

    // Meanwhile the queue lists it as a stranger's job ...
    service.store.observeQueue([squeueRow(jobs[0]!.id)], time.now);
    expect(service.store.get(jobs[0]!.id)).toMatchObject({ adopted: true, submissionId: null });

    // ... and then it is claimed: its submission (script, values, log paths) is known again, so tail and resubmit work.
    time.now = SETTLE;
    expect(await service.recoverSubmissions()).toEqual([jobs[0]!.id]);
    const job = service.store.get(jobs[0]!.id)!;
    expect(job).toMatchObject({ adopted: false, state: 'RUNNING' });
    expect(service.store.submission(job.submissionId!)).toMatchObject({ source: 'train.sh', params: { lr: '0.1' }, baseId: jobs[0]!.id });
    expect(service.store.intents()).toEqual([]);
    expect(await service.recoverSubmissions()).toEqual([]);
  });

  it('the database refused the record after sbatch ran: the error says so, and the job is recorded later, once', async () => {
    const { service, jobs, time } = setup(['ok']);
    const record = service.store.recordSubmission.bind(service.store);
    let refuse = true;
    service.store.recordSubmission = (...args) => {
      if (refuse) { refuse = false; throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }); }
      return record(...args);
    };
    const e = await service.submitScript(script).then(() => null, (err: unknown) => err);
    expect(e).toMatchObject({ code: 'STORE_FAILED' });
    expect(String((e as Error).message)).toMatch(new RegExp(`^Job ${jobs[0]!.id} was submitted, but HPC Relay could not record it: the disk is full\\.`));
    time.now = SETTLE;
    expect(await service.recoverSubmissions()).toEqual([jobs[0]!.id]);
    expect(service.store.list().map((j) => [j.jobKey, j.adopted, j.submissionId !== null])).toEqual([[jobs[0]!.id, false, true]]);
  });

  it('refused by sbatch: nothing was submitted, nothing is left to look for', async () => {
    const { service, jobs } = setup(['refused']);
    await expect(service.submitScript(script)).rejects.toMatchObject({ code: 'JOB_SUBMIT_FAILED' });
    expect(jobs).toEqual([]);
    expect(service.store.intents()).toEqual([]);
  });

  it('interrupted twice and never ran: after the settle time no job carries the marker, so it is forgotten', async () => {
    const { service, jobs, time, calls } = setup(['dropped-before', 'dropped-before']);
    await expect(service.submitScript(script)).rejects.toMatchObject({ code: 'SSH_COMMAND_INTERRUPTED' });
    expect(service.store.intents()).toHaveLength(1);
    time.now = SETTLE;
    const asked = calls.length;
    expect(await service.recoverSubmissions()).toEqual([]);
    expect(calls.slice(asked).map((c) => c[0])).toEqual(['squeue', 'sacct']);
    expect(service.store.intents()).toEqual([]);
    expect(jobs).toEqual([]);
  });
});
