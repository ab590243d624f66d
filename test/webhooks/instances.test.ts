// Two instances of the service on one database share the deliveries: a delivery is attempted by
// one of them at a time, the per-endpoint limit counts both, and when one stops the other
// delivers the rest. In-process services (each with its own pool, so its own sessions, advisory
// locks and leases, as two processes have): their dispatchers can be asked what they sent.
import { afterEach, describe, expect, it } from "vitest";
import { fromEndpointGlobalId } from "../../src/webhooks/ids.js";
import type { WebhookSettingsOverrides } from "../../src/webhooks/settings.js";
import { checkInvariants } from "../support/invariants.js";
import { createAccount, createFundingAccount, transferBetween } from "../support/ledger-client.js";
import { until } from "../support/live-client.js";
import { startTestService, type TestService } from "../support/service.js";
import {
  createEndpoint,
  distinctEvents,
  expectSigned,
  startReceiver,
  testWebhookSettings,
  useOwnDatabase,
  type Receiver,
} from "../support/webhooks.js";

const database = useOwnDatabase("wh_instances");

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const running: TestService[] = [];
afterEach(async () => {
  for (const service of running.splice(0)) await service.stop().catch(() => {});
});

/** Two services on the file's database; a lease and timeout long enough that only a bug sends an attempt twice. */
async function twoInstances(overrides: WebhookSettingsOverrides): Promise<[TestService, TestService]> {
  const settings = testWebhookSettings({ leaseMs: 60_000, ...overrides, send: { totalTimeoutMs: 20_000 } });
  const pair: TestService[] = [];
  for (let i = 0; i < 2; i++) {
    const service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: settings });
    running.push(service);
    pair.push(service);
  }
  return pair as [TestService, TestService];
}

/** The attempts an instance's dispatcher has sent (its last count once stopped). */
const attemptsSentBy = (service: TestService) => async () => (await service.service.webhooks()!.dispatcher()).attemptsSent;

/**
 * A receiver that holds every request until `open()` (so the first claims of both instances
 * overlap), then answers after a delay: 500 to a delivery's first request, 200 after. It counts
 * the requests it is answering at once.
 */
async function failingFirst(delayMs: number) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const seen = new Map<string, number>();
  const state = { current: 0, max: 0 };
  const receiver = await startReceiver(async (request) => {
    state.current++;
    state.max = Math.max(state.max, state.current);
    const deliveryId = String(request.headers["ledger-delivery-id"]);
    const n = (seen.get(deliveryId) ?? 0) + 1;
    seen.set(deliveryId, n);
    await opened;
    await sleep(delayMs);
    state.current--;
    return n === 1 ? 500 : 200;
  });
  return { receiver, open, state };
}

/** The tenant's deliveries by status. */
async function deliveryStates(service: TestService, tenantId: string): Promise<Record<string, number>> {
  const { rows } = await service.db.pool.query<{ status: string; n: number }>(
    "SELECT status, count(*)::int AS n FROM webhook_deliveries WHERE tenant_id = $1 GROUP BY status",
    [tenantId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function untilAllDelivered(service: TestService, tenantId: string, count: number): Promise<void> {
  let states: Record<string, number> = {};
  await until(
    async () => {
      states = await deliveryStates(service, tenantId);
      return JSON.stringify(states) === JSON.stringify({ DELIVERED: count });
    },
    () => `${count} deliveries DELIVERED (by status: ${JSON.stringify(states)})`,
    90_000,
    50,
  );
}

/** Every delivery of `endpointId`: two requests (the 500, then the 200), never two at once, attempts 1 then 2, one event. */
async function expectDeliveredOnceEach(service: TestService, receiver: Receiver, endpointId: string, secret: string, count: number) {
  const { rows } = await service.db.pool.query<{ status: string; attempts: string[] }>(
    `SELECT d.status, array(SELECT a->>'outcome' FROM jsonb_array_elements(d.attempts) AS a) AS attempts
       FROM webhook_deliveries d WHERE d.endpoint_id = $1`,
    [fromEndpointGlobalId(endpointId)],
  );
  expect(receiver.inFlightMax.size).toBe(count);
  expect(Math.max(...receiver.inFlightMax.values())).toBe(1);
  expect(rows).toHaveLength(count);
  expect(rows.filter((r) => r.status !== "DELIVERED" || r.attempts.join() !== "HTTP_ERROR,SUCCESS")).toEqual([]);
  expect(receiver.received).toHaveLength(2 * count);
  const attemptsByDelivery = new Map<string, string[]>();
  for (const r of receiver.received) {
    const id = String(r.headers["ledger-delivery-id"]);
    attemptsByDelivery.set(id, [...(attemptsByDelivery.get(id) ?? []), String(r.headers["ledger-delivery-attempt"])]);
    expectSigned(r, secret);
  }
  expect([...attemptsByDelivery.values()].filter((a) => a.join() !== "1,2")).toEqual([]);
  expect(distinctEvents(receiver.received).size).toBe(count);
}

describe("webhooks on two instances", () => {
  it("two instances share the deliveries without sending the same attempt twice at once, and one carries on when the other stops", async () => {
    // At most 3 attempts in flight per instance, 8 for the endpoint: one instance cannot take all the work.
    const [first, second] = await twoInstances({ inFlightMax: 3, concurrencyPerEndpointMax: 8 });
    const { receiver, open } = await failingFirst(100);
    const tenant = await second.newTenant("instances");
    const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
    const funding = await createFundingAccount(tenant);
    const shop = await createAccount(tenant);
    const transfers = 100;
    // Posted through the second instance, in four streams, while deliveries go out.
    let posted = 0;
    const posting = Promise.all(
      Array.from({ length: 4 }, async () => {
        while (posted < transfers) {
          posted++;
          expect((await transferBetween(tenant, funding.id, shop.id, "1")).__typename).toBe("TransferPosted");
        }
      }),
    );
    const [a, b] = [attemptsSentBy(first), attemptsSentBy(second)];
    await until(async () => (await a()) > 0 && (await b()) > 0, "both instances to claim deliveries", 30_000);
    open();

    // Stop the first instance part way; the second delivers the rest (and takes over making events if the first did).
    await receiver.waitFor((received) => received.length >= 60, 60_000, "60 requests");
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const sentByFirst = await a();
    const sentBySecondBefore = await b();
    const atStop = await deliveryStates(second, tenant.id);
    await posting;
    await untilAllDelivered(second, tenant.id, transfers);

    await expectDeliveredOnceEach(second, receiver, endpoint.id, endpoint.secret, transfers);
    expect(sentByFirst).toBeGreaterThan(0);
    expect(await a()).toBe(sentByFirst); // stopped: sent nothing more
    expect(await b()).toBeGreaterThan(sentBySecondBefore);
    expect(sentByFirst + (await b())).toBe(2 * transfers);
    expect(atStop.DELIVERED ?? 0).toBeLessThan(transfers); // work was left when the first stopped
    expect(await checkInvariants(second.db.pool)).toEqual([]);
    console.info(
      `instances: ${sentByFirst} attempts by the first (stopped after ${sentByFirst + sentBySecondBefore} of ${2 * transfers}), ` +
        `${await b()} by the second; deliveries at the stop ${JSON.stringify(atStop)}`,
    );
    await receiver.close();
  }, 180_000);

  it("the per-endpoint concurrency limit holds across both instances", async () => {
    // Limit 2 per endpoint; each instance alone could have 3 in flight, both together 6.
    const [first, second] = await twoInstances({ inFlightMax: 3, concurrencyPerEndpointMax: 2 });
    // Two endpoints (room for 4 at once, more than one instance takes), so both instances get work.
    const one = await failingFirst(100);
    const two = await failingFirst(100);
    const tenant = await first.newTenant("endpoint limit");
    const funding = await createFundingAccount(tenant);
    const shops = [await createAccount(tenant), await createAccount(tenant)];
    const endpoints = [
      await createEndpoint(tenant, { url: one.receiver.url, eventTypes: ["TRANSFER_POSTED"], filter: { accountId: shops[0]!.id } }),
      await createEndpoint(tenant, { url: two.receiver.url, eventTypes: ["TRANSFER_POSTED"], filter: { accountId: shops[1]!.id } }),
    ];
    const perEndpoint = 30;
    const posting = Promise.all(
      shops.map(async (shop) => {
        for (let i = 0; i < perEndpoint; i++) {
          expect((await transferBetween(tenant, funding.id, shop.id, "1")).__typename).toBe("TransferPosted");
        }
      }),
    );
    const [a, b] = [attemptsSentBy(first), attemptsSentBy(second)];
    await until(async () => (await a()) > 0 && (await b()) > 0, "both instances to claim deliveries", 30_000);
    one.open();
    two.open();
    await posting;
    await untilAllDelivered(second, tenant.id, 2 * perEndpoint);
    for (const [index, { receiver }] of [one, two].entries()) {
      await expectDeliveredOnceEach(second, receiver, endpoints[index]!.id, endpoints[index]!.secret, perEndpoint);
    }
    expect(one.state.max).toBeLessThanOrEqual(2);
    expect(two.state.max).toBeLessThanOrEqual(2);
    expect(Math.max(one.state.max, two.state.max)).toBe(2); // the limit was reached, not just never approached
    expect(await a()).toBeGreaterThan(0);
    expect(await b()).toBeGreaterThan(0);
    expect((await a()) + (await b())).toBe(4 * perEndpoint);
    expect(await checkInvariants(second.db.pool)).toEqual([]);
    console.info(`endpoint limit: at most ${one.state.max} and ${two.state.max} at once; attempts ${await a()} and ${await b()}`);
    await one.receiver.close();
    await two.receiver.close();
  }, 180_000);
});
