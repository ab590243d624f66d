// /healthz and /readyz, and what clients get while PostgreSQL is down: a throwaway embedded
// server of this test's own, stopped and started again under a running service.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startEmbeddedPostgres, type EmbeddedPostgresHandle } from "../../src/db/embedded.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { createAccount, createFundingAccount, key, postTransferMutation } from "../support/ledger-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";
import { print } from "graphql";

let dir: string;
let pgPort: number;
let server: EmbeddedPostgresHandle;
let service: TestService;
let tenant: TestTenant;

const start = () => startEmbeddedPostgres({ dataDir: path.join(dir, "pg"), port: pgPort, persistent: true });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "ledger-ready-"));
  await import("node:fs/promises").then((fs) => fs.chmod(dir, 0o755));
  pgPort = await freePort();
  server = await start();
  await applyMigrations(server.connectionString);
  // A key cached for the whole test: requests then reach the resolvers, not only authentication.
  service = await startTestService({}, {}, { databaseUrl: server.connectionString, authCacheMs: 600_000, readyTimeoutMs: 500 });
  tenant = await service.newTenant();
});

afterAll(async () => {
  await service?.stop();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const probe = async (name: string) => {
  const response = await fetch(service.service.url.replace(/\/graphql$/, `/${name}`));
  return { status: response.status, body: await response.json(), retryAfter: response.headers.get("retry-after") };
};

/** How a new WebSocket connection that sends connection_init with `bearer` is closed. */
function closeCodeOfNewConnection(bearer: string): Promise<number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(service.service.url.replace(/^http/, "ws"), "graphql-transport-ws");
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${bearer}` } })));
    socket.on("close", (code) => resolve(code));
    socket.on("error", () => {});
  });
}

describe("health endpoints and a database outage", () => {
  it("/readyz is 503 while PostgreSQL is down and 200 again once it is back, without a restart; /healthz stays 200", async () => {
    const funding = await createFundingAccount(tenant);
    const merchant = await createAccount(tenant);
    expect(await probe("readyz")).toMatchObject({
      status: 200,
      body: { status: "ready", checks: { database: "ok", migrations: "ok", changeFeed: "ok" } },
    });

    await server.stop();
    const down = await probe("readyz");
    expect(down.status).toBe(503);
    expect(down.body.status).toBe("unavailable");
    expect(down.body.checks.database).toMatch(/^unavailable/);
    expect((await probe("healthz")).status).toBe(200);

    // A write: typed, retryable, HTTP 503 with Retry-After, no driver or Prisma text.
    const idempotencyKey = key("outage");
    const input = { idempotencyKey, from: { id: funding.id }, to: { id: merchant.id }, amount: "5", currency: "USD" };
    const response = await fetch(service.service.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tenant.key}` },
      body: JSON.stringify({ query: print(postTransferMutation), variables: { input } }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    const body = await response.json();
    expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(["DATABASE_UNAVAILABLE"]);
    expect(body.errors[0].extensions.retryable).toBe(true);
    expect(JSON.stringify(body)).not.toMatch(/invocation|ECONNREFUSED|prisma|\.ts:\d/i);

    // A key not cached yet fails in authentication: the same answer.
    const uncached = await service.newTenant().catch(() => null);
    expect(uncached).toBeNull(); // cannot even be made: the database is down
    const unknownKey = await service.post({ query: "{ viewer { scope } }" }, { authorization: "Bearer lk_not_cached_anywhere" });
    expect(unknownKey.status).toBe(503);
    expect(unknownKey.errors?.[0]?.extensions?.code).toBe("DATABASE_UNAVAILABLE");

    // A new WebSocket whose key must be checked: closed with 1013 (try again later), not 4500.
    expect(await closeCodeOfNewConnection("lk_not_cached_anywhere")).toBe(1013);

    server = await start();
    let ready = await probe("readyz");
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ready = await probe("readyz");
    }
    expect(ready).toMatchObject({ status: 200, body: { status: "ready" } });
    // The retry with the same key is safe and now posts.
    const retried = await tenant.gql(postTransferMutation, { input });
    expect(retried.postTransfer.__typename).toBe("TransferPosted");
  });
});
