import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { commandLine } from '../../main/core/cluster/shell-quote.js';
import { GRID_FILE, TemplateError, findTemplate, loadTemplates, renderJob } from '../../main/core/templates/index.js';
import type { JobTemplate, RenderedJob } from '../../main/core/templates/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TEMPLATES = path.join(ROOT, 'templates');
const FIXTURE = path.join(ROOT, 'test/fixtures/templates/minimal');

let cnn: JobTemplate;
let python: JobTemplate;
let sweep: JobTemplate;
let echo: JobTemplate;
beforeAll(async () => {
  const ts = await loadTemplates(TEMPLATES);
  cnn = findTemplate(ts, 'cnn_train');
  python = findTemplate(ts, 'python');
  sweep = findTemplate(ts, 'sweep');
  echo = findTemplate(await loadTemplates(FIXTURE), 'echo');
});

const HOSTILE = [
  '$(touch MARKER)',
  '`touch MARKER`',
  'x; touch MARKER',
  `'; touch MARKER; echo '`,
  '"$(touch MARKER)"',
  'a && touch MARKER || touch MARKER',
  '> MARKER',
  '--image=evil.sif',
  '-rf',
  '*',
  '~/$USER/${HOME}',
  'données ✓ 数据',
  '\\',
];

function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `hpc-relay-${label}-`));
}

/** Writes the rendered script and files into a fresh "job directory", as an upload would. */
function materialize(t: JobTemplate, job: RenderedJob): string {
  const dir = tempDir('job');
  fs.writeFileSync(path.join(dir, t.script), job.script);
  for (const f of job.files) {
    fs.mkdirSync(path.dirname(path.join(dir, f.name)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.name), f.content);
  }
  return dir;
}

/**
 * A PATH holding only what the scripts use (so no real apptainer, singularity or module can
 * interfere), plus fake programs that record their argv NUL-separated in $ARGV_OUT.
 */
function fakeBin(fakes: string[]): string {
  const bin = tempDir('bin');
  for (const tool of ['hostname', 'basename', 'sed']) {
    const real = execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    fs.symlinkSync(real, path.join(bin, tool));
  }
  for (const name of fakes) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash\nprintf '%s\\0' "$(basename "$0")" "$@" > "$ARGV_OUT"\n`, { mode: 0o755 });
  }
  return bin;
}

interface Run { code: number | null; stdout: string; stderr: string; argv: string[] | null }

/** Runs the rendered job's script with its scriptArgs under a real bash, in its job directory. */
function runScript(t: JobTemplate, job: RenderedJob, opts: { fakes?: string[]; env?: Record<string, string>; dir?: string } = {}): Run & { dir: string } {
  const dir = opts.dir ?? materialize(t, job);
  const bin = fakeBin(opts.fakes ?? []);
  const out = path.join(tempDir('argv'), 'argv');
  const r = spawnSync('/bin/bash', [path.join(dir, t.script), ...job.scriptArgs], {
    cwd: dir, encoding: 'utf8', env: { PATH: bin, HOME: '/home/nobody', ARGV_OUT: out, ...opts.env }, timeout: 20_000,
  });
  const argv = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\0').slice(0, -1) : null;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, argv, dir };
}

describe('renderJob', () => {
  it('renders cnn_train with its defaults: sbatch options and script arguments, all argv', () => {
    const job = renderJob(cnn, { epochs: '2', lr: '0.01' });
    expect(job.templateId).toBe('cnn_train');
    expect(job.jobName).toBe('hpc-relay-cnn_train');
    expect(job.sbatchArgs).toEqual(['--job-name=hpc-relay-cnn_train', '--partition=gpu_normal', '--time=00:10:00', '--cpus-per-task=2', '--mem=2G']);
    expect(job.scriptArgs).toEqual([
      '--epochs=2', '--batch_size=64', '--lr=0.01', '--data_dir=data', '--output_dir=results', '--no-synthetic', '--seed=0',
      '--python=/usr/bin/python3', '--container_python=python3',
    ]);
    expect(job.params).toMatchObject({ epochs: 2, lr: 0.01, gres: '', mem: '2G' });
    expect(job.array).toBeUndefined();
  });

  it("carries the script's exact bytes and the files' exact bytes", () => {
    const job = renderJob(cnn, {});
    expect(Buffer.from(job.script, 'utf8').equals(fs.readFileSync(path.join(TEMPLATES, 'cnn_train.slurm')))).toBe(true);
    expect(job.files).toHaveLength(1);
    expect(job.files[0]!.name).toBe('train_cnn.py');
    expect(job.files[0]!.content.equals(fs.readFileSync(path.join(TEMPLATES, 'train_cnn.py')))).toBe(true);
  });

  it('puts resources in sbatchArgs (gres only when set, a workDir as --chdir) and refuses a relative workDir', () => {
    const job = renderJob(cnn, { gres: 'gpu:1', partition: 'gpu_dev', time: '90', mem: '4g', cpus: 8, account: 'relaylab' }, { workDir: '/scratch/me/hpc-relay/jobs/42' });
    expect(job.sbatchArgs).toEqual([
      '--job-name=hpc-relay-cnn_train', '--chdir=/scratch/me/hpc-relay/jobs/42', '--partition=gpu_dev', '--time=01:30:00',
      '--cpus-per-task=8', '--mem=4G', '--gres=gpu:1', '--account=relaylab',
    ]);
    expect(job.scriptArgs.some((a) => /partition|gres|mem|time|cpus/.test(a))).toBe(false);
    expect(() => renderJob(cnn, {}, { workDir: '~/jobs' })).toThrow(`The job's working directory must be an absolute path on the cluster; got "~/jobs".`);
  });

  it('renders bools, enums, empty strings, missing values and rest arguments (fixture)', () => {
    const job = renderJob(echo, { target: 'there', exclusive: 'yes', verbose: 'no', mode: 'slow', extra: `--a 1 'b c' "$(d)"` });
    expect(job.sbatchArgs).toEqual(['--job-name=hpc-relay-echo', '--partition=gpu_dev', '--exclusive']);
    expect(job.scriptArgs).toEqual(['--mode=slow', '--no-verbose', '--target=there', '--', '--a', '1', 'b c', '$(d)']);
    expect(job.files).toEqual([{ name: 'notes/readme.txt', content: Buffer.from('fixture file\n') }]);
    const plain = renderJob(echo, { target: 't', mem: '1G', label: 'x y' });
    expect(plain.sbatchArgs).toEqual(['--job-name=hpc-relay-echo', '--partition=gpu_dev', '--mem=1G']);
    expect(plain.scriptArgs).toEqual(['--mode=fast', '--verbose', '--label=x y', '--target=t']);
  });

  it('refuses bad values before rendering anything', () => {
    expect(() => renderJob(cnn, { epochs: 'two' })).toThrow(TemplateError);
    expect(() => renderJob(echo, {})).toThrow('Parameter "target" is required: where to look.');
  });

  it('needs a directory for a template it did not load', () => {
    const { dir: _dir, ...bare } = cnn;
    expect(() => renderJob(bare, {})).toThrow('Template "cnn_train" was not loaded from a directory; pass templatesDir to renderJob.');
    expect(renderJob(bare, {}, { templatesDir: TEMPLATES }).script.startsWith('#!/bin/bash')).toBe(true);
  });

  it('puts each hostile value into exactly one argv element, unchanged, and sh passes the command line through verbatim', () => {
    for (const v of HOSTILE) {
      const job = renderJob(cnn, { data_dir: v, output_dir: `out/${v}`, image: v, bind: v });
      expect(job.scriptArgs).toContain(`--data_dir=${v}`);
      expect(job.scriptArgs).toContain(`--output_dir=out/${v}`);
      expect(job.scriptArgs).toContain(`--image=${v}`);
      expect(job.scriptArgs).toContain(`--bind=${v}`);
      const argv = ['sbatch', '--parsable', ...job.sbatchArgs, 'cnn_train.slurm', ...job.scriptArgs];
      const back = execFileSync('/bin/sh', ['-c', `set -- ${commandLine(argv)}; printf '%s\\0' "$@"`], { encoding: 'utf8' });
      expect(back.split('\0').slice(0, -1)).toEqual(argv);
    }
  });

  it('renders a sweep as a job array with a grid file, one tab-separated line per task', () => {
    const job = renderJob(sweep, { grid: 'lr=0.1,0.01 batch_size=32,64', max_parallel: '3', args: '--epochs=1 --synthetic' });
    expect(job.sbatchArgs).toEqual(['--job-name=hpc-relay-sweep', '--partition=gpu_normal', '--time=00:10:00', '--cpus-per-task=1', '--mem=2G', '--array=0-3%3']);
    expect(job.scriptArgs).toEqual([
      '--script=train_cnn.py', '--output_dir=sweep_results', '--python=/usr/bin/python3', '--container_python=python3', '--', '--epochs=1', '--synthetic',
    ]);
    expect(job.files.map((f) => f.name)).toEqual(['train_cnn.py', GRID_FILE]);
    expect(job.files[1]!.content.toString()).toBe('--lr=0.1\t--batch_size=32\n--lr=0.1\t--batch_size=64\n--lr=0.01\t--batch_size=32\n--lr=0.01\t--batch_size=64\n');
    expect(job.array).toEqual({ size: 4, limit: 3, tasks: [
      { lr: '0.1', batch_size: '32' }, { lr: '0.1', batch_size: '64' }, { lr: '0.01', batch_size: '32' }, { lr: '0.01', batch_size: '64' },
    ] });
    expect(renderJob(sweep, { max_parallel: 0 }).sbatchArgs.at(-1)).toBe('--array=0-2');
  });
});

describe('the scripts receive every value as data (real bash, fake python and apptainer)', () => {
  it('cnn_train.slurm forwards the training options to python unchanged, runs on the host and says so', () => {
    for (const v of HOSTILE) {
      const job = renderJob(cnn, { data_dir: v, output_dir: v, epochs: 3, synthetic: true, python: 'fakepython', image: '' });
      const r = runScript(cnn, job, { fakes: ['fakepython'] });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('hpc-relay: runner=host python=fakepython\n');
      expect(r.argv).toEqual(['fakepython', '-u', path.join(r.dir, 'train_cnn.py'),
        '--epochs=3', '--batch_size=64', '--lr=0.01', `--data_dir=${v}`, `--output_dir=${v}`, '--synthetic', '--seed=0']);
      expect(fs.readdirSync(r.dir).sort()).toEqual(['cnn_train.slurm', 'train_cnn.py']);
    }
  });

  it('cnn_train.slurm runs inside the container with --nv --cleanenv and minimal binds when apptainer is there', () => {
    const job = renderJob(cnn, { image: '~/images/pytorch.sif', bind: '/scratch/me/cifar10:/data', data_dir: '/data', epochs: 1 });
    const r = runScript(cnn, job, { fakes: ['apptainer'], env: { SLURM_CPUS_PER_TASK: '2' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hpc-relay: runner=container (apptainer exec --nv --cleanenv) image=/home/nobody/images/pytorch.sif python=python3\n');
    expect(r.argv).toEqual(['apptainer', 'exec', '--nv', '--cleanenv', '--bind', r.dir, '--bind', '/scratch/me/cifar10:/data', '--pwd', r.dir,
      '/home/nobody/images/pytorch.sif', 'python3', '-u', path.join(r.dir, 'train_cnn.py'),
      '--epochs=1', '--batch_size=64', '--lr=0.01', '--data_dir=/data', '--output_dir=results', '--no-synthetic', '--seed=0']);
  });

  it('cnn_train.slurm uses singularity when that is the runtime there is, binding only the job directory by default', () => {
    const r = runScript(cnn, renderJob(cnn, { image: 'docker://pytorch/pytorch' }), { fakes: ['singularity'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.argv?.slice(0, 8)).toEqual(['singularity', 'exec', '--nv', '--cleanenv', '--bind', r.dir, '--pwd', r.dir]);
  });

  it('cnn_train.slurm falls back to python on the host when an image is set but no runtime exists, and says why', () => {
    const r = runScript(cnn, renderJob(cnn, { image: '$(touch MARKER).sif', python: 'fakepython' }), { fakes: ['fakepython'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hpc-relay: image=$(touch MARKER).sif is set, but neither apptainer nor singularity is on PATH: running on the host\n');
    expect(r.argv?.[0]).toBe('fakepython');
    expect(fs.existsSync(path.join(r.dir, 'MARKER'))).toBe(false);
  });

  it('cnn_train.slurm finds its files in $SLURM_SUBMIT_DIR and explains a missing train_cnn.py', () => {
    const job = renderJob(cnn, { python: 'fakepython' });
    const uploaded = materialize(cnn, job);
    const elsewhere = tempDir('cwd');
    fs.copyFileSync(path.join(uploaded, 'cnn_train.slurm'), path.join(elsewhere, 'cnn_train.slurm'));
    const ok = runScript(cnn, job, { fakes: ['fakepython'], dir: elsewhere, env: { SLURM_SUBMIT_DIR: uploaded } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.argv?.[2]).toBe(path.join(uploaded, 'train_cnn.py'));
    const lost = runScript(cnn, job, { fakes: ['fakepython'], dir: elsewhere });
    expect(lost.code).toBe(2);
    expect(lost.stderr).toBe(`hpc-relay: error: train_cnn.py is not in ${elsewhere}: submit with --chdir=<the directory it was uploaded to>.\n`);
  });

  it('cnn_train.slurm says so when modules are asked for and there is no module command', () => {
    const r = runScript(cnn, renderJob(cnn, { modules: 'singularity cuda/12.1', python: 'fakepython' }), { fakes: ['fakepython'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`hpc-relay: error: modules="singularity cuda/12.1" was asked for, but this node has no 'module' command.\n`);
    expect(r.argv).toBeNull();
  });

  it('python.slurm runs the given script with its arguments after --, exactly as typed', () => {
    const job = renderJob(python, { script: 'my script.py', args: `--name 'two words' "$(touch MARKER)" \\$HOME '*' --` , python: 'fakepython' });
    const dir = materialize(python, job);
    fs.writeFileSync(path.join(dir, 'my script.py'), 'print("hi")\n');
    const r = runScript(python, job, { fakes: ['fakepython'], dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('hpc-relay: runner=host python=fakepython script=my script.py\n');
    expect(r.argv).toEqual(['fakepython', '-u', 'my script.py', '--name', 'two words', '$(touch MARKER)', '$HOME', '*', '--']);
  });

  it('python.slurm changes to workdir first and refuses options it does not know', () => {
    const work = tempDir('work');
    fs.writeFileSync(path.join(work, 'run.py'), '');
    const job = renderJob(python, { script: 'run.py', workdir: work, python: 'fakepython' });
    const r = runScript(python, job, { fakes: ['fakepython'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`in ${work}\n`);
    const bad = runScript(python, { ...job, scriptArgs: ['--script=run.py', '--evil=1'] }, { fakes: ['fakepython'] });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe("hpc-relay: error: unknown option --evil=1; the script's own arguments go after --.\n");
  });

  it('sweep.slurm gives each array task its own grid values and output directory', () => {
    const job = renderJob(sweep, { grid: 'lr=0.1,0.01 batch_size=32,64', args: `--epochs=1 --synthetic --note='$(touch MARKER)'`, python: 'fakepython' });
    const dir = materialize(sweep, job);
    for (const [task, lr, bs] of [[0, '0.1', '32'], [3, '0.01', '64']] as const) {
      const r = runScript(sweep, job, { fakes: ['fakepython'], dir, env: { SLURM_ARRAY_TASK_ID: String(task), SLURM_ARRAY_JOB_ID: '77' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`hpc-relay: job 77_${task} on `);
      expect(r.argv).toEqual(['fakepython', '-u', 'train_cnn.py', '--epochs=1', '--synthetic', '--note=$(touch MARKER)',
        `--output_dir=sweep_results/task_${task}`, `--lr=${lr}`, `--batch_size=${bs}`]);
    }
    expect(fs.existsSync(path.join(dir, 'MARKER'))).toBe(false);
    const beyond = runScript(sweep, job, { fakes: ['fakepython'], dir, env: { SLURM_ARRAY_TASK_ID: '4' } });
    expect(beyond.stderr).toBe(`hpc-relay: error: ${GRID_FILE} has no line for array task 4.\n`);
    const notArray = runScript(sweep, job, { fakes: ['fakepython'], dir, env: { SLURM_ARRAY_TASK_ID: '1;id' } });
    expect(notArray.stderr).toBe('hpc-relay: error: sweep.slurm runs as a job array: submit it with --array=0-<N-1> (HPC Relay does).\n');
  });
});
