-- DropIndex
DROP INDEX "webhook_endpoints_tenant_id_created_at_id_idx";

-- CreateIndex
CREATE INDEX "webhook_endpoints_tenant_id_created_at_idx" ON "webhook_endpoints"("tenant_id", "created_at" DESC);
