// Which PostgreSQL a command uses: DATABASE_URL, or the embedded development server kept in
// .data/postgres (started here; stop() stops it, unless another live process started it).
// embedded.js is imported only when needed: with DATABASE_URL nothing of it loads.
import path from "node:path";
import { projectRoot } from "../project-root.js";
import type { Config } from "../config.js";

export const embeddedDataDir = path.join(projectRoot, ".data", "postgres");

export interface DatabaseTarget {
  url: string;
  embedded: false | { dataDir: string; port: number; origin: "started" | "adopted" | "shared" };
  stop(): Promise<void>;
}

export async function databaseTarget(
  config: Pick<Config, "databaseUrl" | "embeddedPgPort"> & Partial<Pick<Config, "embeddedPgDataDir">>,
  onLog?: (line: string) => void,
): Promise<DatabaseTarget> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false, stop: async () => {} };
  const { startEmbeddedPostgres } = await import("./embedded.js");
  const dataDir = config.embeddedPgDataDir ?? embeddedDataDir;
  const server = await startEmbeddedPostgres({ dataDir, port: config.embeddedPgPort, persistent: true, onLog });
  return { url: server.connectionString, embedded: { dataDir, port: server.port, origin: server.origin }, stop: server.stop };
}
