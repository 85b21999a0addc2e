import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Whole-system tests spawn processes, browsers and chains; on a 2-core machine running
    // more than two files at once only makes every deadline in them flaky.
    maxWorkers: 2,
  },
});
