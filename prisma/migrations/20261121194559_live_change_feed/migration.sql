-- AlterTable
ALTER TABLE "entries" ADD COLUMN     "tx_id" BIGINT NOT NULL DEFAULT ((pg_current_xact_id())::text)::bigint;

-- CreateIndex
CREATE INDEX "entries_tx_id_idx" ON "entries"("tx_id");
