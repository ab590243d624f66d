-- New deliveries are found by their endpoint's cursor (deliveries_claimed_through, over the
-- endpoint's seq index that listing uses already), not by a queue index: a delivery whose first
-- attempt succeeds is then updated without touching an indexed column (a HOT update, room kept
-- by the fillfactor), and no index entry is made for it beyond its insert's. Only deliveries due
-- again outside that stream (an attempt failed, a lease ran out, a retry) carry due_at, and only
-- those are in the hand-written partial index below.
ALTER TABLE "webhook_endpoints" ADD COLUMN "deliveries_claimed_through" BIGINT NOT NULL DEFAULT 0;
ALTER TABLE "webhook_deliveries" ADD COLUMN "due_at" TIMESTAMPTZ(6);

-- Every delivery pending now is due again by due_at; cursors start after them.
UPDATE "webhook_deliveries" SET "due_at" = "next_attempt_at" WHERE "status" = 'PENDING';
UPDATE "webhook_endpoints" e SET "deliveries_claimed_through" =
  coalesce((SELECT max(d."seq") FROM "webhook_deliveries" d WHERE d."endpoint_id" = e."id"), 0);

CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries" ("endpoint_id", "due_at", "id") WHERE "due_at" IS NOT NULL;
DROP INDEX "webhook_deliveries_pending_by_endpoint_idx";

-- Room on each page for the row's new version after its first attempt (HOT needs it there).
ALTER TABLE "webhook_deliveries" SET (fillfactor = 60);
