// The claim and the record keep to key lookups when their plans were made on empty tables: a
// session caches the plans of ledger_webhook_claim and ledger_webhook_record, and one planned
// while the webhook tables were empty (a new database, a fresh ANALYZE) used to read a whole table
// or index per claimed delivery once they had grown (the record read every endpoint's leases).
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { insertDeliveries, useConnection, useOwnDatabase } from "../support/webhooks.js";

const database = useOwnDatabase("wh_claim_plan");
const client = useConnection(database);
const endpointId = "00000000-0000-4000-8000-000000000001";
const claim = "SELECT count(*)::int AS n FROM ledger_webhook_claim(60000, 5, 16, 64)";
/** Successes of the attempts $1 leased with tokens $2, from endpoints $3. */
const record = `SELECT * FROM ledger_webhook_record($1::uuid[], $2::uuid[], $3::uuid[],
  array_fill('SUCCESS'::text, ARRAY[cardinality($1)]), array_fill(200, ARRAY[cardinality($1)]), array_fill(3, ARRAY[cardinality($1)]),
  array_fill(NULL::text, ARRAY[cardinality($1)]), array_fill('DELIVERED'::text, ARRAY[cardinality($1)]),
  array_fill(NULL::timestamptz, ARRAY[cardinality($1)]), 10, 60000)`;

/**
 * So far in this session (not yet reported ones included): sequential scans of the webhook tables,
 * rows and index entries read from the deliveries and events, and pages read of the endpoints and
 * their indexes (an index scan by a column other than its first reads every page of it, and counts
 * only the entries it returns).
 */
async function readSoFar(client: pg.Client): Promise<{ seqScans: number; rowsRead: number; endpointPages: number }> {
  const { rows } = await client.query<{ seq_scans: string; rows_read: string; endpoint_pages: string }>(
    `WITH t AS (SELECT unnest(ARRAY['webhook_deliveries', 'webhook_events']::regclass[]) AS oid),
          ep AS (SELECT 'webhook_endpoints'::regclass AS oid UNION ALL
                 SELECT indexrelid FROM pg_index WHERE indrelid = 'webhook_endpoints'::regclass)
     SELECT (SELECT sum(pg_stat_get_xact_numscans(t.oid)) FROM t) + pg_stat_get_xact_numscans('webhook_endpoints'::regclass) AS seq_scans,
            (SELECT sum(pg_stat_get_xact_tuples_returned(t.oid)) FROM t)
             + (SELECT sum(pg_stat_get_xact_tuples_returned(i.indexrelid)) FROM pg_index i WHERE i.indrelid IN (SELECT oid FROM t)) AS rows_read,
            (SELECT sum(pg_stat_get_xact_blocks_fetched(ep.oid)) FROM ep) AS endpoint_pages`,
  );
  return { seqScans: Number(rows[0]!.seq_scans), rowsRead: Number(rows[0]!.rows_read), endpointPages: Number(rows[0]!.endpoint_pages) };
}

describe("the webhook claim's and record's plans", () => {
  it("looks deliveries, events and endpoints up by key once the tables have grown after it was planned on empty ones", async () => {
    await client.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed)
       VALUES ($1, gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed')`,
      [endpointId],
    );
    await client.query("VACUUM ANALYZE webhook_deliveries, webhook_events, webhook_endpoints");
    // Past the five custom plans: from now on this session runs the cached plans.
    for (let n = 0; n < 7; n++) {
      expect((await client.query(claim)).rows[0].n).toBe(0);
      expect((await client.query(record, [[endpointId], [endpointId], [endpointId]])).rows[0].moved).toEqual([]);
    }
    await insertDeliveries(client, endpointId, 5_000, 250);
    await client.query(
      `INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret_sealed)
       SELECT gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed' FROM generate_series(1, 3000)`,
    );
    await client.query("BEGIN");
    try {
      const before = await readSoFar(client);
      const { rows } = await client.query<{ id: string; lease_token: string }>(
        `SELECT * FROM ${claim.slice(claim.indexOf("ledger_webhook_claim"))}`,
      );
      expect(rows).toHaveLength(16);
      const claimed = await readSoFar(client);
      expect(claimed.seqScans).toBe(before.seqScans);
      // 16 deliveries, their events and a few index pages' worth; a whole index per delivery is 80,000.
      expect(claimed.rowsRead - before.rowsRead).toBeLessThan(200);
      // The endpoint by its key, a few pages a lookup; a whole index of 3,001 endpoints a lookup was about 600 in all.
      expect(claimed.endpointPages - before.endpointPages).toBeLessThan(150);
      const recorded = await client.query(record, [rows.map((r) => r.id), rows.map((r) => r.lease_token), rows.map(() => endpointId)]);
      expect(recorded.rows[0].moved).toHaveLength(16);
      const after = await readSoFar(client);
      expect(after.seqScans).toBe(claimed.seqScans);
      // The 16 deliveries by key, and their endpoint a few pages a delivery (every endpoint's leases were
      // read at each record, and the endpoint updated by a whole scan of the key index: about 3,500 pages).
      expect(after.rowsRead - claimed.rowsRead).toBeLessThan(100);
      expect(after.endpointPages - claimed.endpointPages).toBeLessThan(150);
    } finally {
      await client.query("ROLLBACK");
    }
  });
});
