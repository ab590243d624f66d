// Replicas starting together apply the migrations once: the second waits for the first, even
// past the 10 s after which Prisma's schema engine gives up waiting for its own lock.
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.js";
import { createDatabase, dropDatabase, randomSuffix } from "../global-setup.js";

describe("migrations under an advisory lock", () => {
  it("two concurrent starts on one database apply a slow migration once, and both succeed", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ledger-migrations-"));
    await writeFile(path.join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
    await mkdir(path.join(dir, "20990101000000_slow"));
    // Longer than the engine's own lock timeout (10 s).
    await writeFile(path.join(dir, "20990101000000_slow", "migration.sql"), "CREATE TABLE slow_marker (id int);\nSELECT pg_sleep(11);\n");
    const server = inject("databaseUrl");
    const name = `ledger_lock_${randomSuffix()}`;
    const url = await createDatabase(server, name);
    try {
      const results = await Promise.all([
        applyMigrations(url, undefined, { migrationsDir: dir }),
        applyMigrations(url, undefined, { migrationsDir: dir }),
      ]);
      expect(results.flat()).toEqual(["20990101000000_slow"]);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const rows = (await client.query("SELECT migration_name FROM _prisma_migrations")).rows;
        expect(rows).toEqual([{ migration_name: "20990101000000_slow" }]);
      } finally {
        await client.end();
      }
    } finally {
      await dropDatabase(server, name);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
