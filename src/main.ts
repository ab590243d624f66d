// `npm start`: the service on DATABASE_URL, or on an embedded PostgreSQL kept in .data/.
import { loadConfig } from "./config.js";
import { connectDatabase } from "./db/client.js";
import { databaseTarget } from "./db/database-url.js";
import { applyMigrations } from "./db/migrate.js";
import { startService } from "./http/server.js";
import { startExpiryJob } from "./ledger/expiry.js";
import { ensureDemoTenant } from "./ledger/tenants.js";

const config = loadConfig();
const target = await databaseTarget(config);
const databaseUrl = target.url;
if (target.embedded) console.log(`embedded PostgreSQL on port ${config.embeddedPgPort} (data in .data/postgres)`);

const applied = await applyMigrations(databaseUrl);
if (applied.length > 0) console.log(`applied migrations: ${applied.join(", ")}`);

const db = connectDatabase(databaseUrl, config.poolSizeMax, config.writes);
const demoKey = await ensureDemoTenant(db.prisma);
if (demoKey) {
  console.log("\nCreated a demo tenant. Its API key (shown once, store it now):\n");
  console.log(`  ${demoKey}\n`);
}

const service = await startService({
  db,
  limits: config.limits,
  production: config.production,
  port: config.port,
  host: config.host,
  authCacheMs: config.authCacheMs,
  accessTokenSecret: config.accessTokenSecret,
  graphiql: config.graphiql,
  dashboard: config.dashboard,
  introspection: config.introspection,
  live: config.live,
});
const expiry = startExpiryJob(db, config.holdExpiryIntervalMs);
console.log(`GraphQL ledger ready at http://localhost:${service.port}/graphql (subscriptions: ws://localhost:${service.port}/graphql)`);
if (config.graphiql) console.log(`GraphiQL: http://localhost:${service.port}/graphiql/`);
if (config.dashboard) console.log(`Example dashboard: http://localhost:${service.port}/dashboard/`);
if (config.graphiql && !config.introspection) console.warn("GraphiQL is served but introspection is off: it cannot show the schema (LEDGER_INTROSPECTION)");

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: finishing in-flight requests, then closing subscriptions (1001)`);
  await service.stop();
  await expiry.stop();
  await db.close();
  await target.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
