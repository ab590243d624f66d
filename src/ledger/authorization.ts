// Who may do what, enforced where the ledger acts: every function of src/ledger that writes for a
// bearer takes its Access and calls authorizeWrite before anything else, whichever entry point
// (GraphQL over HTTP or WebSocket, a CLI, a future REST facade) called it. API keys pass every
// rule; an access token needs READ_WRITE scope to write, and one limited to accounts may only see
// and move those. A refusal is AccessDenied (the GraphQL layer answers FORBIDDEN); what a token
// may not see reads as unknown, like another tenant's ids (the visibility rules below).
import type { Database } from "../db/client.js";
import { firstForbiddenAccount, mayUseAccount, type Access } from "../domain/access.js";
import { fromGlobalId } from "../domain/ids.js";
import { readEntriesOfHolds, readEntriesOfTransfers } from "./reads.js";

export class AccessDenied extends Error {
  override readonly name = "AccessDenied";
}

/** An account as a write names it: by global id or by code (input as given, not yet checked). */
export interface AccountRefInput {
  id?: string | null;
  code?: string | null;
}

/** What a write names: accounts (its legs, or the account it changes) or an existing hold or transfer (global id). */
export type WriteSubject =
  | { accounts: readonly (AccountRefInput | null | undefined)[] }
  | { hold: string }
  | { transfer: string }
  | { tenantWide: true };

export type WriteOperation =
  | "createAccessToken"
  | "createAccount"
  | "updateAccount"
  | "createCurrency"
  | "postTransfers"
  | "createHold"
  | "captureHold"
  | "voidHold"
  | "reverseTransfer"
  | "importStatement"
  | "appendStatementLines"
  | "reconcileStatement"
  | "resolveReconciliationException";

/** Operations an access token may never do, whatever its scope. */
const apiKeyOnly: ReadonlySet<WriteOperation> = new Set(["createAccessToken"]);

/** The accounts a transfer or hold request names, for authorizeWrite. */
export const accountsNamedBy = (
  requests: readonly {
    from?: AccountRefInput | null;
    to?: AccountRefInput | null;
    legs?: readonly { account: AccountRefInput }[] | null;
  }[],
) => requests.flatMap((r) => [r.from, r.to, ...(r.legs ?? []).map((leg) => leg.account)]);

/** Throws AccessDenied unless `access` may run `operation` on `subject`. */
export async function authorizeWrite(db: Database, access: Access, operation: WriteOperation, subject: WriteSubject): Promise<void> {
  if (access.via === "API_KEY") return;
  if (apiKeyOnly.has(operation)) throw new AccessDenied(`${operation} needs an API key, not an access token`);
  if (access.scope !== "READ_WRITE") throw new AccessDenied("this access token is read-only");
  if (access.accountIds === null) return;
  if ("tenantWide" in subject) throw new AccessDenied(`${operation} needs a token that is not limited to accounts`);
  if ("accounts" in subject) {
    const ids = await accountIdsOf(
      db,
      access.tenantId,
      subject.accounts.filter((ref) => ref != null),
    );
    if (firstForbiddenAccount(access, ids) !== null)
      throw new AccessDenied("this access token may not move money on an account it is not limited to");
    return;
  }
  const [kind, globalId] = "hold" in subject ? (["hold", subject.hold] as const) : (["transfer", subject.transfer] as const);
  const id = fromGlobalId(kind === "hold" ? "Hold" : "Transfer", globalId);
  const legs =
    id === null
      ? []
      : await (kind === "hold" ? readEntriesOfHolds(db, access.tenantId, [id]) : readEntriesOfTransfers(db, access.tenantId, [id]));
  if (
    legs.length === 0 ||
    firstForbiddenAccount(
      access,
      legs.map((leg) => leg.accountId),
    ) !== null
  ) {
    throw new AccessDenied(`this access token may not act on a ${kind} outside its accounts`);
  }
}

/** Webhook endpoints, their secrets and deliveries are the tenant's integration settings: API keys only, for reads too. */
export function requireApiKey(access: Access, what: string): void {
  if (access.via !== "API_KEY") throw new AccessDenied(`${what} needs an API key, not an access token`);
}

/** Raw account ids of the refs ("" for one that names no account of the tenant: refused like a foreign one). */
async function accountIdsOf(db: Database, tenantId: string, refs: readonly AccountRefInput[]): Promise<string[]> {
  const codes = refs.flatMap((ref) => (ref.id == null && ref.code != null ? [ref.code] : []));
  const byCode = new Map<string, string>();
  if (codes.length > 0) {
    const { rows } = await db.pool.query<{ id: string; code: string }>(
      "SELECT id, code FROM accounts WHERE tenant_id = $1 AND code = ANY($2::text[])",
      [tenantId, codes],
    );
    for (const row of rows) byCode.set(row.code, row.id);
  }
  return refs.map((ref) => (ref.id != null ? fromGlobalId("Account", ref.id) : byCode.get(ref.code ?? "")) ?? "");
}

// ------------------------------------------------------------------ visibility (reads)

/** Whether the bearer may see this account's balances and history. */
export const accountVisible = (access: Access, accountId: string): boolean => mayUseAccount(access, accountId);

/** Whether a global account id names an account the bearer may see (malformed ids: no). */
export function globalAccountVisible(access: Access, globalId: string): boolean {
  if (access.accountIds === null) return true;
  const id = fromGlobalId("Account", globalId);
  return id !== null && accountVisible(access, id);
}

/** A transfer or hold is visible when one of its legs is on a visible account. */
export const legsVisible = (access: Access, legs: readonly { accountId: string }[]): boolean =>
  access.accountIds === null || legs.some((leg) => accountVisible(access, leg.accountId));

/** Listing a tenant's transfers without naming an account reads past any account limit. */
export function checkTransferListing(access: Access, accountId: string | null | undefined): void {
  if (access.accountIds !== null && !accountId) {
    throw new AccessDenied("an access token limited to accounts lists the transfers of one of them: give filter.accountId");
  }
}

/** For fields of an account reached through another object (a counterparty's leg). */
export function checkAccountVisible(access: Access, accountId: string): void {
  if (!accountVisible(access, accountId)) throw new AccessDenied("this access token may not read this account's balances or history");
}
