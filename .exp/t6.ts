import { applyMigrations } from '../src/db/migrate.js';
import { startEmbeddedPostgres, freePort } from '../src/db/embedded.js';
import pg from 'pg';
const orig = pg.Client.prototype.query;
(pg.Client.prototype as any).query = function(q:any, ...a:any[]) { const t = typeof q === 'string' ? q : q.text; console.log('Q', (this as any).processID, String(t).replace(/\s+/g,' ').slice(0,110)); return (orig as any).call(this, q, ...a); };
const port = await freePort();
const h = await startEmbeddedPostgres({ dataDir: '/tmp/exp/t6data', port, persistent: false });
console.log(await applyMigrations(h.connectionString, undefined, { migrationsDir: '/work/main/.exp/mig' }));
await h.stop();
