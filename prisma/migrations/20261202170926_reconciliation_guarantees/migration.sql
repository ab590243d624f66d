-- Hand-written: one resolution per line and per unmatched entry of a statement (a second is
-- refused, so an exception is settled once and for good), and results by the line or entry
-- they are about, for the exceptions list.
CREATE UNIQUE INDEX "reconciliation_resolutions_line_key" ON "reconciliation_resolutions" ("statement_id", "line_id") WHERE "line_id" IS NOT NULL;
CREATE UNIQUE INDEX "reconciliation_resolutions_entry_key" ON "reconciliation_resolutions" ("statement_id", "entry_id") WHERE "entry_id" IS NOT NULL;

-- Statement lines are immutable once imported (the same guard as entries and transfers).
CREATE TRIGGER statement_lines_immutable BEFORE UPDATE OR DELETE ON "statement_lines"
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER reconciliation_resolutions_immutable BEFORE UPDATE OR DELETE ON "reconciliation_resolutions"
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
