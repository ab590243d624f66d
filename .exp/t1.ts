import { diffSchemas, schemaSource, schemaPath, applyMigrations } from '../src/db/migrate.js';
import { startEmbeddedPostgres, freePort } from '../src/db/embedded.js';
import { writeFile } from 'node:fs/promises';
import pg from 'pg';
const s = await schemaSource(schemaPath);
const d = await diffSchemas(null, s);
console.log('empty?', d.empty, d.sql.length);
const d2 = await diffSchemas(s, s);
console.log('same:', JSON.stringify(d2));
await writeFile('.exp/mig/20260101000000_init/migration.sql', d.sql);
const port = await freePort();
const h = await startEmbeddedPostgres({ dataDir: '/tmp/exp/t1data', port, persistent: false });
console.log(h.connectionString);
try {
  console.log('applied', await applyMigrations(h.connectionString, (l) => console.log('LOG', l), { migrationsDir: '/work/main/.exp/mig' }));
  console.log('again', await applyMigrations(h.connectionString, (l) => console.log('LOG', l), { migrationsDir: '/work/main/.exp/mig' }));
  const c = new pg.Client(h.connectionString); await c.connect();
  console.log((await c.query('select migration_name, checksum, logs, applied_steps_count, finished_at is not null as fin from _prisma_migrations order by started_at')).rows);
  console.log((await c.query("select proname from pg_proc where pronamespace='public'::regnamespace")).rows, (await c.query("select tgname from pg_trigger where not tgisinternal")).rows);
  await c.end();
} finally { await h.stop(); }
