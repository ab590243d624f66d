// Retention (0 keeps for ever): every pruneIntervalMs the worker deletes the deliveries DELIVERED
// longer ago than LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS, and the events older than
// LEDGER_WEBHOOK_EVENT_RETENTION_DAYS with every delivery made before then, in bounded statements
// (ledger_webhook_prune_delivered, ledger_webhook_prune_events: one pruner at a time over every
// instance). Without an event retention, pending and failed deliveries and events are kept
// (prisma/sql/webhooks.sql: why).
import type pg from "pg";
import { log } from "../ops/log.js";
import { webhookDeliveriesPruned, webhookEventsPruned } from "../ops/metrics.js";
import { startPeriodicJob, type PeriodicJob } from "../ops/periodic-job.js";

const logger = log.child({ component: "webhooks" });

type Queryable = Pick<pg.ClientBase, "query">;

export interface PruneOptions {
  /** Rows one statement (one short transaction) deletes at most, of each table. */
  perStatementMax?: number;
  /** Asked to stop: the statements end after the one running. */
  stopped?: () => boolean;
}

/**
 * Runs the prune statement until one deletes fewer rows than its most (all past the cutoff are
 * gone) or a stop is asked; sums what each deleted. No cap on statements: a pass keeps up with
 * however many rows a busy ledger makes in an interval.
 */
async function inStatements<K extends string>(
  pool: Queryable,
  sql: string,
  before: Date,
  counts: readonly K[],
  { perStatementMax = 5_000, stopped = () => false }: PruneOptions,
): Promise<Record<K, number>> {
  const total = Object.fromEntries(counts.map((name) => [name, 0])) as Record<K, number>;
  for (;;) {
    const { rows } = await pool.query<Record<K, number>>(sql, [before.toISOString(), perStatementMax]);
    for (const name of counts) total[name] += rows[0]![name];
    if (counts.every((name) => rows[0]![name] < perStatementMax) || stopped()) return total;
  }
}

/** Deletes deliveries DELIVERED before `before`; answers how many. */
export async function pruneDelivered(pool: Queryable, before: Date, options: PruneOptions = {}): Promise<number> {
  const sql = "SELECT ledger_webhook_prune_delivered($1, $2) AS deliveries";
  const { deliveries } = await inStatements(pool, sql, before, ["deliveries"], options);
  if (deliveries > 0) webhookDeliveriesPruned.inc(deliveries);
  return deliveries;
}

/** Deletes events that occurred before `before`, and every delivery made before it; answers how many of each. */
export async function pruneEvents(
  pool: Queryable,
  before: Date,
  options: PruneOptions = {},
): Promise<{ events: number; deliveries: number }> {
  const sql = "SELECT * FROM ledger_webhook_prune_events($1, $2)";
  const deleted = await inStatements(pool, sql, before, ["events", "deliveries"], options);
  if (deleted.events > 0) webhookEventsPruned.inc(deleted.events);
  if (deleted.deliveries > 0) webhookDeliveriesPruned.inc(deleted.deliveries);
  return deleted;
}

export interface Retention {
  /** How long after its success a DELIVERED delivery is kept (0: for ever). */
  deliveredRetentionMs: number;
  /** How long after its change an event is kept, with the deliveries made before then (0: for ever). */
  eventRetentionMs: number;
}

export const retains = ({ deliveredRetentionMs, eventRetentionMs }: Retention) => deliveredRetentionMs > 0 || eventRetentionMs > 0;

/** With a retention set, deletes what is past it every `intervalMs`; null without one. */
export function startPruner(pool: Queryable, retention: Retention, intervalMs: number): PeriodicJob | null {
  if (!retains(retention)) return null;
  const { deliveredRetentionMs, eventRetentionMs } = retention;
  return startPeriodicJob({
    logger,
    what: "deleting webhook events and deliveries past their retention",
    intervalMs,
    pass: async (stopped) => {
      const now = Date.now();
      const delivered = deliveredRetentionMs > 0 ? await pruneDelivered(pool, new Date(now - deliveredRetentionMs), { stopped }) : 0;
      const old =
        eventRetentionMs > 0 && !stopped()
          ? await pruneEvents(pool, new Date(now - eventRetentionMs), { stopped })
          : { events: 0, deliveries: 0 };
      const deleted = { events: old.events, deliveries: delivered + old.deliveries };
      if (deleted.events > 0 || deleted.deliveries > 0) logger.info(deleted, "deleted webhook events and deliveries past their retention");
      return deleted.events + deleted.deliveries;
    },
  });
}
