/**
 * The scheduler-output part of the hostile input corpus: what squeue and sacct may print instead
 * of their usual lines (error banners, cut-off lines, binary bytes, CRLF, hostile job names).
 * Each parses to sane rows or throws SLURM_PARSE naming the line, in a sentence safe to show;
 * never another exception. A tracker tick that meets an unreadable line fails whole and changes
 * nothing: no job is taken for ended because the queue or the accounting could not be read.
 */
import { describe, expect, it } from 'vitest';
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import { RelayError } from '../../main/core/errors.js';
import { JobTracker } from '../../main/core/jobs/job-tracker.js';
import { systemClock } from '../../main/core/ports.js';
import { parseSacct } from '../../main/core/slurm/sacct-parser.js';
import { parseSqueue } from '../../main/core/slurm/squeue-parser.js';
import { openDatabase } from '../../main/core/store/database.js';
import { JobStore } from '../../main/core/store/job-store.js';
import { OutboxStore } from '../../main/core/store/outbox-store.js';
import { FakeSlurm } from '../fixtures/slurm/fake-slurm.js';
import { createMemoryLogger } from '../fakes/memory-logger.js';
import { bytesOf, slurmCases } from '../helpers/hostile-corpus.js';
import type { SlurmCase } from '../helpers/hostile-corpus.js';

const CASES = slurmCases();
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u;

/** The output as the SSH session hands it over: the bytes decoded as UTF-8. */
const stdoutOf = (c: SlurmCase): string => bytesOf(c.stdout).toString('utf8');

function parse(c: SlurmCase): unknown[] {
  return c.tool === 'squeue' ? parseSqueue(stdoutOf(c)) : parseSacct(stdoutOf(c));
}

describe('hostile squeue and sacct output', () => {
  it.each(CASES.map((c) => [`${c.tool}: ${c.id}`, c] as const))('%s', (_id, c) => {
    if (c.rows) {
      const rows = parse(c);
      expect(rows).toHaveLength(c.rows.length);
      c.rows.forEach((want, i) => expect(rows[i], c.why).toMatchObject(want));
      return;
    }
    let err: unknown;
    try {
      parse(c);
    } catch (e) {
      err = e;
    }
    // A coded error, never a TypeError or a RangeError from deep inside.
    expect(err, c.why).toBeInstanceOf(RelayError);
    const e = err as RelayError;
    expect(e.code).toBe('SLURM_PARSE');
    expect(e.message, c.why).toMatch(new RegExp(c.error ?? '', 'u'));
    expect(e.message).not.toMatch(UNSAFE);
    expect(e.message.length).toBeLessThan(600);
  });

  it('covers both tools, both outcomes, error banners and binary output', () => {
    for (const tool of ['squeue', 'sacct'] as const) {
      expect(CASES.filter((c) => c.tool === tool && c.error).length).toBeGreaterThanOrEqual(5);
      expect(CASES.filter((c) => c.tool === tool && c.rows).length).toBeGreaterThanOrEqual(5);
    }
    expect(CASES.some((c) => /Socket timed out/.test(stdoutOf(c)))).toBe(true);
    expect(CASES.some((c) => stdoutOf(c).includes('\u0000'))).toBe(true);
  });
});

describe('a tracker tick that meets hostile output', () => {
  /** squeue and sacct answer with the given text; the job 4242 is tracked and open. */
  function setup(squeue: string, sacct: string) {
    const store = new JobStore(openDatabase(':memory:'));
    const dir = '/home/u/hpc-relay/jobs/s-4242';
    store.recordSubmission({
      id: 's-4242', kind: 'script', source: 'train.sh', params: {}, scriptHash: 'h', sbatchArgs: [], scriptArgs: [], remoteDir: dir, scriptPath: `${dir}/train.sh`,
      wrapperPath: `${dir}/relay-wrapper.sh`, stdoutPattern: `${dir}/slurm-%j.out`, stderrPattern: `${dir}/slurm-%j.err`, baseId: '4242', arraySpec: null, sweepId: 's-4242', resubmitOf: null, submittedAt: 1,
    }, { name: 'train', tasks: null, partition: null });
    const calls: string[] = [];
    const run = async (argv: readonly string[]): Promise<string> => {
      calls.push(argv[0] ?? '');
      if (argv[0] === 'squeue') return squeue;
      if (argv[0] === 'sacct') return sacct;
      // Where sacct says accounting is unreachable, job ends may be asked of the controller: it knows nothing here.
      if (argv.join(' ').includes('scontrol')) return '';
      throw new Error(`unexpected ${argv.join(' ')}`);
    };
    const cluster = { run, remoteDir: async () => '/home/u/hpc-relay' } as unknown as ClusterService;
    const logger = createMemoryLogger();
    const tracker = new JobTracker({ cluster: () => cluster, store, files: new FakeSlurm().remoteFiles(), clock: systemClock, logger, options: () => ({ mode: 'notify', channels: ['tray'] }) });
    return { store, tracker, calls, outbox: new OutboxStore(store.db) };
  }

  it.each(CASES.filter((c) => c.error && c.tool === 'squeue').map((c) => [c.id, c] as const))('squeue: %s: the tick fails with SLURM_PARSE and records nothing', async (_id, c) => {
    const { store, tracker, calls, outbox } = setup(stdoutOf(c), '');
    const before = store.get('4242');
    await expect(tracker.tick()).rejects.toMatchObject({ code: 'SLURM_PARSE' });
    expect(calls).toEqual(['squeue']);
    expect(store.get('4242')).toEqual(before);
    expect(outbox.all()).toEqual([]);
  });

  it.each(CASES.filter((c) => c.error && c.tool === 'sacct').map((c) => [c.id, c] as const))('sacct: %s: no job is taken for ended', async (_id, c) => {
    // The queue is empty: the job left it, and only accounting can say how it ended, which it cannot read.
    const { store, tracker, calls, outbox } = setup('', stdoutOf(c));
    const before = store.get('4242');
    const failed = await tracker.tick().then(() => null, (e: unknown) => e);
    // A coded error (or, where the tracker falls back to the controller, none): never a crash.
    if (failed !== null) expect(failed).toBeInstanceOf(RelayError);
    expect(calls.slice(0, 2)).toEqual(['squeue', 'sacct']);
    expect(store.get('4242')).toMatchObject({ state: before?.state, final: false });
    expect(store.unfinished().map((j) => j.jobKey)).toEqual(['4242']);
    expect(outbox.all()).toEqual([]);
  });

  it.each(CASES.filter((c) => c.rows).map((c) => [`${c.tool}: ${c.id}`, c] as const))('%s: the tick completes', async (_id, c) => {
    const { tracker } = setup(c.tool === 'squeue' ? stdoutOf(c) : '', c.tool === 'sacct' ? stdoutOf(c) : '');
    const r = await tracker.tick();
    expect(r.squeueCalls).toBe(1);
  });
});
