// Retention of delivered deliveries (LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS; 0 keeps them): every
// pruneIntervalMs the worker deletes those DELIVERED longer ago than the retention, in bounded
// statements (ledger_webhook_prune_delivered: one pruner at a time over every instance). Pending
// and failed deliveries, and events, are kept (prisma/sql/webhooks.sql: why).
import type pg from "pg";
import { log } from "../ops/log.js";
import { webhookDeliveriesPruned } from "../ops/metrics.js";
import { startPeriodicJob, type PeriodicJob } from "../ops/periodic-job.js";

const logger = log.child({ component: "webhooks" });

/** Deliveries one statement deletes, and statements one round runs (the rest waits for the next). */
const deletedPerStatementMax = 5_000;
const statementsPerRoundMax = 20;

/** Deletes deliveries DELIVERED before `before`; answers how many. */
export async function pruneDelivered(pool: Pick<pg.ClientBase, "query">, before: Date): Promise<number> {
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

/** With a retention set, deletes the deliveries DELIVERED longer ago every `intervalMs`; null without one. */
export function startPruner(pool: Pick<pg.ClientBase, "query">, retentionMs: number, intervalMs: number): PeriodicJob | null {
  if (retentionMs <= 0) return null;
  return startPeriodicJob({
    logger,
    what: "deleting webhook deliveries past their retention",
    intervalMs,
    pass: () => pruneDelivered(pool, new Date(Date.now() - retentionMs)),
    done: (deleted) => {
      if (deleted > 0) logger.info({ deleted }, "deleted webhook deliveries past their retention");
    },
  });
}
