// The claim keeps to its indexes when its plan was made on small tables: a session caches the
// plan of ledger_webhook_claim, and one planned while webhook_deliveries was nearly empty (a new
// database, a fresh ANALYZE) used to scan the whole table at every claim once it had grown.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ledgerTypes } from "../../src/db/pg-types.js";
import { useOwnDatabase } from "../support/webhooks.js";

const database = useOwnDatabase("wh_claim_plan");
const endpointId = "00000000-0000-4000-8000-000000000001";
const claim = "SELECT count(*)::int AS n FROM ledger_webhook_claim(60000, 5, 16, 64)";

/** Events and a delivery for each, for the test's endpoint. */
async function addDeliveries(client: pg.Client, count: number): Promise<void> {
  await client.query(
    `WITH ev AS (
       INSERT INTO webhook_events (id, tenant_id, type, occurred_at, account_ids, payload)
       SELECT gen_random_uuid(), t.tenant_id, 'transfer.posted', now(), '{}', '{}'
         FROM generate_series(1, $1), (SELECT tenant_id FROM webhook_endpoints WHERE id = $2) t
       RETURNING id, tenant_id)
     INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id) SELECT ledger_uuidv7(), tenant_id, $2, id FROM ev`,
    [count, endpointId],
  );
}

describe("the webhook claim's plan", () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: database.url(), types: ledgerTypes });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
  });

  it("scans no webhook table whole once the deliveries have grown after the plan was made", async () => {
    await client.query(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, secret_sealed)
       VALUES ($1, gen_random_uuid(), 'http://127.0.0.1:9/hook', '{transfer.posted}', 'sealed')`,
      [endpointId],
    );
    await client.query("VACUUM ANALYZE webhook_deliveries, webhook_events");
    await addDeliveries(client, 10);
    // Past the five custom plans: from now on this session runs the claim's cached plan.
    for (let n = 0; n < 7; n++) {
      await client.query("BEGIN");
      expect((await client.query(claim)).rows[0].n).toBe(10);
      await client.query("ROLLBACK");
    }
    await addDeliveries(client, 5_000);
    await client.query("UPDATE webhook_deliveries SET status = 'DELIVERED' WHERE random() < 0.95");
    // The backend's counts not yet reported include earlier statements': compare before and after.
    const seqScans = async () =>
      (
        await client.query<{ relname: string; seq_scan: string }>(
          `SELECT relname, seq_scan::text FROM pg_stat_xact_user_tables
            WHERE relname IN ('webhook_deliveries', 'webhook_events') ORDER BY relname`,
        )
      ).rows;
    await client.query("BEGIN");
    try {
      const before = await seqScans();
      expect(before.map((r) => r.relname)).toEqual(["webhook_deliveries", "webhook_events"]);
      expect((await client.query(claim)).rows[0].n).toBe(16);
      expect(await seqScans()).toEqual(before);
    } finally {
      await client.query("ROLLBACK");
    }
  });
});
