-- As-of balances: the account's totals after its newest entry at (p_before: before) each instant;
-- version 0 and zeros when there is none. One index lookup per instant on (account_id, created_at).
--
-- Stable: no instant may lie after the tenant's now (nor at it, unless p_before), and when one is
-- not before the account's newest committed entry, a FOR KEY SHARE lock first waits out a writer
-- that holds the account (its timestamp may be earlier than the instant). Any later writer takes
-- its timestamp after that lock, so after the instant: the answer never changes. No rows for an
-- account unknown to the tenant; SQLSTATE LDG02 for an instant in the future.
CREATE OR REPLACE FUNCTION ledger_balances_at(p_tenant uuid, p_account uuid, p_instants timestamptz[], p_before boolean)
RETURNS TABLE (instant timestamptz, account_version bigint, debits_posted bigint, credits_posted bigint,
               debits_pending bigint, credits_pending bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  newest timestamptz;
  latest timestamptz := (SELECT max(t) FROM unnest(p_instants) AS t);
  now_at timestamptz;
BEGIN
  SELECT a.last_entry_at INTO newest FROM accounts a WHERE a.id = p_account AND a.tenant_id = p_tenant;
  IF NOT FOUND THEN RETURN; END IF;
  IF newest IS NULL OR latest >= newest THEN
    PERFORM 1 FROM accounts a WHERE a.id = p_account FOR KEY SHARE;
  END IF;
  now_at := ledger_now(p_tenant);
  IF latest > now_at OR (latest = now_at AND NOT p_before) THEN
    RAISE EXCEPTION 'ledger: % is not in the past', latest USING ERRCODE = 'LDG02';
  END IF;
  -- Two spellings of one query, so each is a plain index range on (account_id, created_at).
  IF p_before THEN
    RETURN QUERY
      SELECT t.at, coalesce(e.account_version, 0), coalesce(e.debits_posted_after, 0), coalesce(e.credits_posted_after, 0),
             coalesce(e.debits_pending_after, 0), coalesce(e.credits_pending_after, 0)
      FROM unnest(p_instants) WITH ORDINALITY AS t(at, ord)
      LEFT JOIN LATERAL (
        SELECT x.account_version, x.debits_posted_after, x.credits_posted_after, x.debits_pending_after, x.credits_pending_after
        FROM entries x WHERE x.account_id = p_account AND x.created_at < t.at
        ORDER BY x.created_at DESC, x.account_version DESC LIMIT 1) AS e ON true
      ORDER BY t.ord;
  ELSE
    RETURN QUERY
      SELECT t.at, coalesce(e.account_version, 0), coalesce(e.debits_posted_after, 0), coalesce(e.credits_posted_after, 0),
             coalesce(e.debits_pending_after, 0), coalesce(e.credits_pending_after, 0)
      FROM unnest(p_instants) WITH ORDINALITY AS t(at, ord)
      LEFT JOIN LATERAL (
        SELECT x.account_version, x.debits_posted_after, x.credits_posted_after, x.debits_pending_after, x.credits_pending_after
        FROM entries x WHERE x.account_id = p_account AND x.created_at <= t.at
        ORDER BY x.created_at DESC, x.account_version DESC LIMIT 1) AS e ON true
      ORDER BY t.ord;
  END IF;
END $$;
