// What the live path hands to its subscribers: events in the ledger's own terms, for no
// particular API (the GraphQL layer maps them onto its types: codegen.ts).
import type { Side } from "../domain/balance.js";
import type { Account, Entry } from "../ledger/records.js";

/** A change of an account's balances (one entry), as a balance subscription delivers it. */
export interface BalanceChange {
  accountId: string;
  /** The account as read with the change. */
  account: Account;
  normalSide: Side;
  entry: Entry;
  /** Catch-up (read from storage, or at or below the version current at subscribe time) rather than live. */
  replayed: boolean;
}

/** A hold created, captured (each capture), voided or expired, with the amount of that change. */
export interface HoldChange {
  change: "CREATED" | "CAPTURED" | "VOIDED" | "EXPIRED";
  holdId: string;
  amount: bigint;
  transferId: string | null;
}
