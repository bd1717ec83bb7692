import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * train_cnn.py for real, on CPU, with Debian's python3-torch (/usr/bin/python3; the testbed's
 * packages install it, so CI has it). Synthetic data keeps each run to a few seconds.
 */
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../templates/train_cnn.py');
const PYTHON = '/usr/bin/python3';

function run(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { cwd, env: { ...process.env, OMP_NUM_THREADS: '2' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Summary {
  complete: boolean;
  best_val_acc: number;
  best_epoch: number;
  final: { epoch: number; train_loss: number; train_acc: number; val_loss: number; val_acc: number };
  data: string;
  device: string;
  args: Record<string, unknown>;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'hpc-relay-cnn-'));
}

describe('train_cnn.py (real PyTorch on CPU)', () => {
  it('trains 2 epochs on synthetic data and writes metrics.csv, best_model.pth and summary.json', async () => {
    const cwd = tempDir();
    const r = await run(['--synthetic', '--epochs', '2', '--batch_size', '64', '--lr', '0.01', '--output_dir', 'out'], cwd);
    expect(r.code, r.stderr).toBe(0);

    const epochLines = r.stdout.split('\n').filter((l) => l.startsWith('epoch='));
    expect(epochLines).toHaveLength(2);
    for (const [i, line] of epochLines.entries()) {
      expect(line).toMatch(new RegExp(`^epoch=${i + 1} train_loss=[\\d.]+ train_acc=[\\d.]+ val_loss=[\\d.]+ val_acc=[\\d.]+ seconds=[\\d.]+$`));
    }
    expect(r.stdout).toContain('data: synthetic (--synthetic): 1024 train / 256 val, nothing downloaded');

    const rows = fs.readFileSync(path.join(cwd, 'out/metrics.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(rows[0]).toEqual(['epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc']);
    expect(rows.slice(1).map((row) => row[0])).toEqual(['1', '2']);
    for (const row of rows.slice(1)) {
      const [, trainLoss, trainAcc, valLoss, valAcc] = row.map(Number);
      expect(trainLoss).toBeGreaterThan(0);
      expect(valLoss).toBeGreaterThan(0);
      for (const acc of [trainAcc, valAcc]) {
        expect(acc).toBeGreaterThanOrEqual(0);
        expect(acc).toBeLessThanOrEqual(1);
      }
    }

    const summary = JSON.parse(fs.readFileSync(path.join(cwd, 'out/summary.json'), 'utf8')) as Summary;
    const valAccs = rows.slice(1).map((row) => Number(row[4]));
    expect(summary.complete).toBe(true);
    expect(summary.best_val_acc).toBeCloseTo(Math.max(...valAccs), 5);
    expect(summary.best_epoch).toBe(valAccs.indexOf(Math.max(...valAccs)) + 1);
    expect(summary.final.epoch).toBe(2);
    expect(summary.final.val_acc).toBeCloseTo(valAccs[1]!, 5);
    expect(summary).toMatchObject({ data: 'synthetic', device: 'cpu', args: { epochs: 2, lr: 0.01, batch_size: 64, synthetic: true } });
    // The synthetic classes are learnable: better than chance (10%) after two epochs.
    expect(summary.best_val_acc).toBeGreaterThan(0.2);

    // torch.save's zip format, with the weights inside.
    const pth = fs.readFileSync(path.join(cwd, 'out/best_model.pth'));
    expect(pth.subarray(0, 2).toString()).toBe('PK');
    expect(pth.length).toBeGreaterThan(100_000);
  }, 120_000);

  it('falls back to synthetic data when CIFAR-10 is not on disk, downloading nothing, and takes paths literally', async () => {
    const cwd = tempDir();
    const hostile = 'no cifar; touch MARKER $(touch MARKER2)';
    const r = await run(['--epochs=1', `--data_dir=${hostile}`, '--output_dir=res $(x)', '--synthetic_train=128', '--synthetic_val=64'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`data: synthetic (CIFAR-10 not found under '${hostile}'): 128 train / 64 val, nothing downloaded`);
    expect(fs.readdirSync(cwd).sort()).toEqual(['res $(x)']);
    const summary = JSON.parse(fs.readFileSync(path.join(cwd, 'res $(x)/summary.json'), 'utf8')) as Summary;
    expect(summary.args.data_dir).toBe(hostile);
  }, 120_000);

  it('reads CIFAR-10 in its python format when it is there', async () => {
    const cwd = tempDir();
    const batches = path.join(cwd, 'cifar', 'cifar-10-batches-py');
    fs.mkdirSync(batches, { recursive: true });
    // Tiny stand-ins for the real batches, written by the same pickle the real ones use.
    const make = `
import pickle, random, sys
random.seed(0)
for name in ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]:
    n = 20
    with open(sys.argv[1] + "/" + name, "wb") as f:
        pickle.dump({b"data": bytes(random.randrange(256) for _ in range(n * 3072)), b"labels": [i % 10 for i in range(n)]}, f)
`;
    await new Promise<void>((resolve, reject) => {
      const c = spawn(PYTHON, ['-c', make, batches]);
      c.on('error', reject);
      c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fixture writer exited ${code}`))));
    });
    const r = await run(['--epochs=1', '--data_dir=cifar', '--output_dir=out'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`data: CIFAR-10 from cifar/cifar-10-batches-py (100 train / 20 val)`);
    const summary = JSON.parse(fs.readFileSync(path.join(cwd, 'out/summary.json'), 'utf8')) as Summary;
    expect(summary.data).toBe('cifar10');
  }, 120_000);

  it('refuses nonsense arguments with argparse\'s usage message', async () => {
    const r = await run(['--epochs=0'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --epochs must be at least 1/);
  }, 60_000);
});
