// Shapes the resolvers pass around (codegen maps GraphQL types onto them; see codegen.ts).
import type { Side, Totals } from "../domain/balance.js";
import type { Account, Entry } from "../ledger/records.js";

/** Enough to compute every field of Balance. */
export interface BalanceModel extends Totals {
  normalSide: Side;
  version: bigint;
}

export interface BalancePointModel {
  periodStart: Date;
  periodEnd: Date;
  balance: BalanceModel;
}

export interface EdgeModel<T> {
  cursor: string;
  node: T;
}

export interface PageInfoModel {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface ConnectionModel<T> {
  edges: EdgeModel<T>[];
  nodes: T[];
  pageInfo: PageInfoModel;
}

/** An account's balances right after one of its entries. */
export interface AccountBalanceModel {
  accountId: string;
  entry: Entry;
}

/** A change of an account's balances as a subscription delivers it. */
export interface BalanceChangeModel {
  accountId: string;
  /** The account as read with the change. */
  account: Account;
  normalSide: Side;
  entry: Entry;
  replayed: boolean;
}

export interface HoldChangeModel {
  change: "CREATED" | "CAPTURED" | "VOIDED" | "EXPIRED";
  holdId: string;
  amount: bigint;
  transferId: string | null;
}
