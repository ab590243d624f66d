// Receivers that fail: retries with backoff, timeouts, a receiver that is down, 410, the breaker.
import { describe, expect, it } from "vitest";
import { createAccount, createFundingAccount, transferBetween } from "../support/ledger-client.js";
import {
  createEndpoint,
  distinctEvents,
  endpointWithDeliveries,
  startReceiver,
  useOwnDatabase,
  useWebhookService,
  waitForEndpoint,
  type Receiver,
} from "../support/webhooks.js";

const breakerFailuresMax = 3;
const breakerCooldownMs = 800;
const database = useOwnDatabase("wh_retries");
const service = useWebhookService(database, {
  breakerFailuresMax,
  breakerCooldownMs,
  send: { connectTimeoutMs: 500, totalTimeoutMs: 500 },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A tenant with an endpoint for transfers at `receiver`, and accounts to move money between. */
async function setUp(name: string, receiver: Receiver) {
  const tenant = await service.newTenant(name);
  const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
  const funding = await createFundingAccount(tenant);
  const shop = await createAccount(tenant);
  const pay = (amount: string) => transferBetween(tenant, funding.id, shop.id, amount);
  return { tenant, endpoint, pay };
}

const allDelivered = (count: number) => (endpoint: any) =>
  endpoint.deliveries.nodes.length === count && endpoint.deliveries.nodes.every((d: any) => d.status === "DELIVERED");

describe("webhook retries", () => {
  it("retries a 500 with growing, jittered delays until a 2xx, and records every attempt", async () => {
    const receiver = await startReceiver((_, index) => (index < 2 ? 500 : 200));
    const { tenant, endpoint, pay } = await setUp("retry 500", receiver);
    await pay("1");
    const done = await waitForEndpoint(tenant, endpoint.id, allDelivered(1));
    const [delivery] = done.deliveries.nodes;
    expect(delivery.attempts.map((a: any) => [a.outcome, a.statusCode])).toEqual([
      ["HTTP_ERROR", 500],
      ["HTTP_ERROR", 500],
      ["SUCCESS", 200],
    ]);
    expect(delivery.attemptCount).toBe(3);
    // Backoff base 100 ms, equal jitter: at least 50 ms, then at least 100 ms.
    const [first, second, third] = receiver.received.map((r) => r.at);
    expect(second! - first!).toBeGreaterThanOrEqual(45);
    expect(third! - second!).toBeGreaterThanOrEqual(95);
    expect(new Set(receiver.received.map((r) => r.json.id)).size).toBe(1);
    await receiver.close();
  });

  it("gives up on an answer that hangs past the timeout and tries again", async () => {
    const receiver = await startReceiver((_, index) => (index === 0 ? "hang" : 200));
    const { tenant, endpoint, pay } = await setUp("retry hang", receiver);
    await pay("2");
    const done = await waitForEndpoint(tenant, endpoint.id, allDelivered(1));
    const [timedOut, succeeded] = done.deliveries.nodes[0].attempts;
    expect(timedOut).toMatchObject({ outcome: "TIMEOUT", statusCode: null });
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(450);
    expect(succeeded).toMatchObject({ outcome: "SUCCESS", statusCode: 200 });
    await receiver.close();
  });

  it("loses nothing while the receiver is down: every event arrives once it is back", async () => {
    const receiver = await startReceiver();
    await receiver.close();
    const { tenant, endpoint, pay } = await setUp("receiver down", receiver);
    for (const amount of ["1", "2", "3", "4", "5"]) await pay(amount);
    await waitForEndpoint(tenant, endpoint.id, (e) =>
      e.deliveries.nodes.some((d: any) => d.attempts.some((a: any) => a.outcome === "CONNECT_ERROR")),
    );
    await receiver.reopen();
    await waitForEndpoint(tenant, endpoint.id, allDelivered(5), 30_000);
    const amounts = [...distinctEvents(receiver.received).values()].map((r) => r.json.data.transfer.entries[0].amount);
    expect(amounts.sort()).toEqual(["1", "2", "3", "4", "5"]);
    await receiver.close();
  });

  it("disables an endpoint that answers 410 Gone: its pending delivery waits and goes out once it is enabled again; events meanwhile get none", async () => {
    const receiver = await startReceiver((_, index) => (index === 0 ? 410 : 200));
    const { tenant, endpoint, pay } = await setUp("gone", receiver);
    await pay("7");
    const disabled = await waitForEndpoint(tenant, endpoint.id, (e) => e.status === "DISABLED");
    expect(disabled.disabledReason).toBe("GONE");
    expect(disabled.deliveries.nodes[0].attempts.map((a: any) => a.outcome)).toEqual(["GONE"]);
    await pay("8");
    await sleep(500);
    expect(receiver.received).toHaveLength(1);
    const enabled = await tenant.gql(
      `mutation($input: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $input) { __typename ... on WebhookEndpointUpdated { endpoint { status disabledReason breaker } } } }`,
      { input: { id: endpoint.id, enabled: true } },
    );
    expect(enabled.updateWebhookEndpoint.endpoint).toEqual({ status: "ENABLED", disabledReason: null, breaker: "CLOSED" });
    const after = await waitForEndpoint(tenant, endpoint.id, allDelivered(1));
    expect(after.deliveries.nodes[0].event.payload.data.transfer.entries[0].amount).toBe("7");
    // The transfer made while it was disabled has no delivery (replayWebhookEvents would send it).
    await sleep(300);
    expect((await endpointWithDeliveries(tenant, endpoint.id)).deliveries.nodes).toHaveLength(1);
    await receiver.close();
  });

  it("opens the breaker after consecutive failures, sends nothing while open, probes one at a time, and closes on success", async () => {
    let failing = true;
    let inFlight = 0;
    let firstSuccessAt: number | null = null;
    const concurrencyAfterOpening: number[] = [];
    let openedAt: number | null = null;
    const receiver = await startReceiver(async () => {
      inFlight++;
      if (openedAt !== null && firstSuccessAt === null) concurrencyAfterOpening.push(inFlight);
      await sleep(100);
      inFlight--;
      if (failing) return 500;
      firstSuccessAt ??= Date.now();
      return 200;
    });
    const { tenant, endpoint, pay } = await setUp("breaker", receiver);
    for (const amount of ["1", "2", "3", "4", "5", "6"]) await pay(amount);
    const open = await waitForEndpoint(tenant, endpoint.id, (e) => e.breaker === "OPEN");
    openedAt = Date.now();
    expect(open.consecutiveFailures).toBeGreaterThanOrEqual(breakerFailuresMax);
    const sentWhenOpened = receiver.received.length;
    // Nothing goes out while it is open (the breaker's time, less a margin for the clock).
    const openUntil = new Date(open.breakerOpenUntil).getTime();
    await sleep(Math.max(0, openUntil - Date.now() - 100));
    expect(receiver.received.length).toBe(sentWhenOpened);
    // Half-open: the probe fails, the breaker opens again; the next probe succeeds.
    await receiver.waitFor((r) => r.length > sentWhenOpened, 5000, "the first probe");
    failing = false;
    await waitForEndpoint(tenant, endpoint.id, allDelivered(6), 30_000);
    const closed = await endpointWithDeliveries(tenant, endpoint.id);
    expect(closed.breaker).toBe("CLOSED");
    expect(closed.consecutiveFailures).toBe(0);
    // Every request between the breaker opening and the first success was a lone probe.
    expect(concurrencyAfterOpening.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...concurrencyAfterOpening)).toBe(1);
    await receiver.close();
  });
});

describe("webhook metrics", () => {
  it("counts attempts by outcome and settled deliveries, and reads the queue's gauges", async () => {
    const text = await (await fetch(`http://127.0.0.1:${service.service.port}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? "NaN");
    // The tests above made each of these happen at least once.
    for (const outcome of ["SUCCESS", "HTTP_ERROR", "TIMEOUT", "CONNECT_ERROR", "GONE"]) {
      expect(value(`ledger_webhook_attempts_total{outcome="${outcome}"}`)).toBeGreaterThanOrEqual(1);
    }
    expect(value(`ledger_webhook_deliveries_total{status="delivered"}`)).toBeGreaterThanOrEqual(5);
    expect(value(`ledger_webhook_events_total{kind="event"}`)).toBeGreaterThanOrEqual(5);
    // Everything above was delivered in the end, and every breaker closed again.
    expect(value("ledger_webhook_deliveries_pending")).toBe(0);
    expect(value("ledger_webhook_queue_age_seconds")).toBe(0);
    expect(value("ledger_webhook_breakers_open")).toBe(0);
  });
});
