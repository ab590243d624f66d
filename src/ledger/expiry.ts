// The expiry job: every interval, releases holds whose expiresAt has passed. Each instance of
// the service runs one; the SQL re-checks every hold under its locks, so each is released once.
import type { Database } from "../db/client.js";
import { isDatabaseUnavailable } from "../db/unavailable.js";
import { errorText, log, outageLog } from "../ops/log.js";
import { holdEvents } from "../ops/metrics.js";
import { expireHolds } from "./holds.js";

const logger = log.child({ component: "hold expiry" });

const batchSize = 100;

export interface ExpiryJob {
  /** Runs one pass now (all due holds, in batches); returns how many it released. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startExpiryJob(db: Database, intervalMs: number): ExpiryJob {
  // An unreachable database is one warning per outage, not one per interval.
  const outage = outageLog(logger, "releasing expired holds");
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | null = null;
  let stopped = false;

  async function pass(): Promise<number> {
    let total = 0;
    for (;;) {
      const released = await expireHolds(db, batchSize);
      total += released;
      if (released < batchSize || stopped) return total;
    }
  }

  function runOnce(): Promise<number> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      runOnce()
        .then(
          (released) => {
            holdEvents.inc({ event: "expired" }, released);
            outage.succeeded();
          },
          (error: unknown) => {
            if (stopped) return;
            if (isDatabaseUnavailable(error)) outage.failed(error);
            else logger.error({ err: errorText(error) }, "releasing expired holds failed");
          },
        )
        .finally(schedule);
    }, intervalMs);
    timer.unref();
  }
  schedule();

  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running?.catch(() => 0);
    },
  };
}
