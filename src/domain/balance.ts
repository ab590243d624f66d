// Balance arithmetic the API reports. Balances are signed on the account's normal side. Bounds are
// decided in SQL (prisma/sql/engine.sql); the tests' oracle for them is test/support/bounds.ts.
export type Side = "DEBIT" | "CREDIT";

export interface PostedTotals {
  debitsPosted: bigint;
  creditsPosted: bigint;
}

export interface Totals extends PostedTotals {
  debitsPending: bigint;
  creditsPending: bigint;
}

export interface BalanceBounds {
  minBalance: bigint | null;
  maxBalance: bigint | null;
}

/** credits - debits for CREDIT-normal accounts, debits - credits for DEBIT-normal ones. */
export function postedBalance(normalSide: Side, totals: PostedTotals): bigint {
  return normalSide === "CREDIT" ? totals.creditsPosted - totals.debitsPosted : totals.debitsPosted - totals.creditsPosted;
}

/** What open holds would add to the balance if all were captured (negative: they lower it). */
export function pendingBalance(normalSide: Side, totals: Totals): bigint {
  return normalSide === "CREDIT" ? totals.creditsPending - totals.debitsPending : totals.debitsPending - totals.creditsPending;
}

/** Pending amounts that would lower the balance: debits of a CREDIT-normal account, and vice versa. */
export function pendingDown(normalSide: Side, totals: Totals): bigint {
  return normalSide === "CREDIT" ? totals.debitsPending : totals.creditsPending;
}

/** What may still be spent: posted minus what open holds would take away. */
export function availableBalance(normalSide: Side, totals: Totals): bigint {
  return postedBalance(normalSide, totals) - pendingDown(normalSide, totals);
}
