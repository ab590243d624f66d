import { applyMigrations } from '../src/db/migrate.js';
import { startEmbeddedPostgres, freePort } from '../src/db/embedded.js';
import pg from 'pg';
const origConnect = pg.Pool.prototype.connect;
let n=0;
(pg.Pool.prototype as any).connect = function(...a:any[]) { n++; return (origConnect as any).apply(this, a); };
const origEnd = pg.Pool.prototype.end;
(pg.Pool.prototype as any).end = function(...a:any[]) { console.log('pool.end total', (this as any).totalCount, 'idle', (this as any).idleCount); return (origEnd as any).apply(this, a); };
const port = await freePort();
const h = await startEmbeddedPostgres({ dataDir: '/tmp/exp/t4data', port, persistent: false });
console.log(await applyMigrations(h.connectionString, undefined, { migrationsDir: '/work/main/.exp/mig' }));
console.log('connects', n);

await h.stop(); setTimeout(()=>console.log(process.getActiveResourcesInfo()),500).unref();
