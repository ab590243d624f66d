// Balance arithmetic. The balance is signed on the account's normal side.
export type Side = "DEBIT" | "CREDIT";

export interface PostedTotals {
  debitsPosted: bigint;
  creditsPosted: bigint;
}

export interface BalanceBounds {
  minBalance: bigint | null;
  maxBalance: bigint | null;
}

/** credits - debits for CREDIT-normal accounts, debits - credits for DEBIT-normal ones. */
export function postedBalance(normalSide: Side, totals: PostedTotals): bigint {
  return normalSide === "CREDIT"
    ? totals.creditsPosted - totals.debitsPosted
    : totals.debitsPosted - totals.creditsPosted;
}

export function withinBounds(balance: bigint, bounds: BalanceBounds): boolean {
  return (bounds.minBalance === null || balance >= bounds.minBalance)
    && (bounds.maxBalance === null || balance <= bounds.maxBalance);
}
