// Committed entries as the live path reads them (the change feed, balanceChanged replays): each
// with its account (read with it, so an event needs no query) and what routes it. Row mapping
// itself is src/ledger/rows.ts.
import type { Side } from "../domain/balance.js";
import type { ChangedEntry } from "../domain/live-events.js";
import type { Account, Entry } from "../ledger/records.js";
import {
  accountColumns,
  accountFromRow,
  entryColumns,
  entryFromRow,
  withoutPrefix,
  type AccountRow,
  type EntryRow,
} from "../ledger/rows.js";

/** Columns of `entries e` with its transaction id and of its `accounts a` (prefixed a_). */
export const entryWithAccountColumns = `${entryColumns("e")}, e.tx_id, ${accountColumns("a", "a_")}`;

export type EntryWithAccountRow = EntryRow & { tx_id: string } & Record<string, unknown>;

export const accountOfRow = (row: EntryWithAccountRow): Account => accountFromRow(withoutPrefix<AccountRow>(row, "a_"));

/** A committed entry with what subscribers need to route and filter it. */
export interface FeedEntry extends ChangedEntry {
  entry: Entry;
  /** The account as read with the entry (its current state then, not as of the entry). */
  account: Account;
  normalSide: Side;
  /** The account's version after this entry (sequencing key). */
  version: bigint;
}

export function feedEntryFromRow(row: EntryWithAccountRow & { currency_code: string }): FeedEntry {
  const entry = entryFromRow(row);
  const account = accountOfRow(row);
  return {
    entry,
    account,
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
    normalSide: account.normalSide,
    version: entry.accountVersion,
  };
}
