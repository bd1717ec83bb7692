import { createTask } from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRelayError } from '../../main/core/errors.js';
import { parseSchedule, parseTimeOfDay, plannedBetween } from '../../main/core/cron/schedule.js';
import { instantOf, offsetAt, wallTimeOf } from '../../main/core/cron/tz.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const at = (s: string) => Date.parse(s);

function nextN(schedule: string, tz: string, fromIso: string, n: number): string[] {
  const s = parseSchedule(schedule, tz);
  const out: string[] = [];
  let t = at(fromIso);
  for (let i = 0; i < n; i++) {
    const next = s.next(t);
    if (next === null) break;
    out.push(new Date(next).toISOString());
    t = next;
  }
  return out;
}

describe('schedule parsing', () => {
  const good: Array<[string, string, string]> = [
    ['every 5m', '*/5 * * * *', 'every 5 minutes'],
    ['every 5 m', '*/5 * * * *', 'every 5 minutes'],
    ['Every 30 minutes', '*/30 * * * *', 'every 30 minutes'],
    ['every minute', '* * * * *', 'every minute'],
    ['every 1m', '* * * * *', 'every minute'],
    ['every 2h', '0 */2 * * *', 'every 2 hours'],
    ['every 1 hour', '0 * * * *', 'every hour'],
    ['every 1.5h', 'every 90m', 'every 90 minutes'],
    ['every 45m', 'every 45m', 'every 45 minutes'],
    ['every 5h', 'every 300m', 'every 5 hours'],
    ['every 1d', '0 0 * * *', 'every day at 00:00'],
    ['hourly', '0 * * * *', 'every hour'],
    ['@hourly', '0 * * * *', 'every hour'],
    ['hourly at :15', '15 * * * *', 'every hour at :15'],
    ['daily', '0 0 * * *', 'every day at 00:00'],
    ['daily at 9am', '0 9 * * *', 'every day at 09:00'],
    ['daily at 9 AM', '0 9 * * *', 'every day at 09:00'],
    ['daily at 18:30', '30 18 * * *', 'every day at 18:30'],
    ['every day at 12am', '0 0 * * *', 'every day at 00:00'],
    ['daily at 12pm', '0 12 * * *', 'every day at 12:00'],
    ['daily at 9:45pm', '45 21 * * *', 'every day at 21:45'],
    ['daily at noon', '0 12 * * *', 'every day at 12:00'],
    ['at 7:05', '5 7 * * *', 'every day at 07:05'],
    ['weekdays at 18:00', '0 18 * * 1,2,3,4,5', 'weekdays at 18:00'],
    ['every weekday at 8am', '0 8 * * 1,2,3,4,5', 'weekdays at 08:00'],
    ['weekends at 10', '0 10 * * 0,6', 'weekends at 10:00'],
    ['mondays at 9', '0 9 * * 1', 'Mondays at 09:00'],
    ['every monday at 9', '0 9 * * 1', 'Mondays at 09:00'],
    ['Tuesday at 14:15', '15 14 * * 2', 'Tuesdays at 14:15'],
    ['mon, wed and fri at 9:30', '30 9 * * 1,3,5', 'Mondays, Wednesdays and Fridays at 09:30'],
    ['weekly', '0 0 * * 0', 'Sundays at 00:00'],
    ['*/5 * * * *', '*/5 * * * *', 'cron */5 * * * *'],
    ['0  9 * *   1-5', '0 9 * * 1-5', 'cron 0 9 * * 1-5'],
    ['0 9 * * MON-FRI', '0 9 * * MON-FRI', 'cron 0 9 * * MON-FRI'],
    ['0 0 L * *', '0 0 L * *', 'cron 0 0 L * *'],
    ['30 0 9 * * *', '30 0 9 * * *', 'cron 30 0 9 * * *'],
  ];
  it.each(good)('%s → %s', (input, expression, description) => {
    const s = parseSchedule(input, 'UTC');
    expect(s.expression).toBe(expression);
    expect(s.description).toBe(description);
    expect(s.input).toBe(input.trim());
  });

  const bad: Array<[string, RegExp]> = [
    ['', /is not a valid schedule: it is empty/],
    ['every fortnight', /"every fortnight" is not a schedule HPC Relay understands/],
    ['tomorrow', /is not a schedule HPC Relay understands/],
    ['every 0m', /at least 1/],
    ['every 30s', /at most once a minute/],
    ['every 5 parsecs', /"parsecs" is not a unit/],
    ['every 8d', /longer than a week/],
    ['daily at 25:00', /"25:00" is not a time of day/],
    ['daily at 13pm', /"13pm" is not a time of day/],
    ['weekdays at 9:75', /not a time of day/],
    ['hourly at :61', /minute must be from 0 to 59/],
    ['61 * * * *', /61 is an invalid expression for minute/],
    ['* * * *', /not a schedule HPC Relay understands/],
    ['0 0 30 2 *', /impossible day of month/],
    ['* * * * * *', /at most once a minute/],
    ['0 9 * * 8', /invalid expression for week day/],
  ];
  it.each(bad)('rejects %j with one sentence and examples', (input, why) => {
    let err: unknown;
    try { parseSchedule(input, 'UTC'); } catch (e) { err = e; }
    expect(isRelayError(err, 'CRON_INVALID_SCHEDULE')).toBe(true);
    const msg = (err as Error).message;
    expect(msg).toMatch(why);
    expect(msg).toContain('Try "every 5m", "every 2h", "hourly", "daily at 9am", "weekdays at 18:00"');
    expect(msg).not.toContain('\n');
  });

  it('rejects an unknown time zone with CRON_INVALID_OPTION', () => {
    expect(() => parseSchedule('every 5m', 'Mars/Olympus_Mons')).toThrow(/"Mars\/Olympus_Mons" is not a time zone/);
  });

  it('reads times of day people type', () => {
    expect(parseTimeOfDay('9')).toEqual([9, 0]);
    expect(parseTimeOfDay('09:05')).toEqual([9, 5]);
    expect(parseTimeOfDay('12am')).toEqual([0, 0]);
    expect(parseTimeOfDay('12:30 pm')).toEqual([12, 30]);
    expect(parseTimeOfDay('18h30')).toEqual([18, 30]);
    expect(parseTimeOfDay('midnight')).toEqual([0, 0]);
    expect(parseTimeOfDay('0am')).toBeNull();
    expect(parseTimeOfDay('24:00')).toBeNull();
    expect(parseTimeOfDay('nine')).toBeNull();
  });
});

describe('next-run math', () => {
  it('every 5m lands on the five-minute marks, strictly after the given time', () => {
    expect(nextN('every 5m', 'UTC', '2026-03-02T09:00:00Z', 3)).toEqual(['2026-03-02T09:05:00.000Z', '2026-03-02T09:10:00.000Z', '2026-03-02T09:15:00.000Z']);
    expect(nextN('every 5m', 'UTC', '2026-03-02T09:04:59.999Z', 1)).toEqual(['2026-03-02T09:05:00.000Z']);
  });

  it('daily at 9am follows the zone: 09:00 Bangkok is 02:00 UTC', () => {
    expect(nextN('daily at 9am', 'Asia/Bangkok', '2026-03-02T03:00:00Z', 2)).toEqual(['2026-03-03T02:00:00.000Z', '2026-03-04T02:00:00.000Z']);
  });

  it('weekdays at 18:00 skips the weekend', () => {
    // 2026-03-06 is a Friday.
    expect(nextN('weekdays at 18:00', 'UTC', '2026-03-06T18:00:00Z', 2)).toEqual(['2026-03-09T18:00:00.000Z', '2026-03-10T18:00:00.000Z']);
  });

  it('keeps 09:00 local across a DST change (Berlin, 29 March 2026)', () => {
    expect(nextN('daily at 9am', 'Europe/Berlin', '2026-03-28T09:00:00Z', 2)).toEqual(['2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z']);
  });

  it('a wall time skipped by spring-forward does not run that day; one repeated by fall-back runs once', () => {
    // 02:30 does not exist in New York on 2026-03-08.
    expect(nextN('daily at 2:30', 'America/New_York', '2026-03-07T12:00:00Z', 2)).toEqual(['2026-03-09T06:30:00.000Z', '2026-03-10T06:30:00.000Z']);
    // 01:30 happens twice on 2026-11-01 (EDT, then EST): the first one only.
    expect(nextN('daily at 1:30', 'America/New_York', '2026-10-31T12:00:00Z', 2)).toEqual(['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
    // An hourly schedule keeps firing every real hour through the change.
    expect(nextN('hourly', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z']);
  });

  it('intervals cron cannot express evenly are multiples since the epoch, identical in every process', () => {
    expect(nextN('every 45m', 'Asia/Bangkok', '2026-03-02T00:10:00Z', 3)).toEqual(['2026-03-02T00:45:00.000Z', '2026-03-02T01:30:00.000Z', '2026-03-02T02:15:00.000Z']);
    const s = parseSchedule('every 90m', 'UTC');
    expect((s.next(0) ?? 0) % (90 * 60_000)).toBe(0);
  });

  it('day-of-month L and nth weekday', () => {
    expect(nextN('0 0 L * *', 'UTC', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    expect(nextN('0 9 * * 1#2', 'UTC', '2026-03-01T00:00:00Z', 1)).toEqual(['2026-03-09T09:00:00.000Z']);
  });

  it('lists planned times in a span, oldest first, with the count and the newest', () => {
    const s = parseSchedule('every 5m', 'UTC');
    const span = plannedBetween(s, at('2026-03-02T09:05:00Z'), at('2026-03-02T09:28:00Z'));
    expect(span.times.map(iso)).toEqual(['2026-03-02T09:10:00.000Z', '2026-03-02T09:15:00.000Z', '2026-03-02T09:20:00.000Z', '2026-03-02T09:25:00.000Z']);
    expect(span.count).toBe(4);
    expect(iso(span.last)).toBe('2026-03-02T09:25:00.000Z');
    const month = plannedBetween(parseSchedule('every minute', 'UTC'), at('2026-03-01T00:00:00Z'), at('2026-03-31T00:00:00Z'), 5);
    expect(month.count).toBe(30 * 1440);
    expect(month.times).toHaveLength(5);
  });

  it('wall-time helpers round-trip', () => {
    const t = at('2026-07-01T12:34:56Z');
    expect(offsetAt(t, 'Europe/Berlin')).toBe(2 * 3600_000);
    const w = wallTimeOf(t, 'Asia/Kolkata');
    expect(w).toEqual({ year: 2026, month: 7, day: 1, hour: 18, minute: 4, second: 56 });
    expect(instantOf(w, 'Asia/Kolkata')).toBe(t);
    expect(instantOf({ year: 2026, month: 3, day: 8, hour: 2, minute: 30, second: 0 }, 'America/New_York')).toBeNull();
  });
});

describe('agrees with node-cron, which drives validation', () => {
  afterEach(() => { vi.useRealTimers(); });

  const cases: Array<[string, string, string]> = [
    ['*/5 * * * *', 'UTC', '2026-03-02T09:02:10Z'],
    ['0 9 * * 1-5', 'Europe/Berlin', '2026-03-27T10:00:00Z'],
    ['30 18 * * *', 'Asia/Bangkok', '2026-06-30T23:59:00Z'],
    ['0 0 L * *', 'America/New_York', '2026-01-15T00:00:00Z'],
    ['15 3 * * 0', 'Australia/Sydney', '2026-04-01T00:00:00Z'],
    ['0 */2 * * *', 'Asia/Kolkata', '2026-12-31T22:10:00Z'],
    ['0 9 1 * *', 'Pacific/Auckland', '2026-09-20T00:00:00Z'],
  ];
  it.each(cases)('%s in %s from %s: the same next five runs as node-cron', (expr, tz, from) => {
    const ours = nextN(expr, tz, from, 5);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(from));
    const theirs = createTask(expr, () => undefined, { timezone: tz }).getNextRuns(5).map((d) => d.toISOString());
    expect(ours).toEqual(theirs);
    expect(ours).toHaveLength(5);
  });
});
