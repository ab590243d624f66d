-- CreateTable
CREATE TABLE "webhook_endpoint_work" (
    "from_at" TIMESTAMPTZ(6) NOT NULL,
    "endpoint_id" UUID NOT NULL,

    CONSTRAINT "webhook_endpoint_work_pkey" PRIMARY KEY ("from_at","endpoint_id")
);

-- Every endpoint with a delivery pending or an attempt in flight has work from now (the first
-- claim finds out what is left).
INSERT INTO "webhook_endpoint_work" ("from_at", "endpoint_id")
SELECT now(), e."id" FROM "webhook_endpoints" e
 WHERE cardinality(e."lease_until") > 0
    OR EXISTS (SELECT 1 FROM "webhook_deliveries" d WHERE d."endpoint_id" = e."id" AND d."status" = 'PENDING');
