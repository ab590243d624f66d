// Graceful stop of the real service process: requests in flight finish and commit, then the
// process exits 0; the embedded PostgreSQL is stopped last, and only by the service.
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { freePort, startEmbeddedPostgres } from "../../src/db/embedded.js";
import { connectDatabase } from "../../src/db/client.js";
import { createApiKey, createTenant } from "../../src/ledger/tenants.js";
import { createAccount, createFundingAccount, expectResult, key, postTransferMutation } from "../support/ledger-client.js";
import { fromGlobalId } from "../../src/domain/ids.js";
import { errorLogs, startServiceProcess, tenantAt, type ServiceProcess } from "../support/service-process.js";

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function tenantOn(databaseUrl: string) {
  const db = connectDatabase(databaseUrl, 2);
  try {
    const tenant = await createTenant(db, "shutdown");
    return { tenantId: tenant.id, key: (await createApiKey(db, tenant.id, "k")).key };
  } finally {
    await db.close();
  }
}

/**
 * Posts a transfer through `service` while `databaseUrl`'s row lock on the receiving account
 * holds it, sends `stop`, then releases the lock: the answer must still arrive.
 */
async function transferThroughStop(service: ServiceProcess, databaseUrl: string, stop: () => void) {
  const { tenantId, key: apiKey } = await tenantOn(databaseUrl);
  const tenant = tenantAt(service.url, tenantId, apiKey);
  const funding = await createFundingAccount(tenant);
  const merchant = await createAccount(tenant);
  const locker = new pg.Client({ connectionString: databaseUrl });
  locker.on("error", () => {}); // the embedded server stops after the service
  await locker.connect();
  try {
    await locker.query("BEGIN");
    await locker.query("SELECT 1 FROM accounts WHERE id = $1::uuid FOR UPDATE", [fromGlobalId("Account", merchant.id)]);
    const idempotencyKey = key("drain");
    const answer = tenant.request(postTransferMutation, {
      input: { idempotencyKey, from: { id: funding.id }, to: { id: merchant.id }, amount: "700", currency: "USD" },
    });
    const waiting = async () =>
      (
        await locker.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        )
      ).rows[0].n > 0;
    for (let i = 0; i < 500 && !(await waiting()); i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await waiting()).toBe(true);
    stop();
    await service.waitForLine(/draining/);
    // Stopped accepting: a new connection is refused while the old request still waits.
    await expect(fetch(`http://127.0.0.1:${service.port}/healthz`)).rejects.toThrow();
    expect(service.child.exitCode).toBeNull();
    await locker.query("COMMIT");
    const response = await answer;
    expect(response.status).toBe(200);
    expect(response.data?.postTransfer?.__typename).toBe("TransferPosted");
    await locker.end();
    expect(await service.exited).toEqual({ code: 0, signal: null });
    return fromGlobalId("Transfer", expectResult(response.data!.postTransfer, "TransferPosted").transfer.id)!;
  } finally {
    await locker.end().catch(() => {});
  }
}

async function transferCount(databaseUrl: string, transferId: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query("SELECT count(*)::int AS n FROM transfers WHERE id = $1", [transferId])).rows[0].n;
  } finally {
    await client.end();
  }
}

describe("graceful stop of the service process", () => {
  it("a SIGTERM lets a transfer waiting on a row lock finish and commit, then the process exits 0", async () => {
    const databaseUrl = inject("databaseUrl");
    const service = await startServiceProcess(await freePort(), { DATABASE_URL: databaseUrl });
    const transferId = await transferThroughStop(service, databaseUrl, () => service.signal("SIGTERM"));
    expect(await transferCount(databaseUrl, transferId)).toBe(1);
    expect(errorLogs(service)).toEqual([]);
    // One JSON line per request, with its id, tenant, operation, duration and outcome; no key.
    const line = service.logs().find((l) => l.operation === "mutation.postTransfer");
    expect(line).toMatchObject({
      route: "graphql",
      status: 200,
      outcome: "ok",
      operationName: "Post",
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      tenantId: expect.any(String),
      durationMs: expect.any(Number),
    });
    expect(service.lines.join("\n")).not.toMatch(/lk_[\w-]{20,}/);
  });

  it("Ctrl-C (SIGINT to the process group) drains before the embedded PostgreSQL stops, which the signal never reaches", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ledger-stop-"));
    scratch.push(dir);
    await import("node:fs/promises").then((fs) => fs.chmod(dir, 0o755));
    const dataDir = path.join(dir, "pg");
    const pgPort = await freePort();
    const service = await startServiceProcess(await freePort(), {
      DATABASE_URL: "",
      EMBEDDED_PG_DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
    });
    const databaseUrl = `postgresql://postgres:postgres@127.0.0.1:${pgPort}/ledger`;
    const postmasterPid = Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const transferId = await transferThroughStop(service, databaseUrl, () => service.signal("SIGINT", true));
    expect(existsSync(path.join(dataDir, "postmaster.pid"))).toBe(false);
    expect(() => process.kill(postmasterPid, 0)).toThrow();
    // Committed: the data folder, started again, holds the transfer.
    const again = await startEmbeddedPostgres({ dataDir, port: pgPort, persistent: true });
    try {
      expect(await transferCount(again.connectionString, transferId)).toBe(1);
    } finally {
      await again.stop();
    }
    expect(errorLogs(service)).toEqual([]);
    expect(service.lines.join("\n")).not.toMatch(/ECONNREFUSED|shutting down|terminating connection/);
  });

  it("after a SIGKILL the next start adopts the embedded PostgreSQL left running, and stops it at its own stop", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ledger-orphan-"));
    scratch.push(dir);
    await import("node:fs/promises").then((fs) => fs.chmod(dir, 0o755));
    const env = { DATABASE_URL: "", EMBEDDED_PG_DATA_DIR: path.join(dir, "pg"), EMBEDDED_PG_PORT: String(await freePort()) };
    const first = await startServiceProcess(await freePort(), env);
    first.signal("SIGKILL");
    await first.exited;
    const pidFile = path.join(dir, "pg", "postmaster.pid");
    const orphan = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    expect(() => process.kill(orphan, 0)).not.toThrow(); // left running: its own process group

    const second = await startServiceProcess(await freePort(), env);
    await second.waitForLine(/adopted/);
    expect((await fetch(`http://127.0.0.1:${second.port}/readyz`)).status).toBe(200);
    second.signal("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(pidFile)).toBe(false);
    expect(() => process.kill(orphan, 0)).toThrow();
  });

  const unusable: [string, Record<string, string>, string][] = [
    [
      "a webhook retention shorter than the retry horizon",
      { LEDGER_WEBHOOK_EVENT_RETENTION_DAYS: "2" },
      'LEDGER_WEBHOOK_EVENT_RETENTION_DAYS must be 0 or at least 4 (longer than LEDGER_WEBHOOK_RETRY_HORIZON_MS, 259200000 ms), got "2"',
    ],
    // The logger is made before the settings are read: it takes the default, then the start stops.
    [
      "a log level it does not know",
      { LOG_LEVEL: "loud" },
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    ["a log format it does not know", { LOG_FORMAT: "xml", NODE_ENV: "production" }, 'LOG_FORMAT must be json or pretty, got "xml"'],
  ];
  for (const [what, env, message] of unusable) {
    it(`a setting it cannot start with (${what}) is one line naming the setting and what it takes, and exit code 1`, async () => {
      const service = await startServiceProcess(await freePort(), { DATABASE_URL: inject("databaseUrl"), ...env }, { ready: false });
      expect((await service.exited).code).toBe(1);
      const fatal = service.logs().filter((l) => l.level === 60);
      expect(fatal.map((l) => l.msg)).toEqual([message]);
      expect(service.lines.join("\n")).not.toMatch(/^\s+at /m); // no stack
    });
  }

  it("a port in use is one line naming the port and what to do, and exit code 1", async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const service = await startServiceProcess(port, { DATABASE_URL: inject("databaseUrl") }, { ready: false });
      expect((await service.exited).code).toBe(1);
      const fatal = service.logs().filter((l) => l.level === 60);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]!.msg).toMatch(new RegExp(`port ${port} .*already in use.*set PORT`));
      expect(service.lines.join("\n")).not.toMatch(/^\s+at /m); // no stack
    } finally {
      blocker.close();
    }
  });
});
