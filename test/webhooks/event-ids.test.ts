// An event's id is a function of its change (ids.ts eventIdOf): a materializer pass that a crash of
// PostgreSQL undid makes the same events again with the same ids, so receivers de-duplicate them.
import { afterAll, describe, expect, it } from "vitest";
import { connectDatabase } from "../../src/db/client.js";
import { eventIdOf } from "../../src/webhooks/ids.js";
import { createAccount, createFundingAccount, transferBetween } from "../support/ledger-client.js";
import { startTestService } from "../support/service.js";
import { createEndpoint, startReceiver, testWebhookSettings, useOwnDatabase } from "../support/webhooks.js";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const transferId = "0193a6f0-1111-7222-8333-444455556666";
const holdId = "0193a6f0-aaaa-7bbb-8ccc-ddddeeeeffff";
const at = new Date("2026-12-03T07:30:00.123Z");

describe("event ids", () => {
  it.each([
    ["transfer.posted", transferId],
    ["hold.captured", transferId],
    ["hold.created", holdId],
    ["hold.voided", holdId],
    ["hold.expired", holdId],
    ["account.created", holdId],
  ])("%s of %s is the same UUIDv7 every time it is made, with the change's time first", (type, objectId) => {
    const id = eventIdOf(type, objectId, at);
    expect(id).toMatch(uuidV7);
    expect(eventIdOf(type, objectId, at)).toBe(id);
    expect(Number.parseInt(id.replace("-", "").slice(0, 12), 16)).toBe(at.getTime());
  });

  it("differs between the types of one object and between objects", () => {
    const ids = new Set(
      ["transfer.posted", "hold.captured", "hold.created", "hold.voided", "hold.expired", "account.created"].flatMap((type) =>
        [transferId, holdId].map((objectId) => eventIdOf(type, objectId, at)),
      ),
    );
    expect(ids.size).toBe(12);
  });

  describe("through the service", () => {
    const database = useOwnDatabase("wh_event_ids");
    const receivers: { close(): Promise<void> }[] = [];
    afterAll(async () => {
      for (const receiver of receivers) await receiver.close();
    });

    it("sends a transfer's event with the id made from the transfer's id and time", async () => {
      const receiver = await startReceiver(async () => 200);
      receivers.push(receiver);
      const service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: testWebhookSettings() });
      const tenant = await service.newTenant("event-ids");
      await createEndpoint(tenant, { url: receiver.url, eventTypes: ["TRANSFER_POSTED"] });
      const funding = await createFundingAccount(tenant);
      await transferBetween(tenant, funding.id, (await createAccount(tenant)).id, "5");
      await receiver.waitFor((r) => r.length === 1);
      const [received] = receiver.received;
      await service.stop();
      const db = connectDatabase(database.url(), 1);
      try {
        const { rows } = await db.pool.query<{ id: string; created_at: Date }>(
          "SELECT id, created_at FROM transfers WHERE tenant_id = $1",
          [tenant.id],
        );
        expect(rows).toHaveLength(1);
        expect(received!.headers["ledger-event-id"]).toBe(`evt_${eventIdOf("transfer.posted", rows[0]!.id, rows[0]!.created_at)}`);
      } finally {
        await db.close();
      }
    });
  });
});
