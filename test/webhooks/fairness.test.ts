// One endpoint's backlog does not hold back another's: the claim takes each endpoint's oldest
// due deliveries, so another tenant's event goes out while a slow receiver works through its queue.
import { describe, expect, it } from "vitest";
import {
  createAccount,
  createFundingAccount,
  expectResult,
  key,
  postTransfersMutation,
  transferBetween,
} from "../support/ledger-client.js";
import { createEndpoint, startReceiver, useOwnDatabase, useWebhookService } from "../support/webhooks.js";

const database = useOwnDatabase("wh_fairness");
const service = useWebhookService(database, { inFlightMax: 8 });

describe("webhook fairness", () => {
  it("delivers another tenant's event while one endpoint has a backlog of hundreds", async () => {
    const slow = await startReceiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return 200;
    });
    const quick = await startReceiver();
    const busy = await service.newTenant("busy tenant");
    const calm = await service.newTenant("calm tenant");
    await createEndpoint(busy, { url: slow.url, eventTypes: ["TRANSFER_POSTED"] });
    await createEndpoint(calm, { url: quick.url, eventTypes: ["TRANSFER_POSTED"] });
    const funding = await createFundingAccount(busy);
    const shop = await createAccount(busy);
    for (let batch = 0; batch < 2; batch++) {
      const transfers = Array.from({ length: 300 }, () => ({
        idempotencyKey: key("b"),
        from: { id: funding.id },
        to: { id: shop.id },
        amount: "1",
        currency: "USD",
      }));
      const data = await busy.gql(postTransfersMutation, { input: { atomic: true, transfers } });
      expect(expectResult(data.postTransfers, "TransfersPosted").allSucceeded).toBe(true);
    }
    await slow.waitFor((r) => r.length >= 4, 20_000, "the slow receiver's first requests");
    const calmFunding = await createFundingAccount(calm);
    await transferBetween(calm, calmFunding.id, (await createAccount(calm)).id, "5");
    await quick.waitFor((r) => r.length === 1, 5_000, "the calm tenant's event");
    // The busy endpoint (4 at a time, 200 ms each) is far from through its 600 events.
    expect(slow.received.length).toBeLessThan(300);
    await Promise.all([slow.close(), quick.close()]);
  });
});
