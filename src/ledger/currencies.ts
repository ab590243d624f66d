// Currencies: the seeded global ISO codes and each tenant's own.
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import { validateCreateCurrency, type NewCurrency } from "../domain/account.js";
import type { Limits } from "../domain/limits.js";
import type { Problem } from "../domain/problems.js";
import { authorizeWrite } from "./authorization.js";
import { command, execute } from "./engine.js";
import type { Currency } from "./records.js";
import { currencyColumns, currencyFromRow, type CurrencyRow } from "./rows.js";

/** The currency a tenant may use under `code`: its own, or a global (seeded) one. */
export async function findCurrency(db: Database, tenantId: string, code: string): Promise<Currency | null> {
  const { rows } = await db.pool.query<CurrencyRow>(
    `SELECT ${currencyColumns("c")} FROM currencies c WHERE c.code = $2 AND (c.tenant_id = $1 OR c.tenant_id IS NULL)
      ORDER BY c.tenant_id NULLS LAST LIMIT 1`,
    [tenantId, code],
  );
  return rows[0] ? currencyFromRow(rows[0]) : null;
}

export async function listCurrencies(db: Database, tenantId: string): Promise<Currency[]> {
  const { rows } = await db.pool.query<CurrencyRow>(
    `SELECT ${currencyColumns("c")} FROM currencies c WHERE c.tenant_id = $1 OR c.tenant_id IS NULL ORDER BY c.code`,
    [tenantId],
  );
  return rows.map(currencyFromRow);
}

export type CurrencyOutcome = { ok: true; replay: boolean; currency: Currency } | { ok: false; replay: boolean; problem: Problem };

export async function createCurrency(db: Database, access: Access, request: NewCurrency, limits: Limits): Promise<CurrencyOutcome> {
  await authorizeWrite(db, access, "createCurrency", { tenantWide: true });
  const checked = validateCreateCurrency(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const { idempotencyKey, code, scale } = checked.value;
  const [result] = await execute(db, [command("createCurrency", access.tenantId, idempotencyKey, { code, scale }, { code, scale })], false);
  if (!result!.ok) return result!;
  return { ok: true, replay: result!.done.replay, currency: result!.done.currency! };
}
