import { describe, expect, it } from "vitest";
import { insertDeliveries, useConnection, useOwnDatabase } from "../support/webhooks.js";

const database = useOwnDatabase("wh_endpoint_work");
const client = useConnection(database);
/** A second session, for a transaction beside the claim's. */
const other = useConnection(database);

interface Claimed {
  id: string;
  endpoint_id: string;
  lease_token: string;
}

describe("the endpoints a claim looks at", () => {
  async function newEndpoints(count: number): Promise<string[]> {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed)
       SELECT gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed' FROM generate_series(1, $1) RETURNING id`,
      [count],
    );
    return rows.map((r) => r.id);
  }

  const claim = async (leaseMs = 60_000) =>
    (await client.query<Claimed>("SELECT id, endpoint_id, lease_token FROM ledger_webhook_claim($1, 5, 4, 64)", [leaseMs])).rows;

  /** Records the attempts: `next` null for a success, else a failure due again then. */
  async function record(claimed: readonly Claimed[], next: Date | null): Promise<void> {
    const each = <T>(value: T) => claimed.map(() => value);
    await client.query("SELECT moved FROM ledger_webhook_record($1, $2, $3, $4, $5, $6, $7, $8, $9, 5, 60000)", [
      claimed.map((c) => c.id),
      claimed.map((c) => c.lease_token),
      claimed.map((c) => c.endpoint_id),
      each(next ? "HTTP_ERROR" : "SUCCESS"),
      each(next ? 500 : 200),
      each(3),
      each(null),
      each(next ? "PENDING" : "DELIVERED"),
      each(next?.toISOString() ?? null),
    ]);
  }

  /** The times an endpoint is listed from. */
  async function listed(endpointId: string): Promise<Date[]> {
    const { rows } = await client.query<{ from_at: Date }>(
      "SELECT from_at FROM webhook_endpoint_work WHERE endpoint_id = $1 ORDER BY from_at",
      [endpointId],
    );
    return rows.map((r) => r.from_at);
  }

  /** Rows and index entries of webhook_endpoints read by `run` (in a transaction rolled back after). */
  async function endpointRowsRead(run: () => Promise<unknown>): Promise<number> {
    const read = async () => {
      const { rows } = await client.query<{ n: string }>(
        `SELECT (pg_stat_get_xact_tuples_returned('webhook_endpoints'::regclass)
                 + (SELECT sum(pg_stat_get_xact_tuples_returned(i.indexrelid)) FROM pg_index i
                     WHERE i.indrelid = 'webhook_endpoints'::regclass))::text AS n`,
      );
      return Number(rows[0]!.n);
    };
    await client.query("BEGIN");
    try {
      const before = await read();
      await run();
      return (await read()) - before;
    } finally {
      await client.query("ROLLBACK");
    }
  }

  it("reads no more endpoint rows with 2,000 idle endpoints than with none", async () => {
    const [busy] = await newEndpoints(1);
    await insertDeliveries(client, busy!, 8);
    try {
      // The session caches the claim's plan now, made while the table holds one endpoint.
      const alone = await endpointRowsRead(async () => expect(await claim()).toHaveLength(4));
      await newEndpoints(2_000);
      await client.query("ANALYZE webhook_endpoints");
      const amongIdle = await endpointRowsRead(async () => expect(await claim()).toHaveLength(4));
      expect(amongIdle).toBe(alone);
      // Before the work list every claim read each enabled endpoint's row (2,001 here).
      expect(amongIdle).toBeLessThan(20);
    } finally {
      await client.query("UPDATE webhook_deliveries SET status = 'DELIVERED' WHERE endpoint_id = $1", [busy]);
      await client.query("DELETE FROM webhook_endpoint_work WHERE endpoint_id = $1", [busy]);
    }
  });

  it("lists an endpoint while it has deliveries or attempts in flight, and from when a failed one is due again", async () => {
    const [endpoint] = await newEndpoints(1);
    await insertDeliveries(client, endpoint!, 2);
    expect(await listed(endpoint!)).toHaveLength(1);
    const first = await claim();
    expect(first).toHaveLength(2);
    // Nothing left to claim, but two attempts in flight: still listed.
    expect(await claim()).toEqual([]);
    expect(await listed(endpoint!)).toHaveLength(1);

    const later = new Date(Date.now() + 3_600_000);
    await record(first.slice(0, 1), later);
    await record(first.slice(1), null);
    expect((await listed(endpoint!)).map((at) => at.getTime())).toContain(later.getTime());
    // The failed one is not due for an hour: the claim finds nothing, and drops the work up to now only.
    expect(await claim()).toEqual([]);
    expect((await listed(endpoint!)).map((at) => at.getTime())).toEqual([later.getTime()]);

    // Due now after all (as retryWebhookDelivery makes it): listed from now, claimed, and once delivered unlisted.
    await client.query(
      `WITH due AS (UPDATE webhook_deliveries SET due_at = now() WHERE id = $1 RETURNING endpoint_id)
       SELECT ledger_webhook_work_from(array_agg(endpoint_id), array_agg(now())) FROM due`,
      [first[0]!.id],
    );
    const again = await claim();
    expect(again.map((c) => c.id)).toEqual([first[0]!.id]);
    await record(again, null);
    expect(await claim()).toEqual([]);
    expect((await listed(endpoint!)).map((at) => at.getTime())).toEqual([later.getTime()]);
  });

  it("lists an endpoint again when a lease runs out, and claims that delivery again", async () => {
    const [endpoint] = await newEndpoints(1);
    await insertDeliveries(client, endpoint!, 1);
    const [lost] = await claim(1);
    expect(lost).toBeDefined();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [again] = await claim();
    expect(again!.id).toBe(lost!.id);
    await record([again!], null);
    expect(await claim()).toEqual([]);
    expect(await listed(endpoint!)).toEqual([]);
  });

  it("keeps work a claim could not see: deliveries committed after its snapshot are claimed by the next", async () => {
    const [endpoint] = await newEndpoints(1);
    // Listed with nothing to claim: the next claim drops that row.
    await client.query("SELECT ledger_webhook_work_from($1::uuid[], ARRAY[now()])", [[endpoint]]);
    await other.query("BEGIN");
    try {
      // Another transaction makes a delivery (and lists its endpoint) but has not committed.
      await insertDeliveries(other, endpoint!, 1);
      expect(await claim()).toEqual([]);
      expect(await listed(endpoint!)).toEqual([]);
      await other.query("COMMIT");
    } catch (error) {
      await other.query("ROLLBACK");
      throw error;
    }
    expect(await listed(endpoint!)).toHaveLength(1);
    const claimed = await claim();
    expect(claimed.map((c) => c.endpoint_id)).toEqual([endpoint]);
    await record(claimed, null);
  });
});
