// Retention of delivered deliveries (LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS; 0 keeps them): every
// pruneIntervalMs the worker deletes those DELIVERED longer ago than the retention, in bounded
// statements (ledger_webhook_prune_delivered: one pruner at a time over every instance). Pending
// and failed deliveries, and events, are kept (prisma/sql/webhooks.sql: why).
import type pg from "pg";
import { errorText, log } from "../ops/log.js";
import { webhookDeliveriesPruned } from "../ops/metrics.js";

const logger = log.child({ component: "webhooks" });

/** Deliveries one statement deletes, and statements one round runs (the rest waits for the next). */
const deletedPerStatementMax = 5_000;
const statementsPerRoundMax = 20;

/** Deletes deliveries DELIVERED before `before`; answers how many. */
export async function pruneDelivered(pool: Pick<pg.Pool, "query">, before: Date): Promise<number> {
  let total = 0;
  for (let statement = 0; statement < statementsPerRoundMax; statement++) {
    const { rows } = await pool.query<{ n: number }>("SELECT ledger_webhook_prune_delivered($1, $2) AS n", [
      before.toISOString(),
      deletedPerStatementMax,
    ]);
    total += rows[0]!.n;
    if (rows[0]!.n < deletedPerStatementMax) break;
  }
  if (total > 0) webhookDeliveriesPruned.inc(total);
  return total;
}

export interface Pruner {
  stop(): Promise<void>;
}

export function startPruner(pool: Pick<pg.Pool, "query">, retentionMs: number, intervalMs: number): Pruner {
  if (retentionMs <= 0) return { stop: async () => {} };
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = pruneDelivered(pool, new Date(Date.now() - retentionMs))
      .then((deleted) => {
        if (deleted > 0) logger.info({ deleted }, "deleted webhook deliveries past their retention");
      })
      .catch((error: unknown) => logger.warn({ err: errorText(error) }, "deleting webhook deliveries past their retention failed"))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
