// Subscriptions: parse, call the live service, map refusals to BAD_USER_INPUT. The events'
// own fields resolve through the context's DataLoaders, refreshed for each event.
import { GraphQLError } from "graphql";
import { assert } from "../../domain/assert.js";
import type { Result } from "../../domain/problems.js";
import type { BalanceChangeResolvers, HoldChangeResolvers, SubscriptionResolvers } from "../../generated/graphql.js";
import type { Subscriber } from "../../live/hub.js";
import { subscribeBalanceChanges, subscribeHoldChanges, subscribeTransfers } from "../../live/subscriptions.js";
import type { Context } from "../context.js";
import { balanceAfterEntry } from "./balance.js";
import { badUserInput } from "./nodes.js";
import { reconciliationChange, subscribeReconciliation } from "./reconciliation-live.js";

function subscriberOf(ctx: Context): Subscriber & { live: NonNullable<Context["live"]> } {
  if (!ctx.live || !ctx.connection) {
    throw new GraphQLError("subscriptions are served over WebSocket (graphql-ws) at this same URL", {
      extensions: { code: "BAD_REQUEST" },
    });
  }
  return { live: ctx.live, connection: ctx.connection, beforeEach: () => ctx.refresh() };
}

/** Events are already the field's value. */
const asIs = (payload: unknown) => payload as never;

function streamOf<T>(result: Result<T>): T {
  if (!result.ok) throw badUserInput(result.problem);
  return result.value;
}

export const Subscription: SubscriptionResolvers = {
  balanceChanged: {
    subscribe: async (_, { accountIds, afterVersion }, ctx) => {
      const { live, ...subscriber } = subscriberOf(ctx);
      return streamOf(await subscribeBalanceChanges(live, ctx.access, ctx.limits, subscriber, accountIds, afterVersion));
    },
    resolve: asIs,
  },
  transferPosted: {
    subscribe: async (_, { filter }, ctx) => {
      const { live, ...subscriber } = subscriberOf(ctx);
      return streamOf(await subscribeTransfers(live, ctx.db, ctx.access, subscriber, filter));
    },
    resolve: asIs,
  },
  reconciliationChanged: {
    subscribe: async (_, { statementId }, ctx) => {
      const { live, ...subscriber } = subscriberOf(ctx);
      return streamOf(await subscribeReconciliation(live, ctx.db, ctx.access, subscriber, statementId));
    },
    resolve: (payload: unknown, _: unknown, ctx: Context) => reconciliationChange(payload as string, ctx) as never,
  },
  holdChanged: {
    subscribe: async (_, { filter }, ctx) => {
      const { live, ...subscriber } = subscriberOf(ctx);
      return streamOf(await subscribeHoldChanges(live, ctx.db, ctx.access, subscriber, filter));
    },
    resolve: asIs,
  },
};

export const BalanceChange: BalanceChangeResolvers = {
  account: (c) => c.account,
  balance: (c) => balanceAfterEntry(c, c.entry),
  version: (c) => c.entry.accountVersion,
  entry: (c) => c.entry,
  transfer: (c, _, { live, loaders, tenantId }) => {
    const id = c.entry.transferId;
    if (!id) return null;
    return live ? live.transfer(tenantId, id) : loaders.transfer.load(id);
  },
  hold: (c, _, { loaders }) => (c.entry.holdId ? loaders.hold.load(c.entry.holdId) : null),
  createdAt: (c) => c.entry.createdAt,
  replayed: (c) => c.replayed,
};

export const HoldChange: HoldChangeResolvers = {
  change: (c) => c.change,
  hold: async (c, _, { loaders }) => {
    const hold = await loaders.hold.load(c.holdId);
    assert(hold, "a changed hold exists");
    return hold;
  },
  amount: (c) => c.amount,
  transfer: (c, _, { loaders }) => (c.transferId ? loaders.transfer.load(c.transferId) : null),
};
