/**
 * Monitor schedules: the shorthands people type ("every 5m", "daily at 9am", "weekdays at 18:00")
 * and standard cron, validated by node-cron, plus our own next-run arithmetic over node-cron's
 * parsed fields so the scheduler and its tests run on any Clock (no wall-clock timers involved).
 *
 * Semantics follow node-cron, which validates the expressions: day-of-month AND day-of-week must
 * both match (node-cron does not use classic cron's OR); a wall time skipped by a spring-forward
 * change does not run that day; one that happens twice (fall-back) runs once, the first time.
 */
import { validateDetailed, type ParsedFields } from 'node-cron';
import { RelayError } from '../errors.js';
import { daysInMonth, instantOf, isValidTimeZone, wallTimeOf, weekdayOf, type WallTime } from './tz.js';

export interface Schedule {
  /** What the user typed, trimmed. */
  readonly input: string;
  /** The normalized form we store and run: a 5/6-field cron expression, or "every 45m". */
  readonly expression: string;
  /** Human words for it: "every 5 minutes", "weekdays at 18:00". */
  readonly description: string;
  readonly timezone: string;
  /** The first planned time strictly after `afterMs`, or null if it never fires again. */
  next(afterMs: number): number | null;
}

const EXAMPLES = '"every 5m", "every 2h", "hourly", "daily at 9am", "weekdays at 18:00", "mondays at 9", or a cron expression such as "*/5 * * * *"';

function badSchedule(input: string, why?: string): RelayError {
  const shown = input.length > 80 ? `${input.slice(0, 77)}…` : input;
  return new RelayError('CRON_INVALID_SCHEDULE', why ? `"${shown}" is not a valid schedule: ${why}.` : `"${shown}" is not a schedule HPC Relay understands.`, {
    fix: `Try ${EXAMPLES}.`,
  });
}

// ---------------------------------------------------------------------------------------------
// Cron expressions
// ---------------------------------------------------------------------------------------------

type DayToken = number | string;

function lastDayMatches(field: readonly DayToken[], year: number, month: number, day: number): boolean {
  const last = daysInMonth(year, month);
  for (const v of field) {
    if (v === day) return true;
    if (typeof v !== 'string') continue;
    if (v === 'L' && day === last) return true;
    const w = /^(\d{1,2}|L)W$/.exec(v);
    if (w) {
      const target = w[1] === 'L' ? last : Number(w[1]);
      if (target >= 1 && target <= last) {
        const wd = weekdayOf(year, month, target);
        let nearest = target;
        if (wd === 6) nearest = target === 1 ? target + 2 : target - 1;
        else if (wd === 0) nearest = target === last ? target - 2 : target + 1;
        if (nearest === day) return true;
      }
    }
    const off = /^L-(\d{1,2})$/.exec(v);
    if (off && last - Number(off[1]) === day) return true;
  }
  return false;
}

function weekdayMatches(field: readonly DayToken[], year: number, month: number, day: number): boolean {
  const wd = weekdayOf(year, month, day);
  for (const v of field) {
    if (v === wd) return true;
    if (typeof v !== 'string') continue;
    const nth = /^([0-7])#([1-5])$/.exec(v);
    if (nth) {
      if (Number(nth[1]) % 7 === wd && Math.floor((day - 1) / 7) + 1 === Number(nth[2])) return true;
      continue;
    }
    const lastWd = /^([0-7])L$/i.exec(v);
    if (lastWd && Number(lastWd[1]) % 7 === wd && day + 7 > daysInMonth(year, month)) return true;
  }
  return false;
}

const MAX_SCAN_DAYS = 366 * 30;

class CronSchedule implements Schedule {
  private readonly seconds: number[];
  private readonly minutes: number[];
  private readonly hours: number[];
  private readonly months: Set<number>;

  constructor(
    readonly input: string,
    readonly expression: string,
    readonly description: string,
    readonly timezone: string,
    private readonly fields: ParsedFields,
  ) {
    const asc = (xs: readonly number[]) => [...new Set(xs)].sort((a, b) => a - b);
    this.seconds = asc(fields.second);
    this.minutes = asc(fields.minute);
    this.hours = asc(fields.hour);
    this.months = new Set(fields.month);
  }

  private dayMatches(y: number, m: number, d: number): boolean {
    return this.months.has(m) && lastDayMatches(this.fields.dayOfMonth, y, m, d) && weekdayMatches(this.fields.dayOfWeek, y, m, d);
  }

  next(afterMs: number): number | null {
    const start = wallTimeOf(afterMs, this.timezone);
    const startKey = start.hour * 3600 + start.minute * 60 + start.second;
    const cursor = new Date(Date.UTC(start.year, start.month - 1, start.day));
    for (let i = 0; i < MAX_SCAN_DAYS; i++, cursor.setUTCDate(cursor.getUTCDate() + 1)) {
      const y = cursor.getUTCFullYear();
      const m = cursor.getUTCMonth() + 1;
      const d = cursor.getUTCDate();
      if (!this.dayMatches(y, m, d)) continue;
      for (const hour of this.hours) {
        if (i === 0 && hour < start.hour) continue;
        for (const minute of this.minutes) {
          if (i === 0 && hour === start.hour && minute < start.minute) continue;
          for (const second of this.seconds) {
            // Wall times at or before `afterMs`'s own are never next (a fall-back repeat maps to
            // its first occurrence, which is earlier still).
            if (i === 0 && hour * 3600 + minute * 60 + second <= startKey) continue;
            const w: WallTime = { year: y, month: m, day: d, hour, minute, second };
            const t = instantOf(w, this.timezone);
            if (t !== null && t > afterMs) return t;
          }
        }
      }
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Fixed intervals that cron cannot express evenly ("every 45m", "every 90m", "every 5h")
// ---------------------------------------------------------------------------------------------

class IntervalSchedule implements Schedule {
  constructor(
    readonly input: string,
    readonly expression: string,
    readonly description: string,
    readonly timezone: string,
    private readonly everyMs: number,
  ) {}

  /** Multiples of the interval since the Unix epoch: the same instants in every process. */
  next(afterMs: number): number {
    return (Math.floor(afterMs / this.everyMs) + 1) * this.everyMs;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

const UNIT_MINUTES: Record<string, number> = {
  m: 1, min: 1, mins: 1, minute: 1, minutes: 1,
  h: 60, hr: 60, hrs: 60, hour: 60, hours: 60,
  d: 1440, day: 1440, days: 1440,
};

const DAY_NAMES: Array<[RegExp, number]> = [
  [/^sun(day)?s?$/, 0], [/^mon(day)?s?$/, 1], [/^tue(s|sday)?s?$/, 2], [/^wed(nesday)?s?$/, 3],
  [/^thu(r|rs|rsday)?s?$/, 4], [/^fri(day)?s?$/, 5], [/^sat(urday)?s?$/, 6],
];
const DAY_WORDS = ['Sundays', 'Mondays', 'Tuesdays', 'Wednesdays', 'Thursdays', 'Fridays', 'Saturdays'];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "9", "9am", "9:30", "09:30", "9:30 pm", "18:30", "noon", "midnight" → [hour, minute]. */
export function parseTimeOfDay(text: string): [number, number] | null {
  const t = text.trim().toLowerCase().replace(/\s+/g, '');
  if (t === 'noon') return [12, 0];
  if (t === 'midnight') return [0, 0];
  const m = /^(\d{1,2})(?:[:.h](\d{2}))?(am|pm|a\.m\.|p\.m\.)?$/.exec(t);
  if (!m) return null;
  let hour = Number(m[1]);
  const minute = m[2] === undefined ? 0 : Number(m[2]);
  const ampm = m[3]?.[0];
  if (minute > 59) return null;
  if (ampm) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (ampm === 'p' ? 12 : 0);
  } else if (hour > 23) {
    return null;
  }
  return [hour, minute];
}

function dayOfWeekList(text: string): number[] | null {
  const t = text.trim().toLowerCase();
  if (/^(every\s+)?(weekday|weekdays)$/.test(t)) return [1, 2, 3, 4, 5];
  if (/^(every\s+)?(weekend|weekends)$/.test(t)) return [0, 6];
  if (/^(every\s+day|daily|everyday|each\s+day)$/.test(t)) return [];
  const words = t.replace(/^(every|on|each)\s+/, '').split(/\s*(?:,|\band\b|&|\/)\s*/).filter(Boolean);
  if (!words.length) return null;
  const out: number[] = [];
  for (const w of words) {
    const hit = DAY_NAMES.find(([re]) => re.test(w.replace(/^(every|on|each)\s+/, '')));
    if (!hit) return null;
    if (!out.includes(hit[1])) out.push(hit[1]);
  }
  return out.sort((a, b) => a - b);
}

function describeDays(days: number[]): string {
  if (!days.length) return 'every day';
  if (days.join() === '1,2,3,4,5') return 'weekdays';
  if (days.join() === '0,6') return 'weekends';
  const names = days.map((d) => DAY_WORDS[d] ?? String(d));
  return names.length === 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}

interface Shorthand {
  expression: string;
  description: string;
  everyMs?: number;
}

function intervalShorthand(input: string, n: number, unit: string): Shorthand {
  if (/^(s|sec|secs|second|seconds)$/.test(unit)) throw badSchedule(input, 'monitors run at most once a minute; use "every 1m" or longer');
  const perUnit = UNIT_MINUTES[unit];
  if (perUnit === undefined) throw badSchedule(input, `"${unit}" is not a unit; use m (minutes), h (hours) or d (days)`);
  const minutes = n * perUnit;
  if (!Number.isInteger(minutes) || minutes < 1) throw badSchedule(input, 'the interval must be a whole number of minutes, at least 1');
  if (minutes > 7 * 1440) throw badSchedule(input, 'intervals longer than a week are better written as a cron expression such as "0 9 1 * *"');
  const words = minutes % 1440 === 0 ? [minutes / 1440, 'day'] as const : minutes % 60 === 0 ? [minutes / 60, 'hour'] as const : [minutes, 'minute'] as const;
  const description = words[0] === 1 ? `every ${words[1]}` : `every ${words[0]} ${words[1]}s`;
  if (minutes < 60 && 60 % minutes === 0) return { expression: minutes === 1 ? '* * * * *' : `*/${minutes} * * * *`, description };
  if (minutes % 60 === 0 && minutes < 1440 && 24 % (minutes / 60) === 0) {
    const h = minutes / 60;
    return { expression: h === 1 ? '0 * * * *' : `0 */${h} * * *`, description };
  }
  if (minutes === 1440) return { expression: '0 0 * * *', description: 'every day at 00:00' };
  return { expression: `every ${minutes}m`, description, everyMs: minutes * 60_000 };
}

/** The shorthands, or null when `input` is not one (it may then be cron). */
function parseShorthand(input: string): Shorthand | null {
  const t = input.trim().toLowerCase().replace(/\s+/g, ' ');
  switch (t) {
    case 'every minute': case 'minutely': return { expression: '* * * * *', description: 'every minute' };
    case 'hourly': case 'every hour': case '@hourly': return { expression: '0 * * * *', description: 'every hour' };
    case 'daily': case 'every day': case '@daily': case '@midnight': case 'midnight': return { expression: '0 0 * * *', description: 'every day at 00:00' };
    case 'weekly': case 'every week': case '@weekly': return { expression: '0 0 * * 0', description: 'Sundays at 00:00' };
    case 'monthly': case 'every month': case '@monthly': return { expression: '0 0 1 * *', description: 'the 1st of every month at 00:00' };
    case 'yearly': case 'annually': case '@yearly': case '@annually': return { expression: '0 0 1 1 *', description: 'every 1 January at 00:00' };
    default: break;
  }
  // every 5m / every 5 minutes / every 2h / every 1d / every 5 m
  const every = /^every (\d+(?:\.\d+)?) ?([a-z]+)$/.exec(t);
  if (every) return intervalShorthand(input, Number(every[1]), every[2] ?? '');
  // hourly at :15 / every hour at 15
  const hourlyAt = /^(?:hourly|every hour) at :?(\d{1,2})$/.exec(t);
  if (hourlyAt) {
    const minute = Number(hourlyAt[1]);
    if (minute > 59) throw badSchedule(input, 'the minute must be from 0 to 59');
    return { expression: `${minute} * * * *`, description: `every hour at :${pad(minute)}` };
  }
  // <days> at <time>: "daily at 9am", "weekdays at 18:00", "mondays at 9", "mon, wed and fri at 9:30"
  const at = /^(.+?) (?:at|@) (.+)$/.exec(t);
  if (at) {
    const days = dayOfWeekList(at[1] ?? '');
    if (days === null) return null;
    const time = parseTimeOfDay(at[2] ?? '');
    if (!time) throw badSchedule(input, `"${at[2] ?? ''}" is not a time of day; write 9am, 9:30, 18:00 or noon`);
    const [hour, minute] = time;
    const dow = days.length ? days.join(',') : '*';
    return { expression: `${minute} ${hour} * * ${dow}`, description: `${describeDays(days)} at ${pad(hour)}:${pad(minute)}` };
  }
  // "at 9am" alone means every day
  const bare = /^at (.+)$/.exec(t);
  if (bare) {
    const time = parseTimeOfDay(bare[1] ?? '');
    if (!time) throw badSchedule(input, `"${bare[1] ?? ''}" is not a time of day; write 9am, 9:30, 18:00 or noon`);
    return { expression: `${time[1]} ${time[0]} * * *`, description: `every day at ${pad(time[0])}:${pad(time[1])}` };
  }
  return null;
}

function looksLikeCron(t: string): boolean {
  const fields = t.trim().split(/\s+/);
  return (fields.length === 5 || fields.length === 6) && fields.every((f) => /^[0-9*?/,\-LW#A-Za-z]+$/.test(f)) && /[0-9*?]/.test(fields[0] ?? '');
}

function cronFields(input: string, expression: string): ParsedFields {
  const v = validateDetailed(expression);
  if (!v.valid || !v.fields) {
    const first = v.errors[0];
    const why = first ? first.message.replace(/ is a invalid /, ' is an invalid ') : 'node-cron rejected it';
    throw badSchedule(input, `${why} (cron fields are: minute hour day-of-month month day-of-week)`);
  }
  return v.fields;
}

/**
 * Parses what a user typed into a Schedule in `timezone`; throws CRON_INVALID_SCHEDULE (one
 * sentence with examples) or CRON_INVALID_OPTION (unknown time zone).
 */
export function parseSchedule(text: string, timezone: string): Schedule {
  const input = text.trim();
  if (!isValidTimeZone(timezone)) {
    throw new RelayError('CRON_INVALID_OPTION', `"${timezone}" is not a time zone.`, { fix: 'Use an IANA name such as Europe/Berlin, America/New_York or Asia/Bangkok.' });
  }
  if (!input) throw badSchedule(input, 'it is empty');
  const short = parseShorthand(input);
  if (short?.everyMs !== undefined) return new IntervalSchedule(input, short.expression, short.description, timezone, short.everyMs);
  if (short) return new CronSchedule(input, short.expression, short.description, timezone, cronFields(input, short.expression));
  // A stored interval ("every 45m") reads back through the shorthand path above.
  if (!looksLikeCron(input)) throw badSchedule(input);
  const expression = input.split(/\s+/).join(' ');
  const fields = cronFields(input, expression);
  if (new Set(fields.second).size > 1) throw badSchedule(input, 'monitors run at most once a minute, so the seconds field must be a single number');
  const schedule = new CronSchedule(input, expression, `cron ${expression}`, timezone, fields);
  if (schedule.next(Date.now()) === null) throw badSchedule(input, 'it never fires (no such date in the next 30 years)');
  return schedule;
}

/** A schedule read back from the store: its normalized expression, with the words shown at creation. */
export function restoreSchedule(input: string, expression: string, description: string, timezone: string): Schedule {
  const parsed = parseSchedule(expression, timezone);
  return { input, expression: parsed.expression, description, timezone, next: (after) => parsed.next(after) };
}

/**
 * Planned times in (fromMs, toMs], oldest first: at most `cap` of them are listed; `count` is
 * exact up to `countCap` and `last` is the newest planned time in the range (or null).
 */
export function plannedBetween(schedule: Schedule, fromMs: number, toMs: number, cap = 50, countCap = 100_000): { times: number[]; count: number; last: number | null; capped: boolean } {
  const times: number[] = [];
  let count = 0;
  let last: number | null = null;
  let t = schedule.next(fromMs);
  while (t !== null && t <= toMs) {
    count++;
    last = t;
    if (times.length < cap) times.push(t);
    if (count >= countCap) {
      // Past the cap the exact count stops mattering: only the newest time is still needed.
      const tail = plannedBetween(schedule, Math.max(t, toMs - 7 * 86_400_000), toMs, 0, Number.POSITIVE_INFINITY);
      return { times, count: count + tail.count, last: tail.last ?? last, capped: true };
    }
    t = schedule.next(t);
  }
  return { times, count, last, capped: false };
}
