import { postedBalance } from "../../domain/balance.js";
import type { Account, Entry } from "../../ledger/records.js";
import type { BalanceResolvers } from "../../generated/graphql.js";
import type { BalanceModel } from "../models.js";

export const balanceOfAccount = (account: Account): BalanceModel => ({
  normalSide: account.normalSide,
  debitsPosted: account.debitsPosted,
  creditsPosted: account.creditsPosted,
  version: account.version,
});

export const balanceAfterEntry = (account: Account, entry: Entry): BalanceModel => ({
  normalSide: account.normalSide,
  debitsPosted: entry.debitsPostedAfter,
  creditsPosted: entry.creditsPostedAfter,
  version: entry.accountVersion,
});

// Pending is zero until holds exist, so available equals posted.
export const Balance: BalanceResolvers = {
  posted: (b) => postedBalance(b.normalSide, b),
  pending: () => 0n,
  available: (b) => postedBalance(b.normalSide, b),
  debitsPosted: (b) => b.debitsPosted,
  creditsPosted: (b) => b.creditsPosted,
  version: (b) => b.version,
};
