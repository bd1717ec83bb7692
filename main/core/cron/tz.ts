/**
 * Wall-clock arithmetic in an IANA time zone with nothing but Intl: the offset of an instant, and
 * the instant of a local wall time (or none, inside a spring-forward gap).
 */

export interface WallTime {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();
const BUCKET_MS = 15 * 60_000;

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` names a time zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  if (!tz) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** The user's own zone, as the OS reports it (TZ, /etc/localtime). */
export function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function computeOffset(ms: number, tz: string): number {
  const parts = formatter(tz).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? '0');
  const hour = get('hour') % 24;
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), hour, get('minute'), get('second'));
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * Milliseconds to add to a UTC instant to get its wall time in `tz`. Offsets only change on
 * quarter-hour boundaries, so one Intl call per 15-minute bucket is cached.
 */
export function offsetAt(ms: number, tz: string): number {
  let cache = offsetCache.get(tz);
  if (!cache) {
    cache = new Map();
    offsetCache.set(tz, cache);
  }
  const bucket = Math.floor(ms / BUCKET_MS);
  let off = cache.get(bucket);
  if (off === undefined) {
    if (cache.size > 50_000) cache.clear();
    off = computeOffset(bucket * BUCKET_MS, tz);
    cache.set(bucket, off);
  }
  return off;
}

export function wallTimeOf(ms: number, tz: string): WallTime {
  const d = new Date(ms + offsetAt(ms, tz));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/**
 * The first instant whose wall time in `tz` is `w`; null when `w` does not exist there (the hour
 * skipped by a spring-forward change). A wall time that happens twice (fall-back) maps to its
 * first occurrence.
 */
export function instantOf(w: WallTime, tz: string): number | null {
  const guess = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  let best: number | null = null;
  for (const probe of [guess - 14 * 3600_000, guess + 14 * 3600_000]) {
    const t = guess - offsetAt(probe, tz);
    if (t + offsetAt(t, tz) === guess && (best === null || t < best)) best = t;
  }
  return best;
}

/** Day of week (0 = Sunday) of a calendar date, independent of any zone. */
export function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** "2026-03-09 09:00" in `tz`. */
export function formatWallTime(ms: number, tz: string): string {
  const w = wallTimeOf(ms, tz);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${w.year}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}`;
}
