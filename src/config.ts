// Configuration from the environment; every setting is listed in the README.
import { availableParallelism } from "node:os";
import path from "node:path";
import { limitsDefault, type Limits } from "./domain/limits.js";
import { writeSettingsDefault, type WriteSettings } from "./db/write-queue.js";
import { liveOptionsDefault, type LiveOptions } from "./live/options.js";
import { logSettingProblem } from "./ops/log.js";
import { rotationGraceSecondsMax, webhookSettingsOf, type WebhookSettings } from "./webhooks/settings.js";

export interface Config {
  databaseUrl: string | null;
  port: number;
  host: string;
  production: boolean;
  poolSizeMax: number;
  /** Group commit: lanes (batches at once) and the most commands in one batch. */
  writes: WriteSettings;
  embeddedPgPort: number;
  /** Data folder of the embedded PostgreSQL (used when databaseUrl is null). */
  embeddedPgDataDir: string | null;
  authCacheMs: number;
  /** Service processes on the one port (node:cluster); 1: a single process. */
  workers: number;
  /** Longest a SIGTERM/SIGINT waits for requests and socket operations in flight. */
  drainTimeoutMs: number;
  /** Serve Prometheus metrics at /metrics. */
  metrics: boolean;
  /** How long /readyz waits for the database. */
  readyTimeoutMs: number;
  /** Make a demo tenant (and print its key) on a database without tenants. */
  demoTenant: boolean;
  /** Per API key, per second, per service (0: off). */
  mutationsPerSecondMax: number;
  connectionsPerSecondMax: number;
  /** Open WebSocket connections per process, and per tenant per process (0: no cap). */
  webSocketConnectionsMax: number;
  webSocketConnectionsPerTenantMax: number;
  /** Browser apps and introspection; each defaults to on outside production, off in it. */
  graphiql: boolean;
  dashboard: boolean;
  introspection: boolean;
  /** Signs access tokens; null: a secret the service makes once and keeps in the database. */
  accessTokenSecret: string | null;
  /** How often the expiry job looks for expired holds to release. */
  holdExpiryIntervalMs: number;
  /** Subscriptions: change-feed timing and WebSocket settings. */
  live: LiveOptions;
  /** Webhook delivery: the materializer and dispatcher settings. */
  webhooks: WebhookSettings;
  limits: Limits;
}

/** A setting the operator gave that the service cannot start with; the message names it and what it takes. */
export class ConfigError extends Error {}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

function boolFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  if (text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new ConfigError(`${name} must be true or false, got "${text}"`);
}

// Each setting within a range (limits on everything): a value outside stops the start with a
// message naming the range, instead of a typo's extra zeros silently taking effect.
const second = 1_000;
const minute = 60 * second;
const day = 86_400 * second;

/** The largest value each limit may be set to (the smallest is 1). */
const limitMax: Record<keyof Limits, number> = {
  pageSizeMax: 10_000,
  transferBatchSizeMax: 10_000,
  legsPerTransferMax: 1_000,
  metadataBytesMax: 1_048_576,
  descriptionLengthMax: 100_000,
  // The database enforces 255 on keys, codes, names and external references: more could not be honoured.
  idempotencyKeyLengthMax: 255,
  nameLengthMax: 255,
  accountCodeLengthMax: 255,
  externalRefLengthMax: 255,
  queryDepthMax: 100,
  queryAliasesMax: 1_000,
  queryTokensMax: 1_000_000,
  queryCostMax: 10_000_000,
  holdDurationMaxSeconds: 3_650 * 86_400,
  balanceHistoryPointsMax: 100_000,
  subscriptionAccountsMax: 10_000,
  subscriptionsPerConnectionMax: 10_000,
  subscriptionEventsQueuedMax: 1_000_000,
  accessTokenTtlMaxSeconds: 30 * 86_400,
  accessTokenAccountsMax: 10_000,
  webhookEndpointsPerTenantMax: 1_000,
  webhookReplayEventsMax: 1_000_000,
  statementLinesPerCallMax: 100_000,
  statementLinesMax: 100_000_000,
};

const limitEnv: Record<keyof Limits, string> = {
  pageSizeMax: "LEDGER_PAGE_SIZE_MAX",
  transferBatchSizeMax: "LEDGER_TRANSFER_BATCH_SIZE_MAX",
  legsPerTransferMax: "LEDGER_LEGS_PER_TRANSFER_MAX",
  metadataBytesMax: "LEDGER_METADATA_BYTES_MAX",
  descriptionLengthMax: "LEDGER_DESCRIPTION_LENGTH_MAX",
  idempotencyKeyLengthMax: "LEDGER_IDEMPOTENCY_KEY_LENGTH_MAX",
  nameLengthMax: "LEDGER_NAME_LENGTH_MAX",
  accountCodeLengthMax: "LEDGER_ACCOUNT_CODE_LENGTH_MAX",
  externalRefLengthMax: "LEDGER_EXTERNAL_REF_LENGTH_MAX",
  queryDepthMax: "LEDGER_QUERY_DEPTH_MAX",
  queryAliasesMax: "LEDGER_QUERY_ALIASES_MAX",
  queryTokensMax: "LEDGER_QUERY_TOKENS_MAX",
  queryCostMax: "LEDGER_QUERY_COST_MAX",
  holdDurationMaxSeconds: "LEDGER_HOLD_DURATION_MAX_SECONDS",
  balanceHistoryPointsMax: "LEDGER_BALANCE_HISTORY_POINTS_MAX",
  subscriptionAccountsMax: "LEDGER_SUBSCRIPTION_ACCOUNTS_MAX",
  subscriptionsPerConnectionMax: "LEDGER_SUBSCRIPTIONS_PER_CONNECTION_MAX",
  subscriptionEventsQueuedMax: "LEDGER_SUBSCRIPTION_EVENTS_QUEUED_MAX",
  accessTokenTtlMaxSeconds: "LEDGER_ACCESS_TOKEN_TTL_MAX_SECONDS",
  accessTokenAccountsMax: "LEDGER_ACCESS_TOKEN_ACCOUNTS_MAX",
  webhookEndpointsPerTenantMax: "LEDGER_WEBHOOK_ENDPOINTS_PER_TENANT_MAX",
  webhookReplayEventsMax: "LEDGER_WEBHOOK_REPLAY_EVENTS_MAX",
  statementLinesPerCallMax: "LEDGER_STATEMENT_LINES_PER_CALL_MAX",
  statementLinesMax: "LEDGER_STATEMENT_LINES_MAX",
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const logProblem = logSettingProblem(env);
  if (logProblem) throw new ConfigError(logProblem);
  const limits = { ...limitsDefault };
  for (const key of Object.keys(limitEnv) as (keyof Limits)[]) {
    limits[key] = intFrom(env, limitEnv[key], limitsDefault[key], 1, limitMax[key]);
  }
  const production = env.NODE_ENV === "production";
  return {
    databaseUrl: env.DATABASE_URL || null,
    port: intFrom(env, "PORT", 4000, 0, 65_535),
    host: env.HOST || "0.0.0.0",
    production,
    poolSizeMax: intFrom(env, "DATABASE_POOL_SIZE", 20, 1, 1_000),
    writes: {
      lanes: intFrom(env, "LEDGER_WRITE_LANES", writeSettingsDefault.lanes, 1, 64),
      commandsPerBatchMax: intFrom(env, "LEDGER_WRITE_BATCH_MAX", writeSettingsDefault.commandsPerBatchMax, 1, 10_000),
    },
    embeddedPgPort: intFrom(env, "EMBEDDED_PG_PORT", 54329, 1, 65_535),
    embeddedPgDataDir: env.EMBEDDED_PG_DATA_DIR ? path.resolve(env.EMBEDDED_PG_DATA_DIR) : null,
    // PostgreSQL on this machine (embedded) gets half the cores: on 2 cores one service process
    // posts more than two (docs/benchmarks.md, the "(2 processes)" rows).
    workers: intFrom(
      env,
      "LEDGER_WORKERS",
      Math.max(1, env.DATABASE_URL ? availableParallelism() : Math.floor(availableParallelism() / 2)),
      1,
      256,
    ),
    drainTimeoutMs: intFrom(env, "LEDGER_DRAIN_TIMEOUT_MS", 10_000, 0, 10 * minute),
    metrics: boolFrom(env, "LEDGER_METRICS", true),
    readyTimeoutMs: intFrom(env, "LEDGER_READY_TIMEOUT_MS", 1000, 1, minute),
    demoTenant: boolFrom(env, "LEDGER_DEMO_TENANT", !production),
    mutationsPerSecondMax: intFrom(env, "LEDGER_MUTATIONS_PER_SECOND_MAX", 0, 0, 1_000_000),
    connectionsPerSecondMax: intFrom(env, "LEDGER_WS_CONNECTIONS_PER_SECOND_MAX", 0, 0, 1_000_000),
    webSocketConnectionsMax: intFrom(env, "LEDGER_WS_CONNECTIONS_MAX", 20_000, 0, 1_000_000),
    webSocketConnectionsPerTenantMax: intFrom(env, "LEDGER_WS_CONNECTIONS_PER_TENANT_MAX", 0, 0, 1_000_000),
    // At most a minute: a revoked key keeps working for as long as its answer is cached.
    authCacheMs: intFrom(env, "AUTH_CACHE_MS", 2000, 0, minute),
    accessTokenSecret: env.LEDGER_ACCESS_TOKEN_SECRET || null,
    graphiql: boolFrom(env, "LEDGER_GRAPHIQL", !production),
    dashboard: boolFrom(env, "LEDGER_DASHBOARD", !production),
    introspection: boolFrom(env, "LEDGER_INTROSPECTION", !production),
    // At most a minute: an expired hold keeps its money reserved until the job releases it.
    holdExpiryIntervalMs: intFrom(env, "HOLD_EXPIRY_INTERVAL_MS", 1000, 10, minute),
    live: {
      pollIntervalMs: intFrom(env, "LIVE_POLL_INTERVAL_MS", liveOptionsDefault.pollIntervalMs, 10, minute),
      pollGapMs: intFrom(env, "LIVE_POLL_GAP_MS", liveOptionsDefault.pollGapMs, 0, 10 * second),
      notifyGapMs: intFrom(env, "LIVE_NOTIFY_GAP_MS", liveOptionsDefault.notifyGapMs, 0, 10 * second),
      entriesPerLookMax: intFrom(env, "LIVE_ENTRIES_PER_LOOK_MAX", liveOptionsDefault.entriesPerLookMax, 100, 1_000_000),
      connectionInitWaitTimeoutMs: intFrom(
        env,
        "LIVE_CONNECTION_INIT_TIMEOUT_MS",
        liveOptionsDefault.connectionInitWaitTimeoutMs,
        100,
        minute,
      ),
      // At most a minute: a revoked key's subscriptions run on until the next check.
      authRecheckMs: intFrom(env, "LIVE_AUTH_RECHECK_MS", liveOptionsDefault.authRecheckMs, 100, minute),
      slowConsumerMs: intFrom(env, "LIVE_SLOW_CONSUMER_MS", liveOptionsDefault.slowConsumerMs, 100, 10 * minute),
    },
    webhooks: webhookSettingsFrom(env),
    limits,
  };
}

// The webhook settings too: a batch window of 100000 would hold every event back 100 s.

/** 0 (kept for ever), or more whole days than the retry horizon: a delivery's retries never outlive its event. */
function eventRetentionDaysFrom(env: NodeJS.ProcessEnv, horizonMs: number): number {
  const name = "LEDGER_WEBHOOK_EVENT_RETENTION_DAYS";
  const days = intFrom(env, name, 0, 0, 3_650);
  const shortestDays = Math.floor(horizonMs / day) + 1;
  if (days > 0 && days < shortestDays)
    throw new ConfigError(
      `${name} must be 0 or at least ${shortestDays} (longer than LEDGER_WEBHOOK_RETRY_HORIZON_MS, ${horizonMs} ms), got "${env[name]}"`,
    );
  return days;
}

function webhookSettingsFrom(env: NodeJS.ProcessEnv): WebhookSettings {
  const base = webhookSettingsOf();
  const int = (name: string, fallback: number, min: number, max: number) => intFrom(env, name, fallback, min, max);
  const totalTimeoutMs = int("LEDGER_WEBHOOK_TIMEOUT_MS", base.send.totalTimeoutMs, 100, 300 * second);
  const horizonMs = int("LEDGER_WEBHOOK_RETRY_HORIZON_MS", base.retry.horizonMs, 0, 30 * day);
  return webhookSettingsOf({
    enabled: boolFrom(env, "LEDGER_WEBHOOKS", true),
    allowPrivateUrls: boolFrom(env, "LEDGER_WEBHOOK_ALLOW_PRIVATE_URLS", false),
    send: {
      connectTimeoutMs: int("LEDGER_WEBHOOK_CONNECT_TIMEOUT_MS", base.send.connectTimeoutMs, 10, 60 * second),
      totalTimeoutMs,
      responseBytesMax: int("LEDGER_WEBHOOK_RESPONSE_BYTES_MAX", base.send.responseBytesMax, 0, 1024 * 1024),
    },
    retry: {
      baseMs: int("LEDGER_WEBHOOK_RETRY_BASE_MS", base.retry.baseMs, 1, day),
      maxMs: int("LEDGER_WEBHOOK_RETRY_MAX_MS", base.retry.maxMs, 1, 7 * day),
      horizonMs,
    },
    breakerFailuresMax: int("LEDGER_WEBHOOK_BREAKER_FAILURES", base.breakerFailuresMax, 1, 10_000),
    breakerCooldownMs: int("LEDGER_WEBHOOK_BREAKER_COOLDOWN_MS", base.breakerCooldownMs, 1, day),
    concurrencyPerEndpointMax: int("LEDGER_WEBHOOK_CONCURRENCY_PER_ENDPOINT", base.concurrencyPerEndpointMax, 1, 1_000),
    inFlightMax: int("LEDGER_WEBHOOK_IN_FLIGHT_MAX", base.inFlightMax, 1, 10_000),
    leaseMs: int("LEDGER_WEBHOOK_LEASE_MS", totalTimeoutMs + 30_000, totalTimeoutMs + 1, day),
    pollIntervalMs: int("LEDGER_WEBHOOK_POLL_INTERVAL_MS", base.pollIntervalMs, 10, 60 * second),
    batchWindowMs: int("LEDGER_WEBHOOK_BATCH_WINDOW_MS", base.batchWindowMs, 0, 10 * second),
    deliveredRetentionMs: int("LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS", 0, 0, 3_650) * day,
    eventRetentionMs: eventRetentionDaysFrom(env, horizonMs) * day,
    rotationGraceSecondsDefault: int("LEDGER_WEBHOOK_ROTATION_GRACE_SECONDS", base.rotationGraceSecondsDefault, 0, rotationGraceSecondsMax),
    encryptionKey: env.LEDGER_WEBHOOK_ENCRYPTION_KEY || null,
  });
}
