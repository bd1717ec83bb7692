import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import { buildWrapper, directive, parseDirectives, scriptHeader } from '../../main/core/slurm/wrapper-script.js';
import { getOption, hasOption, parseSbatchParsable, sbatchArgv, sbatchFailure, setOption, checkSbatchArgs } from '../../main/core/slurm/sbatch.js';
import { makeHome } from '../helpers/temp-home.js';

/** Runs the wrapper with a real bash, as slurmd would, and returns what it reported. */
function runWrapped(script: string, args: string[] = [], env: Record<string, string> = { SLURM_JOB_ID: '4242' }) {
  const dir = makeHome('wrapper');
  const user = path.join(dir, 'job.sh');
  fs.writeFileSync(user, script, { mode: 0o700 });
  const wrapper = path.join(dir, 'relay-wrapper.sh');
  fs.writeFileSync(wrapper, buildWrapper(script).wrapper, { mode: 0o700 });
  const events = path.join(dir, 'events.log');
  const r = spawnSync('/bin/bash', [wrapper, events, user, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' });
  const lines = fs.existsSync(events) ? fs.readFileSync(events, 'utf8').split('\n').filter(Boolean) : [];
  return { status: r.status, signal: r.signal, stdout: r.stdout, lines, dir };
}

describe('the job wrapper (run by a real bash)', () => {
  it('reports "<job> 0 <epoch>" and exits 0 for a script that succeeds', () => {
    const r = runWrapped('#!/bin/sh\necho hello\n');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('hello\n');
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^4242 0 \d{10}$/);
    expect(Math.abs(Number(r.lines[0]!.split(' ')[2]) - Date.now() / 1000)).toBeLessThan(5);
  });

  it('keeps the exit code of a failing script (exit 3)', () => {
    const r = runWrapped('#!/bin/bash\nexit 3\n');
    expect(r.status).toBe(3);
    expect(r.lines).toEqual([expect.stringMatching(/^4242 3 \d+$/)]);
  });

  it('survives the script using set -e (and its own EXIT trap), and keeps its status', () => {
    const r = runWrapped('#!/bin/bash\nset -euo pipefail\ntrap "echo own-trap" EXIT\nfalse\necho never\n');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('own-trap\n');
    expect(r.lines).toEqual([expect.stringMatching(/^4242 1 /)]);
  });

  it('dies of the same signal as the script, so SLURM records 0:9 and not 137:0', () => {
    const r = runWrapped('#!/bin/sh\nkill -9 $$\n');
    expect(r.status).toBeNull();
    expect(r.signal).toBe('SIGKILL');
    expect(r.lines).toEqual([expect.stringMatching(/^4242 137 /)]);
  });

  it('still reports when SLURM signals every process of the job at once (scancel, TIMEOUT), exiting 143', async () => {
    const dir = makeHome('wrapper-term');
    const user = path.join(dir, 'job.sh');
    const script = '#!/bin/sh\necho started\nsleep 300\n';
    fs.writeFileSync(user, script, { mode: 0o700 });
    const wrapper = path.join(dir, 'relay-wrapper.sh');
    fs.writeFileSync(wrapper, buildWrapper(script).wrapper, { mode: 0o700 });
    const events = path.join(dir, 'events.log');
    const child = spawn('/bin/bash', [wrapper, events, user], { detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SLURM_JOB_ID: '77' }, stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    process.kill(-child.pid!, 'SIGTERM');
    expect(await exited).toBe(143);
    expect(fs.readFileSync(events, 'utf8')).toMatch(/^77 143 \d{10}\n$/);
  });

  it('names array tasks <array job>_<task> and runs non-shell interpreters', () => {
    const r = runWrapped('#!/usr/bin/env python3\nimport sys\nprint(sys.argv[1:])\n', ['a b', '$(x)'], { SLURM_JOB_ID: '901', SLURM_ARRAY_JOB_ID: '900', SLURM_ARRAY_TASK_ID: '7' });
    expect(r.stdout).toBe("['a b', '$(x)']\n");
    expect(r.lines).toEqual([expect.stringMatching(/^900_7 0 /)]);
  });

  it('passes hostile arguments to the script as data: no marker file appears', () => {
    const dir = makeHome('wrapper-marker');
    const marker = path.join(dir, 'pwned');
    const hostile = [`$(touch ${marker})`, `\`touch ${marker}\``, `'; touch ${marker}; '`, `a\nb; touch ${marker}`];
    const r = runWrapped('#!/bin/sh\nfor a in "$@"; do printf "[%s]" "$a"; done\n', hostile);
    expect(r.stdout).toBe(hostile.map((h) => `[${h}]`).join(''));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('copies the #SBATCH header (comments only) ahead of the fixed body, and reads its directives', () => {
    const script = '#!/bin/bash\n# a comment\n\n#SBATCH --job-name=train\n#SBATCH -t 10\n#SBATCH --array=0-3%2\n#SBATCH --mem 2G # two gigs\nset -e\n#SBATCH --late=ignored\n';
    expect(scriptHeader(script)).toEqual(['# a comment', '#SBATCH --job-name=train', '#SBATCH -t 10', '#SBATCH --array=0-3%2', '#SBATCH --mem 2G # two gigs']);
    const { wrapper, directives } = buildWrapper(script);
    expect(wrapper.startsWith('#!/bin/bash\n# a comment\n#SBATCH --job-name=train\n')).toBe(true);
    expect(wrapper).not.toContain('--late');
    expect(directives).toEqual(parseDirectives(scriptHeader(script)));
    expect(directive(directives, '--job-name')).toBe('train');
    expect(directive(directives, '--time')).toBe('10');
    expect(directive(directives, '--array')).toBe('0-3%2');
    expect(directive(directives, '--mem')).toBe('2G');
  });

  it('refuses a script without #! and a binary', () => {
    for (const bad of ['echo hi\n', '#!/bin/sh\n\0\0']) {
      let err: unknown;
      try { buildWrapper(bad, 'job.sh'); } catch (e) { err = e; }
      expect(isRelayError(err, 'JOB_SCRIPT_INVALID')).toBe(true);
    }
  });
});

describe('sbatch options as data', () => {
  it('reads, replaces and removes options in every form', () => {
    const args = ['--mem=8G', '-t', '10', '--partition', 'gpu_dev', '-pgpu_normal', '--cpus-per-task=2'];
    expect(getOption(args, '--mem')).toBe('8G');
    expect(getOption(args, '--time')).toBe('10');
    expect(getOption(args, '--partition')).toBe('gpu_normal');
    expect(hasOption(args, '--array')).toBe(false);
    expect(setOption(args, '--time', '00:15:00')).toEqual(['--mem=8G', '--partition', 'gpu_dev', '-pgpu_normal', '--cpus-per-task=2', '--time=00:15:00']);
    expect(setOption(args, '--partition', 'gpu_dev')).toEqual(['--mem=8G', '-t', '10', '--cpus-per-task=2', '--partition=gpu_dev']);
    expect(setOption(args, '--mem', null)).toEqual(['-t', '10', '--partition', 'gpu_dev', '-pgpu_normal', '--cpus-per-task=2']);
  });

  it('builds the sbatch argv: the user options first, then where output goes, then wrapper, events file, script and its arguments', () => {
    const argv = sbatchArgv({
      sbatchArgs: ['--mem=100M'], wrapperPath: '/r/jobs/u/relay-wrapper.sh', eventsPath: '/r/events.log', scriptPath: '/r/jobs/u/train.sh', scriptArgs: ['--lr=0.1', '$(x)'],
      chdir: '/r/jobs/u', stdoutPattern: '/r/jobs/u/slurm-%j.out', stderrPattern: '/r/jobs/u/slurm-%j.err', jobName: 'train.sh',
    });
    expect(argv).toEqual(['sbatch', '--parsable', '--mem=100M', '--chdir=/r/jobs/u', '--output=/r/jobs/u/slurm-%j.out', '--error=/r/jobs/u/slurm-%j.err', '--job-name=train.sh',
      '/r/jobs/u/relay-wrapper.sh', '/r/events.log', '/r/jobs/u/train.sh', '--lr=0.1', '$(x)']);
  });

  it('refuses arguments that are not options, and --wrap', () => {
    expect(() => checkSbatchArgs(['--mem=1G', 'other.sh'])).toThrow(/not an sbatch option/);
    expect(() => checkSbatchArgs(['--wrap=rm -rf ~'])).toThrow(/--wrap is not allowed/);
    expect(() => checkSbatchArgs(['--mem=1G'])).not.toThrow();
  });

  it('reads --parsable output and turns refusals into one sentence with a fix', () => {
    expect(parseSbatchParsable('123\n')).toBe('123');
    expect(parseSbatchParsable('123;relaytest\n')).toBe('123');
    expect(() => parseSbatchParsable('Submitted batch job 123')).toThrow(/instead of a job id/);
    const e = sbatchFailure('sbatch: error: Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)\n', 1);
    expect(e.code).toBe('JOB_SUBMIT_FAILED');
    expect(e.message).toBe("sbatch refused the job: Requested time limit is invalid (missing or exceeds some limit). Ask for a time within the partition's limit (see `hpc-relay exec -- sinfo`).");
  });
});
