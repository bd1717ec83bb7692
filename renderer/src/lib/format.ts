/** Display helpers: durations, sizes, times. */

export function formatElapsed(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '—';
  const s = Math.max(0, Math.round(sec));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 10 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

export function formatTime(ms: number | null): string {
  if (ms === null) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

const RELATIVE_UNITS: ReadonlyArray<readonly [ms: number, unit: string, max: number]> = [[1000, 's', 60], [60_000, 'min', 60], [3_600_000, 'h', 24], [86_400_000, 'd', Infinity]];

/** "in 4 min", "2 h ago". Rounded in the unit it names; a count that rounds up to the next unit says that one ("in 1 h", not "in 60 min"). */
export function relativeTime(ms: number | null, now = Date.now()): string {
  if (ms === null) return '—';
  const diff = ms - now;
  const abs = Math.abs(diff);
  let n = 0;
  let unit = 's';
  for (const [size, name, max] of RELATIVE_UNITS) {
    n = Math.round(abs / size);
    unit = name;
    if (n < max) break;
  }
  return diff >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

export function formatMetric(value: number | null): string {
  if (value === null) return 'NaN';
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e5)) return value.toExponential(2);
  return String(Number(value.toPrecision(4)));
}

/** SLURM states grouped for colour and filters. */
export type StateGroup = 'active' | 'done' | 'failed' | 'cancelled';

export function stateGroup(state: string): StateGroup {
  const s = state.toUpperCase();
  if (s === 'COMPLETED') return 'done';
  if (s.startsWith('CANCELLED')) return 'cancelled';
  if (['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'REQUEUED', 'RESIZING', 'SUSPENDED', 'SUBMITTED'].includes(s)) return 'active';
  return 'failed';
}
