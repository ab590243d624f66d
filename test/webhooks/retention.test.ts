import { describe, expect, it } from "vitest";
import { pruneDelivered } from "../../src/webhooks/retention.js";
import { until } from "../support/live-client.js";
import { startTestService, type TestService } from "../support/service.js";
import {
  insertDeliveries,
  useConnection,
  testWebhookSettings,
  transferEndpointTenant,
  startReceiver,
  useOwnDatabase,
} from "../support/webhooks.js";
import { transferBetween } from "../support/ledger-client.js";

const database = useOwnDatabase("wh_retention");
const client = useConnection(database);
const hour = 3_600_000;

describe("retention of delivered deliveries", () => {
  it("deletes deliveries DELIVERED before the cutoff and keeps pending, failed, recent ones and every event", async () => {
    const { rows: endpoints } = await client.query<{ id: string }>(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed)
       VALUES (gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed') RETURNING id`,
    );
    const endpointId = endpoints[0]!.id;
    await insertDeliveries(client, endpointId, 6, 0);
    // Made three hours ago (its id is a UUIDv7 of then); by seq: two delivered 2 h ago, one
    // delivered just now, one FAILED 2 h ago, one PENDING; the sixth made now, delivered 2 h "ago".
    await client.query(
      `WITH d AS (SELECT id, seq, row_number() OVER (ORDER BY seq) AS n FROM webhook_deliveries WHERE endpoint_id = $1)
       UPDATE webhook_deliveries w SET
         id = CASE WHEN d.n < 6 THEN ledger_uuidv7_floor(now() - interval '3 hours' + d.n * interval '1 ms') ELSE w.id END,
         status = (CASE d.n WHEN 4 THEN 'FAILED' WHEN 5 THEN 'PENDING' ELSE 'DELIVERED' END)::"WebhookDeliveryStatus",
         delivered_at = CASE WHEN d.n IN (1, 2, 6) THEN now() - interval '2 hours' WHEN d.n = 3 THEN now() END,
         failed_at = CASE WHEN d.n = 4 THEN now() - interval '2 hours' END
        FROM d WHERE w.id = d.id`,
      [endpointId],
    );
    const left = async () =>
      (
        await client.query<{ seq: string; status: string }>(
          "SELECT seq::text, status FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq",
          [endpointId],
        )
      ).rows.map((r) => r.status);
    expect(await pruneDelivered(client, new Date(Date.now() - hour))).toBe(2);
    // The one delivered just now, the failed one, the pending one; and the one made after the cutoff.
    expect(await left()).toEqual(["DELIVERED", "FAILED", "PENDING", "DELIVERED"]);
    expect(await pruneDelivered(client, new Date(Date.now() - hour))).toBe(0);
    const { rows: events } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM webhook_events WHERE tenant_id = (SELECT tenant_id FROM webhook_endpoints WHERE id = $1)",
      [endpointId],
    );
    expect(events[0]!.n).toBe(6);
    // Out of the next test's way (its worker would try the pending one).
    await client.query("UPDATE webhook_endpoints SET status = 'DISABLED' WHERE id = $1", [endpointId]);
  });

  it("is done by the worker with a retention set: delivered ones go, their events stay", async () => {
    let service: TestService | null = null;
    const receiver = await startReceiver();
    try {
      service = await startTestService(
        {},
        {},
        {
          databaseUrl: database.url(),
          webhooks: testWebhookSettings({ deliveredRetentionMs: 1, pruneIntervalMs: 50 }),
        },
      );
      const { tenant, funding, account } = await transferEndpointTenant(service, "retention", receiver.url);
      for (let i = 0; i < 3; i++) await transferBetween(tenant, funding.id, account.id, "1");
      await receiver.waitFor((received) => received.length >= 3);
      const count = async (sql: string) => (await service!.db.pool.query<{ n: number }>(sql, [tenant.id])).rows[0]!.n;
      await until(
        async () => (await count("SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1")) === 0,
        "the tenant's delivered deliveries deleted",
        10_000,
      );
      expect(await count("SELECT count(*)::int AS n FROM webhook_events WHERE tenant_id = $1 AND type = 'transfer.posted'")).toBe(3);
    } finally {
      await service?.stop();
      await receiver.close();
    }
  });
});
