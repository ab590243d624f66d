-- Leases live on the endpoint row (a few per endpoint, parallel arrays), not on each delivery: a
-- claim updates one row per endpoint instead of one row (and four index entries) per delivery,
-- and a delivery is written twice in its life (made, recorded). Leases held at this migration
-- are dropped: their deliveries are sent again (at least once, with the same event id).
ALTER TABLE "webhook_endpoints"
  ADD COLUMN "lease_delivery_ids" UUID[] DEFAULT ARRAY[]::UUID[],
  ADD COLUMN "lease_tokens" UUID[] DEFAULT ARRAY[]::UUID[],
  ADD COLUMN "lease_until" TIMESTAMPTZ(6)[] DEFAULT ARRAY[]::TIMESTAMPTZ(6)[];

DROP INDEX "webhook_deliveries_leased_idx";
ALTER TABLE "webhook_deliveries" DROP COLUMN "lease_until", DROP COLUMN "lease_token";
