/**
 * The window's pure parts, in Node: log text as a terminal shows it (ANSI stripped, carriage
 * returns redrawing a line, control and bidi characters dropped, partial lines carried), which
 * rows a virtualized list renders, and how the job handlers pick a list's key metric and a
 * chart's series.
 */
import { describe, expect, it } from 'vitest';
import { keyMetric, seriesViews } from '../../main/ipc/handlers-jobs.js';
import type { StoredPoint } from '../../main/core/store/metrics-store.js';
import { appendOutput, stripAnsi } from '../../renderer/src/lib/ansi.js';
import { formatElapsed, stateGroup } from '../../renderer/src/lib/format.js';
import { visibleRange } from '../../renderer/src/lib/virtual.js';

describe('log text', () => {
  it('strips colours, cursor moves, window titles and the 8-bit CSI', () => {
    expect(stripAnsi('\u001b[1;32mok\u001b[0m done')).toBe('ok done');
    expect(stripAnsi('\u001b[2K\u001b[1Gstep 3')).toBe('step 3');
    expect(stripAnsi('\u001b]0;title\u0007text')).toBe('text');
    expect(stripAnsi('\u001b]8;;https://x\u001b\\link\u001b]8;;\u001b\\')).toBe('link');
    expect(stripAnsi('\u009b31mred')).toBe('red');
  });

  it('keeps what a progress bar drew last, and a CRLF line as it is', () => {
    expect(stripAnsi(' 10%|#   |\r 50%|##  |\r100%|####|')).toBe('100%|####|');
    expect(stripAnsi('windows line\r')).toBe('windows line');
  });

  it('drops control characters and bidi overrides but keeps tabs and HTML-looking text', () => {
    expect(stripAnsi('a\u0000b\u0007c\td')).toBe('abc\td');
    expect(stripAnsi('file\u202Etxt.exe')).toBe('filetxt.exe');
    expect(stripAnsi('<img src=x onerror=alert(1)>')).toBe('<img src=x onerror=alert(1)>');
  });

  it('carries an unfinished line over to the next chunk', () => {
    const a = appendOutput('', 'one\ntw');
    expect(a).toEqual({ lines: ['one'], carry: 'tw' });
    const b = appendOutput(a.carry, 'o\nthree\n');
    expect(b).toEqual({ lines: ['two', 'three'], carry: '' });
  });
});

describe('virtualized rows', () => {
  it('renders the rows in view plus a margin, never past either end', () => {
    expect(visibleRange(0, 360, 18, 10_000, 8)).toEqual({ start: 0, end: 29 });
    expect(visibleRange(18 * 5000, 360, 18, 10_000, 8)).toEqual({ start: 4992, end: 5029 });
    expect(visibleRange(18 * 9990, 360, 18, 10_000, 8)).toEqual({ start: 9982, end: 10_000 });
    expect(visibleRange(0, 360, 18, 0)).toEqual({ start: 0, end: 0 });
  });
});

describe('job list helpers', () => {
  const p = (series: string, step: number, value: number | null, source = 'log'): StoredPoint => ({ series, step, value, raw: String(value), source });

  it('shows the latest validation accuracy before anything else, from a per-epoch source', () => {
    expect(keyMetric([p('loss', 3, 0.2), p('val_acc', 1, 0.5), p('val_acc', 2, 0.6), p('best_val_acc', 1, 0.9, 'summary')])).toEqual({ series: 'val_acc', value: 0.6, step: 2, goal: 'max' });
    expect(keyMetric([p('throughput', 1, 10), p('throughput', 4, 12)])).toEqual({ series: 'throughput', value: 12, step: 4, goal: null });
    expect(keyMetric([])).toBeNull();
  });

  it('draws a series once, from its fuller source, sorted by step, NaN kept as a gap', () => {
    const v = seriesViews([p('val_acc', 2, 0.6, 'log'), p('val_acc', 1, 0.5, 'log'), p('val_acc', 1, 0.5, 'csv'), p('val_acc', 2, null, 'csv'), p('lr', 1, 0.1, 'csv')]);
    expect(v).toEqual([
      { series: 'lr', source: 'csv', points: [[1, 0.1]] },
      { series: 'val_acc', source: 'csv', points: [[1, 0.5], [2, null]] },
    ]);
  });

  it('formats elapsed times and groups SLURM states', () => {
    expect([formatElapsed(5), formatElapsed(65), formatElapsed(3725), formatElapsed(90_000), formatElapsed(null)]).toEqual(['5s', '1m 05s', '1h 02m', '1d 1h', '—']);
    expect(['COMPLETED', 'RUNNING', 'PENDING', 'CANCELLED by 1000', 'OUT_OF_MEMORY', 'TIMEOUT'].map(stateGroup)).toEqual(['done', 'active', 'active', 'cancelled', 'failed', 'failed']);
  });
});
