import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { HpcError, call, hpc } from '../../api';
import { appendOutput, stripAnsi } from '../../lib/ansi';
import { problemOf } from '../../lib/hooks';
import type { Problem } from '../../lib/hooks';
import { visibleRange } from '../../lib/virtual';

/** One line's height in px (CSS .log-line has the same); rows never wrap, the view scrolls sideways. */
const ROW = 18;
/** The first read takes at most the file's last 256 KB; later reads only what is new. */
const FIRST_READ = -256 * 1024;
const EVERY_MS = 2000;
/** Lines kept in memory; older ones are dropped (the file on the cluster keeps everything). */
const MAX_LINES = 50_000;

type Stream = 'stdout' | 'stderr';

interface Shown {
  lines: string[];
  /** The unfinished last line, shown as it grows. */
  partial: string;
  dropped: number;
  waiting: boolean;
}

/**
 * A live tail of the job's output. Only the rows on screen are in the DOM (the log can be long),
 * ANSI codes are stripped, and every line is a text node: a line that looks like HTML stays text.
 */
export function LogView({ jobId, live }: { jobId: string; live: boolean }) {
  const [stream, setStream] = useState<Stream>('stdout');
  const [shown, setShown] = useState<Shown>({ lines: [], partial: '', dropped: 0, waiting: true });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(360);
  const box = useRef<HTMLDivElement>(null);
  const follow = useRef(true);
  const liveRef = useRef(live);
  /** Reads now unless a read is under way (the job just ended: its last lines). */
  const kick = useRef<() => void>(() => undefined);
  const labelId = useId();

  useEffect(() => {
    liveRef.current = live;
    kick.current();
  }, [live]);

  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    let offset = FIRST_READ;
    let first = true;
    let carry = '';
    let lines: string[] = [];
    let dropped = 0;
    let reading = false;
    follow.current = true;

    const read = async (): Promise<void> => {
      reading = true;
      let more = false;
      try {
        const chunk = await call(hpc().jobsLog(jobId, stream, offset));
        if (stopped) return;
        setProblem(null);
        if (chunk.size === null) {
          setShown({ lines: [], partial: '', dropped: 0, waiting: true });
        } else {
          // The file is shorter than what was read: it was replaced, start over.
          if (!first && chunk.start < offset) {
            lines = [];
            carry = '';
          }
          let text = chunk.text;
          // A first read that starts mid-file starts mid-line: drop that part line.
          if (first && chunk.start > 0) text = text.slice(text.indexOf('\n') + 1);
          first = false;
          const r = appendOutput(carry, text);
          carry = r.carry;
          lines = lines.concat(r.lines);
          if (lines.length > MAX_LINES) {
            dropped += lines.length - MAX_LINES;
            lines = lines.slice(-MAX_LINES);
          }
          offset = chunk.nextOffset;
          more = chunk.nextOffset < chunk.size;
          setShown({ lines, partial: stripAnsi(carry), dropped, waiting: false });
        }
      } catch (e) {
        if (!stopped) setProblem(problemOf(e));
        // A job submitted elsewhere whose output file the scheduler no longer names: asking again will not help.
        if (e instanceof HpcError && (e.code === 'JOB_OUTPUT_UNKNOWN' || e.code === 'JOB_ACTION_REFUSED')) {
          reading = false;
          return;
        }
      }
      reading = false;
      if (stopped) return;
      // A backlog is read at once; a running job is read again every 2 s; an ended one once more, then not.
      if (more) timer = window.setTimeout(() => void read(), 0);
      else if (liveRef.current) timer = window.setTimeout(() => void read(), EVERY_MS);
    };
    kick.current = () => {
      if (reading || stopped) return;
      window.clearTimeout(timer);
      void read();
    };
    void read();
    return () => {
      stopped = true;
      kick.current = () => undefined;
      window.clearTimeout(timer);
    };
  }, [jobId, stream]);

  const rows = shown.partial ? [...shown.lines, shown.partial] : shown.lines;
  const { start, end } = visibleRange(scrollTop, height, ROW, rows.length);

  // Keep following the end while the user has not scrolled up.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [rows.length]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight || 360);
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  return (
    <div className="log-panel">
      <div className="log-toolbar">
        <h3 id={labelId}>Output</h3>
        <div className="segmented" role="group" aria-label="Stream">
          {(['stdout', 'stderr'] as const).map((s) => (
            <button key={s} type="button" className="secondary small" aria-pressed={stream === s} onClick={() => setStream(s)}>
              {s}
            </button>
          ))}
        </div>
        <span className="muted">
          {shown.waiting ? 'No output yet.' : `${rows.length.toLocaleString()} lines${shown.dropped ? ` (${shown.dropped.toLocaleString()} older not shown)` : ''}${live ? ' · live' : ''}`}
        </span>
      </div>
      {problem && (
        <p className="fix">
          {problem.message}
          {problem.fix ? ` ${problem.fix}` : ''}
        </p>
      )}
      <div
        ref={box}
        className="log"
        role="log"
        aria-labelledby={labelId}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          setScrollTop(el.scrollTop);
          follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 2;
        }}
      >
        <div className="log-spacer" style={{ height: rows.length * ROW }}>
          <div className="log-rows" style={{ transform: `translateY(${start * ROW}px)` }}>
            {rows.slice(start, end).map((line, i) => (
              <div key={start + i} className="log-line" data-line={start + i + 1}>
                {line === '' ? '\u00a0' : line}
              </div>
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}
