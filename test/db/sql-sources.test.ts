// The SQL functions are source files (prisma/sql), applied after the migrations: what is installed
// is exactly what the files say, a changed file is applied on the next start, and a function taken
// out of the files is gone after it.
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.js";
import { applySqlSources, readSqlSources, sqlSourcesDir } from "../../src/db/sql-sources.js";
import { createDatabase, dropDatabase, randomSuffix } from "../global-setup.js";

const serverUrl = inject("databaseUrl");

/** Every function a source file defines: name and body (between its dollar quotes). */
async function definedFunctions(dir: string): Promise<Map<string, string>> {
  const functions = new Map<string, string>();
  for (const source of await readSqlSources(dir)) {
    const pattern = /CREATE OR REPLACE FUNCTION (\w+)\([\s\S]*?AS (\$\w*\$)([\s\S]*?)\2/g;
    for (const [, name, , body] of source.text.matchAll(pattern)) {
      expect(functions.has(name!), `${name} is defined once`).toBe(false);
      functions.set(name!, body!);
    }
  }
  return functions;
}

async function installedFunctions(url: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string; body: string }>(
      `SELECT proname AS name, prosrc AS body FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'ledger\\_%'`,
    );
    return new Map(rows.map((row) => [row.name, row.body]));
  } finally {
    await client.end();
  }
}

describe("SQL source files", () => {
  it("are what the database runs: the same functions, with the same bodies, and no others", async () => {
    const defined = await definedFunctions(sqlSourcesDir);
    const installed = await installedFunctions(serverUrl);
    expect([...installed.keys()].sort()).toEqual([...defined.keys()].sort());
    for (const [name, body] of defined) expect(installed.get(name), name).toBe(body);
    expect(defined.has("ledger_execute")).toBe(true);
  });

  describe("on a database of their own", () => {
    const name = `ledger_sql_sources_${randomSuffix()}`;
    let url: string;
    let dir: string;

    beforeAll(async () => {
      url = await createDatabase(serverUrl, name);
      await applyMigrations(url);
      dir = await mkdtemp(path.join(os.tmpdir(), "ledger-sql-"));
      await cp(sqlSourcesDir, dir, { recursive: true });
    }, 120_000);

    afterAll(async () => {
      await dropDatabase(serverUrl, name);
      await rm(dir, { recursive: true, force: true });
    });

    it("applies nothing while the files are unchanged, and all of them once one changed", async () => {
      expect(await applySqlSources(url, dir)).toEqual([]);
      const clock = path.join(dir, "clock.sql");
      await writeFile(
        clock,
        (await readFile(clock, "utf8")).replace("SELECT greatest(clock_timestamp()", "SELECT greatest(clock_timestamp() /* edited */"),
      );
      const applied = await applySqlSources(url, dir);
      expect(applied).toEqual((await readSqlSources(dir)).map((s) => s.name));
      expect((await installedFunctions(url)).get("ledger_clock_horizon")).toContain("/* edited */");
      expect(await applySqlSources(url, dir)).toEqual([]);
    });

    it("drops a function taken out of the files, keeps the ones triggers and constraints use", async () => {
      const probe = path.join(dir, "probe.sql");
      await writeFile(probe, "CREATE OR REPLACE FUNCTION ledger_test_probe() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n");
      await applySqlSources(url, dir);
      expect((await installedFunctions(url)).has("ledger_test_probe")).toBe(true);
      await rm(probe);
      await applySqlSources(url, dir);
      const installed = await installedFunctions(url);
      expect(installed.has("ledger_test_probe")).toBe(false);
      for (const used of ["ledger_within_bounds", "ledger_reject_change", "ledger_hold_settlement_only"])
        expect(installed.has(used), used).toBe(true);
    });

    it("applies once when several instances start together", async () => {
      const clock = path.join(dir, "clock.sql");
      await writeFile(clock, (await readFile(clock, "utf8")).replace("/* edited */", "/* edited again */"));
      const results = await Promise.all([applySqlSources(url, dir), applySqlSources(url, dir), applySqlSources(url, dir)]);
      expect(results.filter((applied) => applied.length > 0)).toHaveLength(1);
      expect((await installedFunctions(url)).get("ledger_clock_horizon")).toContain("/* edited again */");
    });

    it("refuses a file that does not apply and leaves the installed functions as they were", async () => {
      const before = await installedFunctions(url);
      await writeFile(
        path.join(dir, "broken.sql"),
        "CREATE OR REPLACE FUNCTION ledger_broken() RETURNS int LANGUAGE sql AS $$ SELECT no_such_column $$;\n",
      );
      await expect(applySqlSources(url, dir)).rejects.toThrow(/broken\.sql/);
      expect(await installedFunctions(url)).toEqual(before);
      await rm(path.join(dir, "broken.sql"));
    });
  });
});
