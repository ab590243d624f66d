// npm run db:migrate
//
// Applies pending prisma/migrations to DATABASE_URL, or, when DATABASE_URL is unset, to the
// embedded PostgreSQL the service uses in development (<project>/.data/postgres, port
// EMBEDDED_PG_PORT or 54329), which it starts for the purpose and stops afterwards. If that
// server is already running (e.g. the service is up), it migrates it and leaves it running.
import path from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded.js";
import { applyMigrations, migrationsDir, projectRoot } from "../src/db/migrate.js";

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

async function main(): Promise<void> {
  let url = process.env.DATABASE_URL;
  let stop = async (): Promise<void> => {};
  if (!url) {
    const port = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad EMBEDDED_PG_PORT: ${process.env.EMBEDDED_PG_PORT}`);
    const dataDir = path.join(projectRoot, ".data", "postgres");
    console.log(`DATABASE_URL is not set: using the embedded PostgreSQL in ${path.relative(projectRoot, dataDir)} (port ${port}).`);
    const server = await startEmbeddedPostgres({ dataDir, port, persistent: true });
    url = server.connectionString;
    stop = server.stop;
  }
  try {
    console.log(`Applying ${path.relative(projectRoot, migrationsDir)} to ${redact(url)}`);
    const applied = await applyMigrations(url, (line) => console.log(`  ${line}`));
    console.log(applied.length ? `Applied ${applied.length} migration(s): ${applied.join(", ")}` : "No pending migrations.");
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
