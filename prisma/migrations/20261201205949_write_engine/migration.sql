-- DropForeignKey
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_reverses_id_fkey";

-- DropForeignKey
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_hold_id_fkey";

-- DropForeignKey
ALTER TABLE "entries" DROP CONSTRAINT "entries_transfer_id_fkey";

-- DropForeignKey
ALTER TABLE "entries" DROP CONSTRAINT "entries_hold_id_fkey";

-- DropForeignKey
ALTER TABLE "entries" DROP CONSTRAINT "entries_account_id_fkey";

-- DropIndex
DROP INDEX "transfers_metadata_idx";

-- DropIndex
DROP INDEX "transfers_tenant_id_idempotency_key_key";

-- DropIndex
DROP INDEX "entries_tx_id_idx";

-- AlterTable (hand-edited: Prisma's diff drops and re-adds the column; the stored keys keep their
-- fingerprints, converted from hex text to the 32 bytes they spell)
ALTER TABLE "idempotency_keys" ALTER COLUMN "request_hash" TYPE BYTEA USING decode("request_hash", 'hex'),
ALTER COLUMN "result" SET NOT NULL;

-- CreateTable
CREATE TABLE "ledger_sql_sources" (
    "name" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "applied_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_sql_sources_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE INDEX "entries_tx_id_idx" ON "entries" USING BRIN ("tx_id");
