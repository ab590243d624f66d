-- Hand-written: what the database enforces beyond Prisma's model, and the write path.
-- Money columns are bigint minor units; every rule below is a last line of defence behind
-- the service's own checks, so a bug can fail a request but never corrupt the ledger.

-- ---------------------------------------------------------------- constraints
ALTER TABLE currencies
  ADD CONSTRAINT currencies_code_format CHECK (code ~ '^[A-Z][A-Z0-9_]{2,15}$'),
  ADD CONSTRAINT currencies_scale_range CHECK (scale BETWEEN 0 AND 18);

ALTER TABLE accounts
  ADD CONSTRAINT accounts_code_length CHECK (char_length(code) BETWEEN 1 AND 255),
  ADD CONSTRAINT accounts_name_length CHECK (char_length(name) <= 255),
  ADD CONSTRAINT accounts_posted_nonnegative CHECK (debits_posted >= 0 AND credits_posted >= 0),
  ADD CONSTRAINT accounts_version_nonnegative CHECK (version >= 0),
  ADD CONSTRAINT accounts_bounds_ordered CHECK (min_balance IS NULL OR max_balance IS NULL OR min_balance <= max_balance),
  ADD CONSTRAINT accounts_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
  -- No bound is ever broken: the normal-side balance stays within [min_balance, max_balance].
  ADD CONSTRAINT accounts_balance_within_bounds CHECK (
    (min_balance IS NULL OR (CASE normal_side WHEN 'CREDIT' THEN credits_posted::numeric - debits_posted
                                              ELSE debits_posted::numeric - credits_posted END) >= min_balance)
    AND
    (max_balance IS NULL OR (CASE normal_side WHEN 'CREDIT' THEN credits_posted::numeric - debits_posted
                                              ELSE debits_posted::numeric - credits_posted END) <= max_balance));

ALTER TABLE transfers
  ADD CONSTRAINT transfers_key_length CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
  ADD CONSTRAINT transfers_metadata_object CHECK (jsonb_typeof(metadata) = 'object');

ALTER TABLE entries
  ADD CONSTRAINT entries_amount_positive CHECK (amount > 0),
  ADD CONSTRAINT entries_version_positive CHECK (account_version > 0),
  ADD CONSTRAINT entries_posted_nonnegative CHECK (debits_posted_after >= 0 AND credits_posted_after >= 0);

ALTER TABLE idempotency_keys
  ADD CONSTRAINT idempotency_keys_key_length CHECK (char_length(key) BETWEEN 1 AND 255);

-- ---------------------------------------------------------------- immutability
CREATE FUNCTION ledger_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger: % rows are immutable (% rejected)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER entries_immutable BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

-- ---------------------------------------------------------------- reading a transfer
-- A transfer with its entries as JSON; bigints as strings so no precision is lost in JS.
CREATE FUNCTION ledger_transfer_json(p_transfer uuid) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'id', t.id, 'seq', t.seq::text, 'idempotencyKey', t.idempotency_key,
    'description', t.description, 'metadata', t.metadata, 'createdAt', t.created_at,
    'entries', (SELECT jsonb_agg(jsonb_build_object(
        'id', e.id::text, 'accountId', e.account_id, 'legIndex', e.leg_index,
        'direction', e.direction, 'amount', e.amount::text,
        'accountVersion', e.account_version::text,
        'debitsPostedAfter', e.debits_posted_after::text,
        'creditsPostedAfter', e.credits_posted_after::text,
        'createdAt', e.created_at) ORDER BY e.leg_index)
      FROM entries e WHERE e.transfer_id = t.id))
  FROM transfers t WHERE t.id = p_transfer
$$;

-- ---------------------------------------------------------------- posting
-- Posts a batch of transfers in one round trip. The caller (src/ledger/post-transfers.ts)
-- has already validated shapes, amounts, per-currency balance and key uniqueness within the
-- batch; this function does what needs the database, under locks:
--   1. claims every idempotency key, in key order (so concurrent batches cannot deadlock on
--      them); a key already taken answers as a replay or an IdempotencyConflict;
--   2. locks every account the new items touch, in id order (so rings A->B->C->A cannot
--      deadlock);
--   3. per item, in order: resolves accounts, checks currency and bounds, then inserts the
--      transfer and its entries and moves the balances;
--   4. stores each item's outcome under its key (business rejections too, so a retry
--      returns the same answer).
-- With p_atomic, the first rejection undoes the whole batch (the other items answer
-- BatchAborted and their keys are released); without it each item stands alone.
--
-- p_items: [{ key, hash, description, metadata,
--             legs: [{ accountId | accountCode, direction, amount (text), currency }] }]
-- returns: [{ ok: true, replay, transfer } | { ok: false, replay, error: { code, ... } }]
CREATE FUNCTION ledger_post_transfers(p_tenant uuid, p_operation text, p_atomic boolean, p_items jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  item_count int := jsonb_array_length(p_items);
  results jsonb[] := array_fill(NULL::jsonb, ARRAY[item_count]);
  claimed boolean[] := array_fill(false, ARRAY[item_count]);
  claim record;
  stored record;
  item jsonb;
  leg jsonb;
  acc record;
  i int;
  leg_index int;
  rejection jsonb;
  failed_index int;
  ts timestamptz;
  transfer_id uuid;
  account_ids uuid[];
  ref_ids uuid[];
  ref_codes text[];
  seen_ids uuid[];  -- accounts of the current item, in leg order
  leg_amount bigint;
  debits_after bigint;
  credits_after bigint;
  balance_after numeric;
  int64_max constant bigint := 9223372036854775807;
BEGIN
  -- 1. Claim keys.
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
    -- The references as arrays first, then index lookups by id and by code separately: the
    -- planner cannot size a join over jsonb elements and would scan every account.
    SELECT coalesce(array_agg((l.leg->>'accountId')::uuid) FILTER (WHERE l.leg ? 'accountId'), '{}'),
           coalesce(array_agg(l.leg->>'accountCode') FILTER (WHERE l.leg ? 'accountCode'), '{}')
      INTO ref_ids, ref_codes
    FROM generate_subscripts(claimed, 1) AS s(idx)
    CROSS JOIN LATERAL jsonb_array_elements(p_items->(s.idx - 1)->'legs') AS l(leg)
    WHERE claimed[s.idx];
    SELECT array_agg(DISTINCT id ORDER BY id) INTO account_ids FROM (
      SELECT a.id FROM accounts a WHERE a.id = ANY(ref_ids) AND a.tenant_id = p_tenant
      UNION ALL
      SELECT a.id FROM accounts a WHERE a.tenant_id = p_tenant AND a.code = ANY(ref_codes)) AS named;
    PERFORM 1 FROM accounts WHERE id = ANY(account_ids) ORDER BY id FOR UPDATE;

    -- 3. Post item by item; an atomic batch undoes everything at the first rejection.
    BEGIN
      FOR i IN 1 .. item_count LOOP
        CONTINUE WHEN NOT claimed[i];
        item := p_items->(i - 1);
        rejection := NULL;
        seen_ids := '{}';
        ts := clock_timestamp();  -- taken after the locks: never earlier than a prior entry

        -- Check every leg before writing anything. First pass: which accounts, in which
        -- currency; second pass: amounts and bounds. So a request that names a wrong account
        -- hears about that, whatever the balances.
        leg_index := 0;
        FOR leg IN SELECT l FROM jsonb_array_elements(item->'legs') AS l LOOP
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
            rejection := jsonb_build_object('code', 'AccountNotFound', 'legIndex', leg_index,
              'accountRef', leg - 'direction' - 'amount' - 'currency');
          ELSIF acc.id = ANY(seen_ids) THEN
            rejection := jsonb_build_object('code', 'DuplicateAccount', 'legIndex', leg_index,
              'accountId', acc.id);
          ELSIF acc.currency <> leg->>'currency' THEN
            rejection := jsonb_build_object('code', 'CurrencyMismatch', 'legIndex', leg_index,
              'accountId', acc.id, 'accountCurrency', acc.currency, 'legCurrency', leg->>'currency');
          END IF;
          EXIT WHEN rejection IS NOT NULL;
          seen_ids := seen_ids || acc.id;
          leg_index := leg_index + 1;
        END LOOP;

        leg_index := 0;
        FOR leg IN SELECT l FROM jsonb_array_elements(item->'legs') AS l LOOP
          EXIT WHEN rejection IS NOT NULL;
          SELECT a.id, a.normal_side, a.min_balance, a.max_balance, a.debits_posted,
                 a.credits_posted, a.last_entry_at
            INTO acc
          FROM accounts a WHERE a.id = seen_ids[leg_index + 1];
          leg_amount := (leg->>'amount')::bigint;
          -- Totals never wrap: a sum past the signed 64-bit range is a rejection.
          IF (CASE leg->>'direction' WHEN 'DEBIT' THEN acc.debits_posted ELSE acc.credits_posted END)
               > int64_max - leg_amount THEN
            rejection := jsonb_build_object('code', 'AmountOverflow', 'legIndex', leg_index, 'accountId', acc.id);
          ELSE
            debits_after := acc.debits_posted + CASE leg->>'direction' WHEN 'DEBIT' THEN leg_amount ELSE 0 END;
            credits_after := acc.credits_posted + CASE leg->>'direction' WHEN 'CREDIT' THEN leg_amount ELSE 0 END;
            balance_after := CASE acc.normal_side WHEN 'CREDIT' THEN credits_after::numeric - debits_after
                                                  ELSE debits_after::numeric - credits_after END;
            IF acc.min_balance IS NOT NULL AND balance_after < acc.min_balance THEN
              rejection := jsonb_build_object('code', 'InsufficientFunds', 'legIndex', leg_index,
                'accountId', acc.id, 'available', (balance_after + leg_amount)::text,
                'requested', leg_amount::text, 'minBalance', acc.min_balance::text);
            ELSIF acc.max_balance IS NOT NULL AND balance_after > acc.max_balance THEN
              rejection := jsonb_build_object('code', 'BalanceLimitExceeded', 'legIndex', leg_index,
                'accountId', acc.id, 'balanceAfter', balance_after::text,
                'maxBalance', acc.max_balance::text);
            END IF;
          END IF;
          IF acc.last_entry_at > ts THEN ts := acc.last_entry_at; END IF;
          leg_index := leg_index + 1;
        END LOOP;

        IF rejection IS NOT NULL THEN
          results[i] := jsonb_build_object('ok', false, 'replay', false, 'error', rejection);
          IF p_atomic THEN
            failed_index := i;
            RAISE EXCEPTION USING ERRCODE = 'LDG01';  -- undo this batch's writes
          END IF;
          CONTINUE;
        END IF;

        -- Invariant (the service checked it too): debits equal credits per currency.
        IF EXISTS (SELECT 1 FROM jsonb_array_elements(item->'legs') AS l
                   GROUP BY l->>'currency'
                   HAVING sum(CASE l->>'direction' WHEN 'DEBIT' THEN (l->>'amount')::numeric
                                                   ELSE -(l->>'amount')::numeric END) <> 0) THEN
          RAISE EXCEPTION 'ledger invariant: transfer % is unbalanced', item->>'key';
        END IF;

        INSERT INTO transfers (tenant_id, idempotency_key, description, metadata, created_at)
        VALUES (p_tenant, item->>'key', coalesce(item->>'description', ''),
                coalesce(item->'metadata', '{}'::jsonb), ts)
        RETURNING id INTO transfer_id;

        leg_index := 0;
        FOR leg IN SELECT l FROM jsonb_array_elements(item->'legs') AS l LOOP
          leg_amount := (leg->>'amount')::bigint;
          WITH moved AS (
            UPDATE accounts a SET
              debits_posted = a.debits_posted + CASE WHEN leg->>'direction' = 'DEBIT' THEN leg_amount ELSE 0 END,
              credits_posted = a.credits_posted + CASE WHEN leg->>'direction' = 'CREDIT' THEN leg_amount ELSE 0 END,
              version = a.version + 1,
              last_entry_at = ts
            WHERE a.id = seen_ids[leg_index + 1]
            RETURNING a.id, a.debits_posted, a.credits_posted, a.version)
          INSERT INTO entries (tenant_id, transfer_id, account_id, leg_index, direction, amount,
                               account_version, debits_posted_after, credits_posted_after, created_at)
          SELECT p_tenant, transfer_id, moved.id, leg_index, (leg->>'direction')::"Side", leg_amount,
                 moved.version, moved.debits_posted, moved.credits_posted, ts
          FROM moved;
          leg_index := leg_index + 1;
        END LOOP;

        results[i] := jsonb_build_object('ok', true, 'replay', false, 'transferId', transfer_id);
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
