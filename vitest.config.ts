import { defineConfig } from 'vitest/config';

// One config, four projects: `vitest run --project unit|integration|renderer|bench`.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // Some unit tests spawn the CLI (about 1 s a start on a loaded 2-core machine).
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // The testbed is one real cluster: suites share it, so run files one at a time.
          fileParallelism: false,
          globalSetup: ['test/testbed/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'renderer',
          include: ['test/renderer/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          // The window test binds the page to a real core on the testbed (window-harness.ts).
          globalSetup: ['test/testbed/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // `npm run bench`: each *.bench.ts measures ours against the alternative in the same run and
        // writes a markdown table to test/bench/results/; scripts/bench-report.mjs joins them.
        // Not part of `npm test`: speed goals are ratios in a report, never timed assertions.
        test: {
          name: 'bench',
          include: ['test/bench/**/*.bench.ts'],
          fileParallelism: false,
          globalSetup: ['test/testbed/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
