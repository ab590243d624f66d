// Settings from the environment: the browser apps' and introspection's switches, access-token
// limits and secret. Bad values stop the start with a message naming the variable.
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { loadTokenSecret } from "../../src/ledger/access-tokens.js";
import type { Database } from "../../src/db/client.js";

describe("loadConfig", () => {
  const cases: { name: string; env: Record<string, string>; expected: Record<string, unknown> }[] = [
    {
      name: "outside production GraphiQL, the dashboard and introspection are on",
      env: {},
      expected: { graphiql: true, dashboard: true, introspection: true },
    },
    {
      name: "in production they are off",
      env: { NODE_ENV: "production" },
      expected: { graphiql: false, dashboard: false, introspection: false },
    },
    {
      name: "each can be switched on in production",
      env: { NODE_ENV: "production", LEDGER_GRAPHIQL: "true", LEDGER_INTROSPECTION: "1" },
      expected: { graphiql: true, dashboard: false, introspection: true },
    },
    {
      name: "each can be switched off in development",
      env: { LEDGER_DASHBOARD: "false", LEDGER_INTROSPECTION: "0" },
      expected: { graphiql: true, dashboard: false, introspection: false },
    },
    { name: "no secret set means one kept in the database", env: {}, expected: { accessTokenSecret: null } },
    {
      name: "with the embedded PostgreSQL, half the cores run service processes",
      env: {},
      expected: { workers: Math.max(1, Math.floor(availableParallelism() / 2)) },
    },
    {
      name: "with DATABASE_URL, every core runs one",
      env: { DATABASE_URL: "postgresql://x/y" },
      expected: { workers: availableParallelism() },
    },
    { name: "LEDGER_WORKERS sets the count", env: { LEDGER_WORKERS: "3" }, expected: { workers: 3 } },
  ];
  for (const c of cases) {
    it(`loadConfig: ${c.name}`, () => {
      expect(loadConfig(c.env)).toMatchObject(c.expected);
    });
  }

  it("loadConfig: access-token limits come from their variables", () => {
    const { limits } = loadConfig({ LEDGER_ACCESS_TOKEN_TTL_MAX_SECONDS: "120", LEDGER_ACCESS_TOKEN_ACCOUNTS_MAX: "5" });
    expect([limits.accessTokenTtlMaxSeconds, limits.accessTokenAccountsMax]).toEqual([120, 5]);
  });

  it("loadConfig: externalRefLengthMax is 255 unless LEDGER_EXTERNAL_REF_LENGTH_MAX says otherwise", () => {
    expect(loadConfig({}).limits.externalRefLengthMax).toBe(255);
    expect(loadConfig({ LEDGER_EXTERNAL_REF_LENGTH_MAX: "64" }).limits.externalRefLengthMax).toBe(64);
  });

  it("loadConfig: the webhook batch window is 100 ms unless LEDGER_WEBHOOK_BATCH_WINDOW_MS says otherwise", () => {
    expect(loadConfig({}).webhooks.batchWindowMs).toBe(100);
    expect(loadConfig({ LEDGER_WEBHOOK_BATCH_WINDOW_MS: "0" }).webhooks.batchWindowMs).toBe(0);
    expect(loadConfig({ LEDGER_WEBHOOK_BATCH_WINDOW_MS: "10000" }).webhooks.batchWindowMs).toBe(10_000);
  });

  it("loadConfig: delivered webhook deliveries are kept unless LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS says how long", () => {
    expect(loadConfig({}).webhooks.deliveredRetentionMs).toBe(0);
    expect(loadConfig({ LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS: "30" }).webhooks.deliveredRetentionMs).toBe(30 * 86_400_000);
  });

  it("loadConfig: webhook events are kept unless LEDGER_WEBHOOK_EVENT_RETENTION_DAYS is longer than the retry horizon", () => {
    expect(loadConfig({}).webhooks.eventRetentionMs).toBe(0);
    expect(loadConfig({ LEDGER_WEBHOOK_EVENT_RETENTION_DAYS: "4" }).webhooks.eventRetentionMs).toBe(4 * 86_400_000);
    expect(
      loadConfig({ LEDGER_WEBHOOK_EVENT_RETENTION_DAYS: "1", LEDGER_WEBHOOK_RETRY_HORIZON_MS: String(86_400_000 - 1) }).webhooks
        .eventRetentionMs,
    ).toBe(86_400_000);
  });

  const refusals: [Record<string, string>, RegExp][] = [
    [{ LEDGER_WEBHOOK_BATCH_WINDOW_MS: "-1" }, /LEDGER_WEBHOOK_BATCH_WINDOW_MS must be an integer from 0 to 10000, got "-1"/],
    [{ LEDGER_WEBHOOK_BATCH_WINDOW_MS: "100000" }, /LEDGER_WEBHOOK_BATCH_WINDOW_MS must be an integer from 0 to 10000/],
    [{ LEDGER_WEBHOOK_CONCURRENCY_PER_ENDPOINT: "0" }, /LEDGER_WEBHOOK_CONCURRENCY_PER_ENDPOINT must be an integer from 1 to 1000/],
    [
      { LEDGER_WEBHOOK_RETRY_HORIZON_MS: String(31 * 86_400_000) },
      /LEDGER_WEBHOOK_RETRY_HORIZON_MS must be an integer from 0 to 2592000000/,
    ],
    [
      { LEDGER_WEBHOOK_TIMEOUT_MS: "20000", LEDGER_WEBHOOK_LEASE_MS: "20000" },
      /LEDGER_WEBHOOK_LEASE_MS must be an integer from 20001 to 86400000/,
    ],
    [{ LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS: "3651" }, /LEDGER_WEBHOOK_DELIVERED_RETENTION_DAYS must be an integer from 0 to 3650/],
    [{ LEDGER_WEBHOOK_EVENT_RETENTION_DAYS: "3651" }, /LEDGER_WEBHOOK_EVENT_RETENTION_DAYS must be an integer from 0 to 3650/],
    // The default horizon is 3 days: a 3-day retention would delete events whose deliveries still retry.
    [
      { LEDGER_WEBHOOK_EVENT_RETENTION_DAYS: "3" },
      /LEDGER_WEBHOOK_EVENT_RETENTION_DAYS must be 0 or at least 4 \(longer than LEDGER_WEBHOOK_RETRY_HORIZON_MS, 259200000 ms\), got "3"/,
    ],
    [
      { LEDGER_WEBHOOK_EVENT_RETENTION_DAYS: "1", LEDGER_WEBHOOK_RETRY_HORIZON_MS: "86400000" },
      /LEDGER_WEBHOOK_EVENT_RETENTION_DAYS must be 0 or at least 2/,
    ],
    [{ LEDGER_WEBHOOK_ROTATION_GRACE_SECONDS: "604801" }, /LEDGER_WEBHOOK_ROTATION_GRACE_SECONDS must be an integer from 0 to 604800/],
    [{ LEDGER_WEBHOOK_BATCH_WINDOW_MS: "soon" }, /LEDGER_WEBHOOK_BATCH_WINDOW_MS must be an integer/],
    [{ LEDGER_GRAPHIQL: "yes" }, /LEDGER_GRAPHIQL must be true or false/],
    [{ LEDGER_ACCESS_TOKEN_TTL_MAX_SECONDS: "0" }, /LEDGER_ACCESS_TOKEN_TTL_MAX_SECONDS must be an integer from 1 to 2592000/],
    [{ LEDGER_ACCESS_TOKEN_ACCOUNTS_MAX: "many" }, /LEDGER_ACCESS_TOKEN_ACCOUNTS_MAX must be an integer/],
    [{ LEDGER_EXTERNAL_REF_LENGTH_MAX: "0" }, /LEDGER_EXTERNAL_REF_LENGTH_MAX must be an integer from 1 to 255/],
    // The database enforces 255 on keys, codes, names and external references.
    [{ LEDGER_EXTERNAL_REF_LENGTH_MAX: "256" }, /LEDGER_EXTERNAL_REF_LENGTH_MAX must be an integer from 1 to 255, got "256"/],
    [{ LEDGER_IDEMPOTENCY_KEY_LENGTH_MAX: "1000" }, /LEDGER_IDEMPOTENCY_KEY_LENGTH_MAX must be an integer from 1 to 255/],
    // Every other setting has a range too: an extra zero stops the start instead of taking effect.
    [{ LEDGER_TRANSFER_BATCH_SIZE_MAX: "100000" }, /LEDGER_TRANSFER_BATCH_SIZE_MAX must be an integer from 1 to 10000/],
    [{ LEDGER_METADATA_BYTES_MAX: "10485760" }, /LEDGER_METADATA_BYTES_MAX must be an integer from 1 to 1048576/],
    [{ LEDGER_PAGE_SIZE_MAX: "1000000" }, /LEDGER_PAGE_SIZE_MAX must be an integer from 1 to 10000/],
    [{ AUTH_CACHE_MS: "600000" }, /AUTH_CACHE_MS must be an integer from 0 to 60000/],
    [{ HOLD_EXPIRY_INTERVAL_MS: "3600000" }, /HOLD_EXPIRY_INTERVAL_MS must be an integer from 10 to 60000/],
    [{ LIVE_AUTH_RECHECK_MS: "3600000" }, /LIVE_AUTH_RECHECK_MS must be an integer from 100 to 60000/],
    [{ DATABASE_POOL_SIZE: "0" }, /DATABASE_POOL_SIZE must be an integer from 1 to 1000/],
    [{ LEDGER_WRITE_BATCH_MAX: "50000" }, /LEDGER_WRITE_BATCH_MAX must be an integer from 1 to 10000/],
    [{ PORT: "70000" }, /PORT must be an integer from 0 to 65535/],
    [{ LEDGER_DRAIN_TIMEOUT_MS: "3600000" }, /LEDGER_DRAIN_TIMEOUT_MS must be an integer from 0 to 600000/],
    // Read by the logger first (it takes the default then), refused here like the others.
    [{ LOG_LEVEL: "loud" }, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/],
    [{ LOG_FORMAT: "xml" }, /LOG_FORMAT must be json or pretty, got "xml"/],
  ];
  for (const [env, message] of refusals) {
    it(`loadConfig: ${Object.keys(env)[0]}=${Object.values(env)[0]} is refused`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  }
});

describe("loadTokenSecret", () => {
  const unused = {} as Database; // a configured secret never touches the database

  it("loadTokenSecret: a configured secret shorter than 32 bytes is refused", async () => {
    await expect(loadTokenSecret(unused, "short")).rejects.toThrow(/at least 32 bytes/);
  });

  it("loadTokenSecret: a configured secret is used as it is", async () => {
    const secret = "s".repeat(40);
    expect(await loadTokenSecret(unused, secret)).toEqual(Buffer.from(secret));
  });
});
