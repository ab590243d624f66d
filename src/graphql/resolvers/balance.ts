import { availableBalance, pendingBalance, postedBalance, type Side, type Totals } from "../../domain/balance.js";
import type { Account, Entry } from "../../ledger/records.js";
import type { BalanceResolvers } from "../../generated/graphql.js";
import type { BalanceModel } from "../models.js";

export const balanceOfAccount = (account: Account): BalanceModel => ({
  normalSide: account.normalSide,
  debitsPosted: account.debitsPosted,
  creditsPosted: account.creditsPosted,
  debitsPending: account.debitsPending,
  creditsPending: account.creditsPending,
  version: account.version,
});

export const balanceAfterEntry = (account: Pick<Account, "normalSide">, entry: Entry): BalanceModel => ({
  normalSide: account.normalSide,
  debitsPosted: entry.debitsPostedAfter,
  creditsPosted: entry.creditsPostedAfter,
  debitsPending: entry.debitsPendingAfter,
  creditsPending: entry.creditsPendingAfter,
  version: entry.accountVersion,
});

export const balanceFromTotals = (normalSide: Side, totals: Totals & { version: bigint }): BalanceModel => ({
  normalSide,
  debitsPosted: totals.debitsPosted,
  creditsPosted: totals.creditsPosted,
  debitsPending: totals.debitsPending,
  creditsPending: totals.creditsPending,
  version: totals.version,
});

export const Balance: BalanceResolvers = {
  posted: (b) => postedBalance(b.normalSide, b),
  pending: (b) => pendingBalance(b.normalSide, b),
  available: (b) => availableBalance(b.normalSide, b),
  debitsPosted: (b) => b.debitsPosted,
  creditsPosted: (b) => b.creditsPosted,
  debitsPending: (b) => b.debitsPending,
  creditsPending: (b) => b.creditsPending,
  version: (b) => b.version,
};
