// What happens once per service before any request is served (by the single process, or by the
// cluster primary): the database (the embedded one unless DATABASE_URL is set), its migrations,
// and on an empty database the demo tenant.
import type { Config } from "../config.js";
import { connectDatabase } from "../db/client.js";
import { databaseTarget, type DatabaseTarget } from "../db/database-url.js";
import { applyMigrations } from "../db/migrate.js";
import { ensureDemoTenant } from "../ledger/tenants.js";
import { log } from "./log.js";

const logger = log.child({ component: "start" });

export async function prepareDatabase(config: Config): Promise<DatabaseTarget> {
  const target = await databaseTarget(config, (line) => logger.debug(line));
  try {
    if (target.embedded) {
      const { dataDir, port, origin } = target.embedded;
      const how =
        origin === "adopted"
          ? ", adopted: an earlier run was killed and left it running"
          : origin === "shared"
            ? ", shared with the process that started it"
            : "";
      logger.info({ dataDir, port, origin }, `embedded PostgreSQL on port ${port} (data in ${dataDir}${how})`);
    }
    const applied = await applyMigrations(target.url);
    if (applied.length > 0) logger.info({ migrations: applied }, `applied ${applied.length} migration(s)`);
    if (config.demoTenant) await printDemoKey(target.url);
    return target;
  } catch (error) {
    await target.stop().catch(() => {});
    throw error;
  }
}

/**
 * The key goes to the terminal as plain text, never into a log line (LEDGER_DEMO_TENANT=true in
 * production means the operator asked for it).
 */
async function printDemoKey(url: string): Promise<void> {
  const db = connectDatabase(url, 1);
  try {
    const demoKey = await ensureDemoTenant(db);
    if (demoKey) process.stdout.write(`\nCreated a demo tenant. Its API key (shown once, store it now):\n\n  ${demoKey}\n\n`);
  } finally {
    await db.close();
  }
}
