// Account, Transfer, Entry, Hold: ids, relations (through the request's DataLoaders), history
// and as-of balances.
import { GraphQLError } from "graphql";
import { assert } from "../../domain/assert.js";
import { validateHistoryFilter } from "../../domain/history-filter.js";
import { viewHold } from "../../domain/hold.js";
import { toGlobalId } from "../../domain/ids.js";
import { periodsBetween } from "../../domain/periods.js";
import type { Problem } from "../../domain/problems.js";
import { balancesAt } from "../../ledger/balances.js";
import { listAccountHolds, listEntries } from "../../ledger/queries.js";
import type { Account as AccountRecord, Entry as EntryRecord } from "../../ledger/records.js";
import type {
  AccountResolvers,
  CurrencyResolvers,
  EntryResolvers,
  HoldLegResolvers,
  HoldResolvers,
  TransferResolvers,
} from "../../generated/graphql.js";
import { guardAccountFields } from "../access-guard.js";
import type { Context } from "../context.js";
import { connection, decodeCursor, encodeCursor, pageSize } from "../cursors.js";
import { balanceAfterEntry, balanceFromTotals, balanceOfAccount } from "./balance.js";

const isVersionCursor = (v: unknown): v is { v: string } =>
  typeof v === "object" && v !== null && typeof (v as { v?: unknown }).v === "string" && /^\d{1,19}$/.test((v as { v: string }).v);

const isHoldCursor = (v: unknown): v is { h: string } =>
  typeof v === "object" && v !== null && typeof (v as { h?: unknown }).h === "string" && /^\d{1,19}$/.test((v as { h: string }).h);

/** A query argument the service refuses: BAD_USER_INPUT with the problem's stable reason. */
export function badUserInput(problem: Problem): GraphQLError {
  return new GraphQLError(problem.message, {
    extensions: { code: "BAD_USER_INPUT", reason: problem.reason ?? problem.code, field: problem.field ?? problem.limit },
  });
}

async function loadAccount(ctx: Context, id: string): Promise<AccountRecord> {
  const account = await ctx.loaders.account.load(id);
  assert(account, "a referenced account exists");
  return account;
}

async function balancesOf(account: AccountRecord, instants: Date[], before: boolean, ctx: Context) {
  const outcome = await balancesAt(ctx.db, ctx.tenantId, account.id, instants, before);
  if (!outcome.ok && outcome.reason === "IN_FUTURE") {
    throw new GraphQLError("asOf must be earlier than the server's current time", {
      extensions: { code: "BAD_USER_INPUT", reason: "AS_OF_IN_FUTURE", field: "asOf" },
    });
  }
  assert(outcome.ok, "a loaded account has balances");
  return outcome.totals.map((totals) => balanceFromTotals(account.normalSide, totals));
}

const accountFields: AccountResolvers = {
  id: (a) => toGlobalId("Account", a.id),
  currency: async (a, _, { loaders }) => {
    const currency = await loaders.currency.load(a.currencyId);
    assert(currency, "an account's currency exists");
    return currency;
  },
  minBalance: (a) => a.minBalance,
  maxBalance: (a) => a.maxBalance,
  metadata: (a) => a.metadata,
  balance: async (a, { asOf }, ctx) => {
    if (asOf === null || asOf === undefined) return balanceOfAccount(a);
    const [balance] = await balancesOf(a, [asOf], false, ctx);
    return balance!;
  },
  balanceHistory: async (a, { from, to, granularity }, ctx) => {
    const periods = periodsBetween(from, to, granularity, await ctx.now(), ctx.limits.balanceHistoryPointsMax);
    if (!periods.ok) throw badUserInput(periods.problem);
    const balances = await balancesOf(
      a,
      periods.value.map((p) => p.end),
      true,
      ctx,
    );
    return periods.value.map((p, i) => ({ periodStart: p.start, periodEnd: p.end, balance: balances[i]! }));
  },
  entries: async (a, { first, after, filter }, { db, tenantId, limits }) => {
    const cursor = decodeCursor(after, isVersionCursor);
    const checked = validateHistoryFilter({ ...filter, metadata: filter?.transferMetadata }, true, limits);
    if (!checked.ok) throw badUserInput(checked.problem);
    if (filter?.kinds && filter.kinds.length === 0) {
      throw badUserInput({
        code: "InvalidInput",
        reason: "EMPTY",
        field: "filter.kinds",
        message: "filter.kinds: give at least one kind, or leave it out",
      });
    }
    const { rows, hasNextPage } = await listEntries(
      db,
      tenantId,
      a.id,
      pageSize(first, limits.pageSizeMax),
      cursor ? BigInt(cursor.v) : null,
      {
        ...checked.value,
        kinds: filter?.kinds ?? undefined,
      },
    );
    return connection(rows, hasNextPage, (e) => encodeCursor({ v: e.accountVersion.toString() }));
  },
  holds: async (a, { status, first, after }, { db, tenantId, limits, loaders }) => {
    const cursor = decodeCursor(after, isHoldCursor);
    const { rows, hasNextPage } = await listAccountHolds(
      db,
      tenantId,
      a.id,
      status ?? null,
      pageSize(first, limits.pageSizeMax),
      cursor ? BigInt(cursor.h) : null,
    );
    for (const hold of rows) loaders.hold.prime(hold.id, hold);
    return connection(rows, hasNextPage, (h) => encodeCursor({ h: h.cursor.toString() }));
  },
};

export const Account = guardAccountFields(
  accountFields,
  ["balance", "balanceHistory", "entries", "holds", "metadata", "minBalance", "maxBalance"],
  (a: AccountRecord) => a.id,
);

export const Transfer: TransferResolvers = {
  id: (t) => toGlobalId("Transfer", t.id),
  metadata: (t) => t.metadata,
  entries: (t, _, { loaders }) => loaders.entriesOfTransfer.load(t.id),
  reverses: (t, _, { loaders }) => (t.reversesId ? loaders.transfer.load(t.reversesId) : null),
  reversedBy: (t, _, { loaders }) => loaders.reversalsOf.load(t.id),
  hold: (t, _, { loaders }) => (t.holdId ? loaders.hold.load(t.holdId) : null),
};

const entryFields: EntryResolvers = {
  id: (e) => toGlobalId("Entry", e.id),
  account: (e, _, ctx) => loadAccount(ctx, e.accountId),
  transfer: (e, _, { loaders }) => (e.transferId ? loaders.transfer.load(e.transferId) : null),
  hold: (e, _, { loaders }) => (e.holdId ? loaders.hold.load(e.holdId) : null),
  balanceAfter: async (e, _, ctx) => balanceAfterEntry(await loadAccount(ctx, e.accountId), e),
};

export const Entry = guardAccountFields(entryFields, ["balanceAfter"], (e: EntryRecord) => e.accountId);

export const Hold: HoldResolvers = {
  id: (h) => toGlobalId("Hold", h.id),
  status: async (h, _, ctx) => viewHold(h, await ctx.now()).status,
  currency: async (h, _, { loaders }) => {
    const currency = await loaders.currency.load(h.currencyId);
    assert(currency, "a hold's currency exists");
    return currency;
  },
  metadata: (h) => h.metadata,
  capturedAmount: (h) => h.capturedAmount,
  voidedAmount: async (h, _, ctx) => viewHold(h, await ctx.now()).voidedAmount,
  expiredAmount: async (h, _, ctx) => viewHold(h, await ctx.now()).expiredAmount,
  remainingAmount: async (h, _, ctx) => viewHold(h, await ctx.now()).remainingAmount,
  legs: async (h, _, { loaders }) => (await loaders.entriesOfHold.load(h.id)).filter((e) => e.kind === "HOLD"),
  captures: (h, _, { loaders }) => loaders.capturesOfHold.load(h.id),
  entries: (h, _, { loaders }) => loaders.entriesOfHold.load(h.id),
};

export const HoldLeg: HoldLegResolvers = {
  account: (e, _, ctx) => loadAccount(ctx, e.accountId),
  direction: (e) => e.direction,
  amount: (e) => e.amount,
};

export const Currency: CurrencyResolvers = {
  custom: (c) => c.tenantId !== null,
};
