import type { Clock } from '../ports.js';
import { completeLines, isNonFinite, parseLogMetrics, parseMetricsCsv, parseSummaryJson, type MetricPoint } from '../slurm/metrics-parser.js';
import type { JobRow, JobStore } from '../store/job-store.js';
import type { FileCursor, MetricsStore } from '../store/metrics-store.js';
import { logPaths } from './job-tracker.js';
import { keptOutputPaths } from './output-paths.js';
import type { RemoteFiles } from './remote-files.js';

export interface MetricsDeps {
  store: JobStore;
  metrics: MetricsStore;
  files: RemoteFiles;
  clock: Clock;
}

export interface MetricsRefresh {
  jobKey: string;
  added: number;
  /** New points whose value is NaN or ±inf. */
  nonFinite: MetricPoint[];
  bytesRead: number;
}

type SourceKind = 'log' | 'csv' | 'summary';

interface Source {
  job: JobRow;
  kind: SourceKind;
  path: string;
}

/** Bytes read per file per refresh: a long backlog is read over several refreshes. */
export const METRICS_CHUNK_BYTES = 256 * 1024;
const CHUNK = METRICS_CHUNK_BYTES;
/**
 * No metrics line is longer: an unterminated line past this (a 10 MB line, a progress bar redrawn
 * with carriage returns for a whole epoch) is dropped and skipped up to its newline, not carried
 * from read to read (and stored with the cursor) until it ends.
 */
const MAX_PARTIAL_LINE = 64 * 1024;

/**
 * Metric series from a job's files, read incrementally: the log and metrics.csv from where the
 * last read stopped (a cursor per file in the store), summary.json whole (it is rewritten). All
 * files of all asked-for jobs are read in one remote command.
 */
export class JobMetrics {
  constructor(private readonly deps: MetricsDeps) {}

  private sources(job: JobRow): Source[] {
    const sub = job.submissionId ? this.deps.store.submission(job.submissionId) : null;
    if (!sub) {
      // A job submitted elsewhere: its log, where the scheduler said it goes, once that was asked.
      const kept = keptOutputPaths(this.deps.store, job.jobKey);
      return kept ? [{ job, kind: 'log', path: kept.stdout }] : [];
    }
    const dirs = [sub.remoteDir];
    const out = sub.params.output_dir;
    if (typeof out === 'string' && out !== '' && !out.includes('\0')) dirs.push(out.startsWith('/') ? out : `${sub.remoteDir}/${out}`);
    return [
      { job, kind: 'log', path: logPaths(sub, job).stdout },
      ...dirs.flatMap((d) => [{ job, kind: 'csv' as const, path: `${d}/metrics.csv` }, { job, kind: 'summary' as const, path: `${d}/summary.json` }]),
    ];
  }

  async refresh(jobKeys: readonly string[]): Promise<MetricsRefresh[]> {
    const { store, metrics, files, clock } = this.deps;
    const sources = jobKeys.map((k) => store.get(k)).filter((j): j is JobRow => j !== null).flatMap((j) => this.sources(j));
    if (sources.length === 0) return [];
    const results = await files.readRanges(sources.map((s) => ({ path: s.path, offset: s.kind === 'summary' ? 0 : metrics.cursor(s.job.jobKey, s.path).offset, cap: CHUNK })));
    const byJob = new Map<string, MetricsRefresh>();
    results.forEach((r, i) => {
      const src = sources[i];
      if (!src || r.size === null) return;
      const acc = byJob.get(src.job.jobKey) ?? { jobKey: src.job.jobKey, added: 0, nonFinite: [], bytesRead: 0 };
      byJob.set(src.job.jobKey, acc);
      acc.bytesRead += r.data.length;
      let points: MetricPoint[] = [];
      if (src.kind === 'summary') {
        points = parseSummaryJson(r.data.toString('utf8')) ?? [];
        // JSON null is how the demo writes NaN there; the CSV and the log carry the nan itself.
        metrics.add(src.job.jobKey, src.kind, points, clock.now());
        acc.added += points.length;
        return;
      }
      const cur = metrics.cursor(src.job.jobKey, src.path);
      // The file was replaced (shorter than what was read): start over.
      const state: FileCursor['state'] = r.start < cur.offset ? { partial: '' } : cur.state;
      const read = completeLines(state.partial, r.data.toString('utf8'));
      // The end of a line dropped as too long is no line of its own.
      const lines = state.skipLine ? read.lines.slice(1) : read.lines;
      let skipLine = state.skipLine === true && read.lines.length === 0;
      let carry = read.carry;
      if (carry.length > MAX_PARTIAL_LINE) {
        carry = '';
        skipLine = true;
      }
      const line = { partial: carry, ...(skipLine ? { skipLine } : {}) };
      if (src.kind === 'csv') {
        const parsed = parseMetricsCsv(lines, state.header ?? null);
        points = parsed.points;
        metrics.setCursor(src.job.jobKey, src.path, { offset: r.start + r.data.length, state: { ...line, header: parsed.header } });
      } else {
        const counters = new Map(Object.entries(state.counters ?? {}));
        points = parseLogMetrics(lines, counters);
        metrics.setCursor(src.job.jobKey, src.path, { offset: r.start + r.data.length, state: { ...line, counters: Object.fromEntries(counters) } });
      }
      metrics.add(src.job.jobKey, src.kind, points, clock.now());
      acc.added += points.length;
      acc.nonFinite.push(...points.filter(isNonFinite));
    });
    return [...byJob.values()];
  }
}
