// The claim keeps to key lookups when its plan was made on empty tables: a session caches the
// plan of ledger_webhook_claim, and one planned while the webhook tables were empty (a new
// database, a fresh ANALYZE) used to read a whole table or index per claimed delivery once they
// had grown.
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { insertDeliveries, useConnection, useOwnDatabase } from "../support/webhooks.js";

const database = useOwnDatabase("wh_claim_plan");
const client = useConnection(database);
const endpointId = "00000000-0000-4000-8000-000000000001";
const claim = "SELECT count(*)::int AS n FROM ledger_webhook_claim(60000, 5, 16, 64)";

/** Scans of the webhook tables, and rows and index entries read from them, so far by this session (not yet reported ones included). */
async function readSoFar(client: pg.Client): Promise<{ seqScans: number; rowsRead: number }> {
  const { rows } = await client.query<{ seq_scans: string; rows_read: string }>(
    `SELECT sum(pg_stat_get_xact_numscans(c.oid))::text AS seq_scans,
            (sum(pg_stat_get_xact_tuples_returned(c.oid))
             + (SELECT sum(pg_stat_get_xact_tuples_returned(i.indexrelid)) FROM pg_index i
                 WHERE i.indrelid IN ('webhook_deliveries'::regclass, 'webhook_events'::regclass)))::text AS rows_read
       FROM pg_class c WHERE c.oid IN ('webhook_deliveries'::regclass, 'webhook_events'::regclass)`,
  );
  return { seqScans: Number(rows[0]!.seq_scans), rowsRead: Number(rows[0]!.rows_read) };
}

describe("the webhook claim's plan", () => {
  it("looks deliveries and events up by key once the tables have grown after it was planned on empty ones", async () => {
    await client.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed)
       VALUES ($1, gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed')`,
      [endpointId],
    );
    await client.query("VACUUM ANALYZE webhook_deliveries, webhook_events");
    // Past the five custom plans: from now on this session runs the claim's cached plan.
    for (let n = 0; n < 7; n++) expect((await client.query(claim)).rows[0].n).toBe(0);
    await insertDeliveries(client, endpointId, 5_000, 250);
    await client.query("BEGIN");
    try {
      const before = await readSoFar(client);
      expect((await client.query(claim)).rows[0].n).toBe(16);
      const after = await readSoFar(client);
      expect(after.seqScans).toBe(before.seqScans);
      // 16 deliveries, their events and a few index pages' worth; a whole index per delivery is 80,000.
      expect(after.rowsRead - before.rowsRead).toBeLessThan(200);
    } finally {
      await client.query("ROLLBACK");
    }
  });
});
