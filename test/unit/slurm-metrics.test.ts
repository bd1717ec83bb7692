import { describe, expect, it } from 'vitest';
import { completeLines, isNonFinite, parseLogMetrics, parseMetricsCsv, parseSummaryJson } from '../../main/core/slurm/metrics-parser.js';

describe('metrics parsers', () => {
  it('reads metrics.csv in pieces: the header carried over, a partial line kept for later', () => {
    const a = completeLines('', 'epoch,train_loss,train_acc,val_loss,val_acc\n1,2.30,0.10,2.29,0.11\n2,1.9');
    expect(a.carry).toBe('2,1.9');
    const first = parseMetricsCsv(a.lines, null);
    expect(first.header).toEqual(['epoch', 'train_loss', 'train_acc', 'val_loss', 'val_acc']);
    expect(first.points).toContainEqual({ series: 'val_acc', step: 1, value: 0.11, raw: '0.11', stepName: 'epoch' });
    expect(first.points.some((p) => p.series === 'epoch')).toBe(false);
    const b = completeLines(a.carry, '5,0.30,1.8,0.31\n3,nan,0.1,inf,0.1\n');
    const second = parseMetricsCsv(b.lines, first.header);
    expect(second.points.filter((p) => p.series === 'train_loss')).toEqual([
      { series: 'train_loss', step: 2, value: 1.95, raw: '1.95', stepName: 'epoch' },
      { series: 'train_loss', step: 3, value: null, raw: 'nan', stepName: 'epoch' },
    ]);
    expect(second.points.filter(isNonFinite).map((p) => `${p.series}@${p.step}`)).toEqual(['train_loss@3', 'val_loss@3']);
  });

  it('reads key=value log lines (the CNN demo format) and JSON lines, and skips prose', () => {
    const lines = [
      'hpc-relay: job 12 on vm in /x',
      'epoch=1 train_loss=2.301 train_acc=0.101 val_loss=2.299 val_acc=0.104 seconds=1.20',
      'data: synthetic (no dataset): 1024 train / 256 val, nothing downloaded',
      '{"step": 10, "loss": 0.5, "lr": "1e-3", "note": "warmup"}',
      '{"loss": -inf}',
      'loss=inf',
      'mode=fast',
    ];
    const pts = parseLogMetrics(lines);
    expect(pts).toContainEqual({ series: 'val_acc', step: 1, value: 0.104, raw: '0.104', stepName: 'epoch' });
    expect(pts).toContainEqual({ series: 'lr', step: 10, value: 0.001, raw: '1e-3', stepName: 'step' });
    expect(pts.some((p) => p.series === 'note' || p.series === 'mode' || p.series === 'epoch')).toBe(false);
    const inf = pts.filter(isNonFinite);
    expect(inf).toEqual([{ series: 'loss', step: 11, value: null, raw: 'inf' }]);
  });

  it('names what the step counts when the job names it (the chart\'s x axis), and nothing when rows are only counted', () => {
    expect(parseMetricsCsv(['iter,loss', '100,0.5'], null).points).toEqual([{ series: 'loss', step: 100, value: 0.5, raw: '0.5', stepName: 'iter' }]);
    expect(parseMetricsCsv(['loss,acc', '0.5,0.7'], null).points).toEqual([{ series: 'loss', step: 1, value: 0.5, raw: '0.5' }, { series: 'acc', step: 1, value: 0.7, raw: '0.7' }]);
    expect(parseLogMetrics(['loss=0.4'])).toEqual([{ series: 'loss', step: 1, value: 0.4, raw: '0.4' }]);
  });

  it('flattens summary.json numbers and refuses text that is not a JSON object', () => {
    const s = parseSummaryJson('{"best_val_acc": 0.61, "best_epoch": 2, "final": {"val_loss": 1.2, "train_loss": null}, "device": "cpu", "complete": true}');
    expect(s).toEqual([
      { series: 'best_val_acc', step: 0, value: 0.61, raw: '0.61' },
      { series: 'best_epoch', step: 0, value: 2, raw: '2' },
      { series: 'final.val_loss', step: 0, value: 1.2, raw: '1.2' },
      { series: 'final.train_loss', step: 0, value: null, raw: 'null' },
    ]);
    expect(parseSummaryJson('{"a": 1')).toBeNull();
    expect(parseSummaryJson('[1,2]')).toBeNull();
  });
});
