// The per-tenant test clock (tenant_clocks, read by ledger_now): moves only forward.
import type pg from "pg";

export async function advanceClock(pool: pg.Pool, tenantId: string, ms: number): Promise<Date> {
  const { rows } = await pool.query<{ now: Date }>("SELECT ledger_clock_advance($1::uuid, $2) AS now", [tenantId, ms]);
  return rows[0]!.now;
}

export async function freezeClock(pool: pg.Pool, tenantId: string, at: Date | string): Promise<void> {
  await pool.query("SELECT ledger_clock_freeze($1::uuid, $2::timestamptz)", [tenantId, at instanceof Date ? at.toISOString() : at]);
}

export async function unfreezeClock(pool: pg.Pool, tenantId: string): Promise<void> {
  await pool.query("SELECT ledger_clock_unfreeze($1::uuid)", [tenantId]);
}

/** The tenant's now, as the service reads it. */
export { tenantNow } from "../../src/ledger/balances.js";

/** Runs the expiry job once (as the service's timer would). */
export async function runExpiryJob(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ released: number }>("SELECT ledger_expire_holds(1000) AS released");
  return rows[0]!.released;
}
