-- Hand-written: the dispatcher's queue. Only PENDING deliveries are ever looked for by their
-- next attempt; delivered and failed ones (nearly all rows, in time) stay out of the index.
CREATE INDEX "webhook_deliveries_pending_idx" ON "webhook_deliveries" ("next_attempt_at", "id") WHERE "status" = 'PENDING';
