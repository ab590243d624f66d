// As-of balances: one index lookup per instant on the entry that carries the running totals.
import type { Database } from "../db/client.js";
import type { Totals } from "../domain/balance.js";

export interface TotalsAt extends Totals {
  at: Date;
  version: bigint;
}

export type BalancesAtOutcome = { ok: true; totals: TotalsAt[] } | { ok: false; reason: "IN_FUTURE" } | { ok: false; reason: "NO_ACCOUNT" };

interface Row {
  instant: Date;
  account_version: string;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
}

/**
 * The account's totals at each instant (`before`: counting only entries strictly before it).
 * Instants must lie in the past of the tenant's clock; see ledger_balances_at for why an
 * answer never changes once given.
 */
export async function balancesAt(
  db: Database,
  tenantId: string,
  accountId: string,
  instants: Date[],
  before: boolean,
): Promise<BalancesAtOutcome> {
  if (instants.length === 0) return { ok: true, totals: [] };
  try {
    const { rows } = await db.pool.query<Row>("SELECT * FROM ledger_balances_at($1::uuid, $2::uuid, $3::timestamptz[], $4)", [
      tenantId,
      accountId,
      instants.map((d) => d.toISOString()),
      before,
    ]);
    if (rows.length === 0) return { ok: false, reason: "NO_ACCOUNT" };
    return {
      ok: true,
      totals: rows.map((r) => ({
        at: r.instant,
        version: BigInt(r.account_version),
        debitsPosted: BigInt(r.debits_posted),
        creditsPosted: BigInt(r.credits_posted),
        debitsPending: BigInt(r.debits_pending),
        creditsPending: BigInt(r.credits_pending),
      })),
    };
  } catch (error) {
    if ((error as { code?: string }).code === "LDG02") return { ok: false, reason: "IN_FUTURE" };
    throw error;
  }
}

/** The tenant's clock (the real one unless a test clock moves it). */
export async function tenantNow(db: Database, tenantId: string): Promise<Date> {
  const { rows } = await db.pool.query<{ now: Date }>("SELECT ledger_now($1::uuid) AS now", [tenantId]);
  return rows[0]!.now;
}
