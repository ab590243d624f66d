import { validateCreateCurrency, type NewCurrency } from "../domain/account.js";
import type { Limits } from "../domain/limits.js";
import type { Problem } from "../domain/problems.js";
import type { PrismaClient } from "../generated/prisma/client.js";
import { idempotent, type Tx } from "./idempotency.js";
import type { Currency } from "./records.js";

/** The currency a tenant may use under `code`: its own, or a global (seeded) one. */
export async function findCurrency(db: PrismaClient | Tx, tenantId: string, code: string): Promise<Currency | null> {
  return db.currency.findFirst({
    where: { code, OR: [{ tenantId }, { tenantId: null }] },
    orderBy: { tenantId: { sort: "asc", nulls: "last" } },
  });
}

export function listCurrencies(prisma: PrismaClient, tenantId: string): Promise<Currency[]> {
  return prisma.currency.findMany({ where: { OR: [{ tenantId }, { tenantId: null }] }, orderBy: { code: "asc" } });
}

export type CurrencyOutcome =
  | { ok: true; replay: boolean; currency: Currency }
  | { ok: false; replay: boolean; problem: Problem };

export async function createCurrency(
  prisma: PrismaClient,
  tenantId: string,
  request: NewCurrency,
  limits: Limits,
): Promise<CurrencyOutcome> {
  const checked = validateCreateCurrency(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const { idempotencyKey, code, scale } = checked.value;
  const { replay, outcome } = await idempotent(prisma, tenantId, idempotencyKey, "createCurrency", { code, scale }, async (tx) => {
    const taken: Problem = { code: "CurrencyCodeTaken", currency: code, message: `currency ${code} already exists` };
    if (await findCurrency(tx, tenantId, code)) return { ok: false, problem: taken };
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO currencies (id, tenant_id, code, scale)
      VALUES (gen_random_uuid(), ${tenantId}::uuid, ${code}, ${scale})
      ON CONFLICT (tenant_id, code) DO NOTHING RETURNING id`;
    return rows[0] ? { ok: true, id: rows[0].id } : { ok: false, problem: taken };
  });
  if (!outcome.ok) return { ok: false, replay, problem: outcome.problem };
  return { ok: true, replay, currency: await prisma.currency.findUniqueOrThrow({ where: { id: outcome.id } }) };
}
