import { describe, expect, it } from 'vitest';
import { DIGEST_MAX_LINES, etaSeconds, formatDigest, formatDuration, formatHeartbeat } from '../../main/core/cron/digest.js';
import type { DigestJob } from '../../main/core/cron/ports.js';
import { estimatePromptCost, modelPrice } from '../../main/core/cron/prompt-cost.js';
import { parseMyJobs, parseSlurmElapsed, queuePositions } from '../../main/core/cron/squeue-digest-source.js';
import { describeTarget, formatTarget, parseTarget } from '../../main/core/cron/targets.js';

const running: DigestJob = {
  jobId: '1234', name: 'train_cnn', state: 'RUNNING', elapsedSeconds: 3 * 3600 + 12 * 60, partition: 'gpu_normal',
  latestMetrics: { epoch: 37, totalEpochs: 50, values: { val_acc: 0.82134, loss: 0.4107 } }, epochSeconds: 300,
};

describe('digest text', () => {
  it('lists running jobs with epoch, metrics and ETA, then pending ones by queue position', () => {
    const jobs: DigestJob[] = [
      { jobId: '1250', name: 'sweep_b', state: 'PENDING', elapsedSeconds: 0, partition: 'gpu_normal', queuePosition: 3 },
      running,
      { jobId: '1249', name: 'sweep_a', state: 'PENDING', elapsedSeconds: 0, partition: 'gpu_normal', queuePosition: 1 },
      { jobId: '1240', name: 'prep', state: 'RUNNING', elapsedSeconds: 45, partition: 'gpu_dev' },
    ];
    expect(formatDigest(jobs, 'Nightly')).toBe([
      'Nightly: 2 running, 2 pending',
      '• 1234 train_cnn: running 3 h 12 min on gpu_normal, epoch 37/50 (val_acc 0.8213, loss 0.4107), ETA 1 h 5 min',
      '• 1240 prep: running 45 s on gpu_dev',
      '• 1249 sweep_a: pending on gpu_normal, 1st in its queue',
      '• 1250 sweep_b: pending on gpu_normal, 3rd in its queue',
    ].join('\n'));
    expect(formatDigest([])).toBe('HPC Relay digest: no jobs running or pending.');
  });

  it('shows at most DIGEST_MAX_LINES jobs and says how many more there are', () => {
    const many = Array.from({ length: DIGEST_MAX_LINES + 7 }, (_, i) => ({ jobId: `500_${i}`, name: 'sweep', state: 'RUNNING', elapsedSeconds: 60, partition: 'gpu' }));
    const lines = formatDigest(many).split('\n');
    expect(lines[0]).toBe(`HPC Relay digest: ${DIGEST_MAX_LINES + 7} running`);
    expect(lines).toHaveLength(DIGEST_MAX_LINES + 2);
    expect(lines.at(-2)).toBe(`• 500_${DIGEST_MAX_LINES - 1} sweep: running 1 min on gpu`);
    expect(lines.at(-1)).toBe('…and 7 more (`status` in Slack or `hpc-relay jobs` lists them all).');
  });

  it('estimates the ETA from the epoch rate, measured or from elapsed / epoch', () => {
    expect(etaSeconds(running)).toBe(13 * 300);
    const noRate = { ...running, epochSeconds: undefined, elapsedSeconds: 3700, latestMetrics: { epoch: 37, totalEpochs: 50, values: {} } };
    expect(etaSeconds(noRate)).toBeCloseTo((3700 / 37) * 13);
    expect(etaSeconds({ ...running, latestMetrics: { epoch: 3, values: {} } })).toBeUndefined();
    expect(etaSeconds({ ...running, latestMetrics: { epoch: 50, totalEpochs: 50, values: {} } })).toBe(0);
  });

  it('heartbeat: only jobs past the threshold, in the words the guide uses', () => {
    const long = { ...running, elapsedSeconds: 5 * 3600, epochSeconds: 553.85 };
    expect(formatHeartbeat([long], 3600)).toBe('Job 1234 (train_cnn) still running, epoch 37/50, ETA 2 h');
    expect(formatHeartbeat([{ ...long, latestMetrics: undefined }], 3600)).toBe('Job 1234 (train_cnn) still running, after 5 h');
    expect(formatHeartbeat([running], 4 * 3600)).toBeNull();
    expect(formatHeartbeat([{ ...long, state: 'PENDING' }], 0)).toBeNull();
  });

  it('formats durations', () => {
    expect([5, 60, 119, 3600, 3660, 86_400, 90_000].map(formatDuration)).toEqual(['5 s', '1 min', '2 min', '1 h', '1 h 1 min', '1 d', '1 d 1 h']);
  });
});

describe('squeue output', () => {
  it('reads `squeue --me` lines, with | inside a job name', () => {
    expect(parseMyJobs('59|RUNNING|1-02:03:04|gpu_normal|wrap\n60|PENDING|0:00|gpu_normal,gpu_dev|odd|name x\n')).toEqual([
      { jobId: '59', state: 'RUNNING', elapsedSeconds: 86_400 + 2 * 3600 + 3 * 60 + 4, partition: 'gpu_normal', name: 'wrap' },
      { jobId: '60', state: 'PENDING', elapsedSeconds: 0, partition: 'gpu_normal', name: 'odd|name x' },
    ]);
    expect(() => parseMyJobs('garbage\n')).toThrow(/squeue printed a line HPC Relay cannot read/);
    expect(parseMyJobs('')).toEqual([]);
  });

  it('elapsed times and queue positions per partition', () => {
    expect(['0:07', '12:34', '1:02:03', '3-00:00:01', 'INVALID'].map(parseSlurmElapsed)).toEqual([7, 754, 3723, 259_201, 0]);
    const pos = queuePositions('70|gpu_normal\n71|gpu_dev\n72|gpu_normal\n73|gpu_dev,gpu_normal\n');
    expect(Object.fromEntries(pos)).toEqual({ 70: 1, 71: 1, 72: 2, 73: 2 });
  });
});

describe('prompt cost per run', () => {
  it('prices by llm.model, and says so when the price is unknown', () => {
    expect(modelPrice('claude-sonnet-4-5-20250929')).toEqual({ inputPerMTok: 3, outputPerMTok: 15 });
    expect(modelPrice('claude-opus-4-5')).toEqual({ inputPerMTok: 5, outputPerMTok: 25 });
    expect(modelPrice('claude-opus-4-1')).toEqual({ inputPerMTok: 15, outputPerMTok: 75 });
    const sonnet = estimatePromptCost('x'.repeat(400), 'claude-sonnet-4-5');
    // 4 turns: 3000 + 100 prompt tokens each, plus 1900 tokens of history per earlier turn.
    expect(sonnet.inputTokens).toBe(4 * 3100 + (0 + 1 + 2 + 3) * 1900);
    expect(sonnet.outputTokens).toBe(1600);
    expect(sonnet.usd).toBeCloseTo((23_800 * 3 + 1600 * 15) / 1e6, 6);
    expect(sonnet.text).toBe('≈ $0.10 per run (claude-sonnet-4-5: ~4 turns, ~24k input + 1.6k output tokens)');
    const haiku = estimatePromptCost('x', 'claude-haiku-4-5');
    expect(haiku.usd).toBeLessThan(sonnet.usd ?? 0);
    const unknown = estimatePromptCost('x', 'my-local-llama');
    expect(unknown.usd).toBeUndefined();
    expect(unknown.text).toMatch(/^cost per run unknown \(no price on file for my-local-llama/);
  });
});

describe('delivery targets', () => {
  it('parses and round-trips slack, dm:U…, tray and file:PATH', () => {
    expect(parseTarget('slack')).toEqual({ kind: 'slack' });
    expect(parseTarget('Tray')).toEqual({ kind: 'tray' });
    expect(parseTarget('dm:U012ABCDEF')).toEqual({ kind: 'dm', user: 'U012ABCDEF' });
    expect(parseTarget('file:out/d.log', '/home/ada')).toEqual({ kind: 'file', path: '/home/ada/out/d.log' });
    for (const t of ['slack', 'tray', 'dm:U012ABCDEF', 'file:/tmp/x.log']) expect(formatTarget(parseTarget(t))).toBe(t);
    expect(describeTarget(parseTarget('dm:U012ABCDEF'))).toBe('a Slack DM to U012ABCDEF');
    expect(() => parseTarget('dm:ada')).toThrow(/"ada" is not a Slack user ID/);
    expect(() => parseTarget('file:')).toThrow(/the file path is missing/);
    expect(() => parseTarget('email:ada@example.org')).toThrow(/is not a delivery target: unknown kind\. Use slack \(the home channel\), dm:U012ABCDEF/);
  });
});
