// Reads for the API: tenant-scoped, keyset-paged, newest first, each page one index range.
import type { Database } from "../db/client.js";
import type { HistoryFilter } from "../domain/history-filter.js";
import type { HoldStatus } from "../domain/hold.js";
import { instantOf } from "../domain/instant.js";
import type { Account, Entry, EntryKind, Hold, Transfer } from "./records.js";
import {
  accountColumns,
  accountFromRow,
  entryColumns,
  entryFromRow,
  holdColumns,
  holdFromRow,
  transferColumns,
  transferFromRow,
  type AccountRow,
  type EntryRow,
  type HoldRow,
  type TransferRow,
} from "./rows.js";

export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

/** Fetches one row more than asked to learn whether another page exists. */
function page<T>(rows: T[], first: number): Page<T> {
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}

/** A WHERE clause built from conditions, each with its own parameters ($n numbered as added). */
class Conditions {
  readonly params: unknown[] = [];
  private readonly parts: string[] = [];

  /** Adds `sql`, where each `?` stands for the next of `values`. */
  add(sql: string, ...values: unknown[]): this {
    let next = 0;
    this.parts.push(
      sql.replace(/\?/g, () => {
        const value = values[next++];
        // As text: node-postgres would write a Date to the millisecond only.
        this.params.push(value instanceof Date ? instantOf(value).toISOString() : value);
        return `$${this.params.length}`;
      }),
    );
    return this;
  }

  get sql(): string {
    return this.parts.join(" AND ");
  }
}

/** Metadata containment, written so the partial GIN index (rows with metadata) serves it. */
function containsMetadata(where: Conditions, alias: string, metadata: Record<string, unknown>): void {
  if (Object.keys(metadata).length === 0) return; // {} is contained in every object
  where.add(`${alias}.metadata @> ?::jsonb AND ${alias}.metadata <> '{}'::jsonb`, JSON.stringify(metadata));
}

export interface AccountFilter {
  currencyId?: string;
  codePrefix?: string;
  /** Only these accounts (an access token limited to them). */
  ids?: readonly string[];
}

export async function listAccounts(
  db: Database,
  tenantId: string,
  first: number,
  after: { createdAt: Date; id: string } | null,
  filter: AccountFilter,
): Promise<Page<Account>> {
  const where = new Conditions().add("a.tenant_id = ?", tenantId);
  if (filter.currencyId) where.add("a.currency_id = ?", filter.currencyId);
  if (filter.ids) where.add("a.id = ANY(?::uuid[])", [...filter.ids]);
  // LIKE's wildcards in the prefix match literally.
  if (filter.codePrefix) where.add("a.code LIKE ?", `${filter.codePrefix.replace(/[\\%_]/g, "\\$&")}%`);
  if (after) where.add("(a.created_at, a.id) < (?, ?::uuid)", after.createdAt, after.id);
  const { rows } = await db.pool.query<AccountRow>(
    `SELECT ${accountColumns("a")} FROM accounts a WHERE ${where.sql} ORDER BY a.created_at DESC, a.id DESC LIMIT ${first + 1}`,
    where.params,
  );
  return page(rows.map(accountFromRow), first);
}

type Condition = [sql: string, ...values: unknown[]];

/** Conditions on an entry `e`; the amount, direction and kind filters apply only here. */
function entryConditions(filter: HistoryFilter & { kinds?: EntryKind[] }): Condition[] {
  const conditions: Condition[] = [];
  if (filter.createdFrom) conditions.push(["e.created_at >= ?", filter.createdFrom]);
  if (filter.createdTo) conditions.push(["e.created_at < ?", filter.createdTo]);
  if (filter.amountMin !== undefined) conditions.push(["e.amount >= ?", filter.amountMin.toString()]);
  if (filter.amountMax !== undefined) conditions.push(["e.amount <= ?", filter.amountMax.toString()]);
  if (filter.direction) conditions.push([`e.direction = ?::"Side"`, filter.direction]);
  if (filter.kinds) conditions.push([`e.kind = ANY(?::"EntryKind"[])`, filter.kinds]);
  return conditions;
}

/**
 * Transfers, newest first. With accountId, the amount and direction filters apply to the
 * transfer's entry on that account (validateHistoryFilter refuses them without it).
 */
export async function listTransfers(
  db: Database,
  tenantId: string,
  first: number,
  afterSeq: bigint | null,
  filter: HistoryFilter & { accountId?: string },
): Promise<Page<Transfer>> {
  const where = new Conditions().add("t.tenant_id = ?", tenantId);
  if (afterSeq !== null) where.add("t.seq < ?", afterSeq.toString());
  if (filter.createdFrom) where.add("t.created_at >= ?", filter.createdFrom);
  if (filter.createdTo) where.add("t.created_at < ?", filter.createdTo);
  if (filter.metadata) containsMetadata(where, "t", filter.metadata);
  // A range of the partial index (tenant_id, external_ref): the equality implies IS NOT NULL.
  if (filter.externalRef !== undefined) where.add("t.external_ref = ?", filter.externalRef);
  if (filter.accountId) {
    const onEntry = entryConditions({ amountMin: filter.amountMin, amountMax: filter.amountMax, direction: filter.direction });
    where.add(
      `EXISTS (SELECT 1 FROM entries e WHERE e.transfer_id = t.id AND e.account_id = ?::uuid${onEntry.map(([sql]) => ` AND ${sql}`).join("")})`,
      filter.accountId,
      ...onEntry.flatMap(([, ...values]) => values),
    );
  }
  const { rows } = await db.pool.query<TransferRow>(
    `SELECT ${transferColumns("t")} FROM transfers t WHERE ${where.sql} ORDER BY t.seq DESC LIMIT ${first + 1}`,
    where.params,
  );
  return page(rows.map(transferFromRow), first);
}

/** An account's entries, newest first, by version: one index range scan per page. */
export async function listEntries(
  db: Database,
  tenantId: string,
  accountId: string,
  first: number,
  beforeVersion: bigint | null,
  filter: HistoryFilter & { kinds?: EntryKind[] } = {},
): Promise<Page<Entry>> {
  const where = new Conditions().add("e.account_id = ?", accountId).add("e.tenant_id = ?", tenantId);
  for (const condition of entryConditions(filter)) where.add(...condition);
  if (beforeVersion !== null) where.add("e.account_version < ?", beforeVersion.toString());
  if (filter.metadata && Object.keys(filter.metadata).length > 0) {
    where.add(
      `EXISTS (SELECT 1 FROM transfers t WHERE t.id = e.transfer_id AND t.metadata @> ?::jsonb AND t.metadata <> '{}'::jsonb)`,
      JSON.stringify(filter.metadata),
    );
  } else if (filter.metadata) {
    where.add("e.transfer_id IS NOT NULL");
  }
  if (filter.externalRef !== undefined) {
    // With the tenant, so the planner may start from the transfers with that reference (a range
    // of their partial index) rather than walk the account's whole history.
    where.add(
      "EXISTS (SELECT 1 FROM transfers t WHERE t.id = e.transfer_id AND t.tenant_id = ? AND t.external_ref = ?)",
      tenantId,
      filter.externalRef,
    );
  }
  const { rows } = await db.pool.query<EntryRow>(
    `SELECT ${entryColumns("e")} FROM entries e WHERE ${where.sql} ORDER BY e.account_version DESC LIMIT ${first + 1}`,
    where.params,
  );
  return page(rows.map(entryFromRow), first);
}

export type HoldWithCursor = Hold & { cursor: bigint };

/**
 * Holds with a leg on an account, newest first (by their reservation entry). EXPIRED includes
 * open holds past their expiry on the tenant's clock; OPEN excludes them.
 */
export async function listAccountHolds(
  db: Database,
  tenantId: string,
  accountId: string,
  status: HoldStatus | null,
  first: number,
  afterEntryId: bigint | null,
): Promise<Page<HoldWithCursor>> {
  const where = new Conditions().add("e.account_id = ?", accountId).add("e.kind = 'HOLD'").add("e.tenant_id = ?", tenantId);
  if (afterEntryId !== null) where.add("e.id < ?", afterEntryId.toString());
  if (status === "OPEN") where.add("h.status = 'OPEN' AND h.expires_at > ledger_now(?::uuid)", tenantId);
  else if (status === "EXPIRED")
    where.add("(h.status = 'EXPIRED' OR (h.status = 'OPEN' AND h.expires_at <= ledger_now(?::uuid)))", tenantId);
  else if (status) where.add(`h.status = ?::"HoldStatus"`, status);
  const { rows } = await db.pool.query<HoldRow & { cursor: string }>(
    `SELECT ${holdColumns("h")}, e.id AS cursor FROM entries e JOIN holds h ON h.id = e.hold_id
      WHERE ${where.sql} ORDER BY e.id DESC LIMIT ${first + 1}`,
    where.params,
  );
  return page(
    rows.map((row) => ({ ...holdFromRow(row), cursor: BigInt(row.cursor) })),
    first,
  );
}
