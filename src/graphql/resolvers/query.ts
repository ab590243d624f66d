import { GraphQLError } from "graphql";
import { fromGlobalId, nodeTypeOf, toGlobalId } from "../../domain/ids.js";
import { parseInstant } from "../../domain/instant.js";
import { findCurrency, listCurrencies } from "../../ledger/currencies.js";
import { readAccountByCode } from "../../ledger/reads.js";
import { validateHistoryFilter } from "../../domain/history-filter.js";
import { listAccounts, listTransfers } from "../../ledger/queries.js";
import type { QueryResolvers } from "../../generated/graphql.js";
import { accountVisible, checkTransferListing } from "../../ledger/authorization.js";
import { legsVisible } from "../access-guard.js";
import type { Context } from "../context.js";
import { connection, decodeCursor, encodeCursor, pageSize } from "../cursors.js";
import { badUserInput } from "./nodes.js";
import { checkCharacters } from "../../domain/text.js";
import { reconciliationQueries } from "./reconciliation.js";
import { webhookQueries } from "./webhooks.js";

/** A text the query looks up by: what could never be stored is a bad request, not a lookup. */
function lookupText(text: string, field: string): string {
  const checked = checkCharacters(text, field, "storable");
  if (!checked.ok) throw badUserInput(checked.problem);
  return checked.value;
}

const isAccountCursor = (v: unknown): v is { t: string; id: string } =>
  typeof v === "object" &&
  v !== null &&
  typeof (v as { t?: unknown }).t === "string" &&
  parseInstant((v as { t: string }).t) !== null &&
  fromGlobalId("Account", `acct_${(v as { id?: unknown }).id}`) !== null;

const isSeqCursor = (v: unknown): v is { s: string } =>
  typeof v === "object" && v !== null && typeof (v as { s?: unknown }).s === "string" && /^\d{1,19}$/.test((v as { s: string }).s);

// Loads by global id; what the bearer may not see (an access token limited to other accounts)
// reads as null, like an unknown id.
async function loadAccount(ctx: Context, globalId: string) {
  const id = fromGlobalId("Account", globalId);
  return id === null || !accountVisible(ctx.access, id) ? null : ctx.loaders.account.load(id);
}

async function loadTransfer(ctx: Context, globalId: string) {
  const id = fromGlobalId("Transfer", globalId);
  const transfer = id === null ? null : await ctx.loaders.transfer.load(id);
  return transfer && (await legsVisible(ctx, "transfer", transfer.id)) ? transfer : null;
}

async function loadHold(ctx: Context, globalId: string) {
  const id = fromGlobalId("Hold", globalId);
  const hold = id === null ? null : await ctx.loaders.hold.load(id);
  return hold && (await legsVisible(ctx, "hold", hold.id)) ? hold : null;
}

export const Query: QueryResolvers = {
  node: async (_, { id }, ctx) => {
    switch (nodeTypeOf(id)) {
      case "Account": {
        const account = await loadAccount(ctx, id);
        return account && { ...account, __typename: "Account" as const };
      }
      case "Transfer": {
        const transfer = await loadTransfer(ctx, id);
        return transfer && { ...transfer, __typename: "Transfer" as const };
      }
      case "Hold": {
        const hold = await loadHold(ctx, id);
        return hold && { ...hold, __typename: "Hold" as const };
      }
      case "Entry": {
        const raw = fromGlobalId("Entry", id);
        const entry = raw === null ? null : await ctx.loaders.entry.load(BigInt(raw));
        return entry && accountVisible(ctx.access, entry.accountId) ? { ...entry, __typename: "Entry" as const } : null;
      }
      default:
        return null;
    }
  },
  account: async (_, { id, code }, ctx) => {
    if ((id === null || id === undefined) === (code === null || code === undefined)) {
      throw new GraphQLError("give exactly one of id and code", { extensions: { code: "BAD_USER_INPUT" } });
    }
    if (id) return loadAccount(ctx, id);
    const account = await readAccountByCode(ctx.db, ctx.tenantId, lookupText(code!, "code"));
    return account && accountVisible(ctx.access, account.id) ? account : null;
  },
  accounts: async (_, { first, after, filter }, ctx) => {
    const cursor = decodeCursor(after, isAccountCursor);
    let currencyId: string | undefined;
    if (filter?.currency) {
      const currency = await findCurrency(ctx.db, ctx.tenantId, lookupText(filter.currency, "filter.currency"));
      if (!currency) return connection([], false, () => "");
      currencyId = currency.id;
    }
    const { rows, hasNextPage } = await listAccounts(
      ctx.db,
      ctx.tenantId,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor && { createdAt: parseInstant(cursor.t)!, id: cursor.id },
      {
        currencyId,
        codePrefix: filter?.codePrefix ? lookupText(filter.codePrefix, "filter.codePrefix") : undefined,
        ids: ctx.access.accountIds ? [...ctx.access.accountIds] : undefined,
      },
    );
    for (const account of rows) ctx.loaders.account.prime(account.id, account);
    return connection(rows, hasNextPage, (a) => encodeCursor({ t: a.createdAt.toISOString(), id: a.id }));
  },
  transfer: (_, { id }, ctx) => loadTransfer(ctx, id),
  hold: (_, { id }, ctx) => loadHold(ctx, id),
  transfers: async (_, { first, after, filter }, ctx) => {
    const cursor = decodeCursor(after, isSeqCursor);
    const checked = validateHistoryFilter(filter ?? {}, Boolean(filter?.accountId), ctx.limits);
    if (!checked.ok) throw badUserInput(checked.problem);
    checkTransferListing(ctx.access, filter?.accountId);
    let accountId: string | undefined;
    if (filter?.accountId) {
      const account = await loadAccount(ctx, filter.accountId);
      if (!account) return connection([], false, () => "");
      accountId = account.id;
    }
    const { rows, hasNextPage } = await listTransfers(
      ctx.db,
      ctx.tenantId,
      pageSize(first, ctx.limits.pageSizeMax),
      cursor ? BigInt(cursor.s) : null,
      {
        ...checked.value,
        accountId,
      },
    );
    return connection(rows, hasNextPage, (t) => encodeCursor({ s: t.seq.toString() }));
  },
  currencies: (_, __, ctx) => listCurrencies(ctx.db, ctx.tenantId),
  currency: (_, { code }, ctx) => findCurrency(ctx.db, ctx.tenantId, lookupText(code, "code")),
  limits: (_, __, ctx) => ctx.limits,
  viewer: (_, __, { access }) => ({
    credential: access.via,
    scope: access.scope,
    accountIds: access.accountIds && [...access.accountIds].map((id) => toGlobalId("Account", id)),
    expiresAt: access.expiresAt,
  }),
  ...webhookQueries,
  ...reconciliationQueries,
};
