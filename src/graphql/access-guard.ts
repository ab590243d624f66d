// The ledger's visibility rules (src/ledger/authorization.ts) where GraphQL reads through its
// DataLoaders: the legs of transfers and holds come batched from the loaders, the rule from the
// ledger. Writes are authorized by the ledger functions themselves.
import { accountVisible, checkAccountVisible, legsVisible as legsVisibleTo } from "../ledger/authorization.js";
import type { Context } from "./context.js";

export { accountVisible };

type LegsKind = "hold" | "transfer";

/** A transfer or hold is visible when one of its legs is on a visible account. */
export async function legsVisible(ctx: Context, kind: LegsKind, id: string): Promise<boolean> {
  if (ctx.access.accountIds === null) return true;
  const legs = await (kind === "hold" ? ctx.loaders.entriesOfHold : ctx.loaders.entriesOfTransfer).load(id);
  return legsVisibleTo(ctx.access, legs);
}

type FieldResolver = (parent: never, args: unknown, ctx: Context, info: unknown) => unknown;

/**
 * The resolvers with `fields` first checking that the parent's account is the bearer's: a
 * counterparty reached through a transfer's legs shows its id, code and name, not its money.
 */
export function guardAccountFields<R extends object>(
  resolvers: R,
  fields: readonly (keyof R & string)[],
  accountIdOf: (parent: never) => string,
): R {
  const guarded: Record<string, unknown> = { ...(resolvers as Record<string, unknown>) };
  for (const field of fields) {
    const resolve = resolvers[field] as FieldResolver;
    guarded[field] = (parent: never, args: unknown, ctx: Context, info: unknown) => {
      checkAccountVisible(ctx.access, accountIdOf(parent));
      return resolve(parent, args, ctx, info);
    };
  }
  return guarded as R;
}
