// After the retry horizon a delivery is FAILED (the dead letter); it can be sent again, and a
// period's events replayed.
import { describe, expect, it } from "vitest";
import { fromEndpointGlobalId } from "../../src/webhooks/ids.js";
import { createAccount, createFundingAccount, transferBetween } from "../support/ledger-client.js";
import {
  createEndpoint,
  distinctEvents,
  endpointWithDeliveries,
  startReceiver,
  useOwnDatabase,
  useWebhookService,
  waitForEndpoint,
} from "../support/webhooks.js";

const database = useOwnDatabase("wh_dead_letter");
const service = useWebhookService(database, { retry: { baseMs: 100, maxMs: 200, horizonMs: 1000 } });

const retryMutation = `mutation($id: ID!) { retryWebhookDelivery(id: $id) { __typename
  ... on WebhookDeliveryRetried { delivery { id status event { id } } } ... on Problem { code message } } }`;
const replayMutation = `mutation($input: ReplayWebhookEventsInput!) { replayWebhookEvents(input: $input) { __typename
  ... on WebhookEventsReplayed { deliveries endpoint { id } } ... on Problem { code message } ... on InvalidInput { field reason }
  ... on LimitExceeded { limit max } } }`;

describe("webhook dead letters and re-sends", () => {
  it("marks a delivery FAILED once retries pass the horizon, and retryWebhookDelivery sends it again", async () => {
    let up = false;
    const receiver = await startReceiver(() => (up ? 200 : 503));
    const tenant = await service.newTenant("dead letter");
    const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
    const funding = await createFundingAccount(tenant);
    await transferBetween(tenant, funding.id, (await createAccount(tenant)).id, "11");
    const failed = await waitForEndpoint(tenant, endpoint.id, (e) => e.deliveries.nodes[0]?.status === "FAILED", 20_000);
    const [delivery] = failed.deliveries.nodes;
    expect(delivery.failedAt).not.toBeNull();
    expect(delivery.nextAttemptAt).toBeNull();
    expect(delivery.attempts.length).toBeGreaterThanOrEqual(2);
    expect(delivery.attempts.every((a: any) => a.outcome === "HTTP_ERROR" && a.statusCode === 503)).toBe(true);
    const attemptsWhenFailed = receiver.received.length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.received.length).toBe(attemptsWhenFailed); // the dead letter is left alone

    up = true;
    const retried = await tenant.gql(retryMutation, { id: delivery.id });
    expect(retried.retryWebhookDelivery).toMatchObject({
      __typename: "WebhookDeliveryRetried",
      delivery: { id: delivery.id, status: "PENDING" },
    });
    await waitForEndpoint(tenant, endpoint.id, (e) => e.deliveries.nodes[0].status === "DELIVERED");
    expect(new Set(receiver.received.map((r) => r.json.id))).toEqual(new Set([delivery.event.id]));

    const unknown = await tenant.gql(retryMutation, { id: "whdl_00000000-0000-4000-8000-000000000000" });
    expect(unknown.retryWebhookDelivery).toMatchObject({ __typename: "WebhookDeliveryNotFound", code: "WebhookDeliveryNotFound" });
    const other = await service.newTenant("dead letter other");
    const foreign = await other.gql(retryMutation, { id: delivery.id });
    expect(foreign.retryWebhookDelivery.__typename).toBe("WebhookDeliveryNotFound");
    await receiver.close();
  });

  it("replays a period's events as new deliveries with the same event ids", async () => {
    const receiver = await startReceiver();
    const tenant = await service.newTenant("replay");
    const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
    const funding = await createFundingAccount(tenant);
    const shop = await createAccount(tenant);
    const from = new Date(Date.now() - 1000).toISOString();
    for (const amount of ["1", "2", "3"]) await transferBetween(tenant, funding.id, shop.id, amount);
    await waitForEndpoint(tenant, endpoint.id, (e) => e.deliveries.nodes.filter((d: any) => d.status === "DELIVERED").length === 3);
    const firstIds = new Set(distinctEvents(receiver.received).keys());
    const to = new Date(Date.now() + 1000).toISOString();

    const inverted = await tenant.gql(replayMutation, { input: { endpointId: endpoint.id, from: to, to: from } });
    expect(inverted.replayWebhookEvents).toMatchObject({ __typename: "InvalidInput", field: "to", reason: "RANGE_INVERTED" });
    const unknown = await tenant.gql(replayMutation, { input: { endpointId: "whep_00000000-0000-4000-8000-000000000000", from, to } });
    expect(unknown.replayWebhookEvents.__typename).toBe("WebhookEndpointNotFound");

    const replayed = await tenant.gql(replayMutation, { input: { endpointId: endpoint.id, from, to } });
    expect(replayed.replayWebhookEvents).toEqual({ __typename: "WebhookEventsReplayed", deliveries: 3, endpoint: { id: endpoint.id } });
    await receiver.waitFor((r) => r.length === 6);
    const deliveries = (await endpointWithDeliveries(tenant, endpoint.id)).deliveries.nodes;
    expect(deliveries).toHaveLength(6);
    expect(new Set(receiver.received.map((r) => r.json.id))).toEqual(firstIds);
    await receiver.close();
  });

  it("leaves a new delivery not claimed yet where it is when retried: it is sent once, in its turn", async () => {
    const receiver = await startReceiver();
    const tenant = await service.newTenant("retry new");
    const endpoint = await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
    const endpointId = fromEndpointGlobalId(endpoint.id)!;
    // Nothing is claimed while the breaker is held open.
    await service.db.pool.query("UPDATE webhook_endpoints SET breaker_open_until = now() + interval '1 hour' WHERE id = $1", [endpointId]);
    const funding = await createFundingAccount(tenant);
    await transferBetween(tenant, funding.id, (await createAccount(tenant)).id, "5");
    const waiting = await waitForEndpoint(tenant, endpoint.id, (e) => e.deliveries.nodes.length === 1);
    const [delivery] = waiting.deliveries.nodes;
    const retried = await tenant.gql(retryMutation, { id: delivery.id });
    expect(retried.retryWebhookDelivery).toMatchObject({ delivery: { id: delivery.id, status: "PENDING" } });
    const { rows } = await service.db.pool.query<{ due: boolean }>(
      "SELECT due_at IS NOT NULL AS due FROM webhook_deliveries WHERE endpoint_id = $1",
      [endpointId],
    );
    expect(rows).toEqual([{ due: false }]); // still its endpoint's next new delivery, not due twice
    await service.db.pool.query("UPDATE webhook_endpoints SET breaker_open_until = NULL WHERE id = $1", [endpointId]);
    const done = await waitForEndpoint(tenant, endpoint.id, (e) => e.deliveries.nodes[0].status === "DELIVERED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.received.map((r) => r.json.id)).toEqual([delivery.event.id]);
    expect(done.deliveries.nodes[0].attempts).toHaveLength(1);
    await receiver.close();
  });
});
