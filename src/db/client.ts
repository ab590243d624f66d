// The one database handle, made once per process and passed to every function of src/ledger and
// src/live. Which part to use for what:
//   writes  every write to the ledger's tables (accounts, currencies, transfers, entries, holds,
//           idempotency keys): the group-commit queue in front of the write engine, one statement
//           and one transaction per batch (src/db/write-queue.ts). Nothing else writes them.
//   pool    reads, as raw SQL through src/ledger/reads.ts and queries.ts (one query per kind), and
//           the few one-statement calls of SQL functions (as-of balances, the clock, expiry).
//   prisma  tenants, API keys and service secrets: low rate, off the ledger's tables.
// The ledger's writes need no transaction helper: each is one statement of the write engine. The
// paths beside it that need several statements (webhooks, reconciliation) use transaction.ts.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { committed } from "./commit-signal.js";
import { ledgerTypes } from "./pg-types.js";
import { endsWhenClosed } from "./pool-end.js";
import { createWriteQueue, writeSettingsDefault, type WriteQueue, type WriteSettings } from "./write-queue.js";
import { errorText, log, outageLog } from "../ops/log.js";
import { observe, recordWriteBatch, recordWriteRetry } from "../ops/metrics.js";
import { isDatabaseUnavailable } from "./unavailable.js";

const logger = log.child({ component: "postgres pool" });

export interface Database {
  /** Where the pool connects; the change feed opens its own connection there. */
  connectionString: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  /** The write engine, behind group commit. */
  writes: WriteQueue;
  close(): Promise<void>;
}

export function connectDatabase(
  connectionString: string,
  poolSizeMax: number,
  writeSettings: WriteSettings = writeSettingsDefault,
): Database {
  const pool = new pg.Pool({ connectionString, max: poolSizeMax, types: ledgerTypes });
  const endPool = endsWhenClosed(pool);
  // An idle client's error (e.g. the server restarting) must not crash the process. The server
  // going away is one warning per outage (readiness and 503 answers tell the rest).
  const outage = outageLog(logger, "PostgreSQL connection");
  pool.on("error", (error: Error & { code?: string }) => {
    if (isDatabaseUnavailable(error)) outage.failed(error);
    else logger.error({ err: errorText(error) }, "idle client error");
  });
  pool.on("connect", () => outage.succeeded());
  const unobserve = observe("pools", pool);
  // Minimal: Prisma's default messages quote the calling source, which must not reach clients.
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool), errorFormat: "minimal" });
  const writes = createWriteQueue(pool, {
    ...writeSettings,
    onCommitted: () => committed(pool),
    onRetry: recordWriteRetry,
    onBatch: recordWriteBatch,
  });
  return {
    connectionString,
    pool,
    prisma,
    writes,
    async close() {
      await writes.drain();
      unobserve();
      await prisma.$disconnect();
      await endPool();
    },
  };
}
