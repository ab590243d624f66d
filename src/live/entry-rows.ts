// Entries as the live path reads them with raw SQL (the feed, replays), in Prisma's Entry shape
// so the GraphQL resolvers treat them like any other entry.
import type { Side } from "../domain/balance.js";
import type { ChangedEntry, EntryKind } from "../domain/live-events.js";
import type { Account, Entry } from "../ledger/records.js";

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

/** Columns of `accounts a`, prefixed: the account read with its entries, so events need no query. */
export const accountColumns = `a.tenant_id AS a_tenant_id, a.code AS a_code, a.name AS a_name, a.currency_id AS a_currency_id,
  a.normal_side AS a_normal_side, a.min_balance::text AS a_min_balance, a.max_balance::text AS a_max_balance,
  a.metadata AS a_metadata, a.created_at AS a_created_at, a.debits_posted::text AS a_debits_posted,
  a.credits_posted::text AS a_credits_posted, a.version::text AS a_version, a.last_entry_at AS a_last_entry_at,
  a.debits_pending::text AS a_debits_pending, a.credits_pending::text AS a_credits_pending,
  a.forced_out_of_bounds AS a_forced_out_of_bounds`;

export interface AccountRow {
  account_id: string;
  a_tenant_id: string;
  a_code: string;
  a_name: string;
  a_currency_id: string;
  a_normal_side: Side;
  a_min_balance: string | null;
  a_max_balance: string | null;
  a_metadata: Account["metadata"];
  a_created_at: Date;
  a_debits_posted: string;
  a_credits_posted: string;
  a_version: string;
  a_last_entry_at: Date | null;
  a_debits_pending: string;
  a_credits_pending: string;
  a_forced_out_of_bounds: boolean;
}

const bigintOrNull = (text: string | null): bigint | null => (text === null ? null : BigInt(text));

export const accountFromRow = (row: AccountRow): Account => ({
  id: row.account_id,
  tenantId: row.a_tenant_id,
  code: row.a_code,
  name: row.a_name,
  currencyId: row.a_currency_id,
  normalSide: row.a_normal_side,
  minBalance: bigintOrNull(row.a_min_balance),
  maxBalance: bigintOrNull(row.a_max_balance),
  metadata: row.a_metadata,
  createdAt: row.a_created_at,
  debitsPosted: BigInt(row.a_debits_posted),
  creditsPosted: BigInt(row.a_credits_posted),
  version: BigInt(row.a_version),
  lastEntryAt: row.a_last_entry_at,
  debitsPending: BigInt(row.a_debits_pending),
  creditsPending: BigInt(row.a_credits_pending),
  forcedOutOfBounds: row.a_forced_out_of_bounds,
});

/** A committed entry with what subscribers need to route and filter it. */
export interface FeedEntry extends ChangedEntry {
  entry: Entry;
  /** The account as read with the entry (its current state then, not as of the entry). */
  account: Account;
  normalSide: Side;
  /** The account's version after this entry (sequencing key). */
  version: bigint;
}

export function feedEntryFromRow(row: EntryRow & AccountRow & { currency_code: string }): FeedEntry {
  const entry = entryFromRow(row);
  return {
    entry,
    account: accountFromRow(row),
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
    normalSide: row.a_normal_side,
    version: entry.accountVersion,
  };
}
