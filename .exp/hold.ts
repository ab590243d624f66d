import { startEmbeddedPostgres } from '../src/db/embedded.js';
const h = await startEmbeddedPostgres({ dataDir: '/work/main/.data/postgres', port: 54329, persistent: true });
console.log('holding', h.connectionString);
await new Promise((r) => setTimeout(r, 8000));
await h.stop(); console.log('released');
