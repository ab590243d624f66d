import {
  checkBoundsOrder,
  validateCreateAccount,
  validateUpdateAccount,
  type CreateAccountRequest,
  type UpdateAccountRequest,
} from "../domain/account.js";
import { envelopeWithinBounds, postedBalance } from "../domain/balance.js";
import { fromGlobalId } from "../domain/ids.js";
import type { Limits } from "../domain/limits.js";
import { accountNotFound, currencyNotFound, type Problem } from "../domain/problems.js";
import type { Prisma, PrismaClient } from "../generated/prisma/client.js";
import { findCurrency } from "./currencies.js";
import { idempotent, type IdempotentResult } from "./idempotency.js";
import type { Account } from "./records.js";

export type AccountOutcome =
  | { ok: true; replay: boolean; account: Account }
  | { ok: false; replay: boolean; problem: Problem };

async function toAccountOutcome(prisma: PrismaClient, { replay, outcome }: IdempotentResult): Promise<AccountOutcome> {
  if (!outcome.ok) return { ok: false, replay, problem: outcome.problem };
  return { ok: true, replay, account: await prisma.account.findUniqueOrThrow({ where: { id: outcome.id } }) };
}

export async function createAccount(
  prisma: PrismaClient,
  tenantId: string,
  request: CreateAccountRequest,
  limits: Limits,
): Promise<AccountOutcome> {
  const checked = validateCreateAccount(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const { idempotencyKey, ...account } = checked.value;
  const result = await idempotent(prisma, tenantId, idempotencyKey, "createAccount", account, async (tx) => {
    const currency = await findCurrency(tx, tenantId, account.currency);
    if (!currency) {
      return { ok: false, problem: currencyNotFound(account.currency) };
    }
    // ON CONFLICT instead of a unique violation, which would abort the transaction.
    const rows = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO accounts (id, tenant_id, code, name, currency_id, normal_side, min_balance, max_balance, metadata)
      VALUES (gen_random_uuid(), ${tenantId}::uuid, ${account.code}, ${account.name}, ${currency.id}::uuid,
              ${account.normalSide}::"Side", ${account.minBalance}, ${account.maxBalance}, ${JSON.stringify(account.metadata)}::jsonb)
      ON CONFLICT (tenant_id, code) DO NOTHING RETURNING id`;
    if (!rows[0]) {
      return { ok: false, problem: { code: "AccountCodeTaken", accountCode: account.code, message: `account code ${account.code} is taken` } };
    }
    return { ok: true, id: rows[0].id };
  });
  return toAccountOutcome(prisma, result);
}

export async function updateAccount(
  prisma: PrismaClient,
  tenantId: string,
  request: UpdateAccountRequest,
  limits: Limits,
): Promise<AccountOutcome> {
  const checked = validateUpdateAccount(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const changes = checked.value;
  const accountId = fromGlobalId("Account", request.id);
  if (accountId === null) return { ok: false, replay: false, problem: accountNotFound(request.id) };
  const fingerprint = { accountId, ...changes };
  const result = await idempotent(prisma, tenantId, request.idempotencyKey, "updateAccount", fingerprint, async (tx) => {
    // Lock the row: bounds are checked against a balance no transfer can move meanwhile.
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM accounts WHERE id = ${accountId}::uuid AND tenant_id = ${tenantId}::uuid FOR UPDATE`;
    if (!locked[0]) return { ok: false, problem: accountNotFound(request.id) };
    const current = await tx.account.findUniqueOrThrow({ where: { id: accountId } });
    const bounds = checkBoundsOrder({
      minBalance: changes.minBalance === undefined ? current.minBalance : changes.minBalance,
      maxBalance: changes.maxBalance === undefined ? current.maxBalance : changes.maxBalance,
    });
    if (!bounds.ok) return { ok: false, problem: bounds.problem };
    // Open holds count: every way they can settle must stay within the new bounds.
    if (!envelopeWithinBounds(current.normalSide, current, bounds.value)) {
      const balance = postedBalance(current.normalSide, current);
      return {
        ok: false,
        problem: {
          code: "BoundsViolated",
          accountId: request.id,
          balance: balance.toString(),
          message: `the balance ${balance} (with its open holds) lies outside the requested bounds`,
        },
      };
    }
    // Within bounds again: an account a forced reversal had taken outside them is no longer exempt.
    const data: Prisma.AccountUpdateInput = { ...bounds.value, forcedOutOfBounds: false };
    if (changes.name !== undefined) data.name = changes.name;
    if (changes.metadata !== undefined) data.metadata = changes.metadata as Prisma.InputJsonValue;
    await tx.account.update({ where: { id: accountId }, data });
    return { ok: true, id: accountId };
  });
  return toAccountOutcome(prisma, result);
}
