// The expiry job: every interval, releases holds whose expiresAt has passed. Each instance of
// the service runs one; the SQL re-checks every hold under its locks, so each is released once.
import type { Database } from "../db/client.js";
import { expireHolds } from "./holds.js";

const batchSize = 100;

export interface ExpiryJob {
  /** Runs one pass now (all due holds, in batches); returns how many it released. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function startExpiryJob(db: Database, intervalMs: number, log: (message: string) => void = console.error): ExpiryJob {
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
        .catch((error: unknown) => log(`hold expiry: ${String(error)}`))
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
