// What an access token may not do, enforced where GraphQL meets the ledger. API keys pass every
// check. Refusals are auth failures: thrown GraphQLErrors with code FORBIDDEN; anything a token
// limited to accounts may not see reads as unknown (null), like another tenant's ids.
import { GraphQLError } from "graphql";
import { firstForbiddenAccount, mayUseAccount } from "../domain/access.js";
import { fromGlobalId } from "../domain/ids.js";
import type { Context } from "./context.js";

export const forbidden = (message: string) => new GraphQLError(message, { extensions: { code: "FORBIDDEN" } });

export function requireApiKey(ctx: Context, what: string): void {
  if (ctx.access.via !== "API_KEY") throw forbidden(`${what} needs an API key, not an access token`);
}

export function requireWriteScope(ctx: Context): void {
  if (ctx.access.scope !== "READ_WRITE") throw forbidden("this access token is read-only");
}

export function requireAllAccounts(ctx: Context, what: string): void {
  if (ctx.access.accountIds !== null) throw forbidden(`${what} needs a token that is not limited to accounts`);
}

export const accountVisible = (ctx: Context, accountId: string): boolean => mayUseAccount(ctx.access, accountId);

type LegsKind = "hold" | "transfer";
const legsOf = (ctx: Context, kind: LegsKind, id: string) =>
  (kind === "hold" ? ctx.loaders.entriesOfHold : ctx.loaders.entriesOfTransfer).load(id);

/** A transfer or hold is visible when one of its legs is on a visible account. */
export async function legsVisible(ctx: Context, kind: LegsKind, id: string): Promise<boolean> {
  if (ctx.access.accountIds === null) return true;
  return (await legsOf(ctx, kind, id)).some((leg) => accountVisible(ctx, leg.accountId));
}

/** For fields of an account reached through another object (a counterparty's leg). */
export function requireAccountVisible(ctx: Context, accountId: string): void {
  if (!accountVisible(ctx, accountId)) throw forbidden("this access token may not read this account's balances or history");
}

interface AccountRefInput {
  id?: string | null;
  code?: string | null;
}

interface LegsInput {
  from?: AccountRefInput | null;
  to?: AccountRefInput | null;
  legs?: readonly { account: AccountRefInput }[] | null;
}

/**
 * Every account a write names must be one the token is limited to. Refs are resolved here
 * (codes with one query); an unknown account is refused like a foreign one.
 */
export async function requireAccountsOf(ctx: Context, writes: readonly LegsInput[]): Promise<void> {
  if (ctx.access.accountIds === null) return;
  const refs = writes.flatMap((w) => [w.from, w.to, ...(w.legs ?? []).map((leg) => leg.account)]).filter((r) => r != null);
  const codes = refs.flatMap((r) => (r.id == null && r.code != null ? [r.code] : []));
  const byCode = new Map<string, string>();
  if (codes.length > 0) {
    const { rows } = await ctx.db.pool.query<{ id: string; code: string }>("SELECT id, code FROM accounts WHERE tenant_id = $1 AND code = ANY($2::text[])", [ctx.tenantId, codes]);
    for (const row of rows) byCode.set(row.code, row.id);
  }
  const ids = refs.map((r) => (r.id != null ? fromGlobalId("Account", r.id) : byCode.get(r.code ?? "")) ?? "");
  if (firstForbiddenAccount(ctx.access, ids) !== null) throw forbidden("this access token may not move money on an account it is not limited to");
}

/** Captures, voids and reversals act on an existing hold or transfer: all its legs must be the token's. */
export async function requireLegsOf(ctx: Context, kind: LegsKind, globalId: string): Promise<void> {
  if (ctx.access.accountIds === null) return;
  const id = fromGlobalId(kind === "hold" ? "Hold" : "Transfer", globalId);
  const legs = id === null ? [] : await legsOf(ctx, kind, id);
  if (legs.length === 0 || firstForbiddenAccount(ctx.access, legs.map((leg) => leg.accountId)) !== null) {
    throw forbidden(`this access token may not act on a ${kind} outside its accounts`);
  }
}

/** Whether a global account id names an account the bearer may see (malformed ids: no). */
export function globalAccountVisible(ctx: Context, globalId: string): boolean {
  if (ctx.access.accountIds === null) return true;
  const id = fromGlobalId("Account", globalId);
  return id !== null && accountVisible(ctx, id);
}

type FieldResolver = (parent: never, args: unknown, ctx: Context, info: unknown) => unknown;

/**
 * The resolvers with `fields` first checking that the parent's account is the bearer's: a
 * counterparty reached through a transfer's legs shows its id, code and name, not its money.
 */
export function guardAccountFields<R extends object>(resolvers: R, fields: readonly (keyof R & string)[], accountIdOf: (parent: never) => string): R {
  const guarded: Record<string, unknown> = { ...(resolvers as Record<string, unknown>) };
  for (const field of fields) {
    const resolve = resolvers[field] as FieldResolver;
    guarded[field] = (parent: never, args: unknown, ctx: Context, info: unknown) => {
      requireAccountVisible(ctx, accountIdOf(parent));
      return resolve(parent, args, ctx, info);
    };
  }
  return guarded as R;
}
