import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Core } from '../../main/core/index.js';
import type { ClusterService } from '../../main/core/cluster/cluster-service.js';
import { TemplateError, findTemplate, loadTemplates, renderJob } from '../../main/core/templates/index.js';
import type { JobTemplate, RawValue, RenderedJob } from '../../main/core/templates/index.js';
import { testbedCore } from '../helpers/testbed-core.js';

/**
 * The templates on the real testbed: rendered by the core, uploaded and submitted over the core's
 * one SSH session (argv only), run by SLURM with Debian's python3-torch on CPU, checked in sacct.
 */
const tb = inject('testbed');
const TEMPLATES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates');
const TERMINAL = /^(COMPLETED|FAILED|CANCELLED|TIMEOUT|OUT_OF_MEMORY|NODE_FAIL|PREEMPTED|BOOT_FAIL|DEADLINE)/;
const POLL_MS = 2_000;
const WAIT_MS = 150_000;

let core: Core;
let cluster: ClusterService;
let templates: JobTemplate[];
let base: string;

beforeAll(async () => {
  core = testbedCore(tb);
  cluster = core.cluster();
  templates = await loadTemplates(TEMPLATES);
  base = (await cluster.run(['sh', '-c', 'mkdir -p "$HOME/hpc-relay-tests" && mktemp -d "$HOME/hpc-relay-tests/templates-XXXXXX"'])).trim();
});
afterAll(async () => {
  if (base) await cluster.exec(['rm', '-rf', '--', base]).catch(() => undefined);
  await core.close();
});

/** Upload by exec with the content on stdin (the path is an argument, never shell text). */
async function upload(remotePath: string, content: string | Buffer): Promise<void> {
  const r = await cluster.exec(['sh', '-c', 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', 'sh', remotePath], { stdin: content });
  expect(r.code, r.stderr).toBe(0);
}

async function readRemote(remotePath: string): Promise<string> {
  return cluster.run(['cat', '--', remotePath]);
}

interface Submitted { jobId: string; dir: string; job: RenderedJob; template: JobTemplate }

/** Renders, uploads into a fresh job directory and runs `sbatch --parsable <sbatchArgs> script <scriptArgs>`. */
async function submit(templateId: string, raw: Record<string, RawValue>): Promise<Submitted> {
  const template = findTemplate(templates, templateId);
  const dir = (await cluster.run(['mktemp', '-d', `${base}/${templateId}-XXXXXX`])).trim();
  const job = renderJob(template, raw, { workDir: dir });
  await upload(`${dir}/${template.script}`, job.script);
  for (const f of job.files) await upload(`${dir}/${f.name}`, f.content);
  const out = await cluster.run(['sbatch', '--parsable', ...job.sbatchArgs, `--output=${dir}/slurm-${job.array ? '%A_%a' : '%j'}.out`, `${dir}/${template.script}`, ...job.scriptArgs]);
  const jobId = out.trim().split(';')[0] ?? '';
  expect(jobId).toMatch(/^\d+$/);
  return { jobId, dir, job, template };
}

interface Row { id: string; name: string; state: string; exitCode: string }

/** Polls sacct every 2 s until every row of the job (each array task) is in a final state. */
async function waitForEnd(s: Submitted, tasks = 1): Promise<Row[]> {
  const deadline = Date.now() + WAIT_MS;
  let rows: Row[] = [];
  while (Date.now() < deadline) {
    const out = await cluster.run(['sacct', '-j', s.jobId, '-X', '-n', '-P', '-o', 'JobID,JobName,State,ExitCode']);
    rows = out.trim().split('\n').filter((l) => l !== '').map((l) => {
      const [id = '', name = '', state = '', exitCode = ''] = l.split('|');
      return { id, name, state, exitCode };
    });
    // slurmdbd may briefly hold a just-ended job as JobName "allocation" until its full record lands.
    if (rows.length === tasks && rows.every((r) => TERMINAL.test(r.state) && r.name === s.job.jobName)) return rows;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const queue = await cluster.exec(['squeue', '--me', '-o', '%i %T %R']);
  const logs = await cluster.exec(['sh', '-c', 'tail -n 20 "$1"/slurm-*.out', 'sh', s.dir]);
  throw new Error(`job ${s.jobId} did not finish within ${WAIT_MS / 1000} s: sacct ${JSON.stringify(rows)}; squeue ${queue.stdout}; log ${logs.stdout}${logs.stderr}`);
}

/** Which of these remote paths exist. */
async function existing(paths: string[]): Promise<string[]> {
  const out = await cluster.run(['sh', '-c', 'for f do if [ -e "$f" ]; then printf "%s\\n" "$f"; fi; done', 'sh', ...paths]);
  return out.split('\n').filter(Boolean);
}

function csvRows(text: string): string[][] {
  return text.trim().split('\n').map((l) => l.split(','));
}

interface Summary { complete: boolean; best_val_acc: number; best_epoch: number; data: string; args: Record<string, unknown>; final: Record<string, number> }

describe('templates on the real SLURM testbed (over the core\'s SSH session)', () => {
  it('runs cnn_train with its defaults and epochs=2, lr=0.01: COMPLETED, metrics.csv with 2 rows, summary.json with the best val_acc', async () => {
    const s = await submit('cnn_train', { epochs: '2', lr: '0.01' });
    expect(s.job.sbatchArgs).toContain('--partition=gpu_normal');
    expect(s.job.sbatchArgs.some((a) => a.startsWith('--gres'))).toBe(false);

    const [row] = await waitForEnd(s);
    const log = await readRemote(`${s.dir}/slurm-${s.jobId}.out`);
    expect(row, log).toMatchObject({ id: s.jobId, name: 'hpc-relay-cnn_train', state: 'COMPLETED', exitCode: '0:0' });
    expect(log).toContain('hpc-relay: runner=host python=/usr/bin/python3');
    expect(log).toMatch(/data: synthetic \(CIFAR-10 not found under 'data'\)/);
    expect(log.split('\n').filter((l) => /^epoch=\d+ train_loss=[\d.]+ train_acc=[\d.]+ val_loss=[\d.]+ val_acc=[\d.]+/.test(l))).toHaveLength(2);

    const metrics = csvRows(await readRemote(`${s.dir}/results/metrics.csv`));
    expect(metrics[0]).toEqual(['epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc']);
    expect(metrics.slice(1).map((r) => r[0])).toEqual(['1', '2']);
    const summary = JSON.parse(await readRemote(`${s.dir}/results/summary.json`)) as Summary;
    const valAccs = metrics.slice(1).map((r) => Number(r[4]));
    expect(summary).toMatchObject({ complete: true, data: 'synthetic', args: { epochs: 2, lr: 0.01 } });
    expect(summary.best_val_acc).toBeGreaterThan(0);
    expect(summary.best_val_acc).toBeCloseTo(Math.max(...valAccs), 5);
    expect([1, 2]).toContain(summary.best_epoch);
    const ls = await cluster.run(['ls', '--', `${s.dir}/results`]);
    expect(ls.split('\n').filter(Boolean).sort()).toEqual(['best_model.pth', 'metrics.csv', 'summary.json']);
  }, 240_000);

  it('refuses a hostile value that cannot be data, and passes one that can to python literally: no marker appears', async () => {
    const probe = `${base}/probe`;
    // A newline can never be part of a path here: refused before anything reaches the cluster.
    expect(() => renderJob(findTemplate(templates, 'cnn_train'), { data_dir: `/tmp/x\ntouch ${probe}/MARKER0` })).toThrow(TemplateError);

    const marker = `${base}/MARKER`;
    const dataDir = `/tmp/x; touch ${marker}`;
    const outDir = `out $(touch ${marker}2) \`touch ${marker}3\` 'q"`;
    const s = await submit('cnn_train', {
      epochs: 1, cpus: 1, synthetic: 'true', data_dir: dataDir, output_dir: outDir, image: `$(touch ${marker}4).sif`, bind: `/x;touch ${marker}5`,
    });
    const [row] = await waitForEnd(s);
    const log = await readRemote(`${s.dir}/slurm-${s.jobId}.out`);
    expect(row, log).toMatchObject({ state: 'COMPLETED', exitCode: '0:0' });
    expect(log).toContain(`hpc-relay: image=$(touch ${marker}4).sif is set, but neither apptainer nor singularity is on PATH: running on the host`);

    // The output directory exists under exactly that name, and python saw data_dir unchanged.
    const summary = JSON.parse(await readRemote(`${s.dir}/${outDir}/summary.json`)) as Summary;
    expect(summary.args).toMatchObject({ data_dir: dataDir, output_dir: outDir, synthetic: true });
    // (The output directory's own name contains the marker paths as text, so look for the exact files.)
    expect(await existing([marker, `${marker}2`, `${marker}3`, `${marker}4`, `${marker}5`, `${probe}/MARKER0`])).toEqual([]);
  }, 240_000);

  it('runs a sweep as a job array: each task its own grid values and results directory', async () => {
    const s = await submit('sweep', { grid: 'lr=0.01,0.05', max_parallel: 2, args: '--epochs=1 --synthetic --synthetic_train=256 --synthetic_val=64', cpus: 1 });
    expect(s.job.sbatchArgs).toContain('--array=0-1%2');
    const rows = await waitForEnd(s, 2);
    expect(rows.map((r) => [r.id, r.name, r.state, r.exitCode]).sort()).toEqual([
      [`${s.jobId}_0`, 'hpc-relay-sweep', 'COMPLETED', '0:0'],
      [`${s.jobId}_1`, 'hpc-relay-sweep', 'COMPLETED', '0:0'],
    ]);
    for (const [task, lr] of [[0, 0.01], [1, 0.05]] as const) {
      const summary = JSON.parse(await readRemote(`${s.dir}/sweep_results/task_${task}/summary.json`)) as Summary;
      expect(summary).toMatchObject({ complete: true, args: { lr, epochs: 1 } });
      expect(csvRows(await readRemote(`${s.dir}/sweep_results/task_${task}/metrics.csv`))).toHaveLength(2);
      const log = await readRemote(`${s.dir}/slurm-${s.jobId}_${task}.out`);
      expect(log).toContain(`hpc-relay: job ${s.jobId}_${task} on ${tb.nodeName}`);
    }
  }, 240_000);

  it('runs any script with python.slurm, its arguments arriving exactly as typed', async () => {
    const scriptDir = `${base}/scripts`;
    await upload(`${scriptDir}/show args.py`, 'import json, sys\nprint("ARGV=" + json.dumps(sys.argv[1:]))\n');
    const marker = `${base}/PYMARKER`;
    const s = await submit('python', {
      script: 'show args.py', workdir: scriptDir, cpus: 1, time: '2',
      args: `--lr 0.01 'two words' "$(touch ${marker})" \\; touch ${marker}2 '*'`,
    });
    const [row] = await waitForEnd(s);
    const log = await readRemote(`${s.dir}/slurm-${s.jobId}.out`);
    expect(row, log).toMatchObject({ name: 'hpc-relay-python', state: 'COMPLETED', exitCode: '0:0' });
    const argv = JSON.parse(/^ARGV=(.*)$/m.exec(log)?.[1] ?? 'null') as unknown;
    expect(argv).toEqual(['--lr', '0.01', 'two words', `$(touch ${marker})`, ';', 'touch', `${marker}2`, '*']);
    expect(await existing([marker, `${marker}2`])).toEqual([]);
  }, 240_000);
});
