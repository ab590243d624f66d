// DataLoaders, built per request and scoped to its tenant: one query per kind per tick,
// however many rows a page returns (src/ledger/reads.ts).
import DataLoader from "dataloader";
import type { Database } from "../db/client.js";
import type { Account, Currency, Entry, Hold, Transfer } from "../ledger/records.js";
import {
  readAccounts,
  readCurrencies,
  readEntries,
  readEntriesOfHolds,
  readEntriesOfTransfers,
  readHolds,
  readTransfers,
  readTransfersLinkedTo,
} from "../ledger/reads.js";

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): (V | null)[] {
  const found = new Map(rows.map((row) => [keyOf(row), row]));
  return keys.map((key) => found.get(key) ?? null);
}

function groupBy<K, V>(keys: readonly K[], rows: V[], keyOf: (row: V) => K): V[][] {
  const groups = new Map<K, V[]>(keys.map((key) => [key, []]));
  for (const row of rows) groups.get(keyOf(row))?.push(row);
  return keys.map((key) => groups.get(key)!);
}

export function createLoaders(db: Database, tenantId: string) {
  return {
    account: new DataLoader<string, Account | null>(async (ids) => byKey(ids, await readAccounts(db, tenantId, ids), (a) => a.id)),
    currency: new DataLoader<string, Currency | null>(async (ids) => byKey(ids, await readCurrencies(db, tenantId, ids), (c) => c.id)),
    transfer: new DataLoader<string, Transfer | null>(async (ids) => byKey(ids, await readTransfers(db, tenantId, ids), (t) => t.id)),
    entry: new DataLoader<bigint, Entry | null>(async (ids) => byKey(ids, await readEntries(db, tenantId, ids), (e) => e.id)),
    entriesOfTransfer: new DataLoader<string, Entry[]>(async (transferIds) =>
      groupBy(transferIds, await readEntriesOfTransfers(db, tenantId, transferIds), (e) => e.transferId!),
    ),
    hold: new DataLoader<string, Hold | null>(async (ids) => byKey(ids, await readHolds(db, tenantId, ids), (h) => h.id)),
    /** Every entry of a hold (reservation, captures, release), oldest first. */
    entriesOfHold: new DataLoader<string, Entry[]>(async (holdIds) =>
      groupBy(holdIds, await readEntriesOfHolds(db, tenantId, holdIds), (e) => e.holdId!),
    ),
    capturesOfHold: new DataLoader<string, Transfer[]>(async (holdIds) =>
      groupBy(holdIds, await readTransfersLinkedTo(db, tenantId, "hold_id", holdIds), (t) => t.holdId!),
    ),
    reversalsOf: new DataLoader<string, Transfer[]>(async (transferIds) =>
      groupBy(transferIds, await readTransfersLinkedTo(db, tenantId, "reverses_id", transferIds), (t) => t.reversesId!),
    ),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Seeds the loaders with rows the write path already returned, saving a read. */
export function primeTransfer(loaders: Loaders, transfer: Transfer & { entries: Entry[] }): void {
  loaders.transfer.prime(transfer.id, transfer);
  loaders.entriesOfTransfer.prime(transfer.id, transfer.entries);
  for (const entry of transfer.entries) loaders.entry.prime(entry.id, entry);
}
