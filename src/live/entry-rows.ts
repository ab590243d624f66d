// Entries as the live path reads them with raw SQL (the feed, replays), in Prisma's Entry shape
// so the GraphQL resolvers treat them like any other entry.
import type { Side } from "../domain/balance.js";
import type { ChangedEntry, EntryKind } from "../domain/live-events.js";
import type { Entry } from "../ledger/records.js";

/** Columns of `entries e` (and txId); join `accounts a` and `currencies c` for the last two. */
export const entryColumns = `e.id::text, e.tenant_id, e.kind, e.transfer_id, e.hold_id, e.account_id, e.leg_index,
  e.direction, e.amount::text, e.account_version::text, e.debits_posted_after::text, e.credits_posted_after::text,
  e.debits_pending_after::text, e.credits_pending_after::text, e.created_at, e.tx_id::text`;

export interface EntryRow {
  id: string;
  tenant_id: string;
  kind: EntryKind;
  transfer_id: string | null;
  hold_id: string | null;
  account_id: string;
  leg_index: number;
  direction: Side;
  amount: string;
  account_version: string;
  debits_posted_after: string;
  credits_posted_after: string;
  debits_pending_after: string;
  credits_pending_after: string;
  created_at: Date;
  tx_id: string;
}

export const entryFromRow = (row: EntryRow): Entry => ({
  id: BigInt(row.id),
  tenantId: row.tenant_id,
  kind: row.kind,
  transferId: row.transfer_id,
  holdId: row.hold_id,
  accountId: row.account_id,
  legIndex: row.leg_index,
  direction: row.direction,
  amount: BigInt(row.amount),
  accountVersion: BigInt(row.account_version),
  debitsPostedAfter: BigInt(row.debits_posted_after),
  creditsPostedAfter: BigInt(row.credits_posted_after),
  debitsPendingAfter: BigInt(row.debits_pending_after),
  creditsPendingAfter: BigInt(row.credits_pending_after),
  createdAt: row.created_at,
});

/** A committed entry with what subscribers need to route and filter it. */
export interface FeedEntry extends ChangedEntry {
  entry: Entry;
  normalSide: Side;
  /** The account's version after this entry (sequencing key). */
  version: bigint;
}

export function feedEntryFromRow(row: EntryRow & { normal_side: Side; currency_code: string }): FeedEntry {
  const entry = entryFromRow(row);
  return {
    entry,
    entryId: entry.id,
    txId: BigInt(row.tx_id),
    tenantId: entry.tenantId,
    kind: entry.kind,
    transferId: entry.transferId,
    holdId: entry.holdId,
    accountId: entry.accountId,
    direction: entry.direction,
    amount: entry.amount,
    currencyCode: row.currency_code,
    normalSide: row.normal_side,
    version: entry.accountVersion,
  };
}
