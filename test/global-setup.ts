// vitest globalSetup: one PostgreSQL database with every migration applied, for the whole run.
//   TEST_DATABASE_URL set: a fresh database ledger_test_<random> on that server (dropped after).
//   otherwise: a throwaway embedded PostgreSQL (temp dir, free port), deleted after.
// Tests read its URL with inject('databaseUrl') (typed in test/provided.d.ts).
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "../src/db/migrate.js";
import { buildWebApps } from "./support/web-build.js";

export function randomSuffix(): string {
  return randomBytes(5).toString("hex");
}

/** The same server and credentials as `url`, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

/** Creates `database` on the server of `url`; returns its URL. */
export async function createDatabase(url: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
  return withDatabase(url, database);
}

/** Drops `database` on the server of `url` (connected elsewhere), closing its sessions. */
export async function dropDatabase(url: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(database)} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

async function startThrowawayServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const { freePort, startEmbeddedPostgres } = await import("../src/db/embedded.js");
  let lastError: unknown;
  // freePort() can race with another process taking the port before PostgreSQL binds it.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = path.join(os.tmpdir(), `ledger-test-pg-${randomSuffix()}`);
    try {
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
      return { url: server.connectionString, stop: server.stop };
    } catch (error) {
      lastError = error;
      if (!/port/.test((error as Error).message)) break; // only a lost race for the port is worth another try
    }
  }
  // Said in full: vitest shows a global set-up's error, and this one tells what to do.
  throw new Error(
    `the tests' throwaway PostgreSQL could not start (set TEST_DATABASE_URL to use another server):\n${(lastError as Error).message}`,
    { cause: lastError },
  );
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The browser apps build while PostgreSQL starts (the e2e and web tests need them).
  const webBuilt = buildWebApps();
  webBuilt.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  let url: string;
  let teardown: () => Promise<void>;
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const name = `ledger_test_${randomSuffix()}`;
    url = await createDatabase(external, name);
    teardown = () => dropDatabase(external, name);
  } else {
    const server = await startThrowawayServer();
    url = server.url;
    teardown = server.stop;
  }
  try {
    await applyMigrations(url);
  } catch (error) {
    await teardown();
    throw error;
  }
  try {
    await webBuilt;
  } catch (error) {
    await teardown();
    throw new Error(`building the web apps failed: ${(error as { stderr?: string }).stderr ?? error}`);
  }
  project.provide("databaseUrl", url);
  return teardown;
}
