// Account, Transfer and Entry: ids, relations (through the request's DataLoaders) and history.
import { GraphQLError } from "graphql";
import { assert } from "../../domain/assert.js";
import { toGlobalId } from "../../domain/ids.js";
import { listEntries } from "../../ledger/queries.js";
import type { AccountResolvers, CurrencyResolvers, EntryResolvers, TransferResolvers } from "../../generated/graphql.js";
import { connection, decodeCursor, encodeCursor, pageSize } from "../cursors.js";
import { balanceAfterEntry, balanceOfAccount } from "./balance.js";

const isVersionCursor = (v: unknown): v is { v: string } =>
  typeof v === "object" && v !== null && typeof (v as { v?: unknown }).v === "string" && /^\d{1,19}$/.test((v as { v: string }).v);

export const Account: AccountResolvers = {
  id: (a) => toGlobalId("Account", a.id),
  currency: async (a, _, { loaders }) => {
    const currency = await loaders.currency.load(a.currencyId);
    assert(currency, "an account's currency exists");
    return currency;
  },
  minBalance: (a) => a.minBalance,
  maxBalance: (a) => a.maxBalance,
  metadata: (a) => a.metadata,
  balance: (a) => balanceOfAccount(a),
  entries: async (a, { first, after }, { db, tenantId, limits }) => {
    const cursor = decodeCursor(after, isVersionCursor);
    const { rows, hasNextPage } = await listEntries(db.prisma, tenantId, a.id, pageSize(first, limits.pageSizeMax), cursor ? BigInt(cursor.v) : null);
    return connection(rows, hasNextPage, (e) => encodeCursor({ v: e.accountVersion.toString() }));
  },
};

export const Transfer: TransferResolvers = {
  id: (t) => toGlobalId("Transfer", t.id),
  metadata: (t) => t.metadata,
  entries: (t, _, { loaders }) => loaders.entriesOfTransfer.load(t.id),
};

export const Entry: EntryResolvers = {
  id: (e) => toGlobalId("Entry", e.id),
  account: async (e, _, { loaders }) => {
    const account = await loaders.account.load(e.accountId);
    if (!account) throw new GraphQLError("internal: entry without account");
    return account;
  },
  transfer: async (e, _, { loaders }) => {
    const transfer = await loaders.transfer.load(e.transferId);
    assert(transfer, "an entry's transfer exists");
    return transfer;
  },
  balanceAfter: async (e, _, { loaders }) => {
    const account = await loaders.account.load(e.accountId);
    assert(account, "an entry's account exists");
    return balanceAfterEntry(account, e);
  },
};

export const Currency: CurrencyResolvers = {
  custom: (c) => c.tenantId !== null,
};
