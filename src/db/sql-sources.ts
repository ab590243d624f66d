// The SQL functions (write engine, as-of reads, clock, guarantees) are source files in prisma/sql,
// one per concept, each `CREATE OR REPLACE`: changing a function is an edit of its file, not a new
// copy in a new migration. Migrations hold the history of tables and indexes; these files hold the
// current definitions, applied after the migrations.
//
// All files are applied together, in one transaction, whenever one of them differs from what the
// database last recorded (ledger_sql_sources: name and sha256); otherwise nothing runs, so a start
// costs one query. Before applying, every ledger_* function that nothing depends on is dropped, so
// a function removed from the files (or whose signature changed) does not linger; functions that
// triggers or CHECK constraints use are replaced in place. A transaction-scoped advisory lock
// keeps instances that start together from applying at once.
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** prisma/sql (this file is src/db/sql-sources.ts). */
export const sqlSourcesDir = fileURLToPath(new URL("../../prisma/sql/", import.meta.url));

/** pg_advisory_xact_lock key for applying the sources (an arbitrary constant: "ledgersq"). */
const applyLockKey = 0x6c65646765727371n;

export interface SqlSource {
  name: string;
  text: string;
  hash: string;
}

export async function readSqlSources(dir: string = sqlSourcesDir): Promise<SqlSource[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".sql")).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(path.join(dir, name), "utf8");
      return { name, text, hash: createHash("sha256").update(text).digest("hex") };
    }),
  );
}

/**
 * Applies the files of `dir` when any differs from what the database recorded; returns the names
 * of the files applied (all of them, or none).
 */
export async function applySqlSources(connectionString: string, dir: string = sqlSourcesDir): Promise<string[]> {
  const sources = await readSqlSources(dir);
  const client = new pg.Client({ connectionString, application_name: "ledger-sql-sources" });
  await client.connect();
  try {
    if (await upToDate(client, sources)) return [];
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [applyLockKey.toString()]);
      // Another instance may have applied them while this one waited for the lock.
      if (await upToDate(client, sources)) {
        await client.query("COMMIT");
        return [];
      }
      await dropUnreferencedFunctions(client);
      for (const source of sources) {
        try {
          await client.query(source.text);
        } catch (error) {
          throw new Error(`applying prisma/sql/${source.name} failed: ${(error as Error).message}`, { cause: error });
        }
      }
      await client.query("DELETE FROM ledger_sql_sources");
      await client.query("INSERT INTO ledger_sql_sources (name, hash) SELECT * FROM unnest($1::text[], $2::text[])", [
        sources.map((s) => s.name),
        sources.map((s) => s.hash),
      ]);
      await client.query("COMMIT");
      return sources.map((s) => s.name);
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  } finally {
    await client.end();
  }
}

async function upToDate(client: pg.Client, sources: SqlSource[]): Promise<boolean> {
  const { rows } = await client.query<{ name: string; hash: string }>("SELECT name, hash FROM ledger_sql_sources");
  const recorded = new Map(rows.map((row) => [row.name, row.hash]));
  return recorded.size === sources.length && sources.every((s) => recorded.get(s.name) === s.hash);
}

/** Drops every ledger_* function of schema public that no trigger, constraint or other object uses. */
async function dropUnreferencedFunctions(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ signature: string }>(`
    SELECT p.oid::regprocedure::text AS signature FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'ledger\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid
                        AND d.deptype = 'n')`);
  for (const { signature } of rows) await client.query(`DROP FUNCTION ${signature}`);
}
