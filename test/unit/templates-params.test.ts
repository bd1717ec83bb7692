import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import {
  TemplateError, findTemplate, formatDuration, formatMemory, loadTemplates, parseDuration, parseGrid, parseMemory, splitWords, validateParams,
} from '../../main/core/templates/index.js';
import type { JobTemplate, RawValue } from '../../main/core/templates/index.js';

const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates');
let cnn: JobTemplate;
let python: JobTemplate;
let sweep: JobTemplate;
beforeAll(async () => {
  const ts = await loadTemplates(TEMPLATES);
  cnn = findTemplate(ts, 'cnn_train');
  python = findTemplate(ts, 'python');
  sweep = findTemplate(ts, 'sweep');
});

function errorOf(t: JobTemplate, raw: Record<string, RawValue>): TemplateError {
  try {
    validateParams(t, raw);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be refused`);
}

/** One sentence: a capital, a final full stop, and no sentence break inside. */
function expectOneSentence(msg: string): void {
  expect(msg).toMatch(/^[A-Z].*\.$/s);
  expect(msg).not.toMatch(/[.;:!?]\s+[A-Z][a-z]+ /);
  expect(msg).not.toContain('\n');
}

const HOSTILE_PATHS = [
  '$(touch /tmp/x)',
  '/tmp/x; touch /tmp/MARKER',
  '`touch /tmp/x`',
  `it's "quoted" & <redirected> | piped`,
  'données/é/数据/✓',
  '-rf',
  '--output_dir=/etc',
  '~/data/$USER/*',
];

describe('validateParams: good values, as Slack and the CLI send them', () => {
  const good: [string, RawValue, RawValue][] = [
    ['epochs', '2', 2], ['epochs', 2, 2], ['epochs', ' +3 ', 3], ['epochs', '', 10],
    ['lr', '0.01', 0.01], ['lr', '1e-3', 0.001], ['lr', '.5', 0.5], ['lr', 0.25, 0.25],
    ['synthetic', 'true', true], ['synthetic', 'YES', true], ['synthetic', '1', true], ['synthetic', true, true],
    ['synthetic', 'false', false], ['synthetic', 'no', false], ['synthetic', 'off', false],
    ['time', '00:10:00', '00:10:00'], ['time', '90', '01:30:00'], ['time', 90, '01:30:00'], ['time', '10:30', '00:10:30'],
    ['time', '1-00:00:00', '1-00:00:00'], ['time', '2-12', '2-12:00:00'], ['time', '1-2:30', '1-02:30:00'], ['time', '36:00:00', '1-12:00:00'],
    ['mem', '500M', '500M'], ['mem', '4g', '4G'], ['mem', '1.5G', '1536M'], ['mem', '2048', '2G'], ['mem', '4096MB', '4G'], ['mem', '1T', '1T'],
    ['partition', 'gpu_dev', 'gpu_dev'], ['gres', 'gpu:1', 'gpu:1'], ['gres', 'gpu:v100:2', 'gpu:v100:2'], ['gres', '', ''],
    ['modules', 'singularity cuda/12.1', 'singularity cuda/12.1'],
    ['python', '/home/me/miniconda3/envs/torch/bin/python', '/home/me/miniconda3/envs/torch/bin/python'],
    ['image', 'docker://pytorch/pytorch:2.0.1-cuda11.7-cudnn8-runtime', 'docker://pytorch/pytorch:2.0.1-cuda11.7-cudnn8-runtime'],
    ['cpus', '8', 8],
    ...HOSTILE_PATHS.map((p): [string, RawValue, RawValue] => ['data_dir', p, p]),
  ];
  it.each(good)('%s = %j → %j', (name, raw, want) => {
    expect(validateParams(cnn, { [name]: raw })[name]).toEqual(want);
  });

  it('fills in every default, typed, and accepts batch-size for batch_size', () => {
    const v = validateParams(cnn, { 'batch-size': '32', EPOCHS: '2' });
    expect(v).toMatchObject({
      partition: 'gpu_normal', time: '00:10:00', cpus: 2, mem: '2G', gres: '', epochs: 2, batch_size: 32, lr: 0.01,
      data_dir: 'data', output_dir: 'results', synthetic: false, python: '/usr/bin/python3', image: '',
    });
  });

  it('keeps a value of 4096 bytes', () => {
    expect(validateParams(cnn, { data_dir: `/${'d'.repeat(4095)}` }).data_dir).toHaveLength(4096);
  });
});

describe('validateParams: bad values get one clear sentence naming the parameter, the expectation and the value', () => {
  const bad: [string, Record<string, RawValue>, string][] = [
    ['not a number', { epochs: 'abc' }, 'Parameter "epochs" must be a whole number from 1 to 1000; got "abc".'],
    ['a fraction for an int', { epochs: '2.5' }, 'Parameter "epochs" must be a whole number from 1 to 1000; got "2.5".'],
    ['below the range', { epochs: '0' }, 'Parameter "epochs" must be a whole number from 1 to 1000; got "0".'],
    ['above the range', { epochs: 1001 }, 'Parameter "epochs" must be a whole number from 1 to 1000; got 1001.'],
    ['a boolean for an int', { epochs: true }, 'Parameter "epochs" must be a whole number from 1 to 1000; got true.'],
    ['an expression', { epochs: '$((1+1))' }, 'Parameter "epochs" must be a whole number from 1 to 1000; got "$((1+1))".'],
    ['words for a float', { lr: 'abc' }, 'Parameter "lr" must be a number from 1e-7 to 10; got "abc".'],
    ['NaN', { lr: 'NaN' }, 'Parameter "lr" must be a number from 1e-7 to 10; got "NaN".'],
    ['Infinity', { lr: Infinity }, 'Parameter "lr" must be a number from 1e-7 to 10; got Infinity.'],
    ['a negative rate', { lr: '-0.1' }, 'Parameter "lr" must be a number from 1e-7 to 10; got "-0.1".'],
    ['maybe', { synthetic: 'maybe' }, 'Parameter "synthetic" must be true or false; got "maybe".'],
    ['a clock overflow', { time: '25:99:00' }, 'Parameter "time" must be a time limit from 1 minute to 30 days (HH:MM:SS, D-HH:MM:SS or minutes); got "25:99:00".'],
    ['24 hours after a day count', { time: '1-24:00:00' }, 'Parameter "time" must be a time limit from 1 minute to 30 days (HH:MM:SS, D-HH:MM:SS or minutes); got "1-24:00:00".'],
    ['too long a time', { time: '31-00:00:00' }, 'Parameter "time" must be a time limit from 1 minute to 30 days (HH:MM:SS, D-HH:MM:SS or minutes); got "31-00:00:00".'],
    ['no time at all', { time: '0' }, 'Parameter "time" must be a time limit from 1 minute to 30 days (HH:MM:SS, D-HH:MM:SS or minutes); got "0".'],
    ['words for a time', { time: 'ten minutes' }, 'Parameter "time" must be a time limit from 1 minute to 30 days (HH:MM:SS, D-HH:MM:SS or minutes); got "ten minutes".'],
    ['words for memory', { mem: 'lots' }, 'Parameter "mem" must be a memory size from 64M to 4T (such as 500M or 4G); got "lots".'],
    ['an unknown unit', { mem: '4X' }, 'Parameter "mem" must be a memory size from 64M to 4T (such as 500M or 4G); got "4X".'],
    ['negative memory', { mem: '-1G' }, 'Parameter "mem" must be a memory size from 64M to 4T (such as 500M or 4G); got "-1G".'],
    ['too much memory', { mem: '8T' }, 'Parameter "mem" must be a memory size from 64M to 4T (such as 500M or 4G); got "8T".'],
    ['a newline in a path', { data_dir: 'a\nb; touch /tmp/x' }, 'Parameter "data_dir" must be a path without control characters (NUL, newline, tab…); got a value with a line break.'],
    ['a carriage return', { image: 'x.sif\r' }, 'Parameter "image" must be a path without control characters (NUL, newline, tab…); got a value with a line break.'],
    ['a NUL in a path', { output_dir: 'a\0b' }, 'Parameter "output_dir" must be a path without control characters (NUL, newline, tab…); got a value with a NUL byte.'],
    ['an escape in a string', { bind: '/a:/b\u001b[2J' }, 'Parameter "bind" must be text without control characters; got a value with the control character U+001B.'],
    ['a bidi override', { bind: '/data\u202e/evil' }, 'Parameter "bind" must be text without control characters; got a value with the control character U+202E.'],
    ['a tab', { output_dir: 'a\tb' }, 'Parameter "output_dir" must be a path without control characters (NUL, newline, tab…); got a value with the control character U+0009.'],
    ['command substitution for a partition', { partition: '$(touch /tmp/x)' }, 'Parameter "partition" must be text matching [A-Za-z0-9_.-]+; got "$(touch /tmp/x)".'],
    ['a space in a partition', { partition: 'gpu normal' }, 'Parameter "partition" must be text matching [A-Za-z0-9_.-]+; got "gpu normal".'],
    ['a quote in a gres', { gres: "gpu:1' --wrap='id" }, `Parameter "gres" must be text matching [A-Za-z0-9_:,.-]*; got "gpu:1' --wrap='id".`],
    ['a semicolon in modules', { modules: 'cuda; rm -rf ~' }, 'Parameter "modules" must be text matching [A-Za-z0-9._+/@:-]+(?: +[A-Za-z0-9._+/@:-]+)*|; got "cuda; rm -rf ~".'],
    ['a 100 kB value', { data_dir: 'x'.repeat(100_000) }, 'Parameter "data_dir" is 100000 bytes long; values are limited to 4096 bytes.'],
    ['4097 bytes of unicode', { output_dir: 'é'.repeat(2049) }, 'Parameter "output_dir" is 4098 bytes long; values are limited to 4096 bytes.'],
    ['a misspelt parameter', { epoch: '2' }, `Template "cnn_train" has no parameter "epoch" (did you mean "epochs"?); its parameters are ${'partition, time, cpus, mem, gres, account, constraint, epochs, batch_size, lr, data_dir, output_dir, synthetic, seed, image, bind, modules, python, container_python'}.`],
    ['a hostile parameter name', { '$(touch /tmp/x)': '1' }, `Template "cnn_train" has no parameter "$(touch /tmp/x)"; its parameters are ${'partition, time, cpus, mem, gres, account, constraint, epochs, batch_size, lr, data_dir, output_dir, synthetic, seed, image, bind, modules, python, container_python'}.`],
    ['a parameter given twice', { batch_size: '32', 'batch-size': '64' }, 'Parameter "batch_size" is given twice.'],
  ];
  it.each(bad)('%s', (_label, raw, want) => {
    const err = errorOf(cnn, raw);
    expect(err.message).toBe(want);
    expect(err.problems).toEqual([want]);
    expect(isRelayError(err, 'USAGE')).toBe(true);
    expectOneSentence(err.message);
  });

  it('names the parameter it is about', () => {
    expect(errorOf(cnn, { lr: 'x' }).param).toBe('lr');
    expect(errorOf(cnn, { lrate: 'x' }).param).toBe('lrate');
  });

  it('shows a long bad value cut short', () => {
    const err = errorOf(cnn, { epochs: '9'.repeat(500) });
    expect(err.message).toBe(`Parameter "epochs" must be a whole number from 1 to 1000; got "${'9'.repeat(60)}…".`);
  });

  it('lists every problem, one sentence each', () => {
    const err = errorOf(cnn, { epochs: 'x', lr: 'y', colour: 'red' });
    expect(err.problems).toHaveLength(3);
    for (const p of err.problems) expectOneSentence(p);
    expect(err.message).toBe(err.problems.join(' '));
  });

  it('asks for a required parameter, saying what it is', () => {
    const err = errorOf(python, {});
    expect(err.message).toBe('Parameter "script" is required: the Python script to run.');
    expectOneSentence(err.message);
    expect(errorOf(python, { script: '' }).message).toBe(err.message);
  });

  it('refuses rest arguments with an unclosed quote and a grid without values', () => {
    expect(errorOf(python, { script: 'a.py', args: `--name 'unclosed` }).message).toBe(`Parameter "args" has a ' quote that is never closed: "--name 'unclosed".`);
    expect(errorOf(sweep, { grid: 'lr' }).message).toBe('Parameter "grid" has an axis "lr" without =values (write it like lr=1,2); write it like lr=0.1,0.01 batch_size=64,128.');
    expect(errorOf(sweep, { grid: 'lr=0.1,,0.2' }).message).toBe('Parameter "grid" has an empty value in axis "lr"; write it like lr=0.1,0.01 batch_size=64,128.');
    expect(errorOf(sweep, { grid: 'a=1,2,3,4,5,6,7,8,9,10,11 b=1,2,3,4,5,6,7,8,9,10,11 c=1,2,3,4,5,6,7,8,9,10,11' }).message)
      .toBe('Parameter "grid" makes 1331 combinations; a sweep may have at most 1000; write it like lr=0.1,0.01 batch_size=64,128.');
    expect(errorOf(sweep, { grid: '$(id)=1' }).message).toMatch(/^Parameter "grid" has an axis name "\$\(id\)" that is not an option name/);
  });
});

describe('the notations underneath', () => {
  it('parses and writes SLURM durations', () => {
    expect(parseDuration('5')).toBe(300);
    expect(parseDuration('5:30')).toBe(330);
    expect(parseDuration('1:00:00')).toBe(3600);
    expect(parseDuration('2-00')).toBe(172800);
    expect(parseDuration('1-00:30')).toBe(88200);
    expect(parseDuration('UNLIMITED')).toBeNull();
    expect(parseDuration('1:60')).toBeNull();
    expect(formatDuration(5400 * 1.5)).toBe('02:15:00');
    expect(formatDuration(86400 * 2 + 61)).toBe('2-00:01:01');
  });

  it('parses and writes memory sizes (KiB inside)', () => {
    expect(parseMemory('512K')).toBe(512);
    expect(parseMemory('2G')).toBe(2 * 1024 * 1024);
    expect(parseMemory('2gib')).toBe(2 * 1024 * 1024);
    expect(parseMemory('0')).toBeNull();
    expect(formatMemory(parseMemory('2G')! * 1.5)).toBe('3G');
    expect(formatMemory(parseMemory('3G')! * 1.5)).toBe('4608M');
    expect(formatMemory(100)).toBe('100K');
  });

  it('splits words like a shell would, expanding nothing', () => {
    expect(splitWords(`--epochs 2 --note "two words" 'it''s' a\\ b "q\\"q" $HOME * \`id\``)).toEqual({
      ok: true, value: ['--epochs', '2', '--note', 'two words', 'its', 'a b', 'q"q', '$HOME', '*', '`id`'],
    });
    expect(splitWords('  ')).toEqual({ ok: true, value: [] });
    expect(splitWords(`''`)).toEqual({ ok: true, value: [''] });
    expect(splitWords('a\\')).toEqual({ ok: false, problem: 'ends with a lone backslash' });
  });

  it('expands a grid in itertools.product order', () => {
    const g = parseGrid('lr=0.1,0.01; batch_size=64,128');
    expect(g.ok && g.value.tasks).toEqual([
      { lr: '0.1', batch_size: '64' }, { lr: '0.1', batch_size: '128' }, { lr: '0.01', batch_size: '64' }, { lr: '0.01', batch_size: '128' },
    ]);
  });
});
