// The one place where database rows become records: the columns to select for each table and the
// mapping of what node-postgres returns (bigints as text, timestamps as dates, jsonb parsed) or
// what the write engine answers (the same rows as JSON, timestamps as text). Writes, queries,
// DataLoaders and the change feed all use it.
import { assert } from "../domain/assert.js";
import type { Side } from "../domain/balance.js";
import { parseInstant } from "../domain/instant.js";
import type { HoldStatus } from "../domain/hold.js";
import type { Account, Currency, Entry, EntryKind, Hold, JsonObject, Transfer } from "./records.js";

/**
 * `alias.column, ...` for a table's columns, each under its own name, or under `prefix` + its name
 * (for a join whose tables share column names; read back with withoutPrefix).
 */
const columnsOf =
  (names: readonly string[]) =>
  (alias: string, prefix = "") =>
    names.map((name) => (prefix ? `${alias}.${name} AS ${prefix}${name}` : `${alias}.${name}`)).join(", ");

/** The columns of a row that carry `prefix`, under their own names. */
export function withoutPrefix<T>(row: Record<string, unknown>, prefix: string): T {
  const unprefixed: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) if (name.startsWith(prefix)) unprefixed[name.slice(prefix.length)] = value;
  return unprefixed as T;
}

const bigintOrNull = (text: string | null): bigint | null => (text === null ? null : BigInt(text));
/** A timestamp as node-postgres returns it (an Instant: src/db/pg-types.ts), or as JSON carries it (ISO text). */
type Instant = Date | string;
const dateOf = (value: Instant): Date => {
  if (value instanceof Date) return value;
  const instant = parseInstant(value);
  assert(instant, `a timestamp: ${value}`);
  return instant;
};
const dateOrNull = (value: Instant | null): Date | null => (value === null ? null : dateOf(value));

// ------------------------------------------------------------------ accounts

export const accountColumns = columnsOf([
  "id",
  "tenant_id",
  "code",
  "name",
  "currency_id",
  "normal_side",
  "min_balance",
  "max_balance",
  "metadata",
  "created_at",
  "debits_posted",
  "credits_posted",
  "debits_pending",
  "credits_pending",
  "version",
  "last_entry_at",
  "forced_out_of_bounds",
]);

export interface AccountRow {
  id: string;
  tenant_id: string;
  code: string;
  name: string;
  currency_id: string;
  normal_side: Side;
  min_balance: string | null;
  max_balance: string | null;
  metadata: JsonObject;
  created_at: Instant;
  debits_posted: string;
  credits_posted: string;
  debits_pending: string;
  credits_pending: string;
  version: string;
  last_entry_at: Instant | null;
  forced_out_of_bounds: boolean;
}

export const accountFromRow = (row: AccountRow): Account => ({
  id: row.id,
  tenantId: row.tenant_id,
  code: row.code,
  name: row.name,
  currencyId: row.currency_id,
  normalSide: row.normal_side,
  minBalance: bigintOrNull(row.min_balance),
  maxBalance: bigintOrNull(row.max_balance),
  metadata: row.metadata,
  createdAt: dateOf(row.created_at),
  debitsPosted: BigInt(row.debits_posted),
  creditsPosted: BigInt(row.credits_posted),
  debitsPending: BigInt(row.debits_pending),
  creditsPending: BigInt(row.credits_pending),
  version: BigInt(row.version),
  lastEntryAt: dateOrNull(row.last_entry_at),
  forcedOutOfBounds: row.forced_out_of_bounds,
});

// ------------------------------------------------------------------ currencies

export const currencyColumns = columnsOf(["id", "tenant_id", "code", "scale", "created_at"]);

export interface CurrencyRow {
  id: string;
  tenant_id: string | null;
  code: string;
  scale: number;
  created_at: Instant;
}

export const currencyFromRow = (row: CurrencyRow): Currency => ({
  id: row.id,
  tenantId: row.tenant_id,
  code: row.code,
  scale: row.scale,
  createdAt: dateOf(row.created_at),
});

// ------------------------------------------------------------------ transfers

export const transferColumns = columnsOf([
  "id",
  "seq",
  "tenant_id",
  "idempotency_key",
  "description",
  "metadata",
  "created_at",
  "reverses_id",
  "forced",
  "hold_id",
  "external_ref",
]);

export interface TransferRow {
  id: string;
  seq: string;
  tenant_id: string;
  idempotency_key: string;
  description: string;
  metadata: JsonObject;
  created_at: Instant;
  reverses_id: string | null;
  forced: boolean;
  hold_id: string | null;
  external_ref: string | null;
}

export const transferFromRow = (row: TransferRow): Transfer => ({
  id: row.id,
  seq: BigInt(row.seq),
  tenantId: row.tenant_id,
  idempotencyKey: row.idempotency_key,
  description: row.description,
  metadata: row.metadata,
  createdAt: dateOf(row.created_at),
  reversesId: row.reverses_id,
  forced: row.forced,
  holdId: row.hold_id,
  externalRef: row.external_ref,
});

// ------------------------------------------------------------------ entries

export const entryColumns = columnsOf([
  "id",
  "tenant_id",
  "kind",
  "transfer_id",
  "hold_id",
  "account_id",
  "leg_index",
  "direction",
  "amount",
  "account_version",
  "debits_posted_after",
  "credits_posted_after",
  "debits_pending_after",
  "credits_pending_after",
  "created_at",
]);

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
  created_at: Instant;
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
  createdAt: dateOf(row.created_at),
});

// ------------------------------------------------------------------ holds

export const holdColumns = columnsOf([
  "id",
  "seq",
  "tenant_id",
  "idempotency_key",
  "description",
  "metadata",
  "currency_id",
  "amount",
  "captured_amount",
  "released_amount",
  "status",
  "expires_at",
  "created_at",
  "closed_at",
  "external_ref",
]);

export interface HoldRow {
  id: string;
  seq: string;
  tenant_id: string;
  idempotency_key: string;
  description: string;
  metadata: JsonObject;
  currency_id: string;
  amount: string;
  captured_amount: string;
  released_amount: string;
  status: HoldStatus;
  expires_at: Instant;
  created_at: Instant;
  closed_at: Instant | null;
  external_ref: string | null;
}

export const holdFromRow = (row: HoldRow): Hold => ({
  id: row.id,
  seq: BigInt(row.seq),
  tenantId: row.tenant_id,
  idempotencyKey: row.idempotency_key,
  description: row.description,
  metadata: row.metadata,
  currencyId: row.currency_id,
  amount: BigInt(row.amount),
  capturedAmount: BigInt(row.captured_amount),
  releasedAmount: BigInt(row.released_amount),
  status: row.status,
  expiresAt: dateOf(row.expires_at),
  createdAt: dateOf(row.created_at),
  closedAt: dateOrNull(row.closed_at),
  externalRef: row.external_ref,
});

// ------------------------------------------------------------------ entries the write engine answers

/**
 * The engine's entries of one command ("id,kind,account,leg,direction,amount,version,dp,cp,dq,cq;..."),
 * with what they share: tenant, transfer, hold and timestamp.
 */
export function entriesFromEngine(
  text: string,
  shared: { tenantId: string; transferId: string | null; holdId: string | null; createdAt: Date },
): Entry[] {
  return text.split(";").map((line) => {
    const [id, kind, accountId, leg, direction, amount, version, dp, cp, dq, cq] = line.split(",") as string[];
    return {
      id: BigInt(id!),
      tenantId: shared.tenantId,
      kind: kind as EntryKind,
      transferId: kind === "POSTED" || kind === "CAPTURE" ? shared.transferId : null,
      holdId: kind === "POSTED" ? null : shared.holdId,
      accountId: accountId!,
      legIndex: Number(leg),
      direction: direction as Side,
      amount: BigInt(amount!),
      accountVersion: BigInt(version!),
      debitsPostedAfter: BigInt(dp!),
      creditsPostedAfter: BigInt(cp!),
      debitsPendingAfter: BigInt(dq!),
      creditsPendingAfter: BigInt(cq!),
      createdAt: shared.createdAt,
    };
  });
}
