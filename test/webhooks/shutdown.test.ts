// A graceful stop lets the attempts in flight finish and records them: nothing is left leased.
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../src/db/client.js";
import { transferBetween } from "../support/ledger-client.js";
import { startTestService } from "../support/service.js";
import { testWebhookSettings, transferEndpointTenant, useOwnDatabase, useReceivers } from "../support/webhooks.js";

const database = useOwnDatabase("wh_shutdown");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("webhooks at shutdown", () => {
  const startReceiver = useReceivers();

  it("waits for an attempt in flight, records its success, and leaves no lease behind", async () => {
    let answered = 0;
    const receiver = await startReceiver(async () => {
      await sleep(800);
      answered++;
      return 200;
    });
    const service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: testWebhookSettings() });
    const { tenant, funding, account } = await transferEndpointTenant(service, "shutdown", receiver.url);
    await transferBetween(tenant, funding.id, account.id, "5");
    await receiver.waitFor((r) => r.length === 1);
    expect(answered).toBe(0); // the attempt is in flight now
    await service.stop();
    expect(answered).toBe(1);
    const db = connectDatabase(database.url(), 2);
    try {
      const { rows } = await db.pool.query(
        `SELECT d.status, d.attempt_count, e.lease_delivery_ids FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
          WHERE d.tenant_id = $1`,
        [tenant.id],
      );
      expect(rows).toEqual([{ status: "DELIVERED", attempt_count: 1, lease_delivery_ids: [] }]);
    } finally {
      await db.close();
    }
  });
});
