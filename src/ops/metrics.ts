// Every Prometheus series the service exports, in one place (prom-client's global registry, so
// the cluster primary's AggregatorRegistry can sum the workers). Names: ledger_<what>_<unit>.
// Label values come from the schema and fixed lists, never from client text: bounded cardinality.
import { isMainThread } from "node:worker_threads";
import client from "prom-client";

export const registry = client.register;

/** The default process metrics (CPU, memory, GC, event-loop lag as nodejs_eventloop_lag_*): the main thread's, once per process. */
if (isMainThread) client.collectDefaultMetrics({ register: registry });

/** A registry's series as getMetricsAsJSON gives them (what a thread sends over). */
export type RegistryJson = client.MetricObjectWithValues<client.MetricValue<string>>[];

/**
 * The registries of this process's other threads (the webhook thread's), read at each scrape and
 * summed with this one's: /metrics describes the process, and a cluster worker answers its
 * primary with both (setRegistries).
 */
class ThreadRegistries extends client.Registry {
  readonly sources = new Set<() => Promise<RegistryJson>>();
  override async getMetricsAsJSON(): Promise<RegistryJson> {
    const each = await Promise.all([...this.sources].map((read) => read().catch(() => []))); // a thread that cannot answer is left out
    return each.flat();
  }
}
const threadRegistries = new ThreadRegistries();
client.AggregatorRegistry.setRegistries([registry, threadRegistries]);

/** Adds a thread's registry to this process's metrics; returns its removal. */
export function addThreadMetrics(read: () => Promise<RegistryJson>): () => void {
  threadRegistries.sources.add(read);
  return () => threadRegistries.sources.delete(read);
}

/** This process's metrics in Prometheus' text format: its registry and its threads'. */
export async function processMetricsText(): Promise<string> {
  if (threadRegistries.sources.size === 0) return registry.metrics();
  const all = await Promise.all([registry.getMetricsAsJSON(), threadRegistries.getMetricsAsJSON()]);
  return client.AggregatorRegistry.aggregate(all).metrics();
}

const durationBuckets = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new client.Counter({
  name: "ledger_http_requests_total",
  help: "HTTP requests answered, by route (graphql, metrics, healthz, readyz, web, other) and status code",
  labelNames: ["route", "status"] as const,
});

export const httpRequestsInFlight = new client.Gauge({
  name: "ledger_http_requests_in_flight",
  help: "HTTP requests being answered now",
});

export const operationDuration = new client.Histogram({
  name: "ledger_graphql_operation_duration_seconds",
  help: "GraphQL operations (queries and mutations; subscriptions: their set-up) by transport, operation (type.rootField) and outcome",
  labelNames: ["transport", "operation", "outcome"] as const,
  buckets: durationBuckets,
});

export const graphqlErrors = new client.Counter({
  name: "ledger_graphql_errors_total",
  help: "GraphQL errors sent to clients, by extensions.code",
  labelNames: ["transport", "code"] as const,
});

export const mutationResults = new client.Counter({
  name: "ledger_mutation_results_total",
  help: "Mutation results by mutation, result __typename and whether it was an idempotent replay (batch items counted each)",
  labelNames: ["mutation", "result", "replay"] as const,
});

export const transfersPosted = new client.Counter({
  name: "ledger_transfers_posted_total",
  help: "Transfers newly posted (not replays), by the mutation that posted them",
  labelNames: ["mutation"] as const,
});

export const rejections = new client.Counter({
  name: "ledger_rejections_total",
  help: "Business rejections newly decided (not replays), by problem code",
  labelNames: ["mutation", "code"] as const,
});

export const idempotentReplays = new client.Counter({
  name: "ledger_idempotent_replays_total",
  help: "Answers given again from an idempotency key, by mutation",
  labelNames: ["mutation"] as const,
});

export const holdEvents = new client.Counter({
  name: "ledger_holds_total",
  help: "Holds created, captured, voided (mutations, not replays) and expired (released by the expiry job)",
  labelNames: ["event"] as const,
});

export const writeRetries = new client.Counter({
  name: "ledger_write_retries_total",
  help: "Write batches retried whole, by reason (deadlock, serialization_failure, unique_violation: a key or code another instance inserted at the same time)",
  labelNames: ["reason"] as const,
});

const retryReasons: Record<string, string> = { "40P01": "deadlock", "40001": "serialization_failure", "23505": "unique_violation" };

/** Called by the write queue for each retry of a batch, with the SQLSTATE that caused it. */
export function recordWriteRetry(sqlstate: string): void {
  writeRetries.inc({ reason: retryReasons[sqlstate] ?? "other" });
}

export const writeBatchCommands = new client.Histogram({
  name: "ledger_write_batch_commands",
  help: "Commands per write batch committed (group commit: grows with concurrent load)",
  buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
});

export const writeBatchDuration = new client.Histogram({
  name: "ledger_write_batch_duration_seconds",
  help: "Time of one write batch in PostgreSQL (ledger_execute and its commit), retries included",
  buckets: durationBuckets,
});

/** Called by the write queue after each batch that committed. */
export function recordWriteBatch(commands: number, seconds: number): void {
  writeBatchCommands.observe(commands);
  writeBatchDuration.observe(seconds);
}

export const changeFeedLooks = new client.Counter({
  name: "ledger_change_feed_looks_total",
  help: "Looks of the change feed for committed entries, by outcome",
  labelNames: ["outcome"] as const,
});

export const changeFeedEntries = new client.Counter({
  name: "ledger_change_feed_entries_total",
  help: "Committed entries the change feed handed to subscriptions",
});

export const changeFeedLag = new client.Histogram({
  name: "ledger_change_feed_lag_seconds",
  help: "Time from an entry's timestamp (taken before its commit) to the change feed handing it out",
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

export const slowConsumerCutoffs = new client.Counter({
  name: "ledger_slow_consumer_cutoffs_total",
  help: "WebSocket connections closed with 4029 as slow consumers",
});

export const websocketCloses = new client.Counter({
  name: "ledger_websocket_closes_total",
  help: "WebSocket connections closed, by close code",
  labelNames: ["code"] as const,
});

export const rateLimited = new client.Counter({
  name: "ledger_rate_limited_total",
  help: "Requests and connections refused by a rate limit or connection cap, by kind",
  labelNames: ["kind"] as const,
});

export const clientMistakes = new client.Counter({
  name: "ledger_client_mistakes_total",
  help: "Expected client mistakes answered without a log line each (oversized or malformed messages, bodies, aborted requests)",
  labelNames: ["kind"] as const,
});

/** Gauges read at scrape time from whatever is running in this process (several services in tests). */
interface Sources {
  pools: Set<{ totalCount: number; idleCount: number; waitingCount: number }>;
  websocketConnections: Set<() => number>;
  subscriptions: Set<() => number>;
}
const sources: Sources = { pools: new Set(), websocketConnections: new Set(), subscriptions: new Set() };

/** Registers a source for the scrape-time gauges; returns its removal. */
export function observe<K extends keyof Sources>(kind: K, source: Sources[K] extends Set<infer T> ? T : never): () => void {
  const set = sources[kind] as Set<typeof source>;
  set.add(source);
  return () => set.delete(source);
}

new client.Gauge({
  name: "ledger_db_pool_connections",
  help: "PostgreSQL pool connections by state (in_use, idle) and callers waiting for one (waiting)",
  labelNames: ["state"] as const,
  collect() {
    let total = 0,
      idle = 0,
      waiting = 0;
    for (const pool of sources.pools) {
      total += pool.totalCount;
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    this.set({ state: "in_use" }, total - idle);
    this.set({ state: "idle" }, idle);
    this.set({ state: "waiting" }, waiting);
  },
});

const sumGauge = (name: string, help: string, of: Set<() => number>) =>
  new client.Gauge({
    name,
    help,
    collect() {
      this.set([...of].reduce((sum, read) => sum + read(), 0));
    },
  });
sumGauge("ledger_websocket_connections", "Open WebSocket connections", sources.websocketConnections);
sumGauge("ledger_subscriptions", "Subscriptions running on this instance", sources.subscriptions);

// ------------------------------------------------------------------ webhooks (src/webhooks)

export const webhookEvents = new client.Counter({
  name: "ledger_webhook_events_total",
  help: "Webhook events made from committed changes (for tenants with an endpoint), and the deliveries they got",
  labelNames: ["kind"] as const,
});

export const webhookDeliveriesPruned = new client.Counter({
  name: "ledger_webhook_deliveries_pruned_total",
  help: "Webhook deliveries deleted past their retention (DELIVERED ones by LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS; any made before LEDGER_WEBHOOK_EVENT_RETENTION_DAYS, with the events)",
});

export const webhookEventsPruned = new client.Counter({
  name: "ledger_webhook_events_pruned_total",
  help: "Webhook events deleted once older than LEDGER_WEBHOOK_EVENT_RETENTION_DAYS",
});

export const webhookAttempts = new client.Counter({
  name: "ledger_webhook_attempts_total",
  help: "Webhook delivery attempts by outcome (SUCCESS, HTTP_ERROR, GONE, TIMEOUT, CONNECT_ERROR, REFUSED_ADDRESS)",
  labelNames: ["outcome"] as const,
});

export const webhookAttemptSeconds = new client.Histogram({
  name: "ledger_webhook_attempt_duration_seconds",
  help: "Duration of webhook delivery attempts",
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
});

export const webhookDeliveriesSettled = new client.Counter({
  name: "ledger_webhook_deliveries_total",
  help: "Webhook deliveries settled, by status (delivered, failed: retries ran past the horizon)",
  labelNames: ["status"] as const,
});

export const webhookQueueAge = new client.Gauge({
  name: "ledger_webhook_queue_age_seconds",
  aggregator: "max", // the same reading of the database in every thread and process
  help: "How long the oldest due webhook delivery has been waiting (0: none due); read at each scrape",
});

export const webhookBreakersOpen = new client.Gauge({
  name: "ledger_webhook_breakers_open",
  aggregator: "max", // the same reading of the database in every thread and process
  help: "Webhook endpoints whose circuit breaker is open; read at each scrape",
});

export const webhookQueued = new client.Gauge({
  name: "ledger_webhook_deliveries_pending",
  aggregator: "max", // the same reading of the database in every thread and process
  help: "Webhook deliveries waiting for an attempt (due again, or new and not claimed yet); read at each scrape",
});
