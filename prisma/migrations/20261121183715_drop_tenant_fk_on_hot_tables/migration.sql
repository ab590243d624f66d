-- DropForeignKey
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_tenant_id_fkey";

-- DropForeignKey
ALTER TABLE "entries" DROP CONSTRAINT "entries_tenant_id_fkey";

-- DropForeignKey
ALTER TABLE "idempotency_keys" DROP CONSTRAINT "idempotency_keys_tenant_id_fkey";
