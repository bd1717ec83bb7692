import { EventEmitter } from 'node:events';
import { openStream, type StreamHandle } from '../cluster/stream-exec.js';
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
  /** Past this many bytes the events file is rotated to events.log.1 (default 4 MiB; 0: never). */
  rotateBytes?: number;
  /** After a rotation, how long lines may still land in the old file before it is read to its end (default 2000). */
  settleMs?: number;
}

export interface EventLine {
  jobKey: string;
  exitCode: number;
  epoch: number;
  receivedAt: number;
}

const CURSOR_KEY = '(events)';
const ROTATE_BYTES = 4 * 1024 * 1024;
/** At most this much of a rotated file is read back (it was rotated at ROTATE_BYTES). */
const OLD_GENERATION_CAP = 16 * 1024 * 1024;

/**
 * Follows the events file by name from a byte offset (`tail -F`: lines written while nobody
 * watched are replayed; a file replaced by a rotation is followed into its new generation) and
 * stops when the channel's stdin closes, so a dropped connection never leaves a tail behind.
 * Unlike stream-exec's followFileArgv, tail's own notices stay on stderr: they say when the file
 * was replaced. A constant script; the file and the offset are positional parameters.
 */
export const FOLLOW_EVENTS_SCRIPT = 'tail -c "+$2" -F "$1" & t=$!; trap \'kill $t 2>/dev/null\' EXIT HUP TERM; cat >/dev/null';

export function followEventsArgv(file: string, fromByte: number): string[] {
  return ['sh', '-c', FOLLOW_EVENTS_SCRIPT, 'sh', file, String(Math.max(0, Math.floor(fromByte)) + 1)];
}

/** tail -F's notices that the file it follows is another one now. */
const REPLACED = /has been replaced|has appeared|following new file/;

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
  /** The inode of the events file generation being read (null where RemoteFiles cannot tell). */
  private inode: string | null = null;
  private rotating = false;
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
    const s = this.stream;
    this.stream = null;
    s?.close();
    if (s) void s.closed.then(() => this.emit('close'));
  }

  /** After sleep/resume: the stream may be dead without knowing it; start over. */
  restart(): void {
    if (!this.running) return;
    this.stream?.close();
  }

  private async openNow(): Promise<void> {
    if (!this.running || this.stream || this.rotating) return;
    const { deps } = this;
    try {
      const file = await deps.eventsPath();
      const st = deps.files.touchStat ? await deps.files.touchStat(file) : { size: await deps.files.touchSize(file), inode: null };
      const saved = deps.cursors.findCursor(CURSOR_KEY, file);
      const savedInode = saved?.state.inode ?? null;
      const rotated = saved !== null && savedInode !== null && st.inode !== null && savedInode !== st.inode;
      if (rotated) {
        // Rotated since this cursor was saved (by another relay process, or while this one was
        // off): the rest of the old generation is events.log.1, if that is still the one we read.
        // tail -F may have fed us some of the new file already, so the old offset is not to be
        // trusted: read the old generation whole and the new one from its start; lines already
        // seen are recognised and skipped.
        await this.readOldGeneration(file, savedInode, 0);
      }
      // First run: start at the end. Later runs: where we stopped (replaying what was missed),
      // unless the file shrank (replaced), where the reconcile below covers the gap.
      const resume = saved !== null && !rotated && saved.offset <= st.size;
      this.offset = rotated ? 0 : resume ? saved.offset : st.size;
      this.partial = resume ? saved.state.partial : '';
      this.inode = st.inode;
      this.saveCursor(file);
      const handle = await openStream(deps.session(), followEventsArgv(file, this.offset), (chunk) => this.onChunk(file, chunk), (err) => this.onTailNotice(err));
      if (!this.running) { handle.close(); return; }
      this.stream = handle;
      this.opens++;
      this.reopenAttempt = 0;
      this.emit('open');
      this.readyResolve?.();
      deps.logger.info('watching the events file', { file, fromByte: this.offset });
      void handle.closed.then(() => { if (this.stream === handle) this.onClosed(); });
      void deps.tracker.reconcile(null, 'sacct').catch((e: unknown) => deps.logger.warn('reconcile after the events stream opened failed', { error: describeError(e) }));
      if (this.rotateAt() > 0 && this.offset >= this.rotateAt()) void this.rotate(file);
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
    this.deps.cursors.setCursor(CURSOR_KEY, file, { offset: this.offset, state: { partial: this.partial, ...(this.inode !== null ? { inode: this.inode } : {}) } });
  }

  private rotateAt(): number {
    return this.deps.rotateBytes ?? ROTATE_BYTES;
  }

  private onChunk(file: string, chunk: Buffer): void {
    this.offset += chunk.length;
    const text = this.partial + chunk.toString('utf8');
    const cut = text.lastIndexOf('\n');
    this.partial = cut === -1 ? text : text.slice(cut + 1);
    this.take(cut === -1 ? [] : text.slice(0, cut).split('\n'));
    this.saveCursor(file);
    if (this.rotateAt() > 0 && this.offset >= this.rotateAt() && !this.rotating) void this.rotate(file);
  }

  /** Event lines for known jobs: recorded (once: a line read twice across a rotation is recognised) and their jobs reconciled. */
  private take(lines: readonly string[]): void {
    const now = this.deps.clock.now();
    for (const line of lines) {
      const ev = parseEventLine(line);
      if (!ev) continue;
      const job = this.deps.store.get(ev.jobKey);
      // Another app instance's job, or one from before this store.
      if (!job) continue;
      const seen = this.deps.store.events(ev.jobKey).some((e) => e.kind === 'exit-trap' && e.detail.epoch === ev.epoch && e.detail.exitCode === ev.exitCode);
      if (seen) continue;
      this.deps.store.addEvent(ev.jobKey, 'exit-trap', { exitCode: ev.exitCode, epoch: ev.epoch }, now);
      this.emit('line', { ...ev, receivedAt: now });
      // Already final (a tick or the reconcile on open got there first): nothing to ask.
      if (!job.final) this.pending.set(ev.jobKey, 0);
    }
    if (this.pending.size > 0) this.scheduleBatch(this.deps.batchMs ?? 100);
  }

  /** tail -F says the file was replaced (someone else rotated it): reopen, which reads what the switch may have skipped. */
  private onTailNotice(chunk: Buffer): void {
    if (!REPLACED.test(chunk.toString('utf8')) || this.rotating) return;
    this.deps.logger.info('the events file was replaced; reopening it');
    this.restart();
  }

  /** Reads what is left of an old generation (events.log.1, when it is the one with `inode`) from `from`. */
  private async readOldGeneration(file: string, inode: string | null, from: number): Promise<void> {
    const { files } = this.deps;
    const old = `${file}.1`;
    if (files.touchStat && inode !== null) {
      const [probe] = await files.readRanges([{ path: old, offset: 0, cap: 0 }]);
      if (!probe || probe.size === null) return;
      const st = await files.touchStat(old);
      if (st.inode !== inode) return;
    }
    const [r] = await files.readRanges([{ path: old, offset: from, cap: OLD_GENERATION_CAP }]);
    if (!r || r.size === null) return;
    const text = (from > 0 && r.start === from ? this.partial : '') + r.data.toString('utf8');
    const lines = text.split('\n');
    // The old generation is complete: its last line needs no newline to count.
    this.take(lines);
    this.deps.logger.info('read the rest of the rotated events file', { file: old, fromByte: r.start, bytes: r.data.length });
  }

  /**
   * Rotates the events file once it passes rotateBytes: the stream stops first (so the byte
   * offset is exactly what was read of the old generation), the file is renamed to events.log.1
   * with an empty events.log in its place, lines still in flight to the old file are given
   * settleMs to land, the old file is read from that offset to its end, and the stream starts on
   * the new file at byte 0.
   */
  private async rotate(file: string): Promise<void> {
    const { deps } = this;
    if (this.rotating || !deps.files.rotate || !this.running) return;
    this.rotating = true;
    const stream = this.stream;
    this.stream = null;
    try {
      stream?.close();
      if (stream) await Promise.race([stream.closed, new Promise<void>((r) => { deps.clock.setTimeout(r, 5_000); })]);
      const done = await deps.files.rotate(file, this.rotateAt());
      if (done) {
        const oldInode = this.inode;
        const from = this.offset;
        await new Promise<void>((r) => { deps.clock.setTimeout(r, deps.settleMs ?? 2_000); });
        await this.readOldGeneration(file, oldInode, from);
        const st = deps.files.touchStat ? await deps.files.touchStat(file) : { size: 0, inode: null };
        this.offset = 0;
        this.partial = '';
        this.inode = st.inode;
        this.saveCursor(file);
        deps.logger.info('rotated the events file', { file, oldBytes: from });
      }
    } catch (e) {
      deps.logger.warn('could not rotate the events file; trying again later', { error: describeError(e) });
    } finally {
      this.rotating = false;
      if (stream) this.emit('close');
      void this.openNow();
    }
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
