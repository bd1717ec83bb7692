/**
 * Which way a key metric is good: accuracy up, loss down. The same names, in the same order of
 * preference, as KEY_METRICS in main/core/slurm/metrics-parser.ts (the renderer does not import the
 * core; test/unit/renderer-job-groups.test.ts checks the two agree).
 */
export type MetricGoal = 'max' | 'min';

const KEY_METRICS: ReadonlyArray<{ re: RegExp; goal: MetricGoal }> = [
  { re: /^val(?:id|idation)?[_.-]?acc(?:uracy)?$/i, goal: 'max' },
  { re: /^test[_.-]?acc(?:uracy)?$/i, goal: 'max' },
  { re: /^acc(?:uracy)?$/i, goal: 'max' },
  { re: /^val(?:id|idation)?[_.-]?loss$/i, goal: 'min' },
  { re: /^test[_.-]?loss$/i, goal: 'min' },
  { re: /^(?:train[_.-]?)?loss$/i, goal: 'min' },
];

/** The key metric among series names, by preference, with its goal; null when none is one. */
export function keyMetricGoal(names: Iterable<string>): { name: string; goal: MetricGoal } | null {
  const list = [...names];
  for (const k of KEY_METRICS) {
    const name = list.find((n) => k.re.test(n));
    if (name !== undefined) return { name, goal: k.goal };
  }
  return null;
}
