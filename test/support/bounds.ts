// The tests' oracle for balance bounds: the write engine decides them in SQL (ledger_within_bounds in
// prisma/sql), and the model and domain tests check outcomes against these definitions.
import { type BalanceBounds, pendingDown, postedBalance, type Side, type Totals } from "../../src/domain/balance.js";

/** Pending amounts that would raise the balance. */
export function pendingUp(normalSide: Side, totals: Totals): bigint {
  return normalSide === "CREDIT" ? totals.creditsPending : totals.debitsPending;
}

export function withinBounds(balance: bigint, bounds: BalanceBounds): boolean {
  return (bounds.minBalance === null || balance >= bounds.minBalance) && (bounds.maxBalance === null || balance <= bounds.maxBalance);
}

/**
 * Whether every outcome of the open holds stays within bounds: the available balance against
 * the minimum, the balance plus incoming pending amounts against the maximum.
 */
export function envelopeWithinBounds(normalSide: Side, totals: Totals, bounds: BalanceBounds): boolean {
  const posted = postedBalance(normalSide, totals);
  return (
    (bounds.minBalance === null || posted - pendingDown(normalSide, totals) >= bounds.minBalance) &&
    (bounds.maxBalance === null || posted + pendingUp(normalSide, totals) <= bounds.maxBalance)
  );
}
