// What one batch of committed entries means to subscribers: the transfers that were posted and
// the holds that changed. Pure: the change feed reads the rows, this names the events.
import type { Side } from "./balance.js";

export type EntryKind = "POSTED" | "HOLD" | "RELEASE" | "CAPTURE";

/** A committed entry as the change feed reads it. */
export interface ChangedEntry {
  entryId: bigint;
  txId: bigint;
  tenantId: string;
  kind: EntryKind;
  transferId: string | null;
  holdId: string | null;
  accountId: string;
  direction: Side;
  amount: bigint;
  currencyCode: string;
}

export interface PostedTransfer {
  tenantId: string;
  /** The transaction that posted it. */
  txId: bigint;
  transferId: string;
  accountIds: string[];
  currencyCodes: string[];
}

/** CREATED, CAPTURED, or RELEASED (a void or the expiry: the hold's status tells which). */
export type HoldChangeKind = "CREATED" | "CAPTURED" | "RELEASED";

export interface HoldChangeDraft {
  tenantId: string;
  txId: bigint;
  holdId: string;
  kind: HoldChangeKind;
  /** What this change reserved, captured or released (the debits of its entries). */
  amount: bigint;
  /** The transfer a capture produced. */
  transferId: string | null;
  accountIds: string[];
}

const holdChangeOf: Record<EntryKind, HoldChangeKind | null> = {
  POSTED: null,
  HOLD: "CREATED",
  CAPTURE: "CAPTURED",
  RELEASE: "RELEASED",
};

/**
 * Groups entries by `keyOf` and orders the groups by their newest entry. A change that must come
 * after another on some account wrote its entry there later, so its newest entry id is higher:
 * this order agrees with every account's version order.
 */
function groupsInCommitOrder<T>(
  entries: ChangedEntry[],
  keyOf: (entry: ChangedEntry) => string | null,
  start: (entry: ChangedEntry) => T,
  add: (group: T, entry: ChangedEntry) => void,
): T[] {
  const groups = new Map<string, { group: T; lastEntryId: bigint }>();
  for (const entry of entries) {
    const key = keyOf(entry);
    if (key === null) continue;
    const found = groups.get(key);
    if (found) {
      add(found.group, entry);
      if (entry.entryId > found.lastEntryId) found.lastEntryId = entry.entryId;
    } else {
      const group = start(entry);
      add(group, entry);
      groups.set(key, { group, lastEntryId: entry.entryId });
    }
  }
  return [...groups.values()]
    .sort((a, b) => (a.lastEntryId < b.lastEntryId ? -1 : a.lastEntryId > b.lastEntryId ? 1 : 0))
    .map(({ group }) => group);
}

const addUnique = (list: string[], value: string) => {
  if (!list.includes(value)) list.push(value);
};

/** Transfers posted by these entries (plain transfers, reversals and captures), in commit order. */
export function postedTransfers(entries: ChangedEntry[]): PostedTransfer[] {
  return groupsInCommitOrder<PostedTransfer>(
    entries,
    (entry) => (entry.kind === "POSTED" || entry.kind === "CAPTURE" ? entry.transferId : null),
    (entry) => ({ tenantId: entry.tenantId, txId: entry.txId, transferId: entry.transferId!, accountIds: [], currencyCodes: [] }),
    (transfer, entry) => {
      addUnique(transfer.accountIds, entry.accountId);
      addUnique(transfer.currencyCodes, entry.currencyCode);
    },
  );
}

/**
 * The changes of holds: a creation, each capture (one transaction may capture a hold twice: two
 * requests in one batch), a release.
 */
export function holdChanges(entries: ChangedEntry[]): HoldChangeDraft[] {
  return groupsInCommitOrder<HoldChangeDraft>(
    entries,
    (entry) => (entry.holdId && holdChangeOf[entry.kind] ? `${entry.txId}:${entry.holdId}:${entry.kind}:${entry.transferId ?? ""}` : null),
    (entry) => ({
      tenantId: entry.tenantId,
      txId: entry.txId,
      holdId: entry.holdId!,
      kind: holdChangeOf[entry.kind]!,
      amount: 0n,
      transferId: entry.kind === "CAPTURE" ? entry.transferId : null,
      accountIds: [],
    }),
    (change, entry) => {
      if (entry.direction === "DEBIT") change.amount += entry.amount;
      addUnique(change.accountIds, entry.accountId);
    },
  );
}
