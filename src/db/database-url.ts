// Which PostgreSQL a command uses: DATABASE_URL, or the embedded development server kept in
// .data/postgres (started here; stop() stops it, unless it was already running).
import { fileURLToPath } from "node:url";
import type { Config } from "../config.js";
import { startEmbeddedPostgres } from "./embedded.js";

export const embeddedDataDir = fileURLToPath(new URL("../../.data/postgres", import.meta.url));

export interface DatabaseTarget {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

export async function databaseTarget(config: Pick<Config, "databaseUrl" | "embeddedPgPort">): Promise<DatabaseTarget> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const server = await startEmbeddedPostgres({ dataDir: embeddedDataDir, port: config.embeddedPgPort, persistent: true });
  return { url: server.connectionString, embedded: true, stop: server.stop };
}
