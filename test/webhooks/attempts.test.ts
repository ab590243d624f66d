// A delivery keeps its attempts in its own row (ledger_webhook_record): every recorded attempt is
// listed, the last 100 are kept, and one whose lease had gone is listed without moving anything.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../src/db/client.js";
import { recordAndClaim } from "../../src/webhooks/dispatcher.js";
import { transferBetween } from "../support/ledger-client.js";
import { startTestService } from "../support/service.js";
import { testWebhookSettings, transferEndpointTenant, useOwnDatabase, useReceivers } from "../support/webhooks.js";

const database = useOwnDatabase("wh_attempts");

describe("webhook attempts in the delivery's row", () => {
  const startReceiver = useReceivers();

  it("lists late attempts without moving the delivery, and keeps the last 100 of them", async () => {
    const receiver = await startReceiver(async () => 200);
    const settings = testWebhookSettings();
    const service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: settings });
    const { tenant, funding, account } = await transferEndpointTenant(service, "attempts", receiver.url);
    await transferBetween(tenant, funding.id, account.id, "5");
    await receiver.waitFor((r) => r.length === 1);
    await service.stop();
    const db = connectDatabase(database.url(), 2);
    try {
      const deliveryOf = async () =>
        (
          await db.pool.query(
            `SELECT id, endpoint_id, event_id, status, delivered_at, attempt_count, attempts
               FROM webhook_deliveries WHERE tenant_id = $1`,
            [tenant.id],
          )
        ).rows;
      const [delivered] = await deliveryOf();
      expect(delivered.status).toBe("DELIVERED");
      expect(delivered.attempts).toEqual([expect.objectContaining({ outcome: "SUCCESS", status_code: 200, error: null })]);
      // 101 attempts whose leases are gone (a token the delivery never had) answered 500.
      for (let n = 0; n < 101; n++) {
        await recordAndClaim(
          db.pool,
          settings,
          [
            {
              claimed: {
                id: delivered.id,
                endpoint_id: delivered.endpoint_id,
                event_id: delivered.event_id,
                event_type: "transfer.posted",
                object_id: null,
                attempt_count: 2,
                horizon_from: new Date(),
                lease_token: randomUUID(),
                url: receiver.url,
                secret_sealed: "",
                previous_secret_sealed: null,
                previous_secret_expires_at: null,
                stored_body: "{}",
                body: "{}",
              },
              result: { outcome: "HTTP_ERROR", statusCode: 500, durationMs: n, error: "HTTP 500", responseExcerpt: null },
            },
          ],
          0,
        );
      }
      const [after] = await deliveryOf();
      expect(after).toMatchObject({ status: "DELIVERED", delivered_at: delivered.delivered_at, attempt_count: 1 });
      expect(after.attempts).toHaveLength(100);
      // The oldest two (the success and the first late one) made room; the rest in order.
      expect(after.attempts.map((a: { duration_ms: number }) => a.duration_ms)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(after.attempts.map((a: { outcome: string }) => a.outcome))).toEqual(new Set(["HTTP_ERROR"]));
    } finally {
      await db.close();
    }
  });
});
