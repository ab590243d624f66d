// New deliveries are claimed through their endpoint's cursor (ledger_webhook_claim): in seq
// order, none skipped, none claimed twice; a lease that runs out makes its delivery due again;
// a first attempt that succeeds updates its row without a new index entry (HOT); inserts of
// deliveries wait for each other (ledger_webhook_deliveries_lock), so they commit in seq order.
import pg from "pg";
import { beforeAll, describe, expect, it } from "vitest";
import { ledgerTypes } from "../../src/db/pg-types.js";
import { insertDeliveries, useConnection, useOwnDatabase } from "../support/webhooks.js";

const database = useOwnDatabase("wh_cursor");
const client = useConnection(database);
const endpointId = "00000000-0000-4000-8000-000000000002";
const concurrency = 4;

interface Claimed {
  id: string;
  lease_token: string;
  attempt_count: number;
  seq: string;
}

describe("the endpoint's cursor over its new deliveries", () => {
  beforeAll(async () => {
    await client.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed)
       VALUES ($1, gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed')`,
      [endpointId],
    );
  });

  /** `count` new deliveries (as the materializer makes them), their seqs in order. */
  const addDeliveries = (count: number) => insertDeliveries(client, endpointId, count);

  async function claim(leaseMs = 60_000): Promise<Claimed[]> {
    const { rows } = await client.query<Claimed>(
      `SELECT c.id, c.lease_token, c.attempt_count, d.seq::text FROM ledger_webhook_claim($1, 5, $2, 64) c
         JOIN webhook_deliveries d ON d.id = c.id`,
      [leaseMs, concurrency],
    );
    return rows;
  }

  async function recordSuccess(claimed: readonly Claimed[]): Promise<string[]> {
    const n = claimed.length;
    const { rows } = await client.query<{ moved: string[] }>(
      "SELECT moved FROM ledger_webhook_record($1, $2, $3, $4, $5, $6, $7, $8, $9, 5, 60000)",
      [
        claimed.map((c) => c.id),
        claimed.map((c) => c.lease_token),
        claimed.map(() => endpointId),
        claimed.map(() => "SUCCESS"),
        claimed.map(() => 200),
        claimed.map(() => 3),
        claimed.map(() => null),
        claimed.map(() => "DELIVERED"),
        Array.from({ length: n }, () => null),
      ],
    );
    return rows[0]!.moved;
  }

  async function through(): Promise<string> {
    const { rows } = await client.query<{ through: string }>(
      "SELECT deliveries_claimed_through::text AS through FROM webhook_endpoints WHERE id = $1",
      [endpointId],
    );
    return rows[0]!.through;
  }

  it("claims new deliveries in seq order as room frees, none twice, and moves past those it leased", async () => {
    const seqs = await addDeliveries(10);
    const first = await claim();
    expect(first.map((c) => c.seq)).toEqual(seqs.slice(0, 4));
    expect(first.every((c) => c.attempt_count === 1)).toBe(true);
    expect(await through()).toBe(seqs[3]);
    // No room: every slot of the endpoint is in flight.
    expect(await claim()).toEqual([]);

    expect(await recordSuccess(first.slice(0, 2))).toHaveLength(2);
    const second = await claim();
    expect(second.map((c) => c.seq)).toEqual(seqs.slice(4, 6));
    expect(await through()).toBe(seqs[5]);

    await recordSuccess([...first.slice(2), ...second]);
    const third = await claim();
    expect(third.map((c) => c.seq)).toEqual(seqs.slice(6, 10));
    await recordSuccess(third);
    expect(await claim()).toEqual([]);
    const { rows } = await client.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 GROUP BY status",
      [endpointId],
    );
    expect(rows).toEqual([{ status: "DELIVERED", n: 10 }]);
  });

  it("makes a delivery whose lease ran out due again, counted, before the new ones", async () => {
    const [lostSeq] = await addDeliveries(1);
    const [lost] = await claim(1);
    expect(lost!.seq).toBe(lostSeq);
    const seqs = [lostSeq, ...(await addDeliveries(2))];
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = await claim();
    // The lost attempt counts: the next one is its second; then the new ones in order.
    expect(next.map((c) => [c.seq, c.attempt_count])).toEqual([
      [seqs[0], 2],
      [seqs[1], 1],
      [seqs[2], 1],
    ]);
    // The late answer of the lost attempt moves nothing; the new lease's does.
    expect(await recordSuccess([lost!])).toEqual([]);
    expect(await recordSuccess(next)).toHaveLength(3);
    const { rows } = await client.query<{ due: number; pending: number }>(
      `SELECT count(*) FILTER (WHERE due_at IS NOT NULL)::int AS due, count(*) FILTER (WHERE status = 'PENDING')::int AS pending
         FROM webhook_deliveries WHERE endpoint_id = $1`,
      [endpointId],
    );
    expect(rows[0]).toEqual({ due: 0, pending: 0 });
  });

  it("records a new delivery's successful first attempt as a HOT update (no index entry)", async () => {
    await addDeliveries(4);
    const claimed = await claim();
    expect(claimed).toHaveLength(4);
    await client.query("BEGIN");
    try {
      const counts = async () => {
        const { rows } = await client.query<{ updated: string; hot: string }>(
          `SELECT pg_stat_get_xact_tuples_updated('webhook_deliveries'::regclass)::text AS updated,
                  pg_stat_get_xact_tuples_hot_updated('webhook_deliveries'::regclass)::text AS hot`,
        );
        return { updated: Number(rows[0]!.updated), hot: Number(rows[0]!.hot) };
      };
      const before = await counts();
      expect(await recordSuccess(claimed)).toHaveLength(4);
      const after = await counts();
      expect(after.updated - before.updated).toBe(4);
      expect(after.hot - before.hot).toBe(4);
    } finally {
      await client.query("COMMIT");
    }
  });

  it("makes an insert of deliveries wait while another transaction inserting them is open", async () => {
    const other = new pg.Client({ connectionString: database.url(), types: ledgerTypes });
    await other.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT ledger_webhook_deliveries_lock()");
      await other.query("BEGIN");
      await other.query("SET LOCAL lock_timeout = '200ms'");
      await expect(other.query("SELECT ledger_webhook_deliveries_lock()")).rejects.toMatchObject({ code: "55P03" });
      await other.query("ROLLBACK");
      await client.query("COMMIT");
      await other.query("BEGIN");
      await other.query("SELECT ledger_webhook_deliveries_lock()");
      await other.query("COMMIT");
    } finally {
      await client.query("ROLLBACK").catch(() => {});
      await other.end();
    }
  });
});
