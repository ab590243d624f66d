// One pg pool per process. Reads go through it with raw SQL (src/ledger/reads.ts, queries.ts);
// every write goes through `writes`, the group-commit queue in front of the write engine; Prisma's
// client is kept for tenants, API keys and service secrets (low rate, not on the ledger's tables).
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { committed } from "./commit-signal.js";
import { ledgerTypes } from "./pg-types.js";
import { createWriteQueue, writeSettingsDefault, type WriteQueue, type WriteSettings } from "./write-queue.js";

export interface Database {
  /** Where the pool connects; the change feed opens its own connection there. */
  connectionString: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  /** The write engine, behind group commit. */
  writes: WriteQueue;
  close(): Promise<void>;
}

export function connectDatabase(connectionString: string, poolSizeMax: number, writeSettings: WriteSettings = writeSettingsDefault): Database {
  const pool = new pg.Pool({ connectionString, max: poolSizeMax, types: ledgerTypes });
  // An idle client's error (e.g. the server restarting) must not crash the process.
  // 57P01 (admin shutdown) is the server stopping under us, e.g. at exit; nothing to report.
  pool.on("error", (error: Error & { code?: string }) => {
    if (error.code !== "57P01") console.error("postgres pool:", error.message);
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const writes = createWriteQueue(pool, { ...writeSettings, onCommitted: () => committed(pool) });
  return {
    connectionString,
    pool,
    prisma,
    writes,
    async close() {
      await writes.drain();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
