-- What the database itself refuses, whatever the caller: the last line of defence behind the
-- service's checks, so a bug can fail a request but never corrupt the ledger. The triggers and
-- CHECK constraints that use these functions are in the migrations.

-- Rows that are never changed or removed (transfers, entries; accounts and holds are never removed).
CREATE OR REPLACE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger: % rows are immutable (% rejected)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;

-- A hold changes only in its settlement columns, only while OPEN; it is never deleted.
CREATE OR REPLACE FUNCTION ledger_hold_settlement_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'ledger: holds rows are immutable (% rejected)', TG_OP USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.status <> 'OPEN'
     OR (NEW.id, NEW.seq, NEW.tenant_id, NEW.idempotency_key, NEW.description, NEW.metadata, NEW.currency_id,
         NEW.amount, NEW.expires_at, NEW.created_at, NEW.external_ref)
        IS DISTINCT FROM (OLD.id, OLD.seq, OLD.tenant_id, OLD.idempotency_key, OLD.description, OLD.metadata,
                          OLD.currency_id, OLD.amount, OLD.expires_at, OLD.created_at, OLD.external_ref)
     OR NEW.captured_amount < OLD.captured_amount THEN
    RAISE EXCEPTION 'ledger: hold % may only be settled while open', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;

-- Whether an account's balance envelope lies within its bounds: the available balance (posted
-- minus the pending amounts that would lower it) >= min, posted plus the pending amounts that
-- would raise it <= max. One expression (no FROM), so the planner inlines it into the CHECK
-- constraint accounts_balance_within_bounds and into the engine's expressions.
CREATE OR REPLACE FUNCTION ledger_within_bounds(p_normal_side "Side", p_min numeric, p_max numeric,
  p_debits_posted numeric, p_credits_posted numeric, p_debits_pending numeric, p_credits_pending numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_normal_side
    WHEN 'CREDIT' THEN (p_min IS NULL OR p_credits_posted - p_debits_posted - p_debits_pending >= p_min)
                   AND (p_max IS NULL OR p_credits_posted - p_debits_posted + p_credits_pending <= p_max)
    ELSE (p_min IS NULL OR p_debits_posted - p_credits_posted - p_credits_pending >= p_min)
     AND (p_max IS NULL OR p_debits_posted - p_credits_posted + p_debits_pending <= p_max) END
$$;
