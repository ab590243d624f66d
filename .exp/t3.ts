import { startEmbeddedPostgres, freePort } from '../src/db/embedded.js';
const t=Date.now(); const lap=(m:string)=>console.log(m, Date.now()-t);
const port = await freePort();
const h = await startEmbeddedPostgres({ dataDir: '/tmp/exp/t3data', port, persistent: false }); lap('started');
await h.stop(); lap('stopped');
process.on('exit', ()=>lap('exit'));
setTimeout(()=>{ console.log((process as any)._getActiveHandles().map((h:any)=>h.constructor.name)); }, 200).unref();
