/**
 * The three charts HPC Relay posts to Slack, drawn by the real renderer (SVG → resvg → PNG) from
 * representative numbers: a job's metric curves (the job report), a sweep's tasks compared (the
 * sweep report) and a research loop's runs against its target (the loop's end report). Each run
 * writes them to test/artifacts/charts/ (gitignored); UPDATE_SCREENSHOTS=1 also refreshes the
 * copies the README shows in docs/screenshots/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChartPng, renderRunsChartPng } from '../../main/core/slack/chart.js';
import type { MetricSeries } from '../../main/core/slack/reporter.js';
import { buildSweepChartSvg, renderSweepChartPng } from '../../main/core/slack/sweep-report.js';
import type { SweepFacts } from '../../main/core/store/sweep-facts.js';

const root = path.resolve(import.meta.dirname, '..', '..');
const outDirs = [path.join(root, 'test', 'artifacts', 'charts'), ...(process.env['UPDATE_SCREENSHOTS'] === '1' ? [path.join(root, 'docs', 'screenshots')] : [])];

function keep(name: string, png: Buffer): void {
  for (const dir of outDirs) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, name), png);
  }
}

/** Width and height from the PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

const epochs = Array.from({ length: 20 }, (_, i) => i + 1);
const curve = (f: (e: number) => number) => epochs.map((e) => ({ step: e, value: Number(f(e).toFixed(4)) }));

describe('the charts posted to Slack', () => {
  it('a job report: train loss and val_acc over 20 epochs, the best marked', async () => {
    const series: MetricSeries[] = [
      { name: 'train_loss', stepLabel: 'epoch', points: curve((e) => 0.35 + 1.9 * Math.exp(-e / 4)) },
      { name: 'val_acc', stepLabel: 'epoch', points: curve((e) => 0.84 - 0.5 * Math.exp(-e / 3.5) - (e > 14 ? (e - 14) * 0.004 : 0)) },
    ];
    const png = await renderChartPng(series, { title: 'cnn_cifar10 — job 4242' });
    expect(pngSize(png).width).toBe(960);
    expect(png.length).toBeGreaterThan(10_000);
    keep('slack-job-chart.png', png);
  });

  it('a sweep report: six learning rates compared on val_acc', async () => {
    const lrs = ['0.001', '0.003', '0.01', '0.03', '0.1', '0.3'];
    const ceilings = [0.71, 0.79, 0.84, 0.81, 0.66, 0.31];
    const facts: SweepFacts = {
      sweepId: 'sub-1', anchorKey: '5100_0', name: 'hpc-relay-sweep', baseIds: ['5100'], spanSec: 5400, metric: { name: 'val_acc', goal: 'max' },
      tasks: lrs.map((lr, t) => ({
        task: t, jobKey: `5100_${t}`, state: t === 5 ? 'FAILED' : 'COMPLETED', failureClass: t === 5 ? 'diverged' : null, exitCode: t === 5 ? 1 : 0, signal: 0, elapsedSec: 900,
        attempts: 1, params: { lr }, best: { value: ceilings[t] ?? 0, step: 12 },
      })),
    };
    const curves = lrs.map((_, t) => ({ task: t, stepLabel: 'epoch', points: epochs.slice(0, t === 5 ? 6 : 12).map((e) => ({ step: e, value: Number(((ceilings[t] ?? 0) * (1 - Math.exp(-e / 3))).toFixed(4)) })) }));
    expect(buildSweepChartSvg({ facts, curves })).toContain('>epoch</text>');
    const png = await renderSweepChartPng({ facts, curves });
    expect(pngSize(png).width).toBe(960);
    expect(png.length).toBeGreaterThan(10_000);
    keep('slack-sweep-chart.png', png);
  });

  it('a research loop\'s end: each run\'s best val_acc against the target, one run without a result', async () => {
    const values = [0.62, 0.71, null, 0.78, 0.83, 0.86];
    const png = await renderRunsChartPng(values.map((value, i) => ({ run: i + 1, value })), { metric: 'val_acc', goal: 'max', target: 0.85, title: 'research: val_acc ≥ 0.85 on cnn_train' });
    expect(pngSize(png).width).toBe(960);
    expect(png.length).toBeGreaterThan(5_000);
    keep('slack-research-chart.png', png);
  });
});
