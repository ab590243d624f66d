// Records by id, one query per kind however many ids: the DataLoaders, the change feed's events
// and the answers to replayed writes read through here. Tenant-scoped where the caller acts for a
// tenant (null: any tenant, for the change feed, which routes by tenant itself).
import type { Database } from "../db/client.js";
import type { Account, Currency, Entry, EntryKind, Hold, Transfer } from "./records.js";
import {
  accountColumns,
  accountFromRow,
  currencyColumns,
  currencyFromRow,
  entryColumns,
  entryFromRow,
  holdColumns,
  holdFromRow,
  transferColumns,
  transferFromRow,
  type AccountRow,
  type CurrencyRow,
  type EntryRow,
  type HoldRow,
  type TransferRow,
} from "./rows.js";

const tenantIs = (alias: string, position: number) => `($${position}::uuid IS NULL OR ${alias}.tenant_id = $${position}::uuid)`;

export async function readAccounts(db: Database, tenantId: string | null, ids: readonly string[]): Promise<Account[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.pool.query<AccountRow>(
    `SELECT ${accountColumns("a")} FROM accounts a WHERE a.id = ANY($1::uuid[]) AND ${tenantIs("a", 2)}`,
    [ids, tenantId],
  );
  return rows.map(accountFromRow);
}

export async function readAccountByCode(db: Database, tenantId: string, code: string): Promise<Account | null> {
  const { rows } = await db.pool.query<AccountRow>(`SELECT ${accountColumns("a")} FROM accounts a WHERE a.tenant_id = $1 AND a.code = $2`, [
    tenantId,
    code,
  ]);
  return rows[0] ? accountFromRow(rows[0]) : null;
}

/** Currencies by id that the tenant may use: its own and the global ones. */
export async function readCurrencies(db: Database, tenantId: string, ids: readonly string[]): Promise<Currency[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.pool.query<CurrencyRow>(
    `SELECT ${currencyColumns("c")} FROM currencies c WHERE c.id = ANY($1::uuid[]) AND (c.tenant_id IS NULL OR c.tenant_id = $2)`,
    [ids, tenantId],
  );
  return rows.map(currencyFromRow);
}

export async function readTransfers(db: Database, tenantId: string | null, ids: readonly string[]): Promise<Transfer[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.pool.query<TransferRow>(
    `SELECT ${transferColumns("t")} FROM transfers t WHERE t.id = ANY($1::uuid[]) AND ${tenantIs("t", 2)}`,
    [ids, tenantId],
  );
  return rows.map(transferFromRow);
}

/** Transfers that point at these (reversals of them, or captures of these holds), oldest first. */
export async function readTransfersLinkedTo(
  db: Database,
  tenantId: string,
  link: "reverses_id" | "hold_id",
  ids: readonly string[],
): Promise<Transfer[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.pool.query<TransferRow>(
    `SELECT ${transferColumns("t")} FROM transfers t WHERE t.${link} = ANY($1::uuid[]) AND t.tenant_id = $2 ORDER BY t.seq`,
    [ids, tenantId],
  );
  return rows.map(transferFromRow);
}

export async function readEntries(db: Database, tenantId: string, ids: readonly bigint[]): Promise<Entry[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.pool.query<EntryRow>(
    `SELECT ${entryColumns("e")} FROM entries e WHERE e.id = ANY($1::bigint[]) AND e.tenant_id = $2`,
    [ids.map(String), tenantId],
  );
  return rows.map(entryFromRow);
}

/** The entries of these transfers, by transfer and leg. */
export async function readEntriesOfTransfers(db: Database, tenantId: string | null, transferIds: readonly string[]): Promise<Entry[]> {
  if (transferIds.length === 0) return [];
  const { rows } = await db.pool.query<EntryRow>(
    `SELECT ${entryColumns("e")} FROM entries e WHERE e.transfer_id = ANY($1::uuid[]) AND ${tenantIs("e", 2)}
      ORDER BY e.transfer_id, e.leg_index`,
    [transferIds, tenantId],
  );
  return rows.map(entryFromRow);
}

/** The entries of these holds (all kinds, or one), oldest first. */
export async function readEntriesOfHolds(db: Database, tenantId: string, holdIds: readonly string[], kind?: EntryKind): Promise<Entry[]> {
  if (holdIds.length === 0) return [];
  const { rows } = await db.pool.query<EntryRow>(
    `SELECT ${entryColumns("e")} FROM entries e WHERE e.hold_id = ANY($1::uuid[]) AND e.tenant_id = $2
       AND ($3::"EntryKind" IS NULL OR e.kind = $3) ORDER BY e.id`,
    [holdIds, tenantId, kind ?? null],
  );
  return rows.map(entryFromRow);
}

export async function readHolds(db: Database, tenantId: string | null, ids: readonly string[]): Promise<Hold[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.pool.query<HoldRow>(
    `SELECT ${holdColumns("h")} FROM holds h WHERE h.id = ANY($1::uuid[]) AND ${tenantIs("h", 2)}`,
    [ids, tenantId],
  );
  return rows.map(holdFromRow);
}
