// Every committed change reaches a subscribed endpoint, signed; nothing rolled back does.
import { describe, expect, it } from "vitest";
import { assert } from "../../src/domain/assert.js";
import { validateTransfer } from "../../src/domain/transfer.js";
import { transferCommand } from "../../src/ledger/transfers.js";
import { eventBodies } from "../../src/webhooks/bodies.js";
import type { WebhookEventType } from "../../src/webhooks/events.js";
import { advanceClock, runExpiryJob } from "../support/clock.js";
import {
  captureHold,
  createAccount,
  createFundingAccount,
  createHold,
  expectResult,
  postTransfer,
  postTransfersMutation,
  reverseTransfer,
  transferBetween,
  voidHold,
  key,
} from "../support/ledger-client.js";
import {
  createEndpoint,
  distinctEvents,
  endpointWithDeliveries,
  expectSigned,
  startReceiver,
  useOwnDatabase,
  useWebhookService,
  waitForEndpoint,
} from "../support/webhooks.js";

const database = useOwnDatabase("wh_delivery");
const service = useWebhookService(database);

describe("webhook delivery", () => {
  it("sends one signed event per committed change, in the shape of the GraphQL types, and none for rejected or aborted writes", async () => {
    const receiver = await startReceiver();
    const tenant = await service.newTenant("delivery");
    const endpoint = await createEndpoint(tenant, { url: receiver.url });

    const funding = await createFundingAccount(tenant);
    const shop = await createAccount(tenant, { code: key("shop"), metadata: { team: "payments" } });
    const posted = expectResult(
      await postTransfer(tenant, {
        from: { id: funding.id },
        to: { id: shop.id },
        amount: "1000",
        currency: "USD",
        externalRef: "ch_wh_1",
      }),
      "TransferPosted",
    );
    // Rejected (no funds) and an atomic batch that aborts: nothing committed, no event.
    const rejected = await transferBetween(tenant, shop.id, funding.id, "999999");
    expect(rejected.__typename).toBe("InsufficientFunds");
    const aborted = await tenant.gql(postTransfersMutation, {
      input: {
        atomic: true,
        transfers: [
          { idempotencyKey: key("a"), from: { id: funding.id }, to: { id: shop.id }, amount: "5", currency: "USD" },
          { idempotencyKey: key("b"), from: { id: shop.id }, to: { id: funding.id }, amount: "999999", currency: "USD" },
        ],
      },
    });
    expect(expectResult(aborted.postTransfers, "TransfersPosted").allSucceeded).toBe(false);

    const hold = expectResult(
      await createHold(tenant, { from: { id: shop.id }, to: { id: funding.id }, amount: "300", currency: "USD", externalRef: "auth_wh_1" }),
      "HoldCreated",
    );
    expect((await captureHold(tenant, hold.hold.id, { amount: "100" })).__typename).toBe("HoldCaptured");
    expect((await voidHold(tenant, hold.hold.id)).__typename).toBe("HoldVoided");
    const lapsing = expectResult(
      await createHold(tenant, {
        from: { id: shop.id },
        to: { id: funding.id },
        amount: "50",
        currency: "USD",
        expiresInSeconds: 60,
      }),
      "HoldCreated",
    );
    await advanceClock(service.db.pool, tenant.id, 61_000);
    expect(await runExpiryJob(service.db.pool)).toBeGreaterThanOrEqual(1);
    expectResult(await reverseTransfer(tenant, posted.transfer.id, { amount: "10", externalRef: "re_wh_1" }), "TransferReversed");

    const expected = [
      "account.created", // funding
      "account.created", // shop
      "transfer.posted",
      "hold.created",
      "transfer.posted", // the capture's transfer
      "hold.captured",
      "hold.voided",
      "hold.created",
      "hold.expired",
      "transfer.posted", // the reversal
    ];
    await receiver.waitFor((received) => distinctEvents(received).size >= expected.length);
    // A little longer: anything extra (a rolled-back write's event) would arrive now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = [...distinctEvents(receiver.received).values()];
    expect(events.map((e) => e.json.type).sort()).toEqual([...expected].sort());
    for (const event of receiver.received) expectSigned(event, endpoint.secret);

    // Events are made in commit order: their deliveries are, too (newest first in the API).
    const page = await endpointWithDeliveries(tenant, endpoint.id);
    expect(page.deliveries.nodes.map((d: any) => d.event.type).reverse()).toEqual(expected);
    expect(page.deliveries.nodes.every((d: any) => d.status === "DELIVERED" && d.attempts.length === 1)).toBe(true);

    // Payloads carry the GraphQL field names, global ids and amounts as decimal strings.
    const byTransfer = events.find((e) => e.json.type === "transfer.posted" && e.json.data.transfer.id === posted.transfer.id)!;
    expect(byTransfer.json.data.transfer).toMatchObject({
      id: posted.transfer.id,
      idempotencyKey: posted.transfer.idempotencyKey,
      currency: { code: "USD" },
      reverses: null,
      hold: null,
      externalRef: "ch_wh_1",
      entries: [
        { direction: "DEBIT", amount: "1000", account: { id: funding.id, code: funding.code } },
        { direction: "CREDIT", amount: "1000", account: { id: shop.id, code: shop.code }, balanceAfter: { posted: "1000" } },
      ],
    });
    const captured = events.find((e) => e.json.type === "hold.captured")!;
    // The capture gave no externalRef: its transfer has the hold's.
    expect(captured.json.data).toMatchObject({
      hold: { id: hold.hold.id, amount: "300", externalRef: "auth_wh_1" },
      transfer: { externalRef: "auth_wh_1" },
      amount: "100",
    });
    expect(events.find((e) => e.json.type === "hold.created" && e.json.data.hold.id === hold.hold.id)!.json.data.hold.externalRef).toBe(
      "auth_wh_1",
    );
    expect(events.find((e) => e.json.type === "hold.voided")!.json.data.hold).toMatchObject({
      id: hold.hold.id,
      status: "VOIDED",
      voidedAmount: "200",
    });
    expect(events.find((e) => e.json.type === "hold.expired")!.json.data.hold).toMatchObject({
      id: lapsing.hold.id,
      status: "EXPIRED",
      expiredAmount: "50",
      externalRef: null,
    });
    const reversed = events.find((e) => e.json.type === "transfer.posted" && e.json.data.transfer.reverses !== null)!;
    expect(reversed.json.data.transfer).toMatchObject({ reverses: { id: posted.transfer.id }, externalRef: "re_wh_1" });

    // Only account.created stores its body; every other one is made again from the ledger's rows
    // (as a retry, another instance or a restart sends it) byte for byte as it was first sent.
    const { rows } = await service.db.pool.query<{ id: string; type: WebhookEventType; object_id: string; body: string | null }>(
      "SELECT id, type, object_id, payload::text AS body FROM webhook_events WHERE tenant_id = $1",
      [tenant.id],
    );
    expect(rows.filter((row) => row.body !== null).map((row) => row.type)).toEqual(["account.created", "account.created"]);
    const remade = await eventBodies(
      service.db.pool,
      rows.map((row) => ({ id: row.id, type: row.type, objectId: row.object_id, storedBody: row.body })),
    );
    expect(remade.size).toBe(expected.length);
    for (const event of events) expect(remade.get(event.json.id.slice("evt_".length))).toBe(event.body);
    await receiver.close();
  });

  it("honours event types and filters, and leaves other tenants' changes out", async () => {
    const receiver = await startReceiver();
    const tenant = await service.newTenant("filters");
    const other = await service.newTenant("filters other");
    const funding = await createFundingAccount(tenant);
    const watched = await createAccount(tenant);
    const unwatched = await createAccount(tenant);
    const byAccount = await createEndpoint(tenant, {
      url: `${receiver.url}?by=account`,
      eventTypes: ["TRANSFER_POSTED"],
      filter: { accountId: watched.id },
    });
    const byMetadata = await createEndpoint(tenant, {
      url: `${receiver.url}?by=metadata`,
      eventTypes: ["TRANSFER_POSTED"],
      filter: { metadata: { order: "A-1" } },
    });
    await transferBetween(tenant, funding.id, watched.id, "10");
    await transferBetween(tenant, funding.id, unwatched.id, "20");
    await postTransfer(tenant, {
      from: { id: funding.id },
      to: { id: unwatched.id },
      amount: "30",
      currency: "USD",
      metadata: { order: "A-1", extra: true },
    });
    const otherFunding = await createFundingAccount(other);
    await transferBetween(other, otherFunding.id, (await createAccount(other)).id, "40");

    await waitForEndpoint(tenant, byAccount.id, (e) => e.deliveries.nodes.length === 1 && e.deliveries.nodes[0].status === "DELIVERED");
    await waitForEndpoint(tenant, byMetadata.id, (e) => e.deliveries.nodes.length === 1 && e.deliveries.nodes[0].status === "DELIVERED");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      (await endpointWithDeliveries(tenant, byAccount.id)).deliveries.nodes.map(
        (d: any) => d.event.payload.data.transfer.entries[0].amount,
      ),
    ).toEqual(["10"]);
    expect(
      (await endpointWithDeliveries(tenant, byMetadata.id)).deliveries.nodes.map(
        (d: any) => d.event.payload.data.transfer.entries[0].amount,
      ),
    ).toEqual(["30"]);
    // Nothing else reached the receiver: not the unwatched transfer, not the other tenant's.
    expect(receiver.received.map((r) => r.json.data.transfer.entries[0].amount).sort()).toEqual(["10", "30"]);
    await receiver.close();
  });

  // The materializer reads entries by id from bounds it keeps (src/webhooks/position.ts): a
  // transaction that took its entry ids before later passes, and commits after them, is read too.
  it("delivers a transfer whose transaction took its ids before later passes and commits after them", async () => {
    const receiver = await startReceiver();
    const tenant = await service.newTenant("held writer");
    await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
    // Two funding accounts: the held transaction keeps its accounts locked.
    const [slowFunding, funding] = [await createFundingAccount(tenant), await createFundingAccount(tenant)];
    const [slow, quick] = [await createAccount(tenant), await createAccount(tenant)];
    const held = await service.db.pool.connect();
    try {
      await held.query("BEGIN");
      const transfer = validateTransfer(
        { idempotencyKey: key("held"), from: { id: slowFunding.id }, to: { id: slow.id }, amount: "3", currency: "USD" },
        service.limits,
      );
      assert(transfer.ok, "a valid transfer");
      const { rows } = await held.query("SELECT ledger_execute($1::jsonb) AS answers", [
        JSON.stringify([transferCommand(tenant.id, transfer.value)]),
      ]);
      expect(rows[0].answers[0].ok).toBe(true);
      // Later writes commit and are delivered while the held one is open (passes go by it).
      for (const amount of ["4", "5"]) expectResult(await transferBetween(tenant, funding.id, quick.id, amount), "TransferPosted");
      await receiver.waitFor((received) => received.length >= 2, 10_000, "the later transfers");
      await new Promise((resolve) => setTimeout(resolve, 300));
      await held.query("COMMIT");
    } finally {
      held.release();
    }
    await receiver.waitFor((received) => received.length >= 3, 10_000, "the held transfer");
    const amounts = receiver.received.map((r) => r.json.data.transfer.entries[0].amount);
    expect(amounts.slice(0, 2).sort()).toEqual(["4", "5"]); // sent concurrently: either order
    expect(amounts.slice(2)).toEqual(["3"]);
    await receiver.close();
  });
});
