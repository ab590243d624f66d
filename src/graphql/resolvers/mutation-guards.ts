// Every mutation first passes its guard: access tokens need READ_WRITE scope, and a token
// limited to accounts may only write on those. API keys pass every guard.
import type * as G from "../../generated/graphql.js";
import { assert } from "../../domain/assert.js";
import type { Context } from "../context.js";
import { requireAccountsOf, requireAllAccounts, requireApiKey, requireLegsOf, requireWriteScope } from "../access-guard.js";

type Guard<Args = unknown> = (ctx: Context, args: Args) => void | Promise<void>;
interface Guards {
  createAccessToken: Guard;
  createAccount: Guard;
  createCurrency: Guard;
  updateAccount: Guard<G.MutationUpdateAccountArgs>;
  postTransfer: Guard<G.MutationPostTransferArgs>;
  postTransfers: Guard<G.MutationPostTransfersArgs>;
  createHold: Guard<G.MutationCreateHoldArgs>;
  captureHold: Guard<G.MutationCaptureHoldArgs>;
  voidHold: Guard<G.MutationVoidHoldArgs>;
  reverseTransfer: Guard<G.MutationReverseTransferArgs>;
}

const guards: Guards = {
  createAccessToken: (ctx) => requireApiKey(ctx, "createAccessToken"),
  createAccount: (ctx) => requireAllAccounts(ctx, "createAccount"),
  createCurrency: (ctx) => requireAllAccounts(ctx, "createCurrency"),
  updateAccount: (ctx, { input }) => requireAccountsOf(ctx, [{ from: { id: input.id } }]),
  postTransfer: (ctx, { input }) => requireAccountsOf(ctx, [input]),
  postTransfers: (ctx, { input }) => requireAccountsOf(ctx, input.transfers),
  createHold: (ctx, { input }) => requireAccountsOf(ctx, [input]),
  captureHold: (ctx, { input }) => requireLegsOf(ctx, "hold", input.holdId),
  voidHold: (ctx, { input }) => requireLegsOf(ctx, "hold", input.holdId),
  reverseTransfer: (ctx, { input }) => requireLegsOf(ctx, "transfer", input.transferId),
};

/** The resolvers, each behind its guard (the scope check first: a read-only token writes nothing). */
export function guardMutations(resolvers: Required<G.MutationResolvers>): G.MutationResolvers {
  const guarded: Record<string, unknown> = {};
  for (const [name, resolve] of Object.entries(resolvers) as [keyof Guards, (...args: unknown[]) => unknown][]) {
    const guard = guards[name] as Guard | undefined;
    assert(guard !== undefined, `mutation ${name} has an access guard`);
    guarded[name] = async (parent: unknown, args: unknown, ctx: Context, info: unknown) => {
      if (name !== "createAccessToken") requireWriteScope(ctx);
      await guard(ctx, args);
      return resolve(parent, args, ctx, info);
    };
  }
  return guarded as G.MutationResolvers;
}
