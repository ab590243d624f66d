// One pg pool per process, shared by Prisma (reads, low-rate writes) and the posting path,
// which calls its SQL function on the pool directly: one round trip, no ORM in the way.
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "../generated/prisma/client.js";
import { errorText, log, outageLog } from "../ops/log.js";
import { observe } from "../ops/metrics.js";
import { isDatabaseUnavailable } from "./unavailable.js";

const logger = log.child({ component: "postgres pool" });

export interface Database {
  /** Where the pool connects; the change feed opens its own connection there. */
  connectionString: string;
  pool: pg.Pool;
  prisma: PrismaClient;
  close(): Promise<void>;
}

export function connectDatabase(connectionString: string, poolSizeMax: number): Database {
  const pool = new pg.Pool({ connectionString, max: poolSizeMax });
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
  return {
    connectionString,
    pool,
    prisma,
    async close() {
      unobserve();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
