// Everything of a tenant's ledger that a rejected request must leave as it was, for "changes
// nothing" checks: counts of its transfers, entries, holds and currencies, and a digest of every
// account (name, bounds, totals, version, metadata). Idempotency keys are left out: a business
// rejection is remembered under its key by design.
import type pg from "pg";

export async function ledgerState(pool: pg.Pool, tenantId: string) {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM accounts WHERE tenant_id = $1)::int AS accounts,
            (SELECT count(*) FROM transfers WHERE tenant_id = $1)::int AS transfers,
            (SELECT count(*) FROM entries WHERE tenant_id = $1)::int AS entries,
            (SELECT count(*) FROM holds WHERE tenant_id = $1)::int AS holds,
            (SELECT count(*) FROM currencies WHERE tenant_id = $1)::int AS currencies,
            (SELECT coalesce(string_agg(concat_ws(':', id, name, coalesce(min_balance::text, '-'), coalesce(max_balance::text, '-'),
                                                  debits_posted, credits_posted, debits_pending, credits_pending, version, metadata::text),
                                        ',' ORDER BY id), '')
               FROM accounts WHERE tenant_id = $1) AS accounts_digest`,
    [tenantId],
  );
  return rows[0] as Record<string, unknown>;
}
