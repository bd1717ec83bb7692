/** Summary statistics of one benchmark's samples (nearest-rank percentiles), and how they are printed. */
export interface Stats { median: number; p95: number; mean: number; min: number; max: number }

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
  return { median: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length, min: s[0] ?? NaN, max: s.at(-1) ?? NaN };
}

/** Milliseconds, two decimals under 10, one above. */
export const ms = (v: number): string => (v < 10 ? v.toFixed(2) : v.toFixed(1));
