// Thin: parse, call the service, map the outcome to the result union.
import { createAccount, updateAccount } from "../../ledger/accounts.js";
import { mintAccessToken } from "../../ledger/access-tokens.js";
import { createCurrency } from "../../ledger/currencies.js";
import { captureHold, createHold, voidHold, type HoldOutcome } from "../../ledger/holds.js";
import { reverseTransfer } from "../../ledger/reversals.js";
import { postTransfers, type PostOutcome } from "../../ledger/transfers.js";
import { assert } from "../../domain/assert.js";
import { toGlobalId } from "../../domain/ids.js";
import type { Problem } from "../../domain/problems.js";
import type { MutationResolvers, TransferInput } from "../../generated/graphql.js";
import type { TransferRequest } from "../../domain/transfer.js";
import type { Context } from "../context.js";
import { primeTransfer } from "../loaders.js";
import { countMutationResults } from "./mutation-metrics.js";
import { reconciliationMutations } from "./reconciliation.js";
import { webhookMutations } from "./webhooks.js";

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

function holdResult<T extends "HoldCreated" | "HoldCaptured" | "HoldVoided">(outcome: HoldOutcome, typename: T, ctx: Context) {
  if (!outcome.ok) return problemResult(outcome.problem, outcome.replay);
  const { hold, transfer, entries, replay } = outcome;
  ctx.loaders.hold.prime(hold.id, hold);
  if (transfer) primeTransfer(ctx.loaders, transfer);
  assert((typename === "HoldCaptured") === (transfer !== null), "a capture, and only a capture, posts a transfer");
  return {
    __typename: typename,
    hold,
    transfer: transfer!,
    replay,
    balances: entries.map((entry) => ({ accountId: entry.accountId, entry })),
  };
}

/** GraphQL input objects omit absent fields; the domain takes them as they are. */
const toTransferRequest = (input: TransferInput): TransferRequest => input;

const mutations: Required<MutationResolvers> = {
  createAccount: async (_, { input }, ctx) => {
    const outcome = await createAccount(ctx.db, ctx.access, input, ctx.limits);
    return outcome.ok
      ? { __typename: "AccountCreated", account: outcome.account, replay: outcome.replay }
      : problemResult(outcome.problem, outcome.replay);
  },
  updateAccount: async (_, { input }, ctx) => {
    const outcome = await updateAccount(ctx.db, ctx.access, input, ctx.limits);
    return outcome.ok
      ? { __typename: "AccountUpdated", account: outcome.account, replay: outcome.replay }
      : problemResult(outcome.problem, outcome.replay);
  },
  createCurrency: async (_, { input }, ctx) => {
    const outcome = await createCurrency(ctx.db, ctx.access, input, ctx.limits);
    return outcome.ok
      ? { __typename: "CurrencyCreated", currency: outcome.currency, replay: outcome.replay }
      : problemResult(outcome.problem, outcome.replay);
  },
  postTransfer: async (_, { input }, ctx) => {
    const batch = await postTransfers(ctx.db, ctx.access, [toTransferRequest(input)], true, ctx.limits);
    if (!batch.ok) return problemResult(batch.problem, false);
    return transferResult(batch.outcomes[0]!, ctx);
  },
  createHold: async (_, { input }, ctx) => holdResult(await createHold(ctx.db, ctx.access, input, ctx.limits), "HoldCreated", ctx),
  captureHold: async (_, { input }, ctx) => holdResult(await captureHold(ctx.db, ctx.access, input, ctx.limits), "HoldCaptured", ctx),
  voidHold: async (_, { input }, ctx) => holdResult(await voidHold(ctx.db, ctx.access, input, ctx.limits), "HoldVoided", ctx),
  reverseTransfer: async (_, { input }, ctx) => {
    const outcome = await reverseTransfer(ctx.db, ctx.access, input, ctx.limits);
    const result = transferResult(outcome, ctx);
    return "__typename" in result ? { ...result, __typename: "TransferReversed" as const } : result;
  },
  postTransfers: async (_, { input }, ctx) => {
    const batch = await postTransfers(ctx.db, ctx.access, input.transfers.map(toTransferRequest), input.atomic, ctx.limits);
    if (!batch.ok) return problemResult(batch.problem, false);
    return {
      __typename: "TransfersPosted",
      atomic: input.atomic,
      allSucceeded: batch.outcomes.every((o) => o.ok),
      results: batch.outcomes.map((o) => transferResult(o, ctx)),
    };
  },
  createAccessToken: async (_, { input }, ctx) => {
    assert(ctx.tokenSecret !== null, "contexts that run mutations can sign tokens");
    const outcome = await mintAccessToken(ctx.db, ctx.access, input, ctx.limits, ctx.tokenSecret);
    if (!outcome.ok) return problemResult(outcome.problem, false);
    const { token, scope, accountIds, expiresAt } = outcome.value;
    return {
      __typename: "AccessTokenCreated",
      token,
      scope,
      expiresAt,
      accountIds: accountIds?.map((id) => toGlobalId("Account", id)) ?? null,
    };
  },
  ...webhookMutations,
  ...reconciliationMutations,
};

// Authorization happens in each ledger function (src/ledger/authorization.ts).
export const Mutation = countMutationResults(mutations);
