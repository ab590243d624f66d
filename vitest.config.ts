import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts a throwaway PostgreSQL (or uses TEST_DATABASE_URL) and applies the migrations.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    // The default report, then one plain closing line: "vitest: N passed, N failed, N skipped".
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
