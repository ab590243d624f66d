// Reads for the API: tenant-scoped, keyset-paged, newest first.
import type { HistoryFilter } from "../domain/history-filter.js";
import type { HoldStatus } from "../domain/hold.js";
import { Prisma, type EntryKind, type PrismaClient } from "../generated/prisma/client.js";
import type { Account, Entry, Hold, Transfer } from "./records.js";

export interface Page<T> {
  rows: T[];
  hasNextPage: boolean;
}

/** Fetches one row more than asked to learn whether another page exists. */
function page<T>(rows: T[], first: number): Page<T> {
  return { rows: rows.slice(0, first), hasNextPage: rows.length > first };
}

export interface AccountFilter {
  currencyId?: string;
  codePrefix?: string;
  /** Only these accounts (an access token limited to them). */
  ids?: readonly string[];
}

export async function listAccounts(
  prisma: PrismaClient,
  tenantId: string,
  first: number,
  after: { createdAt: Date; id: string } | null,
  filter: AccountFilter,
): Promise<Page<Account>> {
  const rows = await prisma.account.findMany({
    where: {
      tenantId,
      ...(filter.currencyId ? { currencyId: filter.currencyId } : {}),
      ...(filter.ids ? { id: { in: [...filter.ids] } } : {}),
      // Prisma passes the prefix into LIKE as is: escape its wildcards so `_` and `%` match literally.
      ...(filter.codePrefix ? { code: { startsWith: filter.codePrefix.replace(/[\\%_]/g, "\\$&") } } : {}),
      ...(after
        ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }
        : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: first + 1,
  });
  return page(rows, first);
}

// Raw SQL below (metadata containment has no Prisma filter); columns aliased to the model's names.
const transferColumns = Prisma.sql`t.id, t.seq, t.tenant_id AS "tenantId", t.idempotency_key AS "idempotencyKey",
  t.description, t.metadata, t.created_at AS "createdAt", t.reverses_id AS "reversesId", t.forced, t.hold_id AS "holdId"`;
const entryColumns = Prisma.sql`e.id, e.tenant_id AS "tenantId", e.kind, e.transfer_id AS "transferId", e.hold_id AS "holdId",
  e.account_id AS "accountId", e.leg_index AS "legIndex", e.direction, e.amount, e.account_version AS "accountVersion",
  e.debits_posted_after AS "debitsPostedAfter", e.credits_posted_after AS "creditsPostedAfter",
  e.debits_pending_after AS "debitsPendingAfter", e.credits_pending_after AS "creditsPendingAfter", e.created_at AS "createdAt"`;
const holdColumns = Prisma.sql`h.id, h.seq, h.tenant_id AS "tenantId", h.idempotency_key AS "idempotencyKey", h.description,
  h.metadata, h.currency_id AS "currencyId", h.amount, h.captured_amount AS "capturedAmount",
  h.released_amount AS "releasedAmount", h.status, h.expires_at AS "expiresAt", h.created_at AS "createdAt", h.closed_at AS "closedAt"`;

const and = (conditions: Prisma.Sql[]) => Prisma.join(conditions, " AND ");

/** Conditions on an entry `e`; the amount, direction and kind filters apply only here. */
function entryConditions(filter: HistoryFilter & { kinds?: EntryKind[] }): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.createdFrom) conditions.push(Prisma.sql`e.created_at >= ${filter.createdFrom}`);
  if (filter.createdTo) conditions.push(Prisma.sql`e.created_at < ${filter.createdTo}`);
  if (filter.amountMin !== undefined) conditions.push(Prisma.sql`e.amount >= ${filter.amountMin}`);
  if (filter.amountMax !== undefined) conditions.push(Prisma.sql`e.amount <= ${filter.amountMax}`);
  if (filter.direction) conditions.push(Prisma.sql`e.direction = ${filter.direction}::"Side"`);
  if (filter.kinds) conditions.push(Prisma.sql`e.kind::text IN (${Prisma.join(filter.kinds)})`);
  return conditions;
}

/**
 * Transfers, newest first. With accountId, the amount and direction filters apply to the
 * transfer's entry on that account (validateHistoryFilter refuses them without it).
 */
export async function listTransfers(
  prisma: PrismaClient,
  tenantId: string,
  first: number,
  afterSeq: bigint | null,
  filter: HistoryFilter & { accountId?: string },
): Promise<Page<Transfer>> {
  const conditions = [Prisma.sql`t.tenant_id = ${tenantId}::uuid`];
  if (afterSeq !== null) conditions.push(Prisma.sql`t.seq < ${afterSeq}`);
  if (filter.createdFrom) conditions.push(Prisma.sql`t.created_at >= ${filter.createdFrom}`);
  if (filter.createdTo) conditions.push(Prisma.sql`t.created_at < ${filter.createdTo}`);
  if (filter.metadata) conditions.push(Prisma.sql`t.metadata @> ${JSON.stringify(filter.metadata)}::jsonb`);
  if (filter.accountId) {
    const onEntry = entryConditions({ amountMin: filter.amountMin, amountMax: filter.amountMax, direction: filter.direction });
    conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM entries e WHERE e.transfer_id = t.id AND e.account_id = ${filter.accountId}::uuid
      ${onEntry.length > 0 ? Prisma.sql`AND ${and(onEntry)}` : Prisma.empty})`);
  }
  const rows = await prisma.$queryRaw<Transfer[]>`
    SELECT ${transferColumns} FROM transfers t WHERE ${and(conditions)} ORDER BY t.seq DESC LIMIT ${first + 1}`;
  return page(rows, first);
}

/** An account's entries, newest first, by version: one index range scan per page. */
export async function listEntries(
  prisma: PrismaClient,
  tenantId: string,
  accountId: string,
  first: number,
  beforeVersion: bigint | null,
  filter: HistoryFilter & { kinds?: EntryKind[] } = {},
): Promise<Page<Entry>> {
  const conditions = [Prisma.sql`e.account_id = ${accountId}::uuid`, Prisma.sql`e.tenant_id = ${tenantId}::uuid`, ...entryConditions(filter)];
  if (beforeVersion !== null) conditions.push(Prisma.sql`e.account_version < ${beforeVersion}`);
  if (filter.metadata) {
    conditions.push(Prisma.sql`EXISTS (SELECT 1 FROM transfers t WHERE t.id = e.transfer_id AND t.metadata @> ${JSON.stringify(filter.metadata)}::jsonb)`);
  }
  const rows = await prisma.$queryRaw<Entry[]>`
    SELECT ${entryColumns} FROM entries e WHERE ${and(conditions)} ORDER BY e.account_version DESC LIMIT ${first + 1}`;
  return page(rows, first);
}

export type HoldWithCursor = Hold & { cursor: bigint };

/**
 * Holds with a leg on an account, newest first (by their reservation entry). EXPIRED includes
 * open holds past their expiry on the tenant's clock; OPEN excludes them.
 */
export async function listAccountHolds(
  prisma: PrismaClient,
  tenantId: string,
  accountId: string,
  status: HoldStatus | null,
  first: number,
  afterEntryId: bigint | null,
): Promise<Page<HoldWithCursor>> {
  const conditions = [Prisma.sql`e.account_id = ${accountId}::uuid`, Prisma.sql`e.kind = 'HOLD'`, Prisma.sql`e.tenant_id = ${tenantId}::uuid`];
  if (afterEntryId !== null) conditions.push(Prisma.sql`e.id < ${afterEntryId}`);
  if (status === "OPEN") conditions.push(Prisma.sql`h.status = 'OPEN' AND h.expires_at > ledger_now(${tenantId}::uuid)`);
  else if (status === "EXPIRED") {
    conditions.push(Prisma.sql`(h.status = 'EXPIRED' OR (h.status = 'OPEN' AND h.expires_at <= ledger_now(${tenantId}::uuid)))`);
  } else if (status) conditions.push(Prisma.sql`h.status = ${status}::"HoldStatus"`);
  const rows = await prisma.$queryRaw<HoldWithCursor[]>`
    SELECT ${holdColumns}, e.id AS cursor FROM entries e JOIN holds h ON h.id = e.hold_id
    WHERE ${and(conditions)} ORDER BY e.id DESC LIMIT ${first + 1}`;
  return page(rows, first);
}
