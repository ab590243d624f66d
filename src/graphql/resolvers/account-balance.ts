import { assert } from "../../domain/assert.js";
import type { AccountBalanceResolvers } from "../../generated/graphql.js";
import { balanceAfterEntry } from "./balance.js";

// Built from the transfer's entries, so a replay shows the balances right after the original.
export const AccountBalance: AccountBalanceResolvers = {
  account: async (b, _, { loaders }) => {
    const account = await loaders.account.load(b.accountId);
    assert(account, "a posted entry's account exists");
    return account;
  },
  balance: async (b, _, { loaders }) => {
    const account = await loaders.account.load(b.accountId);
    assert(account, "a posted entry's account exists");
    return balanceAfterEntry(account, b.entry);
  },
};
