// Thin: parse, call the service, map the outcome to the result union.
import { createAccount, updateAccount } from "../../ledger/accounts.js";
import { createCurrency } from "../../ledger/currencies.js";
import { postTransfers, type PostOutcome } from "../../ledger/transfers.js";
import type { Problem } from "../../domain/problems.js";
import type { MutationResolvers, TransferInput } from "../../generated/graphql.js";
import type { TransferRequest } from "../../domain/transfer.js";
import type { Context } from "../context.js";
import { primeTransfer } from "../loaders.js";

/** Problems carry `replay` so a client can tell a remembered rejection from a fresh one. */
const problemResult = (problem: Problem, replay: boolean) => ({ ...problem, replay });

function transferResult(outcome: PostOutcome, ctx: Context) {
  if (!outcome.ok) return problemResult(outcome.problem, outcome.replay);
  const { transfer, replay } = outcome;
  primeTransfer(ctx.loaders, transfer);
  return {
    __typename: "TransferPosted" as const,
    transfer,
    replay,
    balances: transfer.entries.map((entry) => ({ accountId: entry.accountId, entry })),
  };
}

/** GraphQL input objects omit absent fields; the domain takes them as they are. */
const toTransferRequest = (input: TransferInput): TransferRequest => input;

export const Mutation: MutationResolvers = {
  createAccount: async (_, { input }, ctx) => {
    const outcome = await createAccount(ctx.db.prisma, ctx.tenantId, input, ctx.limits);
    return outcome.ok
      ? { __typename: "AccountCreated", account: outcome.account, replay: outcome.replay }
      : problemResult(outcome.problem, outcome.replay);
  },
  updateAccount: async (_, { input }, ctx) => {
    const outcome = await updateAccount(ctx.db.prisma, ctx.tenantId, input, ctx.limits);
    return outcome.ok
      ? { __typename: "AccountUpdated", account: outcome.account, replay: outcome.replay }
      : problemResult(outcome.problem, outcome.replay);
  },
  createCurrency: async (_, { input }, ctx) => {
    const outcome = await createCurrency(ctx.db.prisma, ctx.tenantId, input, ctx.limits);
    return outcome.ok
      ? { __typename: "CurrencyCreated", currency: outcome.currency, replay: outcome.replay }
      : problemResult(outcome.problem, outcome.replay);
  },
  postTransfer: async (_, { input }, ctx) => {
    const batch = await postTransfers(ctx.db.pool, ctx.tenantId, [toTransferRequest(input)], true, ctx.limits);
    if (!batch.ok) return problemResult(batch.problem, false);
    return transferResult(batch.outcomes[0]!, ctx);
  },
  postTransfers: async (_, { input }, ctx) => {
    const batch = await postTransfers(ctx.db.pool, ctx.tenantId, input.transfers.map(toTransferRequest), input.atomic, ctx.limits);
    if (!batch.ok) return problemResult(batch.problem, false);
    return {
      __typename: "TransfersPosted",
      atomic: input.atomic,
      allSucceeded: batch.outcomes.every((o) => o.ok),
      results: batch.outcomes.map((o) => transferResult(o, ctx)),
    };
  },
};
