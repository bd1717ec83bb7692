import { EventEmitter } from 'node:events';
import { followFileArgv, openStream, type StreamHandle } from '../cluster/stream-exec.js';
import type { SshSession } from '../cluster/ssh-session.js';
import { describeError } from '../errors.js';
import type { Clock, Logger } from '../ports.js';
import { parseJobRef } from '../slurm/slurm-values.js';
import type { JobStore } from '../store/job-store.js';
import type { MetricsStore } from '../store/metrics-store.js';
import type { JobTracker } from './job-tracker.js';
import type { RemoteFiles } from './remote-files.js';

export interface WatcherDeps {
  session: () => SshSession;
  files: RemoteFiles;
  eventsPath: () => Promise<string>;
  tracker: JobTracker;
  store: JobStore;
  /** Where the byte offset into the events file is kept between runs. */
  cursors: MetricsStore;
  clock: Clock;
  logger: Logger;
  /** After a line, sacct may not show the end for a moment: ask again after these delays. */
  retryMs?: number[];
  /** Lines arriving within this window share one sacct call. */
  batchMs?: number;
  /** Backoff for reopening the stream after it closed. */
  reopenMs?: number[];
}

export interface EventLine {
  jobKey: string;
  exitCode: number;
  epoch: number;
  receivedAt: number;
}

const CURSOR_KEY = '(events)';

/** `<job> <exit code> <epoch>` as the wrapper writes it; null for anything else. */
export function parseEventLine(line: string): Omit<EventLine, 'receivedAt'> | null {
  const m = /^(\S+) (-?\d+) (\d+)$/.exec(line.trim());
  if (!m?.[1]) return null;
  const ref = parseJobRef(m[1]);
  return ref ? { jobKey: ref.key, exitCode: Number(m[2]), epoch: Number(m[3]) } : null;
}

/**
 * Notices job ends within seconds without polling the scheduler: one long-lived `tail -F` of the
 * events file over the SSH session. A line only says "look now": it triggers a sacct reconcile
 * of that job (the final state always comes from sacct). The stream resumes from the last byte
 * read, so lines written while it was down are replayed; on every (re)open all unfinished jobs
 * are reconciled too, for ends that never ran the trap (OOM kills, TIMEOUT, NODE_FAIL, cancels).
 */
export class CompletionWatcher extends EventEmitter<{ line: [EventLine]; open: []; close: [] }> {
  private stream: StreamHandle | null = null;
  private running = false;
  private offset = 0;
  private partial = '';
  private pending = new Map<string, number>();
  private batchTimer: { cancel(): void } | null = null;
  private reopenTimer: { cancel(): void } | null = null;
  private reopenAttempt = 0;
  private readyResolve: (() => void) | null = null;
  /** Resolves when the stream first opens. */
  readonly ready: Promise<void>;
  opens = 0;

  constructor(private readonly deps: WatcherDeps) {
    super();
    this.ready = new Promise((r) => { this.readyResolve = r; });
  }

  get open(): boolean {
    return this.stream !== null;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.openNow();
  }

  stop(): void {
    this.running = false;
    this.batchTimer?.cancel();
    this.reopenTimer?.cancel();
    this.stream?.close();
    this.stream = null;
  }

  /** After sleep/resume: the stream may be dead without knowing it; start over. */
  restart(): void {
    if (!this.running) return;
    this.stream?.close();
  }

  private async openNow(): Promise<void> {
    if (!this.running || this.stream) return;
    const { deps } = this;
    try {
      const file = await deps.eventsPath();
      const size = await deps.files.touchSize(file);
      const saved = deps.cursors.findCursor(CURSOR_KEY, file);
      // First run: start at the end. Later runs: where we stopped (replaying what was missed),
      // unless the file shrank (replaced), where the reconcile below covers the gap.
      const resume = saved !== null && saved.offset <= size;
      this.offset = resume ? saved.offset : size;
      this.partial = resume ? saved.state.partial : '';
      this.saveCursor(file);
      const handle = await openStream(deps.session(), followFileArgv(file, this.offset), (chunk) => this.onChunk(file, chunk));
      if (!this.running) { handle.close(); return; }
      this.stream = handle;
      this.opens++;
      this.reopenAttempt = 0;
      this.emit('open');
      this.readyResolve?.();
      deps.logger.info('watching the events file', { file, fromByte: this.offset });
      void handle.closed.then(() => this.onClosed());
      void deps.tracker.reconcile(null, 'sacct').catch((e: unknown) => deps.logger.warn('reconcile after the events stream opened failed', { error: describeError(e) }));
    } catch (e) {
      deps.logger.warn('could not open the events stream', { error: describeError(e) });
      this.scheduleReopen();
    }
  }

  private onClosed(): void {
    this.stream = null;
    this.emit('close');
    if (this.running) this.scheduleReopen();
  }

  private scheduleReopen(): void {
    if (!this.running || this.reopenTimer) return;
    const delays = this.deps.reopenMs ?? [1_000, 2_000, 5_000, 10_000, 30_000, 60_000];
    const ms = delays[Math.min(this.reopenAttempt++, delays.length - 1)] ?? 60_000;
    this.reopenTimer = this.deps.clock.setTimeout(() => { this.reopenTimer = null; void this.openNow(); }, ms);
  }

  private saveCursor(file: string): void {
    this.deps.cursors.setCursor(CURSOR_KEY, file, { offset: this.offset, state: { partial: this.partial } });
  }

  private onChunk(file: string, chunk: Buffer): void {
    this.offset += chunk.length;
    const text = this.partial + chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    this.partial = cut === -1 ? text : text.slice(cut + 1);
    const lines = cut === -1 ? [] : text.slice(0, cut).split('\n');
    const now = this.deps.clock.now();
    for (const line of lines) {
      const ev = parseEventLine(line);
      if (!ev) continue;
      const job = this.deps.store.get(ev.jobKey);
      // Another app instance's job, or one from before this store.
      if (!job) continue;
      this.deps.store.addEvent(ev.jobKey, 'exit-trap', { exitCode: ev.exitCode, epoch: ev.epoch }, now);
      this.emit('line', { ...ev, receivedAt: now });
      // Already final (a tick or the reconcile on open got there first): nothing to ask.
      if (!job.final) this.pending.set(ev.jobKey, 0);
    }
    this.saveCursor(file);
    if (this.pending.size > 0) this.scheduleBatch(this.deps.batchMs ?? 100);
  }

  private scheduleBatch(ms: number): void {
    if (this.batchTimer) return;
    this.batchTimer = this.deps.clock.setTimeout(() => { this.batchTimer = null; void this.flush(); }, ms);
  }

  /** One sacct for every job with a fresh line; jobs sacct does not show as ended yet are asked again later. */
  private async flush(): Promise<void> {
    const due = [...this.pending.keys()];
    if (due.length === 0) return;
    const attempts = new Map(this.pending);
    this.pending.clear();
    try {
      const { stillOpen } = await this.deps.tracker.reconcile(due, 'events');
      const delays = this.deps.retryMs ?? [300, 700, 1_500, 3_000, 6_000, 12_000];
      let next: number | null = null;
      for (const key of stillOpen) {
        const n = attempts.get(key) ?? 0;
        if (n >= delays.length) continue;
        this.pending.set(key, n + 1);
        const d = delays[n] ?? 1_000;
        next = next === null ? d : Math.min(next, d);
      }
      if (next !== null && this.running) this.scheduleBatch(next);
    } catch (e) {
      this.deps.logger.warn('reconcile after an events line failed; the next tick will catch up', { error: describeError(e) });
    }
  }
}
