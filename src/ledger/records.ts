// The ledger's records as the service hands them to the API layer. Rows become records in one
// place only: src/ledger/rows.ts (writes, queries and the change feed alike).
import type { Side } from "../domain/balance.js";
import type { HoldStatus } from "../domain/hold.js";

export type EntryKind = "POSTED" | "HOLD" | "RELEASE" | "CAPTURE";
export type JsonObject = Record<string, unknown>;

export interface Account {
  id: string;
  tenantId: string;
  code: string;
  name: string;
  currencyId: string;
  normalSide: Side;
  minBalance: bigint | null;
  maxBalance: bigint | null;
  metadata: JsonObject;
  createdAt: Date;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  version: bigint;
  lastEntryAt: Date | null;
  forcedOutOfBounds: boolean;
}

export interface Currency {
  id: string;
  /** null: a global (seeded ISO) currency. */
  tenantId: string | null;
  code: string;
  scale: number;
  createdAt: Date;
}

export interface Transfer {
  id: string;
  /** Position for newest-first paging. */
  seq: bigint;
  tenantId: string;
  idempotencyKey: string;
  description: string;
  metadata: JsonObject;
  createdAt: Date;
  reversesId: string | null;
  forced: boolean;
  holdId: string | null;
  /** The payment provider's charge, payout or refund id; not unique. */
  externalRef: string | null;
}

/** One change of an account's balances, with all its totals after it. */
export interface Entry {
  id: bigint;
  tenantId: string;
  kind: EntryKind;
  transferId: string | null;
  holdId: string | null;
  accountId: string;
  legIndex: number;
  direction: Side;
  amount: bigint;
  accountVersion: bigint;
  debitsPostedAfter: bigint;
  creditsPostedAfter: bigint;
  debitsPendingAfter: bigint;
  creditsPendingAfter: bigint;
  createdAt: Date;
}

export interface Hold {
  id: string;
  seq: bigint;
  tenantId: string;
  idempotencyKey: string;
  description: string;
  metadata: JsonObject;
  currencyId: string;
  amount: bigint;
  capturedAmount: bigint;
  releasedAmount: bigint;
  status: HoldStatus;
  expiresAt: Date;
  createdAt: Date;
  closedAt: Date | null;
  /** The payment provider's id; its captures take it unless they give their own. */
  externalRef: string | null;
}

/** A transfer with its entries, in leg order. */
export interface TransferWithEntries extends Transfer {
  entries: Entry[];
}

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

export interface ApiKey {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  keyHash: string;
  createdAt: Date;
  revokedAt: Date | null;
}
