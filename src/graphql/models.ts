// Shapes the resolvers pass around (codegen maps GraphQL types onto them; see codegen.ts).
import type { Side, Totals } from "../domain/balance.js";
import type { Entry } from "../ledger/records.js";

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

// BalanceChange and HoldChange map onto the live path's events (src/live/events.ts).
