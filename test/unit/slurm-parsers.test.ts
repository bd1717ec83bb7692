import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import { SQUEUE_ARGV, parseSqueue } from '../../main/core/slurm/squeue-parser.js';
import { parseSacct, sacctArgv, type SacctJob, type SacctRange } from '../../main/core/slurm/sacct-parser.js';
import { expandArraySpec, formatDuration, formatMemory, normalizeState, parseDuration, parseJobId, parseMemory } from '../../main/core/slurm/slurm-values.js';

const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'slurm', name), 'utf8');

function parseFails(fn: () => unknown): Error & { code: string } {
  try {
    fn();
  } catch (e) {
    if (isRelayError(e)) return e;
    throw e;
  }
  throw new Error('expected a parse error');
}

describe('SLURM values', () => {
  it.each([
    ['00:00:03', 3], ['1:07', 67], ['05:00', 300], ['1:00:00', 3600], ['00:01:29', 89], ['2-00:00:00', 172800],
    ['1-02', 93600], ['1-02:03', 93780], ['90', 5400], ['00:00:01.500', 2], ['UNLIMITED', null], ['Partition_Limit', null], ['', null], ['abc', null],
  ])('duration %j -> %j s', (text, secs) => {
    expect(parseDuration(text)).toBe(secs);
  });

  it('prints durations the way sbatch --time reads them', () => {
    expect(formatDuration(90)).toBe('00:01:30');
    expect(formatDuration(1.5 * 86400)).toBe('1-12:00:00');
    expect(parseDuration(formatDuration(123457))).toBe(123457);
  });

  it.each([
    ['64M', 'M', 64 * 2 ** 20], ['100M', 'M', 100 * 2 ** 20], ['4Gn', 'M', 4 * 2 ** 30], ['1Gc', 'M', 2 ** 30], ['2048', 'M', 2 * 2 ** 30],
    ['419032K', 'B', 419032 * 1024], ['3044K', 'B', 3044 * 1024], ['0', 'B', 0], ['1.5G', 'B', 1.5 * 2 ** 30], ['x12', 'M', null], ['', 'M', null],
  ] as const)('memory %j (bare unit %s) -> %j bytes', (text, unit, bytes) => {
    expect(parseMemory(text, unit)).toBe(bytes);
  });

  it('prints memory the way sbatch --mem reads it, rounding up', () => {
    expect(formatMemory(150 * 2 ** 20)).toBe('150M');
    expect(formatMemory(1.5 * 64 * 2 ** 20)).toBe('96M');
    expect(formatMemory(12 * 2 ** 30)).toBe('12G');
    expect(formatMemory(100 * 2 ** 20 + 1)).toBe('101M');
  });

  it('reads job ids, array tasks and folded ranges, and normalises states', () => {
    expect(parseJobId('24')).toEqual({ kind: 'single', ref: { key: '24', baseId: '24', arrayTask: null } });
    expect(parseJobId('28_4')).toEqual({ kind: 'single', ref: { key: '28_4', baseId: '28', arrayTask: 4 } });
    expect(parseJobId('39_[0-9%2]')).toEqual({ kind: 'range', baseId: '39', spec: '0-9%2' });
    expect(parseJobId('24.batch')).toBeNull();
    expect(parseJobId('x')).toBeNull();
    expect(normalizeState('CANCELLED by 1001')).toEqual({ state: 'CANCELLED', by: 1001 });
    expect(normalizeState('RUNNING')).toEqual({ state: 'RUNNING' });
    expect(expandArraySpec('0-9%2')).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(expandArraySpec('1,3,5-7')).toEqual([1, 3, 5, 6, 7]);
    expect(expandArraySpec('0-10:5')).toEqual([0, 5, 10]);
    expect(expandArraySpec('5-1')).toBeNull();
    expect(expandArraySpec('0-99999', 1000)).toBeNull();
  });
});

describe('squeue --me parser', () => {
  it('asks for every task of an array on its own line', () => {
    expect(SQUEUE_ARGV).toContain('--array');
    expect(SQUEUE_ARGV).toContain('--me');
  });

  it('reads the recorded queue: running, pending with reasons, array tasks, a name holding |', () => {
    const rows = parseSqueue(fixture('squeue-mixed.txt'));
    expect(rows).toHaveLength(10);
    expect(rows.find((r) => r.key === '24')).toEqual({
      key: '24', baseId: '24', arrayTask: null, name: 'ok', state: 'RUNNING', reason: 'None', elapsedSec: 2, timeLimitSec: 300, partition: 'gpu_normal', nodes: 1,
    });
    expect(rows.find((r) => r.key === '26')).toMatchObject({ state: 'PENDING', reason: 'Resources', timeLimitSec: 60 });
    expect(rows.filter((r) => r.baseId === '28').map((r) => r.arrayTask)).toEqual([0, 1, 2, 3, 4]);
    expect(rows.find((r) => r.key === '30')).toMatchObject({ name: 'we|ird name', reason: 'JobHeldUser' });
  });

  it('reads an empty queue as no jobs', () => {
    expect(parseSqueue('')).toEqual([]);
    expect(parseSqueue('\n\n')).toEqual([]);
  });

  it.each([
    ['too few fields', '24|ok|RUNNING|None', /line 2 .*4 fields, expected 8/],
    ['not a job id', 'abc|ok|RUNNING|None|0:02|5:00|gpu_normal|1', /line 2 .*"abc" is not a job id/],
    ['folded array range', '28_[0-4%2]|arr|PENDING|Priority|0:00|5:00|gpu_normal|1', /line 2 .*without --array/],
    ['bad state', '24|ok|running fast|None|0:02|5:00|gpu_normal|1', /line 2 .*not a job state/],
    ['bad node count', '24|ok|RUNNING|None|0:02|5:00|gpu_normal|one', /line 2 .*not a node count/],
  ])('refuses a malformed line (%s) with SLURM_PARSE naming the line', (_why, bad, msg) => {
    const err = parseFails(() => parseSqueue(`24|ok|RUNNING|None|0:02|5:00|gpu_normal|1\n${bad}\n`));
    expect(err.code).toBe('SLURM_PARSE');
    expect(err.message).toMatch(msg);
    expect(err.message).toMatch(/squeue --me/);
  });

  it('refuses the folded array output of squeue without --array', () => {
    expect(parseFails(() => parseSqueue(fixture('squeue-collapsed-array.txt'))).message).toMatch(/line 3 /);
  });
});

describe('sacct parser', () => {
  const recs = parseSacct(fixture('sacct-mixed.txt'));
  const job = (key: string) => recs.find((r): r is SacctJob => r.kind === 'job' && r.key === key);

  it('builds one -j list of distinct base ids', () => {
    expect(sacctArgv(['28', '24', '28'])).toEqual([
      'sacct', '--parsable2', '--noheader', '--format=JobID,JobName,State,ExitCode,Elapsed,MaxRSS,ReqMem,Timelimit,NodeList,Start,End', '-j', '28,24',
    ]);
    expect(() => sacctArgv(['24;rm -rf /'])).toThrow(/not a SLURM job id/);
    expect(() => sacctArgv([])).toThrow();
  });

  it('folds .batch steps into their job and takes MaxRSS from them', () => {
    expect(job('24')).toMatchObject({ name: 'ok', state: 'COMPLETED', exitCode: 0, signal: 0, elapsedSec: 3, reqMemBytes: 64 * 2 ** 20, timeLimitSec: 300, nodeList: 'vm', start: '2026-11-28T04:12:30', end: '2026-11-28T04:12:33' });
    expect(job('24')!.steps.map((s) => s.step)).toEqual(['batch']);
    expect(recs.filter((r) => r.kind === 'job')).toHaveLength(11);
    expect(job('28_3')).toMatchObject({ arrayTask: 3, baseId: '28', state: 'COMPLETED', maxRssBytes: 3228 * 1024 });
  });

  it('reads FAILED with its exit code, TIMEOUT, and CANCELLED by a uid while pending', () => {
    expect(job('25')).toMatchObject({ state: 'FAILED', exitCode: 3, signal: 0 });
    expect(job('26')).toMatchObject({ state: 'TIMEOUT', elapsedSec: 89, timeLimitSec: 60, maxRssBytes: 3236 * 1024 });
    expect(job('26')!.steps[0]).toMatchObject({ state: 'CANCELLED', signal: 15 });
    expect(job('27')).toMatchObject({ state: 'CANCELLED', cancelledBy: 1001, nodeList: null, start: null, end: '2026-11-28T04:12:32' });
    expect(job('30')).toMatchObject({ name: 'we|ird name', state: 'CANCELLED' });
  });

  it('reads the testbed OverMemoryKill form: FAILED 0:9, batch step CANCELLED by 0, MaxRSS over ReqMem', () => {
    const oom = job('29')!;
    expect(oom).toMatchObject({ state: 'FAILED', exitCode: 0, signal: 9, reqMemBytes: 100 * 2 ** 20 });
    expect(oom.maxRssBytes).toBeGreaterThan(oom.reqMemBytes!);
    expect(oom.steps[0]).toMatchObject({ step: 'batch', state: 'CANCELLED' });
  });

  it('keeps a never-started array range as a range', () => {
    const range = recs.find((r): r is SacctRange => r.kind === 'range');
    expect(range).toMatchObject({ baseId: '39', spec: '0-9%2', state: 'CANCELLED', cancelledBy: 1001 });
  });

  it('folds .extern and numbered steps too, and ignores a step whose job line is absent', () => {
    const text = [
      '500|train|RUNNING|0:0|00:10:00||8G|01:00:00|node1|2026-01-01T00:00:00|Unknown',
      '500.batch|batch|RUNNING|0:0|00:10:00|1200M|||node1|2026-01-01T00:00:00|Unknown',
      '500.extern|extern|RUNNING|0:0|00:10:00|1K|||node1|2026-01-01T00:00:00|Unknown',
      '500.0|python|RUNNING|0:0|00:09:00|6G|||node1|2026-01-01T00:00:01|Unknown',
      '501.batch|batch|COMPLETED|0:0|00:00:01|1K|||node1|2026-01-01T00:00:00|2026-01-01T00:00:01',
    ].join('\n');
    const [r] = parseSacct(text) as SacctJob[];
    expect(r!.steps.map((s) => s.step)).toEqual(['batch', 'extern', '0']);
    expect(r!.maxRssBytes).toBe(6 * 2 ** 30);
    expect(r!.end).toBeNull();
    expect(parseSacct(text)).toHaveLength(1);
  });

  it.each([
    ['too few fields', '24|ok|COMPLETED|0:0', /line 2 .*4 fields, expected 11/],
    ['bad exit code', '24|ok|COMPLETED|zero|00:00:03||64M|00:05:00|vm|x|y', /line 2 .*not an exit code/],
    ['bad job id', 'job24|ok|COMPLETED|0:0|00:00:03||64M|00:05:00|vm|x|y', /line 2 .*not a job id/],
    ['bad MaxRSS', '24.batch|batch|COMPLETED|0:0|00:00:03|lots|||vm|x|y', /line 2 .*not a memory size/],
    ['bad state', '24|ok|done ok|0:0|00:00:03||64M|00:05:00|vm|x|y', /line 2 .*not a job state/],
  ])('refuses a malformed line (%s) with SLURM_PARSE naming the line', (_why, bad, msg) => {
    const err = parseFails(() => parseSacct(`24|ok|COMPLETED|0:0|00:00:03||64M|00:05:00|vm|2026-11-28T04:12:30|2026-11-28T04:12:33\n${bad}`));
    expect(err.code).toBe('SLURM_PARSE');
    expect(err.message).toMatch(msg);
  });
});
