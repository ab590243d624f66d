// One pg pool per process, shared by Prisma (reads, low-rate writes) and the posting path,
// which calls its SQL function on the pool directly: one round trip, no ORM in the way.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";

export interface Database {
  /** Where the pool connects; the change feed opens its own connection there. */
  connectionString: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export function connectDatabase(connectionString: string, poolSizeMax: number): Database {
  const pool = new pg.Pool({ connectionString, max: poolSizeMax });
  // An idle client's error (e.g. the server restarting) must not crash the process.
  // 57P01 (admin shutdown) is the server stopping under us, e.g. at exit; nothing to report.
  pool.on("error", (error: Error & { code?: string }) => {
    if (error.code !== "57P01") console.error("postgres pool:", error.message);
  });
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    connectionString,
    pool,
    prisma,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
