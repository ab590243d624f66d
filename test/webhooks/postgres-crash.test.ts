// A crash of PostgreSQL itself while transfers are posted and events made and sent: a backend is
// killed (SIGKILL), so the server ends every session and recovers from its WAL on disk, as after
// a power cut of the database alone; what the webhook worker committed without waiting for the
// disk (synchronous_commit off) may be undone with the position it moved. The service stays up
// and reconnects. Afterwards every committed transfer's event has arrived, made once in the end,
// with one event id per transfer (a duplicate only of an event sent before the crash undid it).
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../src/db/client.js";
import { freePort, startEmbeddedPostgres } from "../../src/db/embedded.js";
import { applyMigrations } from "../../src/db/migrate.js";
import { fromGlobalId } from "../../src/domain/ids.js";
import { createApiKey, createTenant } from "../../src/ledger/tenants.js";
import { randomSuffix } from "../global-setup.js";
import { checkInvariants } from "../support/invariants.js";
import { createAccount, createFundingAccount, expectResult, key, postTransfer } from "../support/ledger-client.js";
import { until } from "../support/live-client.js";
import { startServiceProcess, tenantAt } from "../support/service-process.js";
import { allDelivered, createEndpoint, distinctEvents, expectSigned, startReceiver, webhookProcessEnv } from "../support/webhooks.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const clients = 4;

describe("webhooks across a crash of PostgreSQL", () => {
  it("a killed PostgreSQL backend (the server restarts and recovers) while events are made and sent loses no event; duplicates carry the same event id", async () => {
    // A server of its own: the crash ends every session on it. Not persistent: stop() deletes its folder.
    const dataDir = path.join(os.tmpdir(), `ledger-pg-crash-${randomSuffix()}`);
    const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
    const receiver = await startReceiver(async () => {
      await sleep(20 + Math.random() * 40);
      return 200;
    });
    const db = connectDatabase(server.connectionString, 4);
    try {
      await applyMigrations(server.connectionString);
      const tenantRow = await createTenant(db, "pg crash");
      const { key: apiKey } = await createApiKey(db, tenantRow.id, "k");
      const service = await startServiceProcess(await freePort(), webhookProcessEnv(server.connectionString));
      const tenant = tenantAt(service.url, tenantRow.id, apiKey);
      const pairs: { from: { id: string }; to: { id: string } }[] = [];
      for (let i = 0; i < clients; i++) pairs.push({ from: await createFundingAccount(tenant), to: await createAccount(tenant) });
      const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });

      // Each client posts until told to stop; a request that fails (the crash) keeps its key to ask again.
      let stopping = false;
      let acknowledged = 0;
      const failedKeys: { idempotencyKey: string; pair: number }[] = [];
      const post = async (pair: number, idempotencyKey: string) => {
        const { from, to } = pairs[pair]!;
        return expectResult(
          await postTransfer(tenant, { idempotencyKey, from: { id: from.id }, to: { id: to.id }, amount: "1", currency: "USD" }),
          "TransferPosted",
        );
      };
      const loops = pairs.map(async (_, pair) => {
        while (!stopping) {
          const idempotencyKey = key("pgcrash");
          try {
            await post(pair, idempotencyKey);
            acknowledged++;
          } catch {
            failedKeys.push({ idempotencyKey, pair });
            await sleep(50);
          }
        }
      });

      await until(() => distinctEvents(receiver.received).size >= 30 && acknowledged >= 60, "events received before the crash", 90_000);
      // The webhook worker's sessions and every other: all of them end in the crash.
      const { rows: before } = await db.pool.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'ledger-webhooks'",
      );
      expect(before).toHaveLength(1);
      const { rows: startedBefore } = await db.pool.query<{ at: Date }>("SELECT pg_postmaster_start_time() AS at");
      const receivedAtCrash = receiver.received.length;
      process.kill(before[0]!.pid, "SIGKILL");
      // The server ends every session and recovers; the service reconnects and keeps posting.
      await until(
        async () => {
          try {
            const { rows } = await db.pool.query<{ pid: number }>(
              "SELECT pid FROM pg_stat_activity WHERE application_name = 'ledger-webhooks'",
            );
            return rows.length === 1 && rows[0]!.pid !== before[0]!.pid;
          } catch {
            return false;
          }
        },
        "the webhook worker on a new session after the crash",
        60_000,
        100,
      );
      const ackAfterCrash = acknowledged;
      await until(() => acknowledged >= ackAfterCrash + 40, "transfers posted after the crash", 60_000);
      stopping = true;
      await Promise.all(loops);
      // A crash restart, not a new server: the same postmaster, every session ended.
      const { rows: startedAfter } = await db.pool.query<{ at: Date }>("SELECT pg_postmaster_start_time() AS at");
      expect(startedAfter[0]!.at).toEqual(startedBefore[0]!.at);
      expect(failedKeys.length).toBeGreaterThan(0);
      // The requests the crash cut off, again with their keys (a replay: it had committed unanswered).
      for (const { idempotencyKey, pair } of failedKeys) await post(pair, idempotencyKey);

      const { rows: transfers } = await db.pool.query<{ id: string }>("SELECT id FROM transfers WHERE tenant_id = $1", [tenantRow.id]);
      const committed = new Set(transfers.map((r) => r.id));
      await allDelivered(db.pool, committed.size);
      service.signal("SIGTERM");
      expect(await service.exited).toEqual({ code: 0, signal: null });

      // Every committed transfer arrived, nothing else, one event id per transfer.
      const received = receiver.received;
      const eventIdsByTransfer = new Map<string, Set<string>>();
      for (const r of received) {
        expect(r.json.type).toBe("transfer.posted");
        const transferId = fromGlobalId("Transfer", r.json.data.transfer.id)!;
        eventIdsByTransfer.set(transferId, (eventIdsByTransfer.get(transferId) ?? new Set()).add(r.json.id));
        expectSigned(r, endpoint.secret);
      }
      expect(new Set(eventIdsByTransfer.keys())).toEqual(committed);
      expect([...eventIdsByTransfer.values()].filter((ids) => ids.size !== 1)).toEqual([]);
      // Made once each in the end: a pass the crash undid was made again, with the same ids.
      const { rows: events } = await db.pool.query<{ n: number; transfers: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT object_id)::int AS transfers FROM webhook_events
          WHERE tenant_id = $1 AND type = 'transfer.posted'`,
        [tenantRow.id],
      );
      expect(events[0]).toEqual({ n: committed.size, transfers: committed.size });
      expect(await checkInvariants(db.pool)).toEqual([]);
      console.info(
        `postgres crash: ${committed.size} transfers, ${failedKeys.length} requests cut off, ${receivedAtCrash} requests before the crash, ` +
          `${received.length} in all (${received.length - committed.size} duplicates)`,
      );
    } finally {
      await receiver.close();
      await db.close();
      await server.stop();
    }
  }, 240_000);
});
