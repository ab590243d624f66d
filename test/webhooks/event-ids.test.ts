// An event's id is a function of its change (ids.ts eventIdOf): a materializer pass that a crash of
// PostgreSQL undid makes the same events again with the same ids, so receivers de-duplicate them.
import { describe, expect, it } from "vitest";
import { connectDatabase } from "../../src/db/client.js";
import { eventIdOf } from "../../src/webhooks/ids.js";
import { transferBetween } from "../support/ledger-client.js";
import { startTestService } from "../support/service.js";
import { testWebhookSettings, transferEndpointTenant, useOwnDatabase, useReceivers } from "../support/webhooks.js";

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
    const startReceiver = useReceivers();

    it("sends a transfer's event with the id made from the transfer's id and time", async () => {
      const receiver = await startReceiver(async () => 200);
      const service = await startTestService({}, {}, { databaseUrl: database.url(), webhooks: testWebhookSettings() });
      const { tenant, funding, account } = await transferEndpointTenant(service, "event-ids", receiver.url);
      await transferBetween(tenant, funding.id, account.id, "5");
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

describe("a materializer pass that a crash of PostgreSQL undid", () => {
  const database = useOwnDatabase("wh_event_remade");
  const startReceiver = useReceivers();

  it("is made again with the same event id and body", async () => {
    const receiver = await startReceiver(async () => 200);
    const options = { databaseUrl: database.url(), webhooks: testWebhookSettings() };
    const service = await startTestService({}, {}, options);
    const { tenant, funding, account } = await transferEndpointTenant(service, "remade", receiver.url);
    await service.service.webhooks()!.drain();
    const db = connectDatabase(database.url(), 1);
    try {
      const position = (await db.pool.query("SELECT * FROM webhook_feed_position WHERE id = 1")).rows[0];
      await transferBetween(tenant, funding.id, account.id, "5");
      await receiver.waitFor((r) => r.length === 1);
      await service.stop();
      // What a crash of PostgreSQL before the pass reached the disk leaves (synchronous_commit is
      // off for it): the position as before, and none of the pass's events and deliveries.
      await db.pool.query(
        `UPDATE webhook_feed_position SET unread_from = $1, in_progress = $2, entry_ids_above = $3, in_progress_entry_ids_above = $4
          WHERE id = 1`,
        [position.unread_from, position.in_progress, position.entry_ids_above, position.in_progress_entry_ids_above],
      );
      await db.pool.query("DELETE FROM webhook_deliveries WHERE tenant_id = $1", [tenant.id]);
      await db.pool.query("DELETE FROM webhook_events WHERE tenant_id = $1", [tenant.id]);
      const again = await startTestService({}, {}, options);
      try {
        await receiver.waitFor((r) => r.length === 2);
      } finally {
        await again.stop();
      }
      const [first, second] = receiver.received;
      expect(second!.headers["ledger-event-id"]).toBe(first!.headers["ledger-event-id"]);
      expect(second!.body).toBe(first!.body);
      expect(second!.headers["ledger-delivery-id"]).not.toBe(first!.headers["ledger-delivery-id"]);
    } finally {
      await db.close();
    }
  });
});
