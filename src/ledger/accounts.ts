// Accounts: validate in the pure core, then the write engine (which checks codes, currencies and,
// for an update, the bounds against the balance under the account's lock).
import type { Database } from "../db/client.js";
import type { Access } from "../domain/access.js";
import { validateCreateAccount, validateUpdateAccount, type CreateAccountRequest, type UpdateAccountRequest } from "../domain/account.js";
import { fromGlobalId } from "../domain/ids.js";
import type { Limits } from "../domain/limits.js";
import { accountNotFound, type Problem } from "../domain/problems.js";
import { authorizeWrite } from "./authorization.js";
import { command, execute, type Command } from "./engine.js";
import type { Account } from "./records.js";

export type AccountOutcome = { ok: true; replay: boolean; account: Account } | { ok: false; replay: boolean; problem: Problem };

const textOf = (bound: bigint | null | undefined) => (bound === null || bound === undefined ? null : bound.toString());

async function accountOutcome(db: Database, account: Command): Promise<AccountOutcome> {
  const [result] = await execute(db, [account], false);
  if (!result!.ok) return result!;
  return { ok: true, replay: result!.done.replay, account: result!.done.account! };
}

export async function createAccount(db: Database, access: Access, request: CreateAccountRequest, limits: Limits): Promise<AccountOutcome> {
  await authorizeWrite(db, access, "createAccount", { tenantWide: true });
  const checked = validateCreateAccount(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const { idempotencyKey, ...account } = checked.value;
  return accountOutcome(
    db,
    command("createAccount", access.tenantId, idempotencyKey, account, {
      code: account.code,
      name: account.name,
      currency: account.currency,
      normalSide: account.normalSide,
      minBalance: textOf(account.minBalance),
      maxBalance: textOf(account.maxBalance),
      metadata: account.metadata,
    }),
  );
}

export async function updateAccount(db: Database, access: Access, request: UpdateAccountRequest, limits: Limits): Promise<AccountOutcome> {
  await authorizeWrite(db, access, "updateAccount", { accounts: [{ id: request.id }] });
  const checked = validateUpdateAccount(request, limits);
  if (!checked.ok) return { ok: false, replay: false, problem: checked.problem };
  const changes = checked.value;
  const accountId = fromGlobalId("Account", request.id);
  if (accountId === null) return { ok: false, replay: false, problem: accountNotFound(request.id) };
  return accountOutcome(
    db,
    command(
      "updateAccount",
      access.tenantId,
      request.idempotencyKey,
      { accountId, ...changes },
      {
        accountId,
        setName: changes.name !== undefined,
        name: changes.name ?? null,
        setMetadata: changes.metadata !== undefined,
        metadata: changes.metadata ?? null,
        setMinBalance: changes.minBalance !== undefined,
        minBalance: textOf(changes.minBalance),
        setMaxBalance: changes.maxBalance !== undefined,
        maxBalance: textOf(changes.maxBalance),
      },
    ),
  );
}
