import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Starts a throwaway PostgreSQL (or uses TEST_DATABASE_URL) and applies the migrations.
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    // The services tests start log at warn and above (a child process under test sets its own).
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "warn" },
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: true,
    // The default report, then one plain closing line: "vitest: N passed, N failed, N skipped".
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
