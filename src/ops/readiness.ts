// /readyz: the instance should get traffic only while the database answers within a short
// timeout, every migration of this build is applied, the change feed is not failing and the
// instance is not draining. A probe uses its own one-connection pool, so a busy request pool
// does not make a healthy instance look unready (and an outage is seen at once).
import { readdirSync } from "node:fs";
import pg from "pg";
import { migrationsDir } from "../db/migrate.js";
import { errorText } from "./log.js";

export interface ReadinessOptions {
  connectionString: string;
  timeoutMs: number;
  /** null while the change feed is fine; else why not. */
  feedProblem(): string | null;
  draining(): boolean;
}

export interface Readiness {
  ready: boolean;
  status: "ready" | "unavailable" | "draining";
  checks: { database: string; migrations: string; changeFeed: string };
}

/** The migrations this build carries (folder names, as _prisma_migrations records them). */
export const expectedMigrations = (): string[] =>
  readdirSync(migrationsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();

export function createReadinessCheck(options: ReadinessOptions) {
  const expected = expectedMigrations();
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: 1,
    connectionTimeoutMillis: options.timeoutMs,
    application_name: "ledger-readiness",
  });
  pool.on("error", () => {}); // an idle probe connection dropped: the next probe says so

  async function appliedMigrations(): Promise<Set<string>> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    });
    try {
      const query = pool.query<{ migration_name: string }>(
        "SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
      );
      query.catch(() => {}); // when the timeout wins
      const { rows } = await Promise.race([query, timeout]);
      return new Set(rows.map((r) => r.migration_name));
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async check(): Promise<Readiness> {
      let database = "ok";
      let migrations = "ok";
      try {
        const applied = await appliedMigrations();
        const missing = expected.filter((name) => !applied.has(name));
        if (missing.length > 0) migrations = `not applied: ${missing.join(", ")}`;
      } catch (error) {
        database = `unavailable: ${errorText(error)}`;
        migrations = "unknown";
      }
      const changeFeed = options.feedProblem() ?? "ok";
      const draining = options.draining();
      const ready = !draining && database === "ok" && migrations === "ok" && changeFeed === "ok";
      return { ready, status: draining ? "draining" : ready ? "ready" : "unavailable", checks: { database, migrations, changeFeed } };
    },
    close: () => pool.end(),
  };
}
