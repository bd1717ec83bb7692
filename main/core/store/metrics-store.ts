import type { MetricPoint } from '../slurm/metrics-parser.js';
import type { Db } from './database.js';

export interface FileCursor {
  offset: number;
  /** The partial last line (and, for CSV, the header) kept between reads. */
  state: { partial: string; header?: string[] | null; counters?: Record<string, number> };
}

export interface StoredPoint extends MetricPoint {
  source: string;
}

/** Metric series per job, and how far each remote file has been read. */
export class MetricsStore {
  constructor(private readonly db: Db) {}

  add(jobKey: string, source: string, points: readonly MetricPoint[], now: number): void {
    if (points.length === 0) return;
    const put = this.db.prepare('INSERT OR REPLACE INTO metrics (job_key, source, series, step, value, raw, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const p of points) put.run(jobKey, source, p.series, p.step, p.value, p.raw, now);
    })();
  }

  series(jobKey: string): StoredPoint[] {
    const rows = this.db.prepare('SELECT source, series, step, value, raw FROM metrics WHERE job_key = ? ORDER BY source, series, step').all(jobKey) as StoredPoint[];
    return rows;
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
