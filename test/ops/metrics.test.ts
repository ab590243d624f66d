// /metrics after real traffic: business counters read back from the mutations' results, and
// every error a client can get carrying a stable extensions.code.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount, createFundingAccount, createHold, expectResult, key, postTransfer, voidHold } from "../support/ledger-client.js";
import { startTestService, type TestService, type TestTenant } from "../support/service.js";

let service: TestService;
let tenant: TestTenant;

beforeAll(async () => {
  service = await startTestService();
  tenant = await service.newTenant();
});
afterAll(async () => {
  await service.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(service.service.url.replace(/\/graphql$/, "/metrics"));
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
  return response.text();
}

/** The value of one series (0 when absent), e.g. value(text, 'ledger_rejections_total{mutation="postTransfer",code="InsufficientFunds"}'). */
function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe("/metrics", () => {
  it("counts posted transfers, rejections by code, idempotent replays and holds from the mutations' results", async () => {
    const funding = await createFundingAccount(tenant);
    const merchant = await createAccount(tenant);
    const before = await scrape();
    const replayed = key("replayed");
    for (let i = 0; i < 3; i++)
      await postTransfer(tenant, { from: { id: funding.id }, to: { id: merchant.id }, amount: "10", currency: "USD" });
    await postTransfer(tenant, {
      idempotencyKey: replayed,
      from: { id: funding.id },
      to: { id: merchant.id },
      amount: "1",
      currency: "USD",
    });
    await postTransfer(tenant, {
      idempotencyKey: replayed,
      from: { id: funding.id },
      to: { id: merchant.id },
      amount: "1",
      currency: "USD",
    });
    const refused = await postTransfer(tenant, { from: { id: merchant.id }, to: { id: funding.id }, amount: "1000000", currency: "USD" });
    expect(refused.__typename).toBe("InsufficientFunds");
    const hold = expectResult(
      await createHold(tenant, {
        from: { id: funding.id },
        to: { id: merchant.id },
        amount: "5",
        currency: "USD",
        expiresInSeconds: 600,
      }),
      "HoldCreated",
    );
    await voidHold(tenant, hold.hold.id);
    const after = await scrape();
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('ledger_transfers_posted_total{mutation="postTransfer"}')).toBe(4);
    expect(delta('ledger_mutation_results_total{mutation="postTransfer",result="TransferPosted",replay="true"}')).toBe(1);
    expect(delta('ledger_idempotent_replays_total{mutation="postTransfer"}')).toBe(1);
    expect(delta('ledger_rejections_total{mutation="postTransfer",code="InsufficientFunds"}')).toBe(1);
    expect(delta('ledger_holds_total{event="created"}')).toBe(1);
    expect(delta('ledger_holds_total{event="voided"}')).toBe(1);
    expect(delta('ledger_graphql_operation_duration_seconds_count{transport="http",operation="mutation.postTransfer",outcome="ok"}')).toBe(
      6,
    );
    // Sent one after another, each of the 8 writes is a batch of its own.
    expect(delta("ledger_write_batch_commands_count")).toBeGreaterThanOrEqual(8);
    expect(delta("ledger_write_batch_commands_sum")).toBeGreaterThanOrEqual(8);
    expect(delta("ledger_write_batch_duration_seconds_count")).toBe(delta("ledger_write_batch_commands_count"));
    for (const series of [
      "ledger_db_pool_connections",
      "ledger_websocket_connections",
      "ledger_subscriptions",
      "ledger_write_retries_total",
      "ledger_change_feed_looks_total",
      "ledger_change_feed_lag_seconds",
      "ledger_slow_consumer_cutoffs_total",
      "nodejs_eventloop_lag_seconds",
      "process_cpu_user_seconds_total",
    ]) {
      expect(after).toContain(`# TYPE ${series} `);
    }
  });

  it("counts GraphQL errors by code", async () => {
    const before = await scrape();
    await service.post({ query: "{ viewer { scope } }" }, { authorization: "Bearer lk_unknown" });
    const after = await scrape();
    expect(
      value(after, 'ledger_graphql_errors_total{transport="http",code="UNAUTHENTICATED"}') -
        value(before, 'ledger_graphql_errors_total{transport="http",code="UNAUTHENTICATED"}'),
    ).toBe(1);
  });

  it("is not served with LEDGER_METRICS off (metrics: false)", async () => {
    const off = await startTestService({}, {}, { metrics: false });
    try {
      expect((await fetch(off.service.url.replace(/\/graphql$/, "/metrics"))).status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});

describe("error answers", () => {
  const bearer = () => ({ authorization: `Bearer ${tenant.key}` });
  it.each([
    [
      "a body over 1 MiB",
      () => service.post(JSON.stringify({ query: "{ limits { pageSizeMax } }", variables: { pad: "x".repeat(1024 * 1024) } }), bearer()),
      413,
      "PAYLOAD_TOO_LARGE",
    ],
    ["malformed JSON", () => service.post('{"query": ', bearer()), 400, "BAD_REQUEST"],
    ["no credentials", () => service.post({ query: "{ limits { pageSizeMax } }" }), 401, "UNAUTHENTICATED"],
    ["a syntax error", () => service.post({ query: "{ limits { pageSizeMax }" }, bearer()), 400, "GRAPHQL_PARSE_FAILED"],
    ["an unknown field", () => service.post({ query: "{ nope }" }, bearer()), 400, "GRAPHQL_VALIDATION_FAILED"],
    [
      "a query over a limit",
      () => service.post({ query: `{ ${Array.from({ length: 40 }, (_, i) => `a${i}: limits { pageSizeMax }`).join(" ")} }` }, bearer()),
      400,
      "LIMIT_EXCEEDED",
    ],
  ] as const)("%s has a stable extensions.code and a message that is not a stack", async (_name, send, status, code) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.errors?.[0]?.extensions?.code).toBe(code);
    expect(response.errors?.[0]?.message).not.toMatch(/^Syntax Error: (Query|Aliases|Document contains)/);
  });

  it("a path other than /graphql is a 404 with NOT_FOUND", async () => {
    const response = await fetch(service.service.url.replace(/\/graphql$/, "/nope"));
    expect(response.status).toBe(404);
    expect((await response.json()).errors[0].extensions.code).toBe("NOT_FOUND");
  });

  it("echoes the client's x-request-id, and makes one when none is sent", async () => {
    const given = await fetch(service.service.url.replace(/\/graphql$/, "/healthz"), { headers: { "x-request-id": "abc-123" } });
    expect(given.headers.get("x-request-id")).toBe("abc-123");
    const made = await fetch(service.service.url.replace(/\/graphql$/, "/healthz"));
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
