// The expiry job: every interval, releases holds whose expiresAt has passed. Each instance of
// the service runs one; the SQL re-checks every hold under its locks, so each is released once.
import type { Database } from "../db/client.js";
import { log } from "../ops/log.js";
import { holdEvents } from "../ops/metrics.js";
import { startPeriodicJob, type PeriodicJob } from "../ops/periodic-job.js";
import { expireHolds } from "./holds.js";

const logger = log.child({ component: "hold expiry" });

const batchSize = 100;

export type ExpiryJob = PeriodicJob;

export function startExpiryJob(db: Database, intervalMs: number): ExpiryJob {
  return startPeriodicJob({
    logger,
    what: "releasing expired holds",
    intervalMs,
    async pass(stopped) {
      let total = 0;
      for (;;) {
        const released = await expireHolds(db, batchSize);
        total += released;
        if (released < batchSize || stopped()) return total;
      }
    },
    done: (released) => holdEvents.inc({ event: "expired" }, released),
  });
}
