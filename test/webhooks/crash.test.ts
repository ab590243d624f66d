// A SIGKILL of the service process while attempts are in flight and transfers are being posted:
// after a restart on the same database every committed transfer's event arrives (including
// transfers whose answer the kill lost), none for a write that did not commit, and a delivery the
// dead instance had in flight is sent again, once its lease runs out, with the same event id.
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../src/db/client.js";
import { freePort } from "../../src/db/embedded.js";
import { fromGlobalId } from "../../src/domain/ids.js";
import { createApiKey, createTenant } from "../../src/ledger/tenants.js";
import { checkInvariants } from "../support/invariants.js";
import { createAccount, createFundingAccount, expectResult, key, postTransfer } from "../support/ledger-client.js";
import { until } from "../support/live-client.js";
import { errorLogs, startServiceProcess, tenantAt } from "../support/service-process.js";
import type { TestTenant } from "../support/service.js";
import {
  createEndpoint,
  distinctEvents,
  allDelivered,
  expectSigned,
  startReceiver,
  useOwnDatabase,
  webhookProcessEnv,
  type Received,
} from "../support/webhooks.js";

const database = useOwnDatabase("wh_crash");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const clients = 4;
const postsAfterRestart = 5;

describe("webhooks across a crash of the service", () => {
  it("SIGKILL of the service while deliveries are in flight and events are being produced loses no event; duplicates carry the same event id", async () => {
    const db = connectDatabase(database.url(), 4);
    // Answers 200 after a while, so attempts are in flight; `answering` are the ones not answered yet.
    const answering = new Set<string>();
    const receiver = await startReceiver(async (request) => {
      const deliveryId = String(request.headers["ledger-delivery-id"]);
      answering.add(deliveryId);
      await sleep(60 + Math.random() * 120);
      answering.delete(deliveryId);
      return 200;
    });
    try {
      const tenantRow = await createTenant(db, "crash");
      const { key: apiKey } = await createApiKey(db, tenantRow.id, "k");

      const first = await startServiceProcess(await freePort(), webhookProcessEnv(database.url()));
      let tenant: TestTenant = tenantAt(first.url, tenantRow.id, apiKey);
      const pairs: { from: { id: string }; to: { id: string } }[] = [];
      for (let i = 0; i < clients; i++) pairs.push({ from: await createFundingAccount(tenant), to: await createAccount(tenant) });
      const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });

      // Each client posts in a loop until the kill; a request the kill cuts off is kept to ask again.
      let killed = false;
      let failure: unknown = null;
      let acknowledged = 0;
      let outstanding = 0;
      const unanswered: { idempotencyKey: string; pair: number }[] = [];
      const acknowledgedIds = new Set<string>();
      const post = async (pair: number, idempotencyKey = key("crash")) => {
        const { from, to } = pairs[pair]!;
        const result = expectResult(
          await postTransfer(tenant, {
            idempotencyKey,
            from: { id: from.id },
            to: { id: to.id },
            amount: "1",
            currency: "USD",
          }),
          "TransferPosted",
        );
        acknowledgedIds.add(result.transfer.id);
        return result;
      };
      const loops = pairs.map(async (_, pair) => {
        while (!killed) {
          const idempotencyKey = key("crash");
          outstanding++;
          try {
            await post(pair, idempotencyKey);
            acknowledged++;
          } catch (error) {
            if (killed) unanswered.push({ idempotencyKey, pair });
            else {
              failure = error; // before the kill: a real failure, which ends the test
              killed = true;
            }
          } finally {
            outstanding--;
          }
        }
      });

      // Kill mid-stream: some events received, more transfers committing, attempts unanswered.
      let atKill: { inFlight: string[]; outstanding: number; acknowledged: number; received: number } | null = null;
      await until(
        () => {
          if (failure) throw failure;
          if (distinctEvents(receiver.received).size < 20 || acknowledged < 40 || answering.size === 0 || outstanding === 0) return false;
          first.signal("SIGKILL");
          killed = true;
          atKill = { inFlight: [...answering], outstanding, acknowledged, received: receiver.received.length };
          return true;
        },
        "events received and attempts in flight",
        90_000,
      );
      expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
      await Promise.all(loops);
      const kill = atKill!;
      expect(kill.inFlight.length).toBeGreaterThan(0);
      expect(kill.outstanding).toBeGreaterThan(0);
      // What the dead instance left: leases it held (the attempts it never recorded), work still to do.
      const left = await db.pool.query<{ leased: number; pending: number }>(
        `SELECT (SELECT coalesce(sum(cardinality(lease_delivery_ids)), 0)::int FROM webhook_endpoints) AS leased,
                (SELECT count(*)::int FROM webhook_deliveries WHERE status = 'PENDING') AS pending`,
      );
      expect(left.rows[0]!.leased).toBeGreaterThanOrEqual(kill.inFlight.length);
      expect(left.rows[0]!.pending).toBeGreaterThan(0);

      const second = await startServiceProcess(await freePort(), webhookProcessEnv(database.url()));
      tenant = tenantAt(second.url, tenantRow.id, apiKey);
      // The cut-off requests again, with their keys: a replay is a transfer that committed unanswered.
      let committedUnanswered = 0;
      for (const { idempotencyKey, pair } of unanswered) if ((await post(pair, idempotencyKey)).replay) committedUnanswered++;
      await Promise.all(
        pairs.map(async (_, pair) => {
          for (let i = 0; i < postsAfterRestart; i++) await post(pair);
        }),
      );

      const transferIds = async () =>
        (await db.pool.query<{ id: string }>("SELECT id FROM transfers WHERE tenant_id = $1", [tenantRow.id])).rows.map((r) => r.id);
      const committed = await transferIds();
      await allDelivered(db.pool, committed.length);
      second.signal("SIGTERM");
      expect(await second.exited).toEqual({ code: 0, signal: null });

      // Every committed transfer arrived, and nothing else; one event id per transfer.
      const received = receiver.received.filter((r) => r.json.type === "transfer.posted");
      expect(received).toHaveLength(receiver.received.length);
      const eventIdsByTransfer = new Map<string, Set<string>>();
      for (const r of received) {
        const transferId = fromGlobalId("Transfer", r.json.data.transfer.id)!;
        eventIdsByTransfer.set(transferId, (eventIdsByTransfer.get(transferId) ?? new Set()).add(r.json.id));
      }
      expect(await transferIds()).toHaveLength(committed.length);
      expect(new Set(eventIdsByTransfer.keys())).toEqual(new Set(committed));
      for (const id of acknowledgedIds) expect(committed).toContain(fromGlobalId("Transfer", id));
      expect([...eventIdsByTransfer.values()].filter((ids) => ids.size !== 1)).toEqual([]);
      expect(distinctEvents(received).size).toBe(committed.length);
      // Made once each (the materializer's position moves with the events it makes). The tenant may
      // also have account.created events (accounts the materializer read after the endpoint existed).
      const events = await db.pool.query<{ n: number; transfers: number; others: string[] }>(
        `SELECT count(*) FILTER (WHERE type = 'transfer.posted')::int AS n,
                count(DISTINCT object_id) FILTER (WHERE type = 'transfer.posted')::int AS transfers,
                coalesce(array_agg(type) FILTER (WHERE type <> 'transfer.posted'), '{}') AS others
           FROM webhook_events WHERE tenant_id = $1`,
        [tenantRow.id],
      );
      expect(events.rows[0]).toMatchObject({ n: committed.length, transfers: committed.length });
      expect(events.rows[0]!.others.filter((type) => type !== "account.created")).toEqual([]);

      // A duplicate is the same delivery of the same event; those in flight at the kill were sent again.
      const byDelivery = new Map<string, Received[]>();
      for (const r of received) {
        const id = String(r.headers["ledger-delivery-id"]);
        byDelivery.set(id, [...(byDelivery.get(id) ?? []), r]);
      }
      expect(byDelivery.size).toBe(committed.length);
      for (const [, copies] of byDelivery) expect(new Set(copies.map((r) => r.json.id)).size).toBe(1);
      for (const id of kill.inFlight) {
        const copies = byDelivery.get(id)!;
        expect(copies.length).toBeGreaterThanOrEqual(2);
        expect(Number(copies.at(-1)!.headers["ledger-delivery-attempt"])).toBeGreaterThan(
          Number(copies[0]!.headers["ledger-delivery-attempt"]),
        );
      }
      for (const r of received) expectSigned(r, endpoint.secret);

      const deliveries = await db.pool.query<{ status: string; n: number }>(
        "SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status",
      );
      expect(deliveries.rows).toEqual([{ status: "DELIVERED", n: committed.length }]);
      expect(errorLogs(first)).toEqual([]);
      expect(errorLogs(second)).toEqual([]);
      expect(await checkInvariants(db.pool)).toEqual([]);

      const duplicates = received.length - committed.length;
      console.info(
        `crash: ${committed.length} transfers (${kill.acknowledged} answered before the kill, ${unanswered.length} cut off, ` +
          `${committedUnanswered} of them committed), ${kill.received} requests before the kill, ${kill.inFlight.length} in flight, ` +
          `${left.rows[0]!.leased} leased and ${left.rows[0]!.pending} pending at the kill, ${received.length} requests, ${duplicates} duplicates, other events: ${events.rows[0]!.others.length}`,
      );
    } finally {
      await receiver.close();
      await db.close();
    }
  }, 240_000);
});
