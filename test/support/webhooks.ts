// Webhook tests: a database of their own (the materializer and dispatcher are global to a
// database, so two files' workers with different settings must not share one), real HTTP
// receivers on loopback, and helpers over the webhook API.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { ledgerTypes } from "../../src/db/pg-types.js";
import { afterAll, beforeAll, expect, inject } from "vitest";
import { applyMigrations } from "../../src/db/migrate.js";
import { webhookSettingsOf, type WebhookSettingsOverrides } from "../../src/webhooks/settings.js";
import { verifySignature } from "../../src/webhooks/signature.js";
import { createDatabase, dropDatabase, randomSuffix } from "../global-setup.js";
import { checkInvariants } from "./invariants.js";
import { createAccount, createFundingAccount } from "./ledger-client.js";
import { until } from "./live-client.js";
import { startTestService, type TestService, type TestTenant } from "./service.js";

/** Settings for tests: private URLs allowed (receivers are on loopback), quick polls and retries. */
export const testWebhookSettings = (overrides: WebhookSettingsOverrides = {}) =>
  webhookSettingsOf({
    allowPrivateUrls: true,
    pollIntervalMs: 50,
    batchWindowMs: 20,
    retry: { baseMs: 100, maxMs: 400, horizonMs: 60_000 },
    breakerFailuresMax: 1000,
    ...overrides,
    send: { connectTimeoutMs: 1000, totalTimeoutMs: 2000, ...overrides.send },
  });

/** The environment of a service process (startServiceProcess) on `databaseUrl` for crash tests: quick leases, polls and retries. */
export const webhookProcessEnv = (databaseUrl: string) => ({
  DATABASE_URL: databaseUrl,
  LEDGER_WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  LEDGER_WEBHOOK_LEASE_MS: "3000",
  LEDGER_WEBHOOK_TIMEOUT_MS: "2000",
  LEDGER_WEBHOOK_CONNECT_TIMEOUT_MS: "1000",
  LEDGER_WEBHOOK_POLL_INTERVAL_MS: "50",
  LEDGER_WEBHOOK_RETRY_BASE_MS: "100",
  LEDGER_WEBHOOK_RETRY_MAX_MS: "400",
  LEDGER_WEBHOOK_BREAKER_FAILURES: "1000",
  LEDGER_WEBHOOK_CONCURRENCY_PER_ENDPOINT: "8",
});

/** Waits until the database holds `count` deliveries, every one DELIVERED (one per committed transfer, in the crash tests). */
export function allDelivered(pool: pg.Pool, count: number, timeoutMs = 90_000): Promise<void> {
  return until(
    async () => {
      const { rows } = await pool.query<{ total: number; delivered: number }>(
        "SELECT count(*)::int AS total, count(*) FILTER (WHERE status = 'DELIVERED')::int AS delivered FROM webhook_deliveries",
      );
      return rows[0]!.total === count && rows[0]!.delivered === count;
    },
    () => `every transfer's delivery DELIVERED (${count} transfers)`,
    timeoutMs,
    50,
  );
}

/** A fresh database with every migration, dropped after the file (sessions closed by force). */
export function useOwnDatabase(name: string): { url(): string } {
  let url: string | null = null;
  const database = `ledger_${name}_${randomSuffix()}`;
  beforeAll(async () => {
    url = await createDatabase(inject("databaseUrl"), database);
    await applyMigrations(url);
  });
  afterAll(async () => {
    if (url) await dropDatabase(inject("databaseUrl"), database);
  });
  return {
    url: () => {
      if (!url) throw new Error("the database is used before its beforeAll ran");
      return url;
    },
  };
}

/** A connection of the file's own to `database` (the ledger's types), open from before its tests until after them. */
export function useConnection(database: { url(): string }): pg.Client {
  let client: pg.Client | null = null;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: database.url(), types: ledgerTypes });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });
  return new Proxy({} as pg.Client, {
    get(_, property) {
      if (!client) throw new Error("the connection is used before its beforeAll ran");
      const value = client[property as keyof pg.Client];
      return typeof value === "function" ? value.bind(client) : value;
    },
  });
}

/** The file's service on its own database, with the webhook worker running. */
export function useWebhookService(database: { url(): string }, overrides: WebhookSettingsOverrides = {}): TestService {
  let service: TestService | null = null;
  beforeAll(async () => {
    service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: testWebhookSettings(overrides) });
  });
  afterAll(async () => {
    if (!service) return;
    expect(await checkInvariants(service.db.pool)).toEqual([]);
    await service.stop();
  });
  return new Proxy({} as TestService, {
    get(_, property) {
      if (!service) throw new Error("the webhook service is used before its beforeAll ran");
      return service[property as keyof TestService];
    },
  });
}

/**
 * A tenant of `service` whose endpoint at `url` takes transfer.posted events, with a funding
 * account and another account to pay into.
 */
export async function transferEndpointTenant(service: TestService, name: string, url: string) {
  const tenant = await service.newTenant(name);
  const endpoint = await createEndpoint(tenant, { url, eventTypes: ["TRANSFER_POSTED"] });
  const funding = await createFundingAccount(tenant);
  return { tenant, endpoint, funding, account: await createAccount(tenant) };
}

// ------------------------------------------------------------------ deliveries made in SQL

/**
 * `count` events with a delivery each for the endpoint, as the materializer makes them (its work
 * listed too: ledger_webhook_work_from), the first `pending` still to send and the rest already
 * DELIVERED; answers the deliveries' seqs in order. For tests of the claim's SQL itself.
 */
export async function insertDeliveries(client: pg.ClientBase, endpointId: string, count: number, pending = count): Promise<string[]> {
  const { rows } = await client.query<{ seq: string }>(
    `WITH ev AS (
       INSERT INTO webhook_events (id, tenant_id, type, occurred_at, account_ids, payload)
       SELECT gen_random_uuid(), t.tenant_id, 'transfer.posted', now(), '{}', '{}'
         FROM generate_series(1, $1), (SELECT tenant_id FROM webhook_endpoints WHERE id = $2) t
       RETURNING id, tenant_id
     ), made AS (
       INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, status)
       SELECT ledger_uuidv7(), tenant_id, $2, id,
              CASE WHEN row_number() OVER () <= $3 THEN 'PENDING' ELSE 'DELIVERED' END::"WebhookDeliveryStatus" FROM ev
       RETURNING seq
     )
     SELECT made.seq::text FROM made, (SELECT ledger_webhook_work_from(ARRAY[$2::uuid], ARRAY[now()])) work ORDER BY made.seq`,
    [count, endpointId, pending],
  );
  return rows.map((r) => r.seq);
}

// ------------------------------------------------------------------ receivers

/** Starts receivers (startReceiver) that are closed after the file. */
export function useReceivers(): (respond?: Receiver["respond"]) => Promise<Receiver> {
  const started: Receiver[] = [];
  afterAll(async () => {
    for (const receiver of started) await receiver.close();
  });
  return async (respond) => {
    const receiver = await startReceiver(respond);
    started.push(receiver);
    return receiver;
  };
}

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: { id: string; type: string; createdAt: string; data: Record<string, any> };
  at: number;
}

/** What the receiver does with a request: answer a status, hang (never answer), or drop the connection. */
export type Behaviour = number | "hang" | "drop";

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Requests being answered right now, by delivery id (two at once for one id would be a double send). */
  inFlightMax: Map<string, number>;
  respond: (request: Received, index: number) => Behaviour | Promise<Behaviour>;
  /** Resolves once `predicate` holds for what was received (fails after timeoutMs). */
  waitFor(predicate: (received: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
  /** Listens again on the same port (after close). */
  reopen(): Promise<void>;
}

export async function startReceiver(respond: Receiver["respond"] = () => 200, port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const current = new Map<string, number>();
  const inFlightMax = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const item: Received = { headers: request.headers, body, json: JSON.parse(body), at: Date.now() };
      const deliveryId = String(request.headers["ledger-delivery-id"]);
      current.set(deliveryId, (current.get(deliveryId) ?? 0) + 1);
      inFlightMax.set(deliveryId, Math.max(inFlightMax.get(deliveryId) ?? 0, current.get(deliveryId)!));
      const done = () => current.set(deliveryId, current.get(deliveryId)! - 1);
      const index = received.length;
      received.push(item);
      for (const wake of waiters) wake();
      const behaviour = await receiver.respond(item, index);
      if (behaviour === "hang") {
        hanging.add(response);
        response.once("close", () => {
          hanging.delete(response);
          done();
        });
        return;
      }
      done();
      if (behaviour === "drop") {
        request.socket.destroy();
        return;
      }
      response.writeHead(behaviour, { "content-type": "text/plain" }).end(behaviour < 300 ? "ok" : "no");
    });
  });
  const listen = (at: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(at, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listen(port);
  const actualPort = (server.address() as AddressInfo).port;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${actualPort}/hooks`,
    port: actualPort,
    received,
    inFlightMax,
    respond,
    waitFor(predicate, timeoutMs = 20_000, what = "the expected webhooks") {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}: ${received.length} received (${received.map((r) => r.json.type).join(", ")})`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    reopen: () => listen(actualPort),
  };
  return receiver;
}

/** Distinct events received, by event id (retries and duplicates collapse). */
export const distinctEvents = (received: readonly Received[]) => new Map(received.map((r) => [r.json.id, r]));

export function expectSigned(received: Received, secret: string): void {
  const header = String(received.headers["ledger-signature"]);
  expect(verifySignature(header, received.body, secret, {})).toEqual({ ok: true });
  expect(received.headers["ledger-event-id"]).toBe(received.json.id);
  expect(received.headers["ledger-event-type"]).toBe(received.json.type);
}

// ------------------------------------------------------------------ API

export const allEventTypes = ["TRANSFER_POSTED", "HOLD_CREATED", "HOLD_CAPTURED", "HOLD_VOIDED", "HOLD_EXPIRED", "ACCOUNT_CREATED"];

export const endpointFields = `id url description eventTypes status disabledReason breaker consecutiveFailures breakerOpenUntil
  previousSecretExpiresAt createdAt filter { accountId metadata }`;

const problemFields = `... on Problem { code message } ... on InvalidInput { field reason } ... on LimitExceeded { limit max }`;

export const createEndpointMutation = `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  __typename ... on WebhookEndpointCreated { secret endpoint { ${endpointFields} } } ${problemFields} } }`;

export async function createEndpoint(
  tenant: TestTenant,
  input: { url: string; eventTypes?: string[]; filter?: Record<string, unknown>; description?: string },
): Promise<{ id: string; secret: string }> {
  const data = await tenant.gql(createEndpointMutation, { input: { eventTypes: allEventTypes, ...input } });
  const result = data.createWebhookEndpoint;
  if (result.__typename !== "WebhookEndpointCreated") throw new Error(JSON.stringify(result));
  return { id: result.endpoint.id, secret: result.secret };
}

export const deliveriesQuery = `query($id: ID!, $status: WebhookDeliveryStatus, $first: Int) { webhookEndpoint(id: $id) {
  ${endpointFields}
  deliveries(status: $status, first: $first) { nodes { id status attemptCount nextAttemptAt deliveredAt failedAt
    event { id type occurredAt payload } attempts { at outcome statusCode durationMs error } } pageInfo { hasNextPage endCursor } } } }`;

export async function endpointWithDeliveries(tenant: TestTenant, id: string, status?: string) {
  const data = await tenant.gql(deliveriesQuery, { id, status, first: 100 });
  return data.webhookEndpoint;
}

/** Polls until `predicate` holds for the endpoint (with deliveries). */
export async function waitForEndpoint(
  tenant: TestTenant,
  id: string,
  predicate: (endpoint: any) => boolean,
  timeoutMs = 20_000,
  what = "the endpoint's state",
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const endpoint = await endpointWithDeliveries(tenant, id);
    if (predicate(endpoint)) return endpoint;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(endpoint).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
