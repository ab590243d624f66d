import { describe, expect, it } from "vitest";
import { deliveryGlobalId } from "../../src/webhooks/ids.js";
import { pruneDelivered, pruneEvents } from "../../src/webhooks/retention.js";
import { until } from "../support/live-client.js";
import { startTestService, type TestService } from "../support/service.js";
import {
  insertDeliveries,
  useConnection,
  testWebhookSettings,
  transferEndpointTenant,
  startReceiver,
  useOwnDatabase,
  endpointWithDeliveries,
} from "../support/webhooks.js";
import { transferBetween } from "../support/ledger-client.js";

const database = useOwnDatabase("wh_retention");
const client = useConnection(database);
const hour = 3_600_000;

describe("retention of webhook deliveries and events", () => {
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

  it("is done by the worker with an event retention set: old events go with their deliveries", async () => {
    let service: TestService | null = null;
    const receiver = await startReceiver();
    try {
      service = await startTestService(
        {},
        {},
        { databaseUrl: database.url(), webhooks: testWebhookSettings({ eventRetentionMs: 1, pruneIntervalMs: 50 }) },
      );
      const { tenant, funding, account } = await transferEndpointTenant(service, "event retention", receiver.url);
      for (let i = 0; i < 3; i++) await transferBetween(tenant, funding.id, account.id, "1");
      const count = async (table: string) =>
        (await service!.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [tenant.id])).rows[0]!
          .n;
      await until(async () => (await count("webhook_events")) === 0 && (await count("webhook_deliveries")) === 0, "all deleted", 10_000);
      const metrics = await (await fetch(`http://127.0.0.1:${service.service.port}/metrics`)).text();
      expect(Number(/^ledger_webhook_events_pruned_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);
    } finally {
      await service?.stop();
      await receiver.close();
    }
  });

  it("deletes events that occurred before the event cutoff with every delivery made before it, and keeps the rest", async () => {
    const { rows: endpoints } = await client.query<{ id: string; tenant_id: string }>(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed, status)
       VALUES (gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed', 'DISABLED') RETURNING id, tenant_id`,
    );
    const { id: endpointId, tenant_id: tenantId } = endpoints[0]!;
    // Events 1 and 2 three hours old, 3 and 4 new, and a new one stored with a random id below
    // every time's (kept: the time is checked too).
    const randomLowId = "00000000-0000-4000-8000-000000000001";
    await client.query(
      `INSERT INTO webhook_events (id, tenant_id, type, occurred_at, account_ids, payload)
       SELECT CASE WHEN n <= 2 THEN ledger_uuidv7_floor(now() - interval '3 hours' + n * interval '1 ms')
                   WHEN n = 5 THEN $2::uuid ELSE ledger_uuidv7() END,
              $1, 'transfer.' || n, CASE WHEN n <= 2 THEN now() - interval '3 hours' ELSE now() END, '{}', '{}'
         FROM generate_series(1, 5) n`,
      [tenantId, randomLowId],
    );
    // Deliveries: of event 1 delivered and of 2 failed and pending, all made 3 h ago; made now: a
    // replay of event 1, one of event 3, a delivered one of event 4, and one with a low random id.
    await client.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, status, created_at)
       SELECT CASE WHEN d.old THEN ledger_uuidv7_floor(now() - interval '3 hours' + d.n * interval '1 ms')
                   WHEN d.n = 8 THEN $3::uuid ELSE ledger_uuidv7() END,
              $1, $2, (SELECT id FROM webhook_events WHERE tenant_id = $1 AND type = 'transfer.' || d.event),
              d.status::"WebhookDeliveryStatus", CASE WHEN d.old THEN now() - interval '3 hours' ELSE now() END
         FROM (VALUES (1, 1, 'DELIVERED', true), (2, 2, 'FAILED', true), (3, 2, 'PENDING', true), (4, 1, 'PENDING', false),
                      (5, 3, 'PENDING', false), (6, 4, 'DELIVERED', false), (8, 5, 'DELIVERED', false)) AS d(n, event, status, old)`,
      [tenantId, endpointId, randomLowId],
    );
    const left = async (table: string, column: string) =>
      (await client.query<{ v: string }>(`SELECT ${column} AS v FROM ${table} WHERE tenant_id = $1 ORDER BY seq`, [tenantId])).rows.map(
        (r) => r.v,
      );
    expect(await pruneEvents(client, new Date(Date.now() - hour))).toEqual({ events: 2, deliveries: 3 });
    expect(await left("webhook_events", "type")).toEqual(["transfer.3", "transfer.4", "transfer.5"]);
    // The replay of event 1 outlives its event (the claim drops it; listings do not show it).
    expect(await left("webhook_deliveries", "status")).toEqual(["PENDING", "PENDING", "DELIVERED", "DELIVERED"]);
    expect(await pruneEvents(client, new Date(Date.now() - hour))).toEqual({ events: 0, deliveries: 0 });
  });

  it("goes on past one statement's most in one call, until what is left is newer than the cutoff", async () => {
    const { rows: endpoints } = await client.query<{ id: string; tenant_id: string }>(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed, status)
       VALUES (gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed', 'DISABLED') RETURNING id, tenant_id`,
    );
    const { id: endpointId, tenant_id: tenantId } = endpoints[0]!;
    // 25 events two hours old with a delivery each, delivered then; one new event and delivery. One
    // row per statement: more statements than a pass ran before it had no cap (20).
    await client.query(
      `WITH ev AS (
         INSERT INTO webhook_events (id, tenant_id, type, occurred_at, account_ids, payload)
         SELECT CASE WHEN n <= 25 THEN ledger_uuidv7_floor(now() - interval '2 hours' + n * interval '1 ms') ELSE ledger_uuidv7() END,
                $1, 'transfer.posted', CASE WHEN n <= 25 THEN now() - interval '2 hours' ELSE now() END, '{}', '{}'
           FROM generate_series(1, 26) n
         RETURNING id, occurred_at
       )
       INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, status, created_at, delivered_at)
       SELECT ev.id, $1, $2, ev.id, 'DELIVERED', ev.occurred_at, ev.occurred_at FROM ev`,
      [tenantId, endpointId],
    );
    const before = new Date(Date.now() - hour);
    expect(await pruneDelivered(client, before, { perStatementMax: 1 })).toBe(25);
    await client.query(
      `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, created_at)
       SELECT ledger_uuidv7_floor(occurred_at + interval '1 s' + (row_number() OVER ()) * interval '1 ms'), $1, $2, id, occurred_at
         FROM webhook_events
        WHERE tenant_id = $1 AND occurred_at < $3`,
      [tenantId, endpointId, before],
    );
    expect(await pruneEvents(client, before, { perStatementMax: 1 })).toEqual({ events: 25, deliveries: 25 });
    const left = await client.query<{ events: number; deliveries: number }>(
      `SELECT (SELECT count(*)::int FROM webhook_events WHERE tenant_id = $1) AS events,
              (SELECT count(*)::int FROM webhook_deliveries WHERE tenant_id = $1) AS deliveries`,
      [tenantId],
    );
    expect(left.rows[0]).toEqual({ events: 1, deliveries: 1 });
  });

  it("drops a pending delivery whose event is past its retention unsent, and retryWebhookDelivery does not find it", async () => {
    let service: TestService | null = null;
    const receiver = await startReceiver();
    try {
      service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: testWebhookSettings() });
      const { tenant, endpoint, funding, account } = await transferEndpointTenant(service, "orphan", receiver.url);
      const sql = async <R extends object>(text: string) => (await service!.db.pool.query<R>(text, [tenant.id])).rows;
      // Sending held (the breaker open) while two transfers make their deliveries.
      await sql("UPDATE webhook_endpoints SET breaker_open_until = now() + interval '1 day' WHERE tenant_id = $1");
      await transferBetween(tenant, funding.id, account.id, "1");
      const second = await transferBetween(tenant, funding.id, account.id, "2");
      await until(
        async () => (await sql<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1"))[0]!.n === 2,
        "both deliveries made",
      );
      // The first one's event deleted, as ledger_webhook_prune_events deletes one past its retention.
      const [orphan] = await sql<{ id: string }>(
        `DELETE FROM webhook_events WHERE id = (SELECT event_id FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY seq LIMIT 1)
         RETURNING (SELECT id FROM webhook_deliveries WHERE tenant_id = $1 ORDER BY seq LIMIT 1) AS id`,
      );
      const retried = await tenant.gql<{ retryWebhookDelivery: { __typename: string; code: string } }>(
        `mutation($id: ID!) { retryWebhookDelivery(id: $id) { __typename ... on Problem { code } } }`,
        { id: deliveryGlobalId(orphan!.id) },
      );
      expect(retried.retryWebhookDelivery).toEqual({ __typename: "WebhookDeliveryNotFound", code: "WebhookDeliveryNotFound" });
      expect((await sql<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1"))[0]!.n).toBe(2);
      // Listed: only the one whose event is kept.
      expect((await endpointWithDeliveries(tenant, endpoint.id)).deliveries.nodes).toHaveLength(1);

      await sql("UPDATE webhook_endpoints SET breaker_open_until = NULL WHERE tenant_id = $1");
      await receiver.waitFor((received) => received.length >= 1);
      await until(
        async () => (await sql<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1"))[0]!.n === 1,
        "the orphaned delivery deleted",
      );
      await until(
        async () =>
          (await sql<{ status: string }>("SELECT status FROM webhook_deliveries WHERE tenant_id = $1"))[0]?.status === "DELIVERED",
        "the second one delivered",
      );
      expect(receiver.received.map((r) => r.json.data.transfer.id)).toEqual([(second as { transfer: { id: string } }).transfer.id]);
    } finally {
      await service?.stop();
      await receiver.close();
    }
  });

  it("records an attempt whose delivery was deleted in flight as gone, not as one that outlived its lease", async () => {
    const endpointId = "00000000-0000-4000-8000-0000000000e1";
    await client.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed)
       VALUES ($1, gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed')`,
      [endpointId],
    );
    await insertDeliveries(client, endpointId, 2);
    const { rows: claimed } = await client.query<{ id: string; lease_token: string }>(
      "SELECT id, lease_token FROM ledger_webhook_claim(60000, 5, 16, 64) WHERE endpoint_id = $1",
      [endpointId],
    );
    expect(claimed).toHaveLength(2);
    // As ledger_webhook_prune_events deletes a delivery made before the cutoff, whatever its status.
    await client.query("DELETE FROM webhook_deliveries WHERE id = $1", [claimed[0]!.id]);
    const each = <T>(value: T) => claimed.map(() => value);
    const { rows } = await client.query<{ moved: string[]; gone: string[] }>(
      "SELECT moved, gone FROM ledger_webhook_record($1, $2, $3, $4, $5, $6, $7, $8, $9, 5, 60000)",
      [
        claimed.map((c) => c.id),
        claimed.map((c) => c.lease_token),
        each(endpointId),
        each("SUCCESS"),
        each(200),
        each(3),
        each(null),
        each("DELIVERED"),
        each(null),
      ],
    );
    expect(rows[0]).toEqual({ moved: [claimed[1]!.id], gone: [claimed[0]!.id] });
    const { rows: endpoint } = await client.query("SELECT lease_delivery_ids FROM webhook_endpoints WHERE id = $1", [endpointId]);
    expect(endpoint[0].lease_delivery_ids).toEqual([]); // both leases let go
  });
});
