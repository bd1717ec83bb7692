/**
 * What the gateway remembers about Slack threads across restarts: the channel threads it was
 * mentioned in (and so follows), the thread of each job's report (follow-ups go there), which
 * reports were already posted (a report retried by the outbox after a crash is not posted twice),
 * and which were being posted when the process stopped — Slack may have taken such a post without
 * the answer arriving, so the next attempt looks for it in the channel before posting again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../ports.js';

export interface ThreadRef {
  channel: string;
  ts: string;
}

export interface DeliveredReport extends ThreadRef {
  fileId?: string;
  /**
   * The report has a chart that is not known to be in its thread yet (a retry looks for it there
   * before uploading it).
   */
  chartPending?: boolean;
}

/** A report post begun and not known to have reached Slack (written before the post goes out). */
export interface ReportAttempt {
  channel: string;
  /** Random, in the post's metadata: the search for the post finds this report's post and no other. */
  nonce: string;
  /** Wall-clock ms when the first post was tried (what a search of the channel's history starts from). */
  startedAt: number;
}

export interface ThreadMemory {
  follow(channel: string, threadTs: string): void;
  isFollowed(channel: string, threadTs: string): boolean;
  setJobThread(jobId: string, ref: ThreadRef): void;
  jobThread(jobId: string): ThreadRef | undefined;
  /** The job whose report thread `channel`/`threadTs` is. */
  jobForThread(channel: string, threadTs: string): string | undefined;
  reportDelivered(key: string): DeliveredReport | undefined;
  /** Also forgets the key's attempt. */
  markReportDelivered(key: string, d: DeliveredReport): void;
  reportAttempt(key: string): ReportAttempt | undefined;
  markReportAttempt(key: string, a: ReportAttempt): void;
}

interface Snapshot {
  version: 1;
  followed: string[];
  jobs: Array<[string, ThreadRef]>;
  reports: Array<[string, DeliveredReport]>;
  /** Absent in files written before attempts were recorded. */
  attempts?: Array<[string, ReportAttempt]>;
}

const MAX_FOLLOWED = 2000;
const MAX_JOBS = 5000;

const key = (channel: string, ts: string): string => `${channel}:${ts}`;

/** Kept in memory; with `file`, also written (atomically, 0600) after every change and read at start. */
export class FileThreadMemory implements ThreadMemory {
  private readonly followed = new Set<string>();
  private readonly jobs = new Map<string, ThreadRef>();
  private readonly byThread = new Map<string, string>();
  private readonly reports = new Map<string, DeliveredReport>();
  private readonly attempts = new Map<string, ReportAttempt>();

  constructor(private readonly file: string | null, private readonly logger?: Logger) {
    if (file) this.load(file);
  }

  follow(channel: string, threadTs: string): void {
    const k = key(channel, threadTs);
    if (this.followed.has(k)) return;
    this.followed.add(k);
    trim(this.followed, MAX_FOLLOWED);
    this.save();
  }

  isFollowed(channel: string, threadTs: string): boolean {
    return this.followed.has(key(channel, threadTs));
  }

  setJobThread(jobId: string, ref: ThreadRef): void {
    this.jobs.set(jobId, ref);
    this.byThread.set(key(ref.channel, ref.ts), jobId);
    if (this.jobs.size > MAX_JOBS) {
      const [oldId, oldRef] = this.jobs.entries().next().value ?? [];
      if (oldId !== undefined && oldRef) {
        this.jobs.delete(oldId);
        this.byThread.delete(key(oldRef.channel, oldRef.ts));
      }
    }
    this.save();
  }

  jobThread(jobId: string): ThreadRef | undefined {
    return this.jobs.get(jobId);
  }

  jobForThread(channel: string, threadTs: string): string | undefined {
    return this.byThread.get(key(channel, threadTs));
  }

  reportDelivered(k: string): DeliveredReport | undefined {
    return this.reports.get(k);
  }

  markReportDelivered(k: string, d: DeliveredReport): void {
    this.reports.set(k, d);
    this.attempts.delete(k);
    trim(this.reports, MAX_JOBS);
    this.save();
  }

  reportAttempt(k: string): ReportAttempt | undefined {
    return this.attempts.get(k);
  }

  markReportAttempt(k: string, a: ReportAttempt): void {
    this.attempts.set(k, a);
    trim(this.attempts, MAX_JOBS);
    this.save();
  }

  private load(file: string): void {
    let raw: string;
    try {
      raw = fs.readFileSync(file, 'utf8');
    } catch {
      return;
    }
    try {
      const s = JSON.parse(raw) as Partial<Snapshot>;
      for (const f of s.followed ?? []) if (typeof f === 'string') this.followed.add(f);
      for (const [id, ref] of s.jobs ?? []) {
        if (typeof id === 'string' && typeof ref?.channel === 'string' && typeof ref.ts === 'string') {
          this.jobs.set(id, { channel: ref.channel, ts: ref.ts });
          this.byThread.set(key(ref.channel, ref.ts), id);
        }
      }
      for (const [k, d] of s.reports ?? []) {
        if (typeof k === 'string' && typeof d?.channel === 'string' && typeof d.ts === 'string') this.reports.set(k, d);
      }
      for (const [k, a] of s.attempts ?? []) {
        if (typeof k === 'string' && typeof a?.channel === 'string' && typeof a.nonce === 'string' && typeof a.startedAt === 'number' && !this.reports.has(k)) {
          this.attempts.set(k, { channel: a.channel, nonce: a.nonce, startedAt: a.startedAt });
        }
      }
    } catch (e) {
      this.logger?.warn('Slack thread memory unreadable; starting empty', { file, err: e instanceof Error ? e.message : String(e) });
    }
  }

  private save(): void {
    if (!this.file) return;
    const snap: Snapshot = { version: 1, followed: [...this.followed], jobs: [...this.jobs], reports: [...this.reports], attempts: [...this.attempts] };
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(snap), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (e) {
      this.logger?.warn('could not save Slack thread memory', { file: this.file, err: e instanceof Error ? e.message : String(e) });
    }
  }
}

function trim<T>(c: Set<T> | Map<T, unknown>, max: number): void {
  while (c.size > max) {
    const first = c.keys().next();
    if (first.done) return;
    c.delete(first.value);
  }
}
