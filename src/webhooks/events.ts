// What a webhook carries: the events made from committed changes, with payloads in the shape
// and field names of the GraphQL types (global ids, amounts as decimal strings of minor units,
// instants as ISO text). Pure: the materializer reads the rows, this turns them into events.
import { postedBalance, type Side } from "../domain/balance.js";
import { toGlobalId } from "../domain/ids.js";
import type { Account, Entry, Hold, JsonObject, Transfer } from "../ledger/records.js";
import { eventGlobalId, eventIdOf } from "./ids.js";

export const webhookEventTypes = [
  "transfer.posted",
  "hold.created",
  "hold.captured",
  "hold.voided",
  "hold.expired",
  "account.created",
] as const;

export type WebhookEventType = (typeof webhookEventTypes)[number];

/**
 * Whether an event's body is stored with it. Only account.created's is: an account's name and
 * metadata can change. The others are made of immutable rows (entries, transfers, holds' fixed
 * fields), so their bodies are made again when sent (bodies.ts) instead of written per event.
 */
export const bodyStored = (type: WebhookEventType): boolean => type === "account.created";

/** What a receiver gets: the event's payload as JSON text, the same every time it is made. */
export const bodyOf = (event: WebhookEventDraft): string => JSON.stringify(event.payload);

/** The GraphQL enum value of an event type (TRANSFER_POSTED) and back. */
export const eventTypeEnum = (type: WebhookEventType): string => type.replace(".", "_").toUpperCase();
export const eventTypeOfEnum = (value: string): WebhookEventType | null =>
  webhookEventTypes.find((type) => eventTypeEnum(type) === value) ?? null;

/** An event as the materializer makes it: `payload` is the body a receiver gets. */
export interface WebhookEventDraft {
  id: string;
  tenantId: string;
  type: WebhookEventType;
  /** The transfer, hold or account that changed (with the type, what the id is made from). */
  objectId: string;
  occurredAt: Date;
  /** Accounts it touches and the metadata it carries: what endpoint filters match on. */
  accountIds: string[];
  metadata: JsonObject;
  payload: JsonObject;
}

/** A committed entry with what its payload needs of its account. */
export interface ChangedEntry {
  entry: Entry;
  txId: bigint;
  accountCode: string;
  normalSide: Side;
  currencyCode: string;
}

export interface ChangeSet {
  entries: readonly ChangedEntry[];
  /** The accounts created, each with the transaction that created it. */
  accounts: readonly { account: Account; txId: bigint; currencyCode: string }[];
  transfers: ReadonlyMap<string, Transfer>;
  holds: ReadonlyMap<string, { hold: Hold; currencyCode: string }>;
}

const iso = (date: Date) => date.toISOString();

function entryPayload({ entry, accountCode, normalSide }: ChangedEntry): JsonObject {
  return {
    id: toGlobalId("Entry", entry.id),
    kind: entry.kind,
    account: { id: toGlobalId("Account", entry.accountId), code: accountCode },
    direction: entry.direction,
    amount: entry.amount.toString(),
    balanceAfter: {
      posted: postedBalance(normalSide, { debitsPosted: entry.debitsPostedAfter, creditsPosted: entry.creditsPostedAfter }).toString(),
      version: entry.accountVersion.toString(),
    },
    createdAt: iso(entry.createdAt),
  };
}

function transferPayload(transfer: Transfer, entries: readonly ChangedEntry[]): JsonObject {
  return {
    id: toGlobalId("Transfer", transfer.id),
    idempotencyKey: transfer.idempotencyKey,
    description: transfer.description,
    metadata: transfer.metadata,
    createdAt: iso(transfer.createdAt),
    currency: { code: entries[0]!.currencyCode },
    entries: [...entries].sort((a, b) => a.entry.legIndex - b.entry.legIndex).map(entryPayload),
    reverses: transfer.reversesId ? { id: toGlobalId("Transfer", transfer.reversesId) } : null,
    forced: transfer.forced,
    hold: transfer.holdId ? { id: toGlobalId("Hold", transfer.holdId) } : null,
    externalRef: transfer.externalRef,
  };
}

/** The hold's fields that do not change after it is made, and its legs (from its HOLD entries). */
function holdPayload(hold: Hold, currencyCode: string, legs: readonly ChangedEntry[] | null): JsonObject {
  return {
    id: toGlobalId("Hold", hold.id),
    idempotencyKey: hold.idempotencyKey,
    currency: { code: currencyCode },
    description: hold.description,
    metadata: hold.metadata,
    externalRef: hold.externalRef,
    amount: hold.amount.toString(),
    expiresAt: iso(hold.expiresAt),
    createdAt: iso(hold.createdAt),
    ...(legs
      ? {
          legs: legs.map(({ entry, accountCode }) => ({
            account: { id: toGlobalId("Account", entry.accountId), code: accountCode },
            direction: entry.direction,
            amount: entry.amount.toString(),
          })),
        }
      : {}),
  };
}

function accountPayload(account: Account, currencyCode: string): JsonObject {
  return {
    id: toGlobalId("Account", account.id),
    code: account.code,
    name: account.name,
    currency: { code: currencyCode },
    normalSide: account.normalSide,
    minBalance: account.minBalance?.toString() ?? null,
    maxBalance: account.maxBalance?.toString() ?? null,
    metadata: account.metadata,
    createdAt: iso(account.createdAt),
  };
}

function draft(
  tenantId: string,
  type: WebhookEventType,
  /** The transfer, hold or account that changed: with the type, what the event's id is made from. */
  objectId: string,
  occurredAt: Date,
  accountIds: string[],
  metadata: JsonObject,
  data: JsonObject,
): WebhookEventDraft {
  const id = eventIdOf(type, objectId, occurredAt);
  return {
    id,
    tenantId,
    type,
    objectId,
    occurredAt,
    accountIds: [...new Set(accountIds)],
    metadata,
    payload: { id: eventGlobalId(id), type, createdAt: iso(occurredAt), data },
  };
}

/**
 * The events of a set of committed changes, in commit order (by transaction, then by the first
 * entry of each change; a transaction's new accounts come before its entries). One change is the
 * entries of one transfer, or of one hold's reservation or release in one transaction.
 */
export function eventsOf(changes: ChangeSet): WebhookEventDraft[] {
  type Group = { txId: bigint; order: bigint; entries: ChangedEntry[] };
  const groups = new Map<string, Group>();
  for (const changed of changes.entries) {
    const { entry } = changed;
    // A capture's entries belong to its transfer; a hold's reservation and release to the hold.
    const key = entry.transferId ? `t:${entry.transferId}` : `h:${entry.holdId}:${entry.kind}:${changed.txId}`;
    const group = groups.get(key);
    if (group) group.entries.push(changed);
    else groups.set(key, { txId: changed.txId, order: entry.id, entries: [changed] });
  }
  const ordered: { txId: bigint; order: bigint; events: () => WebhookEventDraft[] }[] = [];
  for (const { account, txId, currencyCode } of changes.accounts) {
    ordered.push({
      txId,
      order: -1n,
      events: () => [
        draft(account.tenantId, "account.created", account.id, account.createdAt, [account.id], account.metadata, {
          account: accountPayload(account, currencyCode),
        }),
      ],
    });
  }
  for (const group of groups.values()) ordered.push({ ...group, events: () => groupEvents(group.entries, changes) });
  ordered.sort((a, b) => (a.txId !== b.txId ? (a.txId < b.txId ? -1 : 1) : a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  return ordered.flatMap((item) => item.events());
}

function groupEvents(entries: ChangedEntry[], changes: ChangeSet): WebhookEventDraft[] {
  const first = entries[0]!.entry;
  const accountIds = entries.map((e) => e.entry.accountId);
  if (first.transferId) {
    const transfer = changes.transfers.get(first.transferId);
    if (!transfer) throw new Error(`transfer ${first.transferId} of committed entries was not read`);
    const posted = draft(transfer.tenantId, "transfer.posted", transfer.id, transfer.createdAt, accountIds, transfer.metadata, {
      transfer: transferPayload(transfer, entries),
    });
    if (!transfer.holdId) return [posted];
    const held = heldOf(changes, transfer.holdId);
    const amount = entries.filter((e) => e.entry.direction === "DEBIT").reduce((sum, e) => sum + e.entry.amount, 0n);
    const captured = draft(transfer.tenantId, "hold.captured", transfer.id, transfer.createdAt, accountIds, held.hold.metadata, {
      hold: holdPayload(held.hold, held.currencyCode, null),
      transfer: (posted.payload.data as JsonObject).transfer,
      amount: amount.toString(),
    });
    return [posted, captured];
  }
  const held = heldOf(changes, first.holdId!);
  const { hold, currencyCode } = held;
  if (first.kind === "HOLD") {
    return [
      draft(hold.tenantId, "hold.created", hold.id, first.createdAt, accountIds, hold.metadata, {
        hold: { ...holdPayload(hold, currencyCode, entries), status: "OPEN" },
      }),
    ];
  }
  // A release is final: the hold's stored status says whether a void or the expiry made it.
  const expired = hold.status === "EXPIRED";
  const released = entries.filter((e) => e.entry.direction === "DEBIT").reduce((sum, e) => sum + e.entry.amount, 0n);
  return [
    draft(hold.tenantId, expired ? "hold.expired" : "hold.voided", hold.id, first.createdAt, accountIds, hold.metadata, {
      hold: {
        ...holdPayload(hold, currencyCode, null),
        status: expired ? "EXPIRED" : "VOIDED",
        [expired ? "expiredAmount" : "voidedAmount"]: released.toString(),
      },
    }),
  ];
}

function heldOf(changes: ChangeSet, holdId: string) {
  const held = changes.holds.get(holdId);
  if (!held) throw new Error(`hold ${holdId} of committed entries was not read`);
  return held;
}
