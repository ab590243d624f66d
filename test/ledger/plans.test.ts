// The write path keeps to key lookups when its plans were cached while accounts was nearly empty:
// a session caches ledger_execute's (generic) plans, and one that made them on a new database's few
// accounts read whole indexes of accounts at every batch once the table had grown (by hand: 216 ms
// a transfer with 200,000 more accounts, against 3 ms in a session planned after; until an ANALYZE
// of accounts made every session plan again).
import { afterAll, describe, expect, it } from "vitest";
import { connectDatabase, type Database } from "../../src/db/client.js";
import { toGlobalId } from "../../src/domain/ids.js";
import { createHold, captureHold } from "../../src/ledger/holds.js";
import { createAccount as createAccountIn, updateAccount } from "../../src/ledger/accounts.js";
import { postTransfers } from "../../src/ledger/transfers.js";
import { createAccount, createFundingAccount, key } from "../support/ledger-client.js";
import { apiKeyAccess } from "../support/service.js";
import { useOwnDatabase, useWebhookService } from "../support/webhooks.js";

const database = useOwnDatabase("ledger_plans");
const service = useWebhookService(database, { enabled: false });
let primed: Database | null = null;
afterAll(async () => primed?.close());

/** Pages of accounts and its indexes read so far by the one session of `db` (its pending statistics flushed first). */
async function accountPages(db: Database): Promise<number> {
  await db.pool.query("SELECT pg_stat_force_next_flush()");
  const { rows } = await db.pool.query<{ pages: string }>(
    `SELECT heap_blks_read + heap_blks_hit + coalesce(idx_blks_read + idx_blks_hit, 0) AS pages
       FROM pg_statio_user_tables WHERE relid = 'accounts'::regclass`,
  );
  return Number(rows[0]!.pages);
}

describe("the write path's cached plans", () => {
  it("look accounts up by key once accounts has grown after they were made on a nearly empty table", async () => {
    const tenant = await service.newTenant("plans");
    const funding = await createFundingAccount(tenant);
    const shop = await createAccount(tenant);
    const { rows } = await service.db.pool.query<{ tenant_id: string; currency_id: string }>(
      "SELECT tenant_id, currency_id FROM accounts WHERE code = $1",
      [shop.code],
    );
    const { tenant_id: tenantId, currency_id: currencyId } = rows[0]!;
    // No ANALYZE between the plans and the growth: as on a new database, before autovacuum gets to it.
    await service.db.pool.query("ANALYZE; ALTER TABLE accounts SET (autovacuum_enabled = false)");
    primed = connectDatabase(database.url(), 1, { lanes: 1, commandsPerBatchMax: 500 });
    const db = primed;
    const access = apiKeyAccess(tenantId);
    const limits = service.limits;
    /** One of each: a transfer between accounts named by code, one named by id, a hold made and captured, a setting changed, an account made. */
    async function operations(): Promise<void> {
      const byCode = { from: { code: funding.code }, to: { code: shop.code }, amount: "100", currency: "USD" };
      const transfers = await postTransfers(db, access, [{ idempotencyKey: key("code"), ...byCode }], true, limits);
      expect(transfers.ok && transfers.outcomes[0]!.ok).toBe(true);
      const byId = { from: { id: shop.id }, to: { code: funding.code }, amount: "50", currency: "USD" };
      const back = await postTransfers(db, access, [{ idempotencyKey: key("id"), ...byId }], true, limits);
      if (!back.ok || !back.outcomes[0]!.ok) throw new Error(JSON.stringify(back));
      const hold = await createHold(db, access, { idempotencyKey: key("hold"), ...byCode, expiresInSeconds: 3600 }, limits);
      if (!hold.ok) throw new Error(JSON.stringify(hold.problem));
      const captured = await captureHold(db, access, { idempotencyKey: key("capture"), holdId: toGlobalId("Hold", hold.hold.id) }, limits);
      if (!captured.ok) throw new Error(JSON.stringify(captured.problem));
      expect((await updateAccount(db, access, { idempotencyKey: key("name"), id: shop.id, name: key("shop") }, limits)).ok).toBe(true);
      const made = { idempotencyKey: key("made"), code: key("made"), name: "made", currency: "USD", normalSide: "CREDIT" as const };
      expect((await createAccountIn(db, access, made, limits)).ok).toBe(true);
    }
    // Planned (generic plans, from the first call) while the tenant has two accounts.
    for (let n = 0; n < 3; n++) await operations();
    await service.db.pool.query(
      `INSERT INTO accounts (id, tenant_id, code, name, currency_id, normal_side)
       SELECT gen_random_uuid(), $1, 'grown-' || g, 'grown', $2, 'CREDIT' FROM generate_series(1, 20000) g`,
      [tenantId, currencyId],
    );
    const before = await accountPages(db);
    await operations();
    const read = (await accountPages(db)) - before;
    // Key lookups: a few pages each (about 130 in all). A whole index of 20,002 accounts is about
    // 100 pages; the plans that joined accounts read whole indexes, 98,190 pages in all.
    expect(read).toBeLessThan(400);
  });
});
