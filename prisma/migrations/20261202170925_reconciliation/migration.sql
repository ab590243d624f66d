-- CreateTable
CREATE TABLE "statements" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" BYTEA NOT NULL,
    "source" TEXT NOT NULL,
    "period_start" TIMESTAMPTZ(6) NOT NULL,
    "period_end" TIMESTAMPTZ(6) NOT NULL,
    "opening_balance" BIGINT NOT NULL,
    "closing_balance" BIGINT NOT NULL,
    "line_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "statements_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "statement_lines" (
    "id" BIGSERIAL NOT NULL,
    "statement_id" UUID NOT NULL,
    "line_no" INTEGER NOT NULL,
    "external_id" TEXT NOT NULL,
    "external_ref" TEXT,
    "amount" BIGINT NOT NULL,
    "direction" "Side" NOT NULL,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',

    CONSTRAINT "statement_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "statement_parts" (
    "statement_id" UUID NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" BYTEA NOT NULL,
    "first_line_no" INTEGER NOT NULL,
    "line_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "statement_parts_pkey" PRIMARY KEY ("statement_id","idempotency_key")
);

-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "seq" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "statement_id" UUID NOT NULL,
    "rules" JSONB NOT NULL,
    "ledger_opening_balance" BIGINT NOT NULL,
    "ledger_closing_balance" BIGINT NOT NULL,
    "summary" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "key_id" UUID NOT NULL,
    "via" TEXT NOT NULL,

    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_results" (
    "id" BIGSERIAL NOT NULL,
    "run_id" UUID NOT NULL,
    "line_id" BIGINT,
    "entry_id" BIGINT,
    "status" TEXT NOT NULL,
    "entry_ids" BIGINT[],
    "line_amount" BIGINT,
    "ledger_amount" BIGINT,
    "direction" "Side" NOT NULL,
    "external_ref" TEXT,
    "occurred_at" TIMESTAMPTZ(6) NOT NULL,
    "resolution_id" UUID,

    CONSTRAINT "reconciliation_results_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_resolutions" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "tenant_id" UUID NOT NULL,
    "statement_id" UUID NOT NULL,
    "line_id" BIGINT,
    "entry_id" BIGINT,
    "result_id" BIGINT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "transfer_id" UUID,
    "note" TEXT NOT NULL DEFAULT '',
    "key_id" UUID NOT NULL,
    "via" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "reconciliation_resolutions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "statements_tenant_id_created_at_id_idx" ON "statements"("tenant_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "statements_account_id_period_start_idx" ON "statements"("account_id", "period_start");

-- CreateIndex
CREATE UNIQUE INDEX "statements_tenant_id_idempotency_key_key" ON "statements"("tenant_id", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "statement_lines_statement_id_line_no_key" ON "statement_lines"("statement_id", "line_no");

-- CreateIndex
CREATE INDEX "reconciliation_runs_statement_id_seq_idx" ON "reconciliation_runs"("statement_id", "seq" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "reconciliation_runs_seq_key" ON "reconciliation_runs"("seq");

-- CreateIndex
CREATE INDEX "reconciliation_results_run_id_id_idx" ON "reconciliation_results"("run_id", "id");

-- CreateIndex
CREATE INDEX "reconciliation_resolutions_statement_id_idx" ON "reconciliation_resolutions"("statement_id");

-- AddForeignKey
ALTER TABLE "statement_lines" ADD CONSTRAINT "statement_lines_statement_id_fkey" FOREIGN KEY ("statement_id") REFERENCES "statements"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "statement_parts" ADD CONSTRAINT "statement_parts_statement_id_fkey" FOREIGN KEY ("statement_id") REFERENCES "statements"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reconciliation_runs" ADD CONSTRAINT "reconciliation_runs_statement_id_fkey" FOREIGN KEY ("statement_id") REFERENCES "statements"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reconciliation_results" ADD CONSTRAINT "reconciliation_results_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "reconciliation_runs"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
