/**
 * The window's relative times (renderer/src/lib/format.ts), in Node with a fixed clock: a monitor's
 * next run "in 4 min", an approval expiring "in 58 s". Pinned at the unit boundaries, where the
 * count rounds up into the next unit.
 */
import { describe, expect, it } from 'vitest';
import { relativeTime } from '../../renderer/src/lib/format.js';

const NOW = Date.parse('2026-03-02T09:00:00Z');
const inMs = (ms: number) => relativeTime(NOW + ms, NOW);

describe('relativeTime', () => {
  it('names the time ahead or behind in the unit it fits', () => {
    expect([inMs(0), inMs(30_000), inMs(5 * 60_000), inMs(90 * 60_000), inMs(3 * 86_400_000)]).toEqual(['in 0 s', 'in 30 s', 'in 5 min', 'in 2 h', 'in 3 d']);
    expect([inMs(-30_000), inMs(-2 * 3_600_000)]).toEqual(['30 s ago', '2 h ago']);
    expect(relativeTime(null, NOW)).toBe('—');
  });

  it('a count that rounds up to a whole next unit says that unit: never "60 s", "60 min" or "24 h"', () => {
    expect([inMs(59_499), inMs(59_500), inMs(59_999), inMs(60_000)]).toEqual(['in 59 s', 'in 1 min', 'in 1 min', 'in 1 min']);
    expect([inMs(59 * 60_000 + 29_999), inMs(59 * 60_000 + 30_000), inMs(3_600_000 - 1), inMs(3_600_000)]).toEqual(['in 59 min', 'in 1 h', 'in 1 h', 'in 1 h']);
    expect([inMs(23.5 * 3_600_000 - 1), inMs(23.5 * 3_600_000), inMs(86_400_000)]).toEqual(['in 23 h', 'in 1 d', 'in 1 d']);
    expect([inMs(-59_500), inMs(-(59 * 60_000 + 30_000))]).toEqual(['1 min ago', '1 h ago']);
  });
});
