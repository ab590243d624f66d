-- Hand-written: holds, reversals, as-of balances and a per-tenant test clock.
--
-- Every change of an account's balances is an entry carrying all of the account's totals after
-- it (posted and pending), written under the account's row lock with a timestamp taken after
-- the lock: a transfer leg (POSTED), a hold's reservation (HOLD), its capture (CAPTURE: pending
-- to posted) or its release by a void or the expiry (RELEASE). So versions have no gaps, and the
-- balance at any instant is one index lookup.
--
-- Bounds are checked against the worst case the open holds allow: the balance minus pending
-- amounts that would lower it (the available balance) must stay >= min_balance, the balance plus
-- pending amounts that would raise it must stay <= max_balance. Captures and releases never
-- widen that envelope, so they cannot fail on bounds.
--
-- Lock order everywhere: accounts in id order, then hold rows in id order.

-- ---------------------------------------------------------------- partial indexes
-- (Prisma's schema language cannot express these; the catalog test leaves partial indexes out.)
CREATE INDEX entries_hold_id_idx ON entries (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX entries_account_holds_idx ON entries (account_id, id DESC) WHERE kind = 'HOLD';
CREATE INDEX transfers_reverses_id_idx ON transfers (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX transfers_hold_id_idx ON transfers (hold_id) WHERE hold_id IS NOT NULL;

-- ---------------------------------------------------------------- bounds
-- One expression (no FROM), so the planner inlines it into the CHECK and the UPDATEs that use it.
CREATE FUNCTION ledger_within_bounds(p_normal_side "Side", p_min numeric, p_max numeric,
  p_debits_posted numeric, p_credits_posted numeric, p_debits_pending numeric, p_credits_pending numeric)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE p_normal_side
    WHEN 'CREDIT' THEN (p_min IS NULL OR p_credits_posted - p_debits_posted - p_debits_pending >= p_min)
                   AND (p_max IS NULL OR p_credits_posted - p_debits_posted + p_credits_pending <= p_max)
    ELSE (p_min IS NULL OR p_debits_posted - p_credits_posted - p_credits_pending >= p_min)
     AND (p_max IS NULL OR p_debits_posted - p_credits_posted + p_debits_pending <= p_max) END
$$;

ALTER TABLE accounts
  DROP CONSTRAINT accounts_balance_within_bounds,
  -- No bound is ever broken, except after a forced reversal (until the balance is back inside).
  ADD CONSTRAINT accounts_balance_within_bounds CHECK (forced_out_of_bounds OR ledger_within_bounds(
    normal_side, min_balance, max_balance, debits_posted, credits_posted, debits_pending, credits_pending)),
  ADD CONSTRAINT accounts_pending_nonnegative CHECK (debits_pending >= 0 AND credits_pending >= 0),
  -- A capture moves pending to posted: their sum per side must fit a bigint.
  ADD CONSTRAINT accounts_totals_in_range CHECK (
    debits_posted::numeric + debits_pending <= 9223372036854775807
    AND credits_posted::numeric + credits_pending <= 9223372036854775807);

ALTER TABLE entries
  ADD CONSTRAINT entries_pending_nonnegative CHECK (debits_pending_after >= 0 AND credits_pending_after >= 0),
  ADD CONSTRAINT entries_kind_links CHECK (
    (transfer_id IS NOT NULL) = (kind IN ('POSTED', 'CAPTURE'))
    AND (hold_id IS NOT NULL) = (kind IN ('HOLD', 'RELEASE', 'CAPTURE')));

ALTER TABLE transfers
  ADD CONSTRAINT transfers_reversal_not_self CHECK (reverses_id IS NULL OR reverses_id <> id),
  ADD CONSTRAINT transfers_forced_is_reversal CHECK (NOT forced OR reverses_id IS NOT NULL),
  ADD CONSTRAINT transfers_capture_not_reversal CHECK (hold_id IS NULL OR reverses_id IS NULL);

ALTER TABLE holds
  ADD CONSTRAINT holds_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
  ADD CONSTRAINT holds_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
  ADD CONSTRAINT holds_amounts CHECK (amount > 0 AND captured_amount >= 0 AND released_amount >= 0
    AND captured_amount::numeric + released_amount <= amount),
  ADD CONSTRAINT holds_status_amounts CHECK (CASE status
    WHEN 'OPEN' THEN released_amount = 0 AND captured_amount < amount AND closed_at IS NULL
    WHEN 'CAPTURED' THEN captured_amount = amount AND released_amount = 0 AND closed_at IS NOT NULL
    ELSE released_amount > 0 AND captured_amount + released_amount = amount AND closed_at IS NOT NULL END);

-- A hold changes only in its settlement columns, only while OPEN; it is never deleted.
CREATE FUNCTION ledger_hold_settlement_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'ledger: holds rows are immutable (% rejected)', TG_OP USING ERRCODE = 'restrict_violation';
  END IF;
  IF OLD.status <> 'OPEN'
     OR (NEW.id, NEW.seq, NEW.tenant_id, NEW.idempotency_key, NEW.description, NEW.metadata, NEW.currency_id,
         NEW.amount, NEW.expires_at, NEW.created_at)
        IS DISTINCT FROM (OLD.id, OLD.seq, OLD.tenant_id, OLD.idempotency_key, OLD.description, OLD.metadata,
                          OLD.currency_id, OLD.amount, OLD.expires_at, OLD.created_at)
     OR NEW.captured_amount < OLD.captured_amount THEN
    RAISE EXCEPTION 'ledger: hold % may only be settled while open', OLD.id USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER holds_settlement_only BEFORE UPDATE OR DELETE ON holds
  FOR EACH ROW EXECUTE FUNCTION ledger_hold_settlement_only();
CREATE TRIGGER holds_no_truncate BEFORE TRUNCATE ON holds
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

-- ---------------------------------------------------------------- clock
-- The tenant's time: the real clock unless a test clock row moves it forward or freezes it.
CREATE FUNCTION ledger_now(p_tenant uuid) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(
    (SELECT coalesce(c.frozen_at, clock_timestamp() + c.offset_ms * interval '1 millisecond')
     FROM tenant_clocks c WHERE c.tenant_id = p_tenant),
    clock_timestamp())
$$;

-- The latest "now" of any tenant: an index-friendly upper bound for the expiry job.
CREATE FUNCTION ledger_clock_horizon() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT greatest(clock_timestamp() + coalesce(max(c.offset_ms), 0) * interval '1 millisecond', max(c.frozen_at))
  FROM tenant_clocks c
$$;

-- Test clock controls. Time only moves forward, so entry timestamps never go backwards.
CREATE FUNCTION ledger_clock_advance(p_tenant uuid, p_ms bigint) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  IF p_ms < 0 THEN RAISE EXCEPTION 'ledger clock: time only moves forward'; END IF;
  INSERT INTO tenant_clocks AS c (tenant_id, offset_ms) VALUES (p_tenant, p_ms)
  ON CONFLICT (tenant_id) DO UPDATE
    SET offset_ms = c.offset_ms + p_ms, frozen_at = c.frozen_at + p_ms * interval '1 millisecond';
  RETURN ledger_now(p_tenant);
END $$;

CREATE FUNCTION ledger_clock_freeze(p_tenant uuid, p_at timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  IF p_at < ledger_now(p_tenant) THEN RAISE EXCEPTION 'ledger clock: time only moves forward'; END IF;
  INSERT INTO tenant_clocks AS c (tenant_id, frozen_at) VALUES (p_tenant, p_at)
  ON CONFLICT (tenant_id) DO UPDATE SET frozen_at = p_at;
  RETURN p_at;
END $$;

CREATE FUNCTION ledger_clock_unfreeze(p_tenant uuid) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tenant_clocks c SET
    offset_ms = greatest(c.offset_ms, ceil(extract(epoch FROM c.frozen_at - clock_timestamp()) * 1000)::bigint),
    frozen_at = NULL
  WHERE c.tenant_id = p_tenant AND c.frozen_at IS NOT NULL;
  RETURN ledger_now(p_tenant);
END $$;

-- The time of a change to accounts the caller has locked: the tenant's now, but never before
-- one of their newest entries (a frozen or skewed clock must not reorder an account's history).
CREATE FUNCTION ledger_locked_now(p_tenant uuid, p_account_ids uuid[]) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT greatest(ledger_now(p_tenant), (SELECT max(a.last_entry_at) FROM accounts a WHERE a.id = ANY(p_account_ids)))
$$;

-- ---------------------------------------------------------------- applying a change
-- Moves one account's totals and writes the entry that records it. The caller holds the lock.
CREATE FUNCTION ledger_apply_entry(p_tenant uuid, p_account uuid, p_kind "EntryKind", p_direction "Side",
  p_amount bigint, p_transfer uuid, p_hold uuid, p_leg_index int, p_ts timestamptz, p_force boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  posted_delta bigint := CASE WHEN p_kind IN ('POSTED', 'CAPTURE') THEN p_amount ELSE 0 END;
  pending_delta bigint := CASE p_kind WHEN 'HOLD' THEN p_amount WHEN 'POSTED' THEN 0 ELSE -p_amount END;
  dp bigint := CASE p_direction WHEN 'DEBIT' THEN posted_delta ELSE 0 END;
  cp bigint := CASE p_direction WHEN 'CREDIT' THEN posted_delta ELSE 0 END;
  dq bigint := CASE p_direction WHEN 'DEBIT' THEN pending_delta ELSE 0 END;
  cq bigint := CASE p_direction WHEN 'CREDIT' THEN pending_delta ELSE 0 END;
BEGIN
  ASSERT p_amount > 0, 'ledger: entry amounts are positive';
  WITH moved AS (
    UPDATE accounts a SET
      debits_posted = a.debits_posted + dp,
      credits_posted = a.credits_posted + cp,
      debits_pending = a.debits_pending + dq,
      credits_pending = a.credits_pending + cq,
      version = a.version + 1,
      last_entry_at = p_ts,
      -- Only a forced change, or one on an account a forced change took out, needs the check.
      forced_out_of_bounds = CASE WHEN a.forced_out_of_bounds OR p_force THEN NOT ledger_within_bounds(
        a.normal_side, a.min_balance, a.max_balance, a.debits_posted + dp, a.credits_posted + cp,
        a.debits_pending + dq, a.credits_pending + cq) ELSE false END
    WHERE a.id = p_account
    RETURNING a.id, a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending, a.version)
  INSERT INTO entries (tenant_id, kind, transfer_id, hold_id, account_id, leg_index, direction, amount,
                       account_version, debits_posted_after, credits_posted_after,
                       debits_pending_after, credits_pending_after, created_at)
  SELECT p_tenant, p_kind, p_transfer, p_hold, moved.id, p_leg_index, p_direction, p_amount, moved.version,
         moved.debits_posted, moved.credits_posted, moved.debits_pending, moved.credits_pending, p_ts
  FROM moved;
END $$;

-- Why a leg may not be applied to `acc` (NULL: it may). RELEASE and CAPTURE never widen the
-- bounds envelope; a forced leg skips the bounds but never the 64-bit range.
CREATE FUNCTION ledger_leg_rejection(acc accounts, p_kind "EntryKind", p_direction "Side", p_amount bigint,
  p_leg_index int, p_force boolean)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  posted numeric := CASE acc.normal_side WHEN 'CREDIT' THEN acc.credits_posted::numeric - acc.debits_posted
                                         ELSE acc.debits_posted::numeric - acc.credits_posted END;
  pending_down numeric := CASE acc.normal_side WHEN 'CREDIT' THEN acc.debits_pending ELSE acc.credits_pending END;
  pending_up numeric := CASE acc.normal_side WHEN 'CREDIT' THEN acc.credits_pending ELSE acc.debits_pending END;
  side_total numeric := CASE p_direction WHEN 'DEBIT' THEN acc.debits_posted::numeric + acc.debits_pending
                                         ELSE acc.credits_posted::numeric + acc.credits_pending END;
BEGIN
  IF p_kind IN ('RELEASE', 'CAPTURE') THEN RETURN NULL; END IF;
  IF side_total + p_amount > 9223372036854775807 THEN
    RETURN jsonb_build_object('code', 'AmountOverflow', 'legIndex', p_leg_index, 'accountId', acc.id);
  END IF;
  IF p_force THEN RETURN NULL; END IF;
  IF p_direction <> acc.normal_side THEN
    -- Lowers the balance (POSTED) or reserves against it (HOLD): the available balance decides.
    IF acc.min_balance IS NOT NULL AND posted - pending_down - p_amount < acc.min_balance THEN
      RETURN jsonb_build_object('code', 'InsufficientFunds', 'legIndex', p_leg_index, 'accountId', acc.id,
        'available', (posted - pending_down)::text, 'requested', p_amount::text,
        'minBalance', acc.min_balance::text);
    END IF;
  ELSIF acc.max_balance IS NOT NULL AND posted + pending_up + p_amount > acc.max_balance THEN
    RETURN jsonb_build_object('code', 'BalanceLimitExceeded', 'legIndex', p_leg_index, 'accountId', acc.id,
      'balanceAfter', (posted + pending_up + p_amount)::text, 'maxBalance', acc.max_balance::text);
  END IF;
  RETURN NULL;
END $$;

-- ---------------------------------------------------------------- releasing holds
-- Gives back what remains of an OPEN hold as VOIDED or EXPIRED: one RELEASE entry per leg.
-- The caller holds the locks of the hold's accounts and of the hold row.
CREATE FUNCTION ledger_release_hold(p_hold holds, p_status "HoldStatus", p_ts timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  remaining bigint := p_hold.amount - p_hold.captured_amount;
  leg_count int;
  leg record;
BEGIN
  ASSERT p_hold.status = 'OPEN' AND p_status IN ('VOIDED', 'EXPIRED'), 'ledger: only open holds are released';
  SELECT count(*) INTO leg_count FROM entries e WHERE e.hold_id = p_hold.id AND e.kind = 'HOLD';
  -- Two legs may be captured in parts; more legs only whole, so what remains is all or nothing.
  ASSERT leg_count = 2 OR remaining = p_hold.amount, 'ledger: multi-leg holds are settled whole';
  FOR leg IN SELECT e.account_id, e.direction, e.amount, e.leg_index FROM entries e
             WHERE e.hold_id = p_hold.id AND e.kind = 'HOLD' ORDER BY e.leg_index LOOP
    PERFORM ledger_apply_entry(p_hold.tenant_id, leg.account_id, 'RELEASE', leg.direction,
      CASE WHEN leg_count = 2 THEN remaining ELSE leg.amount END, NULL, p_hold.id, leg.leg_index, p_ts, false);
  END LOOP;
  UPDATE holds SET status = p_status, released_amount = remaining, closed_at = p_ts WHERE id = p_hold.id;
  RETURN remaining;
END $$;

-- Locks accounts in id order, first adding the accounts of holds on them that have expired but
-- were not released yet, and releases those holds: bounds are then checked against what is
-- really reserved. Returns how many holds it released.
CREATE FUNCTION ledger_lock_accounts(p_tenant uuid, p_account_ids uuid[]) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  expired uuid[];
  lock_ids uuid[] := p_account_ids;
  expired_hold holds;
  ts timestamptz;
  released int := 0;
  -- A variable, not the (volatile) call, so the condition below is an index range.
  now_at timestamptz := ledger_now(p_tenant);
BEGIN
  SELECT array_agg(h.id ORDER BY h.id) INTO expired FROM holds h
  WHERE h.status = 'OPEN' AND h.expires_at <= now_at AND h.tenant_id = p_tenant
    AND EXISTS (SELECT 1 FROM entries e WHERE e.hold_id = h.id AND e.kind = 'HOLD' AND e.account_id = ANY(p_account_ids));
  IF expired IS NOT NULL THEN
    SELECT array_agg(DISTINCT x.id) INTO lock_ids FROM (
      SELECT unnest(p_account_ids) UNION ALL
      SELECT e.account_id FROM entries e WHERE e.hold_id = ANY(expired) AND e.kind = 'HOLD') AS x(id);
  END IF;
  PERFORM 1 FROM accounts WHERE id = ANY(lock_ids) ORDER BY id FOR UPDATE;
  IF expired IS NOT NULL THEN
    ts := ledger_locked_now(p_tenant, lock_ids);
    FOR expired_hold IN SELECT * FROM holds WHERE id = ANY(expired) ORDER BY id FOR UPDATE LOOP
      -- Re-checked under the locks: another writer or the expiry job may have settled it.
      IF expired_hold.status = 'OPEN' AND expired_hold.expires_at <= ts THEN
        PERFORM ledger_release_hold(expired_hold, 'EXPIRED', ts);
        released := released + 1;
      END IF;
    END LOOP;
  END IF;
  RETURN released;
END $$;

-- The expiry job: releases up to p_limit expired holds and returns how many. Safe with several
-- server instances: each hold is re-checked under its accounts' locks and its own.
CREATE FUNCTION ledger_expire_holds(p_limit int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  batch record;
  released int := 0;
  horizon timestamptz := ledger_clock_horizon();  -- a variable: an index range below
BEGIN
  FOR batch IN
    SELECT c.tenant_id, array_agg(DISTINCT e.account_id) AS account_ids
    FROM (SELECT h.id, h.tenant_id FROM holds h
          WHERE h.status = 'OPEN' AND h.expires_at <= horizon
            AND h.expires_at <= ledger_now(h.tenant_id)
          ORDER BY h.expires_at LIMIT p_limit) AS c
    JOIN entries e ON e.hold_id = c.id AND e.kind = 'HOLD'
    GROUP BY c.tenant_id ORDER BY c.tenant_id
  LOOP
    released := released + ledger_lock_accounts(batch.tenant_id, batch.account_ids);
  END LOOP;
  RETURN released;
END $$;

-- ---------------------------------------------------------------- idempotency
-- Claims a key for a single-item operation: NULL when newly claimed; otherwise the answer to
-- give, { ok, replay: true, ... } from the stored outcome or an IdempotencyConflict.
CREATE FUNCTION ledger_claim_key(p_tenant uuid, p_key text, p_operation text, p_hash text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  stored record;
BEGIN
  INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash)
  VALUES (p_tenant, p_key, p_operation, p_hash) ON CONFLICT DO NOTHING;
  IF FOUND THEN RETURN NULL; END IF;
  SELECT k.operation, k.request_hash, k.result INTO stored
  FROM idempotency_keys k WHERE k.tenant_id = p_tenant AND k.key = p_key;
  IF stored.operation <> p_operation OR stored.request_hash <> p_hash THEN
    RETURN jsonb_build_object('ok', false, 'replay', false, 'error',
      jsonb_build_object('code', 'IdempotencyConflict', 'idempotencyKey', p_key));
  ELSIF stored.result ? 'code' THEN
    RETURN jsonb_build_object('ok', false, 'replay', true, 'error', stored.result);
  END IF;
  RETURN jsonb_build_object('ok', true, 'replay', true) || stored.result;
END $$;

-- Stores a single-item outcome under its key and returns the answer.
CREATE FUNCTION ledger_settle_key(p_tenant uuid, p_key text, p_rejection jsonb, p_result jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE idempotency_keys SET result = coalesce(p_rejection, p_result) WHERE tenant_id = p_tenant AND key = p_key;
  IF p_rejection IS NOT NULL THEN
    RETURN jsonb_build_object('ok', false, 'replay', false, 'error', p_rejection);
  END IF;
  RETURN jsonb_build_object('ok', true, 'replay', false) || p_result;
END $$;

-- ---------------------------------------------------------------- posting one item
-- Resolves, checks and writes one transfer (p_kind POSTED or CAPTURE) or one hold (p_kind HOLD)
-- on accounts the caller has locked, under a key it has claimed. Nothing is written unless
-- every leg passes. Returns { transferId } / { holdId } or { error }.
-- p_item: { key, description, metadata, expiresAt (holds),
--           legs: [{ accountId | accountCode, direction, amount (text), currency }] }
CREATE FUNCTION ledger_post_one(p_tenant uuid, p_item jsonb, p_kind "EntryKind", p_hold uuid,
  p_reverses uuid, p_force boolean, p_ts timestamptz)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  leg jsonb;
  acc record;
  row_acc accounts;
  leg_index int := 0;
  rejection jsonb;
  seen_ids uuid[] := '{}';
  ts timestamptz;
  new_id uuid;
  metadata jsonb := CASE WHEN jsonb_typeof(p_item->'metadata') = 'object' THEN p_item->'metadata' ELSE '{}' END;
BEGIN
  -- First pass: which accounts, in which currency. A request that names a wrong account hears
  -- about that, whatever the balances.
  FOR leg IN SELECT l FROM jsonb_array_elements(p_item->'legs') AS l LOOP
    IF leg ? 'accountId' THEN
      SELECT a.id, c.code AS currency INTO acc
      FROM accounts a JOIN currencies c ON c.id = a.currency_id
      WHERE a.id = (leg->>'accountId')::uuid AND a.tenant_id = p_tenant;
    ELSE
      SELECT a.id, c.code AS currency INTO acc
      FROM accounts a JOIN currencies c ON c.id = a.currency_id
      WHERE a.tenant_id = p_tenant AND a.code = leg->>'accountCode';
    END IF;
    IF NOT FOUND THEN
      -- The reference as given: { accountId } or { accountCode }; the service words it.
      RETURN jsonb_build_object('error', jsonb_build_object('code', 'AccountNotFound', 'legIndex', leg_index,
        'accountRef', leg - 'direction' - 'amount' - 'currency'));
    ELSIF acc.id = ANY(seen_ids) THEN
      RETURN jsonb_build_object('error', jsonb_build_object('code', 'DuplicateAccount', 'legIndex', leg_index,
        'accountId', acc.id));
    ELSIF acc.currency <> leg->>'currency' THEN
      RETURN jsonb_build_object('error', jsonb_build_object('code', 'CurrencyMismatch', 'legIndex', leg_index,
        'accountId', acc.id, 'accountCurrency', acc.currency, 'legCurrency', leg->>'currency'));
    END IF;
    seen_ids := seen_ids || acc.id;
    leg_index := leg_index + 1;
  END LOOP;

  -- Taken after the locks; below, never before an account's newest entry.
  ts := coalesce(p_ts, ledger_now(p_tenant));

  -- Second pass: amounts and bounds.
  leg_index := 0;
  FOR leg IN SELECT l FROM jsonb_array_elements(p_item->'legs') AS l LOOP
    SELECT * INTO row_acc FROM accounts a WHERE a.id = seen_ids[leg_index + 1];
    IF row_acc.last_entry_at > ts THEN ts := row_acc.last_entry_at; END IF;
    rejection := ledger_leg_rejection(row_acc, p_kind, (leg->>'direction')::"Side", (leg->>'amount')::bigint,
                                      leg_index, p_force);
    IF rejection IS NOT NULL THEN RETURN jsonb_build_object('error', rejection); END IF;
    leg_index := leg_index + 1;
  END LOOP;

  -- Invariant (the service checked it too): debits equal credits per currency.
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_item->'legs') AS l
             GROUP BY l->>'currency'
             HAVING sum(CASE l->>'direction' WHEN 'DEBIT' THEN (l->>'amount')::numeric
                                             ELSE -(l->>'amount')::numeric END) <> 0) THEN
    RAISE EXCEPTION 'ledger invariant: % is unbalanced', p_item->>'key';
  END IF;

  IF p_kind = 'HOLD' THEN
    INSERT INTO holds (tenant_id, idempotency_key, description, metadata, currency_id, amount, expires_at, created_at)
    SELECT p_tenant, p_item->>'key', coalesce(p_item->>'description', ''), metadata,
           (SELECT a.currency_id FROM accounts a WHERE a.id = seen_ids[1]),
           (SELECT sum((l->>'amount')::bigint) FROM jsonb_array_elements(p_item->'legs') AS l
            WHERE l->>'direction' = 'DEBIT'),
           (p_item->>'expiresAt')::timestamptz, ts
    RETURNING id INTO new_id;
  ELSE
    INSERT INTO transfers (tenant_id, idempotency_key, description, metadata, created_at, reverses_id, forced, hold_id)
    VALUES (p_tenant, p_item->>'key', coalesce(p_item->>'description', ''),
            metadata, ts, p_reverses, coalesce(p_force, false), p_hold)
    RETURNING id INTO new_id;
  END IF;

  leg_index := 0;
  FOR leg IN SELECT l FROM jsonb_array_elements(p_item->'legs') AS l LOOP
    PERFORM ledger_apply_entry(p_tenant, seen_ids[leg_index + 1], p_kind, (leg->>'direction')::"Side",
      (leg->>'amount')::bigint,
      CASE WHEN p_kind = 'HOLD' THEN NULL ELSE new_id END,
      CASE p_kind WHEN 'HOLD' THEN new_id WHEN 'CAPTURE' THEN p_hold ELSE NULL END,
      leg_index, ts, coalesce(p_force, false));
    leg_index := leg_index + 1;
  END LOOP;

  RETURN CASE WHEN p_kind = 'HOLD' THEN jsonb_build_object('holdId', new_id)
              ELSE jsonb_build_object('transferId', new_id) END;
END $$;

-- The account ids an item's legs name (by id or by code), for locking.
CREATE FUNCTION ledger_item_account_ids(p_tenant uuid, p_items jsonb) RETURNS uuid[] LANGUAGE plpgsql STABLE AS $$
DECLARE
  ref_ids uuid[];
  ref_codes text[];
  ids uuid[];
BEGIN
  -- Arrays first, then index lookups by id and by code separately: the planner cannot size a
  -- join over jsonb elements and would scan every account.
  SELECT coalesce(array_agg((l.leg->>'accountId')::uuid) FILTER (WHERE l.leg ? 'accountId'), '{}'),
         coalesce(array_agg(l.leg->>'accountCode') FILTER (WHERE l.leg ? 'accountCode'), '{}')
    INTO ref_ids, ref_codes
  FROM jsonb_array_elements(p_items) AS it(item)
  CROSS JOIN LATERAL jsonb_array_elements(it.item->'legs') AS l(leg);
  SELECT coalesce(array_agg(DISTINCT id), '{}') INTO ids FROM (
    SELECT a.id FROM accounts a WHERE a.id = ANY(ref_ids) AND a.tenant_id = p_tenant
    UNION ALL
    SELECT a.id FROM accounts a WHERE a.tenant_id = p_tenant AND a.code = ANY(ref_codes)) AS named;
  RETURN ids;
END $$;

-- ---------------------------------------------------------------- transfers (replaces the first version)
-- Same contract as before (see 20261121000100_write_path); now built on ledger_post_one, and
-- releasing expired holds on the accounts it locks.
CREATE OR REPLACE FUNCTION ledger_post_transfers(p_tenant uuid, p_operation text, p_atomic boolean, p_items jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  item_count int := jsonb_array_length(p_items);
  results jsonb[] := array_fill(NULL::jsonb, ARRAY[item_count]);
  claimed boolean[] := array_fill(false, ARRAY[item_count]);
  claim record;
  stored record;
  item jsonb;
  i int;
  outcome jsonb;
  failed_index int;
  batch_now timestamptz;
BEGIN
  -- 1. Claim keys, in key order (concurrent batches cannot deadlock on them).
  FOR claim IN
    SELECT ord::int AS idx, it->>'key' AS key, it->>'hash' AS hash
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t(it, ord)
    ORDER BY it->>'key'
  LOOP
    INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash)
    VALUES (p_tenant, claim.key, p_operation, claim.hash)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
      claimed[claim.idx] := true;
    ELSE
      SELECT k.operation, k.request_hash, k.result INTO stored
      FROM idempotency_keys k WHERE k.tenant_id = p_tenant AND k.key = claim.key;
      IF stored.operation <> p_operation OR stored.request_hash <> claim.hash THEN
        results[claim.idx] := jsonb_build_object('ok', false, 'replay', false, 'error',
          jsonb_build_object('code', 'IdempotencyConflict', 'idempotencyKey', claim.key));
      ELSIF stored.result ? 'transferId' THEN
        results[claim.idx] := jsonb_build_object('ok', true, 'replay', true,
          'transfer', ledger_transfer_json((stored.result->>'transferId')::uuid));
      ELSE
        results[claim.idx] := jsonb_build_object('ok', false, 'replay', true, 'error', stored.result);
      END IF;
    END IF;
  END LOOP;

  -- An atomic batch with a conflicting key, or with a replayed rejection, fails before
  -- touching any account: retrying a failed batch fails the same way.
  IF p_atomic THEN
    FOR i IN 1 .. item_count LOOP
      IF NOT claimed[i] AND NOT (results[i]->>'ok')::boolean THEN
        failed_index := i;
        EXIT;
      END IF;
    END LOOP;
  END IF;

  IF failed_index IS NULL THEN
    -- 2. Lock every account the claimed items name, in id order.
    PERFORM ledger_lock_accounts(p_tenant, ledger_item_account_ids(p_tenant, (
      SELECT coalesce(jsonb_agg(p_items->(s.idx - 1)), '[]'::jsonb)
      FROM generate_subscripts(claimed, 1) AS s(idx) WHERE claimed[s.idx])));
    batch_now := ledger_now(p_tenant);  -- after the locks; each item clamps it to its accounts

    -- 3. Post item by item; an atomic batch undoes everything at the first rejection.
    BEGIN
      FOR i IN 1 .. item_count LOOP
        CONTINUE WHEN NOT claimed[i];
        outcome := ledger_post_one(p_tenant, p_items->(i - 1), 'POSTED', NULL, NULL, false, batch_now);
        IF outcome ? 'error' THEN
          results[i] := jsonb_build_object('ok', false, 'replay', false, 'error', outcome->'error');
          IF p_atomic THEN
            failed_index := i;
            RAISE EXCEPTION USING ERRCODE = 'LDG01';  -- undo this batch's writes
          END IF;
        ELSE
          results[i] := jsonb_build_object('ok', true, 'replay', false, 'transferId', outcome->>'transferId');
        END IF;
      END LOOP;
    EXCEPTION WHEN SQLSTATE 'LDG01' THEN
      NULL;  -- the batch's writes are undone; outcomes are settled below
    END;
  END IF;

  -- 4. Settle outcomes under the claimed keys.
  FOR i IN 1 .. item_count LOOP
    CONTINUE WHEN NOT claimed[i];
    item := p_items->(i - 1);
    IF failed_index IS NOT NULL AND i <> failed_index THEN
      results[i] := jsonb_build_object('ok', false, 'replay', false, 'error',
        jsonb_build_object('code', 'BatchAborted', 'failedIndex', failed_index - 1));
      DELETE FROM idempotency_keys WHERE tenant_id = p_tenant AND key = item->>'key';
    ELSIF (results[i]->>'ok')::boolean THEN
      UPDATE idempotency_keys SET result = jsonb_build_object('transferId', results[i]->>'transferId')
      WHERE tenant_id = p_tenant AND key = item->>'key';
      results[i] := jsonb_build_object('ok', true, 'replay', false,
        'transfer', ledger_transfer_json((results[i]->>'transferId')::uuid));
    ELSE
      UPDATE idempotency_keys SET result = results[i]->'error'
      WHERE tenant_id = p_tenant AND key = item->>'key';
    END IF;
  END LOOP;

  RETURN to_jsonb(results);
END $$;

-- A transfer with its entries as JSON; bigints as strings so no precision is lost in JS.
CREATE OR REPLACE FUNCTION ledger_transfer_json(p_transfer uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'seq', t.seq::text, 'idempotencyKey', t.idempotency_key,
    'description', t.description, 'metadata', t.metadata, 'createdAt', t.created_at,
    'reversesId', t.reverses_id, 'forced', t.forced, 'holdId', t.hold_id,
    'entries', (SELECT jsonb_agg(jsonb_build_object(
        'id', e.id::text, 'kind', e.kind, 'accountId', e.account_id, 'holdId', e.hold_id,
        'legIndex', e.leg_index, 'direction', e.direction, 'amount', e.amount::text,
        'accountVersion', e.account_version::text,
        'debitsPostedAfter', e.debits_posted_after::text,
        'creditsPostedAfter', e.credits_posted_after::text,
        'debitsPendingAfter', e.debits_pending_after::text,
        'creditsPendingAfter', e.credits_pending_after::text,
        'createdAt', e.created_at) ORDER BY e.leg_index)
      FROM entries e WHERE e.transfer_id = t.id))
  FROM transfers t WHERE t.id = p_transfer
$$;

-- ---------------------------------------------------------------- holds
-- p_item: { key, description, metadata, legs, expiresAt | expiresInMs, durationMaxMs }.
-- The expiry is checked against the tenant's clock; an expiry out of range is an input problem
-- and is not stored under the key.
CREATE FUNCTION ledger_create_hold(p_tenant uuid, p_hash text, p_item jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  answer jsonb;
  now_at timestamptz := ledger_now(p_tenant);
  expires timestamptz;
  field text := CASE WHEN p_item ? 'expiresAt' THEN 'expiresAt' ELSE 'expiresInSeconds' END;
BEGIN
  answer := ledger_claim_key(p_tenant, p_item->>'key', 'createHold', p_hash);
  IF answer IS NOT NULL THEN RETURN answer; END IF;
  expires := coalesce((p_item->>'expiresAt')::timestamptz,
                      now_at + (p_item->>'expiresInMs')::bigint * interval '1 millisecond');
  IF expires <= now_at OR expires > now_at + (p_item->>'durationMaxMs')::bigint * interval '1 millisecond' THEN
    DELETE FROM idempotency_keys WHERE tenant_id = p_tenant AND key = p_item->>'key';
    RETURN jsonb_build_object('ok', false, 'replay', false, 'error', jsonb_build_object(
      'code', 'InvalidInput', 'field', field, 'reason', 'EXPIRY_OUT_OF_RANGE',
      'message', format('%s: the hold must expire after now (%s) and within %s seconds', field, now_at,
                        (p_item->>'durationMaxMs')::bigint / 1000)));
  END IF;
  PERFORM ledger_lock_accounts(p_tenant, ledger_item_account_ids(p_tenant, jsonb_build_array(p_item)));
  answer := ledger_post_one(p_tenant, p_item || jsonb_build_object('expiresAt', expires), 'HOLD', NULL, NULL, false, NULL);
  RETURN ledger_settle_key(p_tenant, p_item->>'key', answer->'error', answer - 'error');
END $$;

-- Captures (p_item.operation = 'captureHold', optional amount) or voids ('voidHold') a hold.
-- Under its accounts' locks and its own: a hold past its expiry is released as EXPIRED and the
-- request answers HoldExpired; a hold that is no longer open answers HoldNotOpen.
-- p_item: { key, operation, holdId, amount?, description, metadata }
CREATE FUNCTION ledger_settle_hold(p_tenant uuid, p_hash text, p_item jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  answer jsonb;
  h holds;
  account_ids uuid[];
  leg_count int;
  ts timestamptz;
  remaining bigint;
  requested bigint;
  rejection jsonb;
  result jsonb;
BEGIN
  answer := ledger_claim_key(p_tenant, p_item->>'key', p_item->>'operation', p_hash);
  IF answer IS NOT NULL THEN RETURN answer; END IF;

  SELECT * INTO h FROM holds WHERE id = (p_item->>'holdId')::uuid AND tenant_id = p_tenant;
  IF NOT FOUND THEN
    rejection := jsonb_build_object('code', 'HoldNotFound', 'holdId', p_item->>'holdId');
  ELSE
    SELECT array_agg(e.account_id), count(*) INTO account_ids, leg_count
    FROM entries e WHERE e.hold_id = h.id AND e.kind = 'HOLD';
    PERFORM ledger_lock_accounts(p_tenant, account_ids);
    SELECT * INTO h FROM holds WHERE id = h.id FOR UPDATE;
    ts := ledger_locked_now(p_tenant, account_ids);
    -- Expired from expires_at on, whether or not the job has released it yet.
    IF h.status = 'OPEN' AND h.expires_at <= ts THEN
      PERFORM ledger_release_hold(h, 'EXPIRED', ts);
      h.status := 'EXPIRED';
    END IF;
    remaining := h.amount - h.captured_amount;
    requested := coalesce((p_item->>'amount')::bigint, remaining);
    IF h.status = 'EXPIRED' THEN
      rejection := jsonb_build_object('code', 'HoldExpired', 'holdId', h.id, 'expiresAt', h.expires_at);
    ELSIF h.status <> 'OPEN' THEN
      rejection := jsonb_build_object('code', 'HoldNotOpen', 'holdId', h.id, 'status', h.status);
    ELSIF p_item->>'operation' = 'voidHold' THEN
      PERFORM ledger_release_hold(h, 'VOIDED', ts);
      result := jsonb_build_object('holdId', h.id);
    ELSIF leg_count <> 2 AND requested <> remaining THEN
      rejection := jsonb_build_object('code', 'InvalidInput', 'field', 'amount', 'reason', 'PARTIAL_MULTI_LEG',
        'message', 'amount: a hold with more than two legs is captured whole; leave amount out');
    ELSIF requested > remaining THEN
      rejection := jsonb_build_object('code', 'CaptureExceedsRemaining', 'holdId', h.id,
        'remaining', remaining::text, 'requested', requested::text);
    ELSE
      answer := ledger_post_one(p_tenant, jsonb_build_object(
          'key', p_item->>'key', 'description', p_item->>'description', 'metadata', p_item->'metadata',
          'legs', (SELECT jsonb_agg(jsonb_build_object('accountId', e.account_id, 'direction', e.direction,
                     'amount', (CASE WHEN leg_count = 2 THEN requested ELSE e.amount END)::text,
                     'currency', c.code) ORDER BY e.leg_index)
                   FROM entries e JOIN currencies c ON c.id = h.currency_id
                   WHERE e.hold_id = h.id AND e.kind = 'HOLD')),
        'CAPTURE', h.id, NULL, false, ts);
      ASSERT NOT answer ? 'error', 'ledger: a capture cannot be rejected once the hold is open';
      UPDATE holds SET
        captured_amount = captured_amount + requested,
        status = CASE WHEN captured_amount + requested = amount THEN 'CAPTURED'::"HoldStatus" ELSE 'OPEN' END,
        closed_at = CASE WHEN captured_amount + requested = amount THEN ts END
      WHERE id = h.id;
      result := jsonb_build_object('holdId', h.id, 'transferId', answer->>'transferId');
    END IF;
  END IF;
  RETURN ledger_settle_key(p_tenant, p_item->>'key', rejection, result);
END $$;

-- ---------------------------------------------------------------- reversals
-- Posts the inverse of a transfer (or, for two-leg transfers, of part of it), linked to it.
-- p_item: { key, transferId | holdId, amount?, force, description, metadata }
CREATE FUNCTION ledger_reverse_transfer(p_tenant uuid, p_hash text, p_item jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  answer jsonb;
  t transfers;
  leg_count int;
  first_amount bigint;
  account_ids uuid[];
  reversed bigint;
  remaining bigint;
  requested bigint;
  rejection jsonb;
  result jsonb;
  force boolean := coalesce((p_item->>'force')::boolean, false);
BEGIN
  answer := ledger_claim_key(p_tenant, p_item->>'key', 'reverseTransfer', p_hash);
  IF answer IS NOT NULL THEN RETURN answer; END IF;

  IF p_item ? 'holdId' THEN
    rejection := CASE WHEN EXISTS (SELECT 1 FROM holds WHERE id = (p_item->>'holdId')::uuid AND tenant_id = p_tenant)
      THEN jsonb_build_object('code', 'NotReversible', 'reason', 'HOLD', 'holdId', p_item->>'holdId')
      -- An unknown hold id is an unknown id, as the caller gave it.
      ELSE jsonb_build_object('code', 'TransferNotFound', 'holdId', p_item->>'holdId') END;
    RETURN ledger_settle_key(p_tenant, p_item->>'key', rejection, NULL);
  END IF;

  SELECT * INTO t FROM transfers WHERE id = (p_item->>'transferId')::uuid AND tenant_id = p_tenant;
  IF NOT FOUND THEN
    rejection := jsonb_build_object('code', 'TransferNotFound', 'transferId', p_item->>'transferId');
  ELSIF t.reverses_id IS NOT NULL THEN
    rejection := jsonb_build_object('code', 'NotReversible', 'reason', 'REVERSAL', 'transferId', t.id);
  ELSE
    SELECT count(*), array_agg(e.account_id), min(e.amount) FILTER (WHERE e.leg_index = 0)
      INTO leg_count, account_ids, first_amount
    FROM entries e WHERE e.transfer_id = t.id;
    PERFORM ledger_lock_accounts(p_tenant, account_ids);
    -- Under the locks of its accounts, which every reversal of it takes too.
    SELECT coalesce(sum(e.amount), 0) INTO reversed
    FROM transfers r JOIN entries e ON e.transfer_id = r.id AND e.leg_index = 0
    WHERE r.reverses_id = t.id;
    remaining := first_amount - reversed;
    requested := coalesce((p_item->>'amount')::bigint, remaining);
    IF leg_count <> 2 AND p_item ? 'amount' THEN
      rejection := jsonb_build_object('code', 'InvalidInput', 'field', 'amount', 'reason', 'PARTIAL_MULTI_LEG',
        'message', 'amount: a transfer with more than two legs is reversed whole; leave amount out');
    ELSIF remaining = 0 OR requested > remaining THEN
      rejection := jsonb_build_object('code', 'ReversalExceedsRemaining', 'transferId', t.id,
        'remaining', remaining::text, 'requested', requested::text);
    ELSE
      answer := ledger_post_one(p_tenant, jsonb_build_object(
          'key', p_item->>'key', 'description', p_item->>'description', 'metadata', p_item->'metadata',
          'legs', (SELECT jsonb_agg(jsonb_build_object('accountId', e.account_id,
                     'direction', CASE e.direction WHEN 'DEBIT' THEN 'CREDIT' ELSE 'DEBIT' END,
                     'amount', (CASE WHEN leg_count = 2 THEN requested ELSE e.amount END)::text,
                     'currency', c.code) ORDER BY e.leg_index)
                   FROM entries e JOIN accounts a ON a.id = e.account_id JOIN currencies c ON c.id = a.currency_id
                   WHERE e.transfer_id = t.id)),
        'POSTED', NULL, t.id, force, NULL);
      rejection := answer->'error';
      IF rejection IS NULL THEN result := answer; END IF;
    END IF;
  END IF;
  RETURN ledger_settle_key(p_tenant, p_item->>'key', rejection, result);
END $$;

-- ---------------------------------------------------------------- as-of balances
-- The account's totals after its newest entry at (p_before: before) each instant; version 0 and
-- zeros when there is none. Stable: no instant may lie after the tenant's now (nor at it,
-- unless p_before), and when one is not before the account's newest committed entry, a FOR KEY
-- SHARE lock first waits out a writer that holds the account (its timestamp may be earlier than
-- the instant). Any later writer takes its timestamp after that lock, so after the instant: the
-- answer never changes. No rows for an account unknown to the tenant; SQLSTATE LDG02 for an
-- instant in the future.
CREATE FUNCTION ledger_balances_at(p_tenant uuid, p_account uuid, p_instants timestamptz[], p_before boolean)
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
