import { applyMigrations } from '../src/db/migrate.js';
import { startEmbeddedPostgres, freePort } from '../src/db/embedded.js';
const t=Date.now(); const lap=(m:string)=>console.log(m, Date.now()-t);
const port = await freePort();
const h = await startEmbeddedPostgres({ dataDir: '/tmp/exp/t2data', port, persistent: false }); lap('started');
console.log(await applyMigrations(h.connectionString, undefined, { migrationsDir: '/work/main/.exp/mig' })); lap('applied');
setTimeout(()=>console.log((process as any)._getActiveHandles().map((h:any)=>h.constructor.name)),100).unref(); await h.stop(); lap('stopped');
process.on('exit', ()=>lap('exit'));
