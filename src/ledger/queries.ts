// Reads for the API: tenant-scoped, keyset-paged, newest first.
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Account, Entry, Transfer } from "./records.js";

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

export interface TransferFilter {
  accountId?: string;
  createdFrom?: Date;
  createdTo?: Date;
}

export async function listTransfers(
  prisma: PrismaClient,
  tenantId: string,
  first: number,
  afterSeq: bigint | null,
  filter: TransferFilter,
): Promise<Page<Transfer>> {
  const rows = await prisma.transfer.findMany({
    where: {
      tenantId,
      ...(afterSeq !== null ? { seq: { lt: afterSeq } } : {}),
      ...(filter.accountId ? { entries: { some: { accountId: filter.accountId } } } : {}),
      ...(filter.createdFrom || filter.createdTo
        ? { createdAt: { ...(filter.createdFrom ? { gte: filter.createdFrom } : {}), ...(filter.createdTo ? { lt: filter.createdTo } : {}) } }
        : {}),
    },
    orderBy: { seq: "desc" },
    take: first + 1,
  });
  return page(rows, first);
}

/** An account's entries, newest first, by version: one index range scan per page. */
export async function listEntries(
  prisma: PrismaClient,
  tenantId: string,
  accountId: string,
  first: number,
  beforeVersion: bigint | null,
): Promise<Page<Entry>> {
  const rows = await prisma.entry.findMany({
    where: { tenantId, accountId, ...(beforeVersion !== null ? { accountVersion: { lt: beforeVersion } } : {}) },
    orderBy: { accountVersion: "desc" },
    take: first + 1,
  });
  return page(rows, first);
}
