-- CreateEnum
CREATE TYPE "EntryKind" AS ENUM ('POSTED', 'HOLD', 'RELEASE', 'CAPTURE');

-- CreateEnum
CREATE TYPE "HoldStatus" AS ENUM ('OPEN', 'CAPTURED', 'VOIDED', 'EXPIRED');

-- AlterTable
ALTER TABLE "accounts" ADD COLUMN     "credits_pending" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "debits_pending" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "forced_out_of_bounds" BOOLEAN NOT NULL DEFAULT false;

-- AlterTable
ALTER TABLE "transfers" ADD COLUMN     "forced" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "hold_id" UUID,
ADD COLUMN     "reverses_id" UUID;

-- AlterTable
ALTER TABLE "entries" ADD COLUMN     "credits_pending_after" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "debits_pending_after" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "hold_id" UUID,
ADD COLUMN     "kind" "EntryKind" NOT NULL DEFAULT 'POSTED',
ALTER COLUMN "transfer_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "holds" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "currency_id" UUID NOT NULL,
    "amount" BIGINT NOT NULL,
    "captured_amount" BIGINT NOT NULL DEFAULT 0,
    "released_amount" BIGINT NOT NULL DEFAULT 0,
    "status" "HoldStatus" NOT NULL DEFAULT 'OPEN',
    "expires_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL,
    "closed_at" TIMESTAMPTZ(6),

    CONSTRAINT "holds_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tenant_clocks" (
    "tenant_id" UUID NOT NULL,
    "offset_ms" BIGINT NOT NULL DEFAULT 0,
    "frozen_at" TIMESTAMPTZ(6),

    CONSTRAINT "tenant_clocks_pkey" PRIMARY KEY ("tenant_id")
);

-- CreateIndex
CREATE INDEX "holds_tenant_id_seq_idx" ON "holds"("tenant_id", "seq" DESC);

-- CreateIndex
CREATE INDEX "holds_status_expires_at_idx" ON "holds"("status", "expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "holds_tenant_id_idempotency_key_key" ON "holds"("tenant_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "transfers_metadata_idx" ON "transfers" USING GIN ("metadata" jsonb_path_ops);

-- CreateIndex
CREATE INDEX "entries_account_id_created_at_account_version_idx" ON "entries"("account_id", "created_at", "account_version");

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_reverses_id_fkey" FOREIGN KEY ("reverses_id") REFERENCES "transfers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_hold_id_fkey" FOREIGN KEY ("hold_id") REFERENCES "holds"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "entries" ADD CONSTRAINT "entries_hold_id_fkey" FOREIGN KEY ("hold_id") REFERENCES "holds"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_currency_id_fkey" FOREIGN KEY ("currency_id") REFERENCES "currencies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
