-- Hand-written: the dispatcher counts each endpoint's attempts in flight (leased deliveries) at
-- every claim; leases are cleared when an attempt is recorded, so this index holds only those
-- in flight (and those of a dead instance until they run out).
CREATE INDEX "webhook_deliveries_leased_idx" ON "webhook_deliveries" ("endpoint_id") WHERE "lease_until" IS NOT NULL;
