// Migrations vs prisma/schema.prisma, without asking the schema engine to describe a live database
// (which fails through the WASM engine and @prisma/adapter-pg): build one database from the
// migrations and one from the engine's diff(empty -> schema), then compare their catalogs.
import { createHash } from "node:crypto";
import { copyFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { applyMigrations, diffSchemas, migrationsDir, schemaPath, schemaSource, snapshotPath } from "../../src/db/migrate.js";
import { createDatabase, dropDatabase, randomSuffix } from "../global-setup.js";

const serverUrl = inject("databaseUrl");

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * What Prisma's model owns in schema `public`, one line per item: tables, columns (type,
 * nullability, default), indexes, primary/unique/foreign keys, enum types with their values.
 * Left out: _prisma_migrations, and what hand-written migrations add (functions, triggers, CHECK
 * constraints, partial indexes, which Prisma's schema language cannot express). Column order is left out too: ALTER TABLE ADD COLUMN appends, Prisma ignores it.
 */
async function describeCatalog(url: string): Promise<string[]> {
  return await withClient(url, async (client) => {
    const lines = async (sql: string): Promise<string[]> => (await client.query<{ line: string }>(sql)).rows.map((row) => row.line);
    const ours = `c.relnamespace = 'public'::regnamespace AND c.relname <> '_prisma_migrations'`;
    return [
      ...(await lines(`
        SELECT 'table ' || c.relname AS line FROM pg_class c
        WHERE ${ours} AND c.relkind IN ('r', 'p')`)),
      ...(await lines(`
        SELECT format('column %s.%s %s %s default=%s', c.relname, a.attname,
                      format_type(a.atttypid, a.atttypmod),
                      CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
                      coalesce(pg_get_expr(d.adbin, d.adrelid), '-')) AS line
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE ${ours} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`)),
      ...(await lines(`
        SELECT format('index %s: %s', i.relname, pg_get_indexdef(i.oid)) AS line
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        WHERE ${ours} AND x.indpred IS NULL`)),
      ...(await lines(`
        SELECT format('constraint %s.%s: %s', c.relname, k.conname, pg_get_constraintdef(k.oid)) AS line
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        WHERE ${ours} AND k.contype IN ('p', 'u', 'f')`)),
      ...(await lines(`
        SELECT format('enum %s: %s', t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder)) AS line
        FROM pg_type t
        JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE t.typnamespace = 'public'::regnamespace
        GROUP BY t.typname`)),
    ].sort();
  });
}

/**
 * Builds one database from the migrations in `migrationsFolder` and one from the engine's
 * diff(empty -> `schemaFile`) on the server of `url`, and returns how their catalogs differ
 * (empty when they agree).
 */
async function compareMigrationsWithSchema(url: string, schemaFile: string, migrationsFolder: string = migrationsDir): Promise<string[]> {
  const suffix = randomSuffix();
  const fromMigrations = `ledger_cmp_migrations_${suffix}`;
  const fromSchema = `ledger_cmp_schema_${suffix}`;
  try {
    const migratedUrl = await createDatabase(url, fromMigrations);
    const schemaUrl = await createDatabase(url, fromSchema);
    await applyMigrations(migratedUrl, undefined, { migrationsDir: migrationsFolder });
    const { sql } = await diffSchemas(null, await schemaSource(schemaFile));
    await withClient(schemaUrl, (client) => client.query(sql));

    const migrated = await describeCatalog(migratedUrl);
    const expected = await describeCatalog(schemaUrl);
    const migratedSet = new Set(migrated);
    const expectedSet = new Set(expected);
    return [
      ...expected.filter((line) => !migratedSet.has(line)).map((line) => `only in ${path.basename(schemaFile)}: ${line}`),
      ...migrated.filter((line) => !expectedSet.has(line)).map((line) => `only in the migrations: ${line}`),
    ];
  } finally {
    await dropDatabase(url, fromMigrations);
    await dropDatabase(url, fromSchema);
  }
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "ledger-migrations-test-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe("migrations and prisma/schema.prisma", () => {
  it("build the database that schema.prisma describes", async () => {
    const differences = await compareMigrationsWithSchema(serverUrl, schemaPath);
    expect(
      differences,
      "prisma/migrations and prisma/schema.prisma disagree; write a migration with " + "`npm run db:migration:new -- <name>`",
    ).toEqual([]);
  });

  it("the comparison reports a column that no migration creates", async () => {
    const schema = await readFile(schemaPath, "utf8");
    const changed = schema.replace(/^model Tenant \{\n/m, '$&  extraNote String? @map("extra_note")\n');
    expect(changed).not.toBe(schema);
    const scratchSchema = path.join(scratch, "schema-with-extra-column.prisma");
    await writeFile(scratchSchema, changed);

    // toContain, not toEqual: this checks the comparison itself, whatever the state of the real schema.
    const differences = await compareMigrationsWithSchema(serverUrl, scratchSchema);
    expect(differences).toContain("only in schema-with-extra-column.prisma: column tenants.extra_note text NULL default=-");
  });

  it("the snapshot of the newest migration matches schema.prisma", async () => {
    const { sql, empty } = await diffSchemas(await schemaSource(snapshotPath), await schemaSource(schemaPath));
    expect(
      empty,
      `prisma/schema.prisma has changes that no migration contains:\n${sql}\n` +
        "Run `npm run db:migration:new -- <name>` to write the migration (and refresh prisma/schema.snapshot.prisma).",
    ).toBe(true);
  });

  it("the snapshot check reports a schema change that no migration contains", async () => {
    const schema = await schemaSource(schemaPath);
    const changed = {
      path: "changed.prisma",
      content: schema.content.replace(/^model Tenant \{\n/m, '$&  extraNote String? @map("extra_note")\n'),
    };
    const { sql, empty } = await diffSchemas(await schemaSource(snapshotPath), changed);
    expect(empty).toBe(false);
    expect(sql).toMatch(/ALTER TABLE "tenants" (.|\n)*ADD COLUMN\s+"extra_note" TEXT/);
  });

  it("are all recorded in the shared test database", async () => {
    const rows = await withClient(
      serverUrl,
      async (client) =>
        (
          await client.query<{ migration_name: string; done: boolean }>(
            "SELECT migration_name, finished_at IS NOT NULL AND rolled_back_at IS NULL AS done FROM _prisma_migrations ORDER BY migration_name",
          )
        ).rows,
    );
    expect(rows.map((row) => row.migration_name)).toEqual(await listMigrationFolders());
    expect(rows.every((row) => row.done)).toBe(true);
  });
});

async function listMigrationFolders(dir: string = migrationsDir): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

describe("applyMigrations", () => {
  const handWritten = `-- hand-written; a semicolon in a comment;
ALTER TABLE "tenants" ADD CONSTRAINT "tenants_name_not_blank" CHECK (btrim("name") <> '');

CREATE FUNCTION test_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  note text := 'a string; with semicolons;';
BEGIN
  RAISE EXCEPTION 'tenants are immutable here (% rejected; %)', TG_OP, note;
END;
$$;

CREATE TRIGGER tenants_immutable BEFORE UPDATE OR DELETE ON "tenants"
  FOR EACH ROW EXECUTE FUNCTION test_reject_change();

CREATE FUNCTION test_add_one(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $body$ SELECT x + 1; $body$;

DO $$ BEGIN PERFORM test_add_one(1); END $$;
`;

  it("applies hand-written PL/pgSQL ($$ bodies, triggers, CHECKs) and records it like prisma migrate deploy", async () => {
    const folder = path.join(scratch, "plpgsql");
    await mkdir(folder, { recursive: true });
    const init = (await listMigrationFolders())[0]!;
    await copyFile(path.join(migrationsDir, "migration_lock.toml"), path.join(folder, "migration_lock.toml"));
    await cp(path.join(migrationsDir, init), path.join(folder, init), { recursive: true });
    await mkdir(path.join(folder, "29990101000000_hand_written"));
    await writeFile(path.join(folder, "29990101000000_hand_written", "migration.sql"), handWritten);

    const database = `ledger_apply_${randomSuffix()}`;
    const url = await createDatabase(serverUrl, database);
    try {
      const lines: string[] = [];
      expect(await applyMigrations(url, (line) => lines.push(line), { migrationsDir: folder })).toEqual([
        init,
        "29990101000000_hand_written",
      ]);
      expect(lines).toContain("Applying `29990101000000_hand_written`");
      expect(await applyMigrations(url, undefined, { migrationsDir: folder })).toEqual([]);

      await withClient(url, async (client) => {
        await client.query(`INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), 'acme')`);
        await expect(client.query(`UPDATE tenants SET name = 'other'`)).rejects.toThrow(
          "tenants are immutable here (UPDATE rejected; a string; with semicolons;)",
        );
        await expect(client.query(`INSERT INTO tenants (id, name) VALUES (gen_random_uuid(), ' ')`)).rejects.toThrow(
          "tenants_name_not_blank",
        );
        expect((await client.query("SELECT test_add_one(41) AS n")).rows[0]).toEqual({ n: "42" });

        const { rows } = await client.query("SELECT * FROM _prisma_migrations ORDER BY migration_name");
        expect(rows).toHaveLength(2);
        for (const row of rows) {
          const file = await readFile(path.join(folder, row.migration_name, "migration.sql"));
          expect(row).toMatchObject({
            checksum: createHash("sha256").update(file).digest("hex"),
            logs: null,
            rolled_back_at: null,
            applied_steps_count: 1,
          });
          expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
          expect(row.finished_at).toBeInstanceOf(Date);
          expect(row.started_at).toBeInstanceOf(Date);
        }
      });

      // A failing migration is rolled back as a whole and recorded as failed; later runs refuse.
      await mkdir(path.join(folder, "29990101000001_broken"));
      await writeFile(path.join(folder, "29990101000001_broken", "migration.sql"), "CREATE TABLE half_applied (id int);\nSELECT 1 / 0;\n");
      await expect(applyMigrations(url, undefined, { migrationsDir: folder })).rejects.toThrow("division by zero");
      await expect(applyMigrations(url, undefined, { migrationsDir: folder })).rejects.toThrow("failed migrations");
      await withClient(url, async (client) => {
        expect((await client.query(`SELECT to_regclass('public.half_applied') AS t`)).rows[0]).toEqual({ t: null });
        const failed = (
          await client.query(`SELECT finished_at, logs FROM _prisma_migrations WHERE migration_name = '29990101000001_broken'`)
        ).rows[0];
        expect(failed.finished_at).toBeNull();
        expect(failed.logs).toContain("division by zero");
      });
    } finally {
      await dropDatabase(serverUrl, database);
    }
  });
});
