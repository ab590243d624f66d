import { applyMigrations } from '../src/db/migrate.js';
import { startEmbeddedPostgres, freePort } from '../src/db/embedded.js';
const orig = globalThis.setTimeout;
(globalThis as any).setTimeout = function(f:any, ms:any, ...a:any[]) { if (ms >= 1000) console.log('setTimeout', ms, new Error().stack?.split('\n').slice(2,5).join(' | ')); return (orig as any)(f, ms, ...a); };
const port = await freePort();
const h = await startEmbeddedPostgres({ dataDir: '/tmp/exp/t5data', port, persistent: false });
console.log(await applyMigrations(h.connectionString, undefined, { migrationsDir: '/work/main/.exp/mig' }));
await h.stop();
