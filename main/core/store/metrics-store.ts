import type { MetricPoint } from '../slurm/metrics-parser.js';
import type { Db } from './database.js';

export interface FileCursor {
  offset: number;
  /**
   * The partial last line (and, for CSV, the header) kept between reads; `skipLine` when that line
   * grew too long to keep and was dropped, so the rest of it up to its newline is skipped too.
   */
  state: { partial: string; header?: string[] | null; counters?: Record<string, number>; skipLine?: boolean; inode?: string };
}

export interface StoredPoint extends MetricPoint {
  source: string;
}

/** Metric series per job, and how far each remote file has been read. */
export class MetricsStore {
  constructor(private readonly db: Db) {}

  add(jobKey: string, source: string, points: readonly MetricPoint[], now: number): void {
    if (points.length === 0) return;
    const put = this.db.prepare('INSERT OR REPLACE INTO metrics (job_key, source, series, step, value, raw, at, step_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const p of points) put.run(jobKey, source, p.series, p.step, p.value, p.raw, now, p.stepName ?? null);
    })();
  }

  series(jobKey: string): StoredPoint[] {
    const rows = this.db.prepare('SELECT source, series, step, value, raw, step_name FROM metrics WHERE job_key = ? ORDER BY source, series, step').all(jobKey) as Array<Omit<StoredPoint, 'stepName'> & { step_name: string | null }>;
    return rows.map(({ step_name: stepName, ...p }) => (stepName ? { ...p, stepName } : p));
  }

  /**
   * The lowest and highest finite value of each of a job's curves (summary.json's scalars left
   * out), with the step each was reached at: what a status line needs, without reading every point.
   */
  extremes(jobKey: string): Array<{ series: string; min: { step: number; value: number }; max: { step: number; value: number } }> {
    // SQLite takes a bare column (step) from the row that MIN()/MAX() picked.
    const q = (fn: 'MIN' | 'MAX') => this.db.prepare(`SELECT series, step, ${fn}(value) AS value FROM metrics WHERE job_key = ? AND source != 'summary' AND value IS NOT NULL GROUP BY series ORDER BY series`)
      .all(jobKey) as Array<{ series: string; step: number; value: number }>;
    const max = new Map(q('MAX').map((r) => [r.series, { step: r.step, value: r.value }]));
    return q('MIN').flatMap((r) => {
      const hi = max.get(r.series);
      return hi ? [{ series: r.series, min: { step: r.step, value: r.value }, max: hi }] : [];
    });
  }

  cursor(jobKey: string, path: string): FileCursor {
    return this.findCursor(jobKey, path) ?? { offset: 0, state: { partial: '' } };
  }

  findCursor(jobKey: string, path: string): FileCursor | null {
    const r = this.db.prepare('SELECT offset, carry FROM file_cursors WHERE job_key = ? AND path = ?').get(jobKey, path) as { offset: number; carry: string } | undefined;
    if (!r) return null;
    return { offset: r.offset, state: JSON.parse(r.carry || '{"partial":""}') as FileCursor['state'] };
  }

  setCursor(jobKey: string, path: string, c: FileCursor): void {
    this.db.prepare('INSERT INTO file_cursors (job_key, path, offset, carry) VALUES (?, ?, ?, ?) ON CONFLICT(job_key, path) DO UPDATE SET offset = excluded.offset, carry = excluded.carry')
      .run(jobKey, path, c.offset, JSON.stringify(c.state));
  }
}
