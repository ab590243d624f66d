-- Hand-written: the dispatcher's claim reads each endpoint's oldest due deliveries (so one
-- endpoint's backlog never holds back another's); PENDING only, like the index it replaces.
CREATE INDEX "webhook_deliveries_pending_by_endpoint_idx" ON "webhook_deliveries" ("endpoint_id", "next_attempt_at", "id") WHERE "status" = 'PENDING';
DROP INDEX "webhook_deliveries_pending_idx";
