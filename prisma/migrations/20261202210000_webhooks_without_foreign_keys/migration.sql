-- A row per change goes into each of these tables: no foreign keys (each costs a trigger and a
-- locking lookup per row), and no index by event (nothing reads deliveries by their event; it
-- served the foreign key). What the keys guaranteed holds by construction: see prisma/schema.prisma.
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_endpoint_id_fkey";
ALTER TABLE "webhook_deliveries" DROP CONSTRAINT "webhook_deliveries_event_id_fkey";
ALTER TABLE "webhook_attempts" DROP CONSTRAINT "webhook_attempts_delivery_id_fkey";
DROP INDEX "webhook_deliveries_event_id_idx";
