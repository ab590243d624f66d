-- The write engine: every writing mutation goes through ledger_execute, one batch of commands per
-- call, shaped like TigerBeetle's state machine.
--
--   1. prefetch, a constant number of statements however many commands: parse the batch; read the
--      stored idempotency keys; read the legs of the holds and transfers the commands act on
--      (they name the accounts to lock); lock and read every account the batch names, in id order
--      (rings of transfers cannot deadlock); find expired holds on those accounts (only when they
--      have pending totals: their releases run first, so bounds are checked against what is really
--      reserved); lock and read the holds, after the accounts (the lock order everywhere: accounts
--      by id, then holds by id); read the tenants' clocks (after the locks: no writer that
--      committed before them has a later timestamp, so timestamps never go backwards);
--   2. execute in memory, command by command in batch order, each checked against the running
--      state, so later commands see earlier ones; a rejection changes nothing; an atomic group
--      (postTransfers with atomic: true) whose member fails is undone in memory;
--   3. commit in bulk: one INSERT or UPDATE per table written, each row written once, the outcomes
--      stored with their idempotency keys in the same transaction. The answer is built from the
--      in-memory state; nothing is read back.
--
-- A command (p_commands is a JSON array of them; the service has validated shapes, amounts,
-- per-currency balance and texts: src/ledger/engine/commands.ts):
--   { op, tenant, key, hash (hex sha256 of the request), group (atomic group number or null), ... }
--   postTransfer    description, metadata, externalRef, legs: [{ accountId | accountCode, direction, amount, currency }]
--   createHold      description, metadata, externalRef, legs, expiresAt | expiresInMs, durationMaxMs
--   captureHold     holdId, amount (null: all that remains), description, metadata, externalRef (absent: the hold's)
--   voidHold        holdId
--   reverseTransfer transferId | holdId, amount (null: all that is left), force, description, metadata, externalRef
--   expireHold      holdId (the expiry job; no key)
--   createAccount   code, name, currency, normalSide, minBalance, maxBalance, metadata
--   updateAccount   accountId, name, metadata, minBalance, maxBalance, and which of them are set:
--                   setName, setMetadata, setMinBalance, setMaxBalance
--   createCurrency  code, scale
--
-- The answer is a JSON array, one result per command:
--   { ok: true, replay: false, transferId, holdId, accountId, currencyId (what it made or changed),
--     seq, at, entries: "id,kind,accountId,legIndex,direction,amount,version,dp,cp,dq,cq;...",
--     object: the hold, account or currency as the command left it, as a row of its table }
--   { ok: true, replay: true, transferId | holdId | accountId | currencyId }  (the service reads them)
--   { ok: false, replay, error: { code, ... } }  (raw uuids; the service words it)
--
-- Outcomes are stored under their keys in one shape: the ids of what was made or changed, or the
-- business rejection. InvalidInput (found here: an expiry out of range, a partial capture or
-- reversal of more than two legs, one account named twice, inverted bounds) is not stored: nothing
-- happened, and the corrected request may use the same key. Nor is BatchAborted.
-- The account a tenant's code names, or null. Inlined where it is called: a subquery by the
-- whole unique key, which a cached plan cannot turn into a scan of an index (joined to accounts
-- instead, a plan made while accounts was nearly empty read a whole index per batch once it had grown).
CREATE OR REPLACE FUNCTION ledger_account_by_code(p_tenant uuid, p_code text) RETURNS uuid LANGUAGE sql STABLE AS $$
  SELECT a.id FROM accounts a WHERE a.tenant_id = p_tenant AND a.code = p_code
$$;

CREATE OR REPLACE FUNCTION ledger_execute(p_commands jsonb) RETURNS json
-- Every statement here looks rows up by key: index plans, planned once (generic plans), whatever
-- the planner would guess from array sizes or a small table's pages. No bitmap scans: a few keys
-- are found faster by an index scan (by pgbench, alternating: with them, a transfer took 3 % longer).
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET enable_bitmapscan = off AS $$
DECLARE
  int64_max constant bigint := 9223372036854775807;
  n int;         -- the batch's commands
  n_all int;     -- and the expired holds' releases, run before them
  i int;
  j int;
  k int;
  -- commands
  c_op text[]; c_tenant uuid[]; c_key text[]; c_hash bytea[]; c_group int[]; c_description text[]; c_metadata jsonb[];
  c_external_ref text[];
  c_hold uuid[]; c_transfer uuid[]; c_account uuid[]; c_amount bigint[]; c_force boolean[];
  c_expires_at timestamptz[]; c_expires_in_ms bigint[]; c_duration_max_ms bigint[];
  c_code text[]; c_name text[]; c_currency text[]; c_normal "Side"[]; c_min bigint[]; c_max bigint[]; c_scale int[];
  c_set_name boolean[]; c_set_metadata boolean[]; c_set_min boolean[]; c_set_max boolean[];
  c_leg_first int[]; c_leg_count int[];
  c_earlier int[];       -- the previous command of the batch with the same tenant and key
  c_stored jsonb[];      -- the outcome stored under the key before this batch, and for what
  c_stored_op text[]; c_stored_hash bytea[];
  c_now timestamptz[];   -- the tenant's clock
  c_gfirst int[]; c_gfail int[];  -- an atomic group's first command, and the one that failed it
  -- legs of postTransfer and createHold commands, and the locked account each names (its index)
  l_cmd int[]; l_tenant uuid[]; l_account uuid[]; l_code text[]; l_direction "Side"[]; l_amount bigint[]; l_currency text[]; l_idx int[];
  -- accounts, locked, in id order
  a_id uuid[]; a_tenant uuid[]; a_code text[]; a_name text[]; a_currency_id uuid[]; a_currency text[];
  a_normal "Side"[]; a_min bigint[]; a_max bigint[]; a_metadata jsonb[]; a_created timestamptz[];
  a_dp bigint[]; a_cp bigint[]; a_dq bigint[]; a_cq bigint[]; a_version bigint[]; a_last timestamptz[]; a_forced boolean[];
  a_touched boolean[]; a_settings boolean[];
  v_lock_ids uuid[] := '{}'; v_scan_ids uuid[];
  v_codes boolean;     -- some leg names its account by code
  v_repeats boolean;   -- some key comes twice in the batch
  v_pending boolean;   -- some locked account has pending totals (so may have holds)
  v_settled boolean := false;  -- some existing hold was captured or released
  -- holds the batch acts on (locked) and holds it creates; their HOLD legs
  hd_id uuid[] := '{}'; hd_seq bigint[] := '{}'; hd_tenant uuid[] := '{}'; hd_key text[] := '{}'; hd_description text[] := '{}';
  hd_metadata jsonb[] := '{}'; hd_currency_id uuid[] := '{}'; hd_amount bigint[] := '{}'; hd_captured bigint[] := '{}';
  hd_released bigint[] := '{}'; hd_status "HoldStatus"[] := '{}'; hd_expires timestamptz[] := '{}'; hd_created timestamptz[] := '{}';
  hd_closed timestamptz[] := '{}'; hd_new boolean[] := '{}'; hd_touched boolean[] := '{}'; hd_leg_first int[] := '{}'; hd_leg_count int[] := '{}';
  hd_external_ref text[] := '{}';
  hl_hold uuid[] := '{}'; hl_account uuid[] := '{}'; hl_direction "Side"[] := '{}'; hl_amount bigint[] := '{}'; hl_idx int[] := '{}';
  v_hold_ids uuid[] := '{}'; v_expired uuid[];
  v_job_holds uuid[] := '{}';  -- holds the expiry job releases (with answers that count them)
  v_named_holds uuid[] := '{}'; nh_id uuid[] := '{}'; nh_tenant uuid[] := '{}';  -- holds a reversal names
  -- transfers the batch reverses, their legs, and what their reversals add up to
  tt_id uuid[] := '{}'; tt_tenant uuid[] := '{}'; tt_reverses uuid[] := '{}'; tt_reversed bigint[] := '{}';
  tt_leg_first int[] := '{}'; tt_leg_count int[] := '{}';
  tl_transfer uuid[] := '{}'; tl_account uuid[] := '{}'; tl_direction "Side"[] := '{}'; tl_amount bigint[] := '{}'; tl_idx int[] := '{}';
  v_transfer_ids uuid[] := '{}';
  -- currencies that createAccount and createCurrency commands name; codes of existing accounts they ask for
  cu_id uuid[] := '{}'; cu_tenant uuid[] := '{}'; cu_code text[] := '{}';
  taken_codes text[] := '{}';
  -- what the batch writes
  t_id uuid[] := '{}'; t_seq bigint[] := '{}'; t_tenant uuid[] := '{}'; t_key text[] := '{}'; t_description text[] := '{}';
  t_metadata jsonb[] := '{}'; t_at timestamptz[] := '{}'; t_reverses uuid[] := '{}'; t_forced boolean[] := '{}'; t_hold uuid[] := '{}';
  t_external_ref text[] := '{}';
  e_cmd int[] := '{}';  -- the command that wrote the entry
  e_id bigint[] := '{}'; e_tenant uuid[] := '{}'; e_kind "EntryKind"[] := '{}'; e_transfer uuid[] := '{}'; e_hold uuid[] := '{}';
  e_account uuid[] := '{}'; e_leg int[] := '{}'; e_direction "Side"[] := '{}'; e_amount bigint[] := '{}'; e_version bigint[] := '{}';
  e_dp bigint[] := '{}'; e_cp bigint[] := '{}'; e_dq bigint[] := '{}'; e_cq bigint[] := '{}'; e_at timestamptz[] := '{}';
  na_id uuid[] := '{}'; na_tenant uuid[] := '{}'; na_code text[] := '{}'; na_name text[] := '{}';
  na_currency_id uuid[] := '{}'; na_normal "Side"[] := '{}'; na_min bigint[] := '{}'; na_max bigint[] := '{}';
  na_metadata jsonb[] := '{}'; na_created timestamptz[] := '{}';
  nc_id uuid[] := '{}'; nc_tenant uuid[] := '{}'; nc_code text[] := '{}'; nc_scale int[] := '{}';
  k_cmd int[] := '{}';  -- commands whose outcome is stored under their key
  -- results, per command
  r_ok boolean[]; r_replay boolean[]; r_error jsonb[]; r_transfer uuid[]; r_hold uuid[]; r_account uuid[]; r_currency uuid[];
  r_seq bigint[]; r_at timestamptz[]; r_object jsonb[];  -- the hold, account or currency as the command left it
  -- the command being executed: the legs it posts, reserves, captures or releases
  p_acc int[]; p_direction "Side"[]; p_amount bigint[]; p_kind "EntryKind"; p_force boolean;
  v_ts timestamptz; v_now timestamptz; v_idx int; v_h int; v_t int; v_rejection jsonb; v_stored boolean;
  v_transfer uuid; v_hold uuid; v_amount bigint; v_remaining bigint; v_expires timestamptz; v_field text;
  v_min bigint; v_max bigint; v_side_total bigint; v_posted numeric; v_limit numeric; v_balance numeric;
  v_released "HoldStatus"; v_id uuid; v_step int;
  -- atomic groups: where the group started in every array it appends to, and the undo log
  g_current int; g_first int; g_last int; g_failed int; g_marks int[];
  u_idx int[] := '{}'; u_dp bigint[] := '{}'; u_cp bigint[] := '{}'; u_version bigint[] := '{}';
  u_last timestamptz[] := '{}'; u_forced boolean[] := '{}'; u_touched boolean[] := '{}';
BEGIN
  ------------------------------------------------------------------ 1. prefetch
  SELECT count(*)::int,
         array_agg(x.op ORDER BY x.ord), array_agg(x.tenant ORDER BY x.ord), array_agg(x.key ORDER BY x.ord),
         array_agg(decode(x.hash, 'hex') ORDER BY x.ord), array_agg(x."group" ORDER BY x.ord),
         array_agg(coalesce(x.description, '') ORDER BY x.ord),
         array_agg(CASE WHEN jsonb_typeof(x.metadata) = 'object' THEN x.metadata ELSE '{}'::jsonb END ORDER BY x.ord),
         array_agg(x."externalRef" ORDER BY x.ord),
         array_agg(x."holdId" ORDER BY x.ord), array_agg(x."transferId" ORDER BY x.ord), array_agg(x."accountId" ORDER BY x.ord),
         array_agg(x.amount::bigint ORDER BY x.ord), array_agg(coalesce(x.force, false) ORDER BY x.ord),
         array_agg(x."expiresAt" ORDER BY x.ord), array_agg(x."expiresInMs" ORDER BY x.ord), array_agg(x."durationMaxMs" ORDER BY x.ord),
         array_agg(x.code ORDER BY x.ord), array_agg(x.name ORDER BY x.ord), array_agg(x.currency ORDER BY x.ord),
         array_agg(x."normalSide"::"Side" ORDER BY x.ord), array_agg(x."minBalance"::bigint ORDER BY x.ord),
         array_agg(x."maxBalance"::bigint ORDER BY x.ord), array_agg(x.scale ORDER BY x.ord),
         array_agg(coalesce(x."setName", false) ORDER BY x.ord), array_agg(coalesce(x."setMetadata", false) ORDER BY x.ord),
         array_agg(coalesce(x."setMinBalance", false) ORDER BY x.ord), array_agg(coalesce(x."setMaxBalance", false) ORDER BY x.ord),
         array_agg(x.leg_first ORDER BY x.ord), array_agg(x.leg_count ORDER BY x.ord), array_agg(x.earlier ORDER BY x.ord),
         bool_or(x.earlier IS NOT NULL),
         -- The outcome stored under each key before this batch, and for which request.
         array_agg(k.result ORDER BY x.ord), array_agg(k.operation ORDER BY x.ord), array_agg(k.request_hash ORDER BY x.ord)
    INTO n, c_op, c_tenant, c_key, c_hash, c_group, c_description, c_metadata, c_external_ref, c_hold, c_transfer, c_account, c_amount,
         c_force, c_expires_at, c_expires_in_ms, c_duration_max_ms, c_code, c_name, c_currency, c_normal, c_min, c_max,
         c_scale, c_set_name, c_set_metadata, c_set_min, c_set_max, c_leg_first, c_leg_count, c_earlier, v_repeats,
         c_stored, c_stored_op, c_stored_hash
  FROM (SELECT y.*, coalesce(jsonb_array_length(y.legs), 0) AS leg_count,
               (sum(coalesce(jsonb_array_length(y.legs), 0)) OVER (ORDER BY y.ord) - coalesce(jsonb_array_length(y.legs), 0) + 1)::int AS leg_first,
               (CASE WHEN y.key IS NOT NULL THEN lag(y.ord) OVER (PARTITION BY y.tenant, y.key ORDER BY y.ord) END)::int AS earlier
        FROM ROWS FROM (jsonb_to_recordset(p_commands) AS (op text, tenant uuid, key text, hash text, "group" int,
               description text, metadata jsonb, "externalRef" text, legs jsonb, "holdId" uuid, "transferId" uuid, "accountId" uuid,
               amount text, force boolean, "expiresAt" timestamptz, "expiresInMs" bigint, "durationMaxMs" bigint,
               code text, name text, currency text, "normalSide" text, "minBalance" text, "maxBalance" text, scale int,
               "setName" boolean, "setMetadata" boolean, "setMinBalance" boolean, "setMaxBalance" boolean))
             WITH ORDINALITY AS y(op, tenant, key, hash, "group", description, metadata, "externalRef", legs, "holdId", "transferId",
               "accountId", amount, force, "expiresAt", "expiresInMs", "durationMaxMs", code, name, currency, "normalSide",
               "minBalance", "maxBalance", scale, "setName", "setMetadata", "setMinBalance", "setMaxBalance", ord)) AS x
  LEFT JOIN idempotency_keys k ON k.tenant_id = x.tenant AND k.key = x.key;
  IF n = 0 THEN RETURN '[]'; END IF;

  SELECT coalesce(array_agg(c.ord::int ORDER BY c.ord, l.ord), '{}'),
         coalesce(array_agg((c.cmd->>'tenant')::uuid ORDER BY c.ord, l.ord), '{}'),
         coalesce(array_agg((l.leg->>'accountId')::uuid ORDER BY c.ord, l.ord), '{}'),
         coalesce(array_agg(l.leg->>'accountCode' ORDER BY c.ord, l.ord), '{}'),
         coalesce(array_agg((l.leg->>'direction')::"Side" ORDER BY c.ord, l.ord), '{}'),
         coalesce(array_agg((l.leg->>'amount')::bigint ORDER BY c.ord, l.ord), '{}'),
         coalesce(array_agg(l.leg->>'currency' ORDER BY c.ord, l.ord), '{}'),
         -- Accounts a command answered from its stored key (a replay, a conflict) acts on are not locked.
         coalesce(array_agg(DISTINCT (l.leg->>'accountId')::uuid) FILTER (WHERE l.leg ? 'accountId' AND c_stored[c.ord] IS NULL), '{}'),
         coalesce(bool_or(l.leg ? 'accountCode'), false)
    INTO l_cmd, l_tenant, l_account, l_code, l_direction, l_amount, l_currency, v_lock_ids, v_codes
  FROM jsonb_array_elements(p_commands) WITH ORDINALITY AS c(cmd, ord)
  CROSS JOIN LATERAL jsonb_array_elements(c.cmd->'legs') WITH ORDINALITY AS l(leg, ord);

  -- What captures, voids, expiries, reversals and account updates act on. Entries never change,
  -- so the legs are read before the locks; hold rows are read under them. A command answered from
  -- its stored key (a replay, a conflict) acts on nothing: its accounts are not locked.
  FOR i IN 1 .. n LOOP
    CONTINUE WHEN c_stored[i] IS NOT NULL;
    IF c_op[i] IN ('captureHold', 'voidHold', 'expireHold') THEN
      v_hold_ids := v_hold_ids || c_hold[i];
      IF c_op[i] = 'expireHold' THEN v_job_holds := v_job_holds || c_hold[i]; END IF;
    ELSIF c_op[i] = 'reverseTransfer' AND c_hold[i] IS NOT NULL THEN
      v_named_holds := v_named_holds || c_hold[i];  -- refused whatever its state: only whether it exists
    ELSIF c_op[i] = 'reverseTransfer' THEN
      v_transfer_ids := v_transfer_ids || c_transfer[i];
    ELSIF c_op[i] = 'updateAccount' THEN
      v_lock_ids := v_lock_ids || c_account[i];
    END IF;
  END LOOP;
  IF cardinality(v_hold_ids) > 0 THEN
    v_lock_ids := v_lock_ids || ARRAY(SELECT e.account_id FROM entries e WHERE e.hold_id = ANY(v_hold_ids) AND e.kind = 'HOLD');
  END IF;
  IF cardinality(v_named_holds) > 0 THEN
    SELECT coalesce(array_agg(h.id), '{}'), coalesce(array_agg(h.tenant_id), '{}') INTO nh_id, nh_tenant
    FROM holds h WHERE h.id = ANY(v_named_holds);
  END IF;
  IF cardinality(v_transfer_ids) > 0 THEN
    SELECT coalesce(array_agg(t.id ORDER BY t.id), '{}'), coalesce(array_agg(t.tenant_id ORDER BY t.id), '{}'),
           coalesce(array_agg(t.reverses_id ORDER BY t.id), '{}')
      INTO tt_id, tt_tenant, tt_reverses
    FROM transfers t WHERE t.id = ANY(v_transfer_ids);
    SELECT coalesce(array_agg(e.transfer_id ORDER BY e.transfer_id, e.leg_index), '{}'),
           coalesce(array_agg(e.account_id ORDER BY e.transfer_id, e.leg_index), '{}'),
           coalesce(array_agg(e.direction ORDER BY e.transfer_id, e.leg_index), '{}'),
           coalesce(array_agg(e.amount ORDER BY e.transfer_id, e.leg_index), '{}')
      INTO tl_transfer, tl_account, tl_direction, tl_amount
    FROM entries e WHERE e.transfer_id = ANY(tt_id);
    v_lock_ids := v_lock_ids || tl_account;
  END IF;
  -- Accounts named by code (codes never change, so before the locks).
  IF v_codes THEN
    v_lock_ids := v_lock_ids || array_remove(ARRAY(SELECT ledger_account_by_code(ref.tenant, ref.code)
                                                     FROM unnest(l_cmd, l_tenant, l_code) AS ref(cmd, tenant, code)
                                                    WHERE c_stored[ref.cmd] IS NULL), NULL);
  END IF;
  -- Expired holds are looked for on these accounts, except those only a second command with a key
  -- already in the batch names (it may turn out a replay, which acts on nothing).
  v_scan_ids := v_lock_ids;
  IF v_repeats THEN
    v_scan_ids := ARRAY(SELECT id FROM unnest(v_scan_ids) AS id EXCEPT
                        (SELECT coalesce(x.account, ledger_account_by_code(x.tenant, x.code))
                           FROM unnest(l_cmd, l_tenant, l_account, l_code) AS x(cmd, tenant, account, code)
                          WHERE c_earlier[x.cmd] IS NOT NULL
                         EXCEPT
                         SELECT coalesce(x.account, ledger_account_by_code(x.tenant, x.code))
                           FROM unnest(l_cmd, l_tenant, l_account, l_code) AS x(cmd, tenant, account, code)
                          WHERE c_earlier[x.cmd] IS NULL));
  END IF;

  <<lock_accounts>>
  LOOP
    SELECT coalesce(array_agg(a.id ORDER BY a.id), '{}'), coalesce(array_agg(a.tenant_id ORDER BY a.id), '{}'),
           coalesce(array_agg(a.code ORDER BY a.id), '{}'), coalesce(array_agg(a.name ORDER BY a.id), '{}'),
           coalesce(array_agg(a.currency_id ORDER BY a.id), '{}'), coalesce(array_agg(cu.code ORDER BY a.id), '{}'),
           coalesce(array_agg(a.normal_side ORDER BY a.id), '{}'), coalesce(array_agg(a.min_balance ORDER BY a.id), '{}'),
           coalesce(array_agg(a.max_balance ORDER BY a.id), '{}'), coalesce(array_agg(a.metadata ORDER BY a.id), '{}'),
           coalesce(array_agg(a.created_at ORDER BY a.id), '{}'),
           coalesce(array_agg(a.debits_posted ORDER BY a.id), '{}'), coalesce(array_agg(a.credits_posted ORDER BY a.id), '{}'),
           coalesce(array_agg(a.debits_pending ORDER BY a.id), '{}'), coalesce(array_agg(a.credits_pending ORDER BY a.id), '{}'),
           coalesce(array_agg(a.version ORDER BY a.id), '{}'), coalesce(array_agg(a.last_entry_at ORDER BY a.id), '{}'),
           coalesce(array_agg(a.forced_out_of_bounds ORDER BY a.id), '{}'),
           coalesce(bool_or((a.debits_pending > 0 OR a.credits_pending > 0) AND a.id = ANY(v_scan_ids)), false)
      INTO a_id, a_tenant, a_code, a_name, a_currency_id, a_currency, a_normal, a_min, a_max, a_metadata, a_created,
           a_dp, a_cp, a_dq, a_cq, a_version, a_last, a_forced, v_pending
    -- A plain key condition: a row another writer changed meanwhile is read again as it is now.
    FROM (SELECT a.* FROM accounts a WHERE a.id = ANY(v_lock_ids) ORDER BY a.id FOR UPDATE) AS a
    JOIN currencies cu ON cu.id = a.currency_id;

    -- Open holds past their expiry on the accounts the commands name (only accounts with pending
    -- totals have holds), found once: the accounts their other legs add are locked, not searched.
    EXIT lock_accounts WHEN v_expired IS NOT NULL;
    IF NOT v_pending THEN
      v_expired := '{}';
      EXIT lock_accounts;
    END IF;
    v_expired := ARRAY(
      SELECT h.id FROM holds h
      WHERE h.status = 'OPEN' AND h.expires_at <= ledger_clock_horizon() AND h.expires_at <= ledger_now(h.tenant_id)
        AND NOT h.id = ANY(v_job_holds)
        AND EXISTS (SELECT 1 FROM entries e WHERE e.hold_id = h.id AND e.kind = 'HOLD' AND e.account_id = ANY(
              ARRAY(SELECT x.id FROM unnest(a_id, a_dq, a_cq) AS x(id, dq, cq) WHERE (x.dq > 0 OR x.cq > 0) AND x.id = ANY(v_scan_ids)))));
    EXIT lock_accounts WHEN cardinality(v_expired) = 0;
    v_hold_ids := v_hold_ids || v_expired;  -- (a hold a command acts on may be among them: it is released first)
    -- Their other legs may be on accounts not locked yet: lock again with those (a deadlock this
    -- could cause is rare, and the service retries it).
    v_lock_ids := a_id || ARRAY(SELECT e.account_id FROM entries e WHERE e.hold_id = ANY(v_expired) AND e.kind = 'HOLD');
  END LOOP;
  a_touched := array_fill(false, ARRAY[cardinality(a_id)]);
  a_settings := a_touched;

  -- Each leg's account, by its index in a_id: by id (of the command's tenant) or by code.
  SELECT coalesce(array_agg(coalesce(by_id.ord, by_code.ord)::int ORDER BY l.ord), '{}') INTO l_idx
  FROM unnest(l_tenant, l_account, l_code) WITH ORDINALITY AS l(tenant, account, code, ord)
  LEFT JOIN unnest(a_id, a_tenant) WITH ORDINALITY AS by_id(id, tenant, ord) ON by_id.id = l.account AND by_id.tenant = l.tenant
  LEFT JOIN unnest(a_tenant, a_code) WITH ORDINALITY AS by_code(tenant, code, ord)
    ON l.account IS NULL AND by_code.tenant = l.tenant AND by_code.code = l.code;

  IF cardinality(tt_id) > 0 THEN
    SELECT array_agg(a.ord::int ORDER BY l.ord) INTO tl_idx
    FROM unnest(tl_account) WITH ORDINALITY AS l(account, ord) JOIN unnest(a_id) WITH ORDINALITY AS a(id, ord) ON a.id = l.account;
    FOR j IN 1 .. cardinality(tt_id) LOOP
      tt_leg_first[j] := array_position(tl_transfer, tt_id[j]);
      tt_leg_count[j] := 0;
      WHILE tt_leg_first[j] + tt_leg_count[j] <= cardinality(tl_transfer) AND tl_transfer[tt_leg_first[j] + tt_leg_count[j]] = tt_id[j] LOOP
        tt_leg_count[j] := tt_leg_count[j] + 1;
      END LOOP;
    END LOOP;
    -- Under the locks of the reversed transfers' accounts, which every reversal of them takes too.
    SELECT array_agg(coalesce(s.reversed, 0) ORDER BY t.ord) INTO tt_reversed
    FROM unnest(tt_id) WITH ORDINALITY AS t(id, ord)
    LEFT JOIN (SELECT r.reverses_id, sum(e.amount) AS reversed FROM transfers r
               JOIN entries e ON e.transfer_id = r.id AND e.leg_index = 0
               WHERE r.reverses_id = ANY(tt_id) GROUP BY r.reverses_id) AS s ON s.reverses_id = t.id;
  END IF;

  IF cardinality(v_hold_ids) > 0 THEN
    SELECT coalesce(array_agg(h.id ORDER BY h.id), '{}'), coalesce(array_agg(h.seq ORDER BY h.id), '{}'),
           coalesce(array_agg(h.tenant_id ORDER BY h.id), '{}'), coalesce(array_agg(h.idempotency_key ORDER BY h.id), '{}'),
           coalesce(array_agg(h.description ORDER BY h.id), '{}'), coalesce(array_agg(h.metadata ORDER BY h.id), '{}'),
           coalesce(array_agg(h.currency_id ORDER BY h.id), '{}'), coalesce(array_agg(h.amount ORDER BY h.id), '{}'),
           coalesce(array_agg(h.captured_amount ORDER BY h.id), '{}'), coalesce(array_agg(h.released_amount ORDER BY h.id), '{}'),
           coalesce(array_agg(h.status ORDER BY h.id), '{}'), coalesce(array_agg(h.expires_at ORDER BY h.id), '{}'),
           coalesce(array_agg(h.created_at ORDER BY h.id), '{}'), coalesce(array_agg(h.closed_at ORDER BY h.id), '{}'),
           coalesce(array_agg(h.external_ref ORDER BY h.id), '{}')
      INTO hd_id, hd_seq, hd_tenant, hd_key, hd_description, hd_metadata, hd_currency_id, hd_amount, hd_captured,
           hd_released, hd_status, hd_expires, hd_created, hd_closed, hd_external_ref
    FROM (SELECT h.* FROM holds h WHERE h.id = ANY(v_hold_ids) ORDER BY h.id FOR UPDATE) AS h;
    SELECT coalesce(array_agg(e.hold_id ORDER BY e.hold_id, e.leg_index), '{}'),
           coalesce(array_agg(e.account_id ORDER BY e.hold_id, e.leg_index), '{}'),
           coalesce(array_agg(e.direction ORDER BY e.hold_id, e.leg_index), '{}'),
           coalesce(array_agg(e.amount ORDER BY e.hold_id, e.leg_index), '{}'),
           coalesce(array_agg(a.ord::int ORDER BY e.hold_id, e.leg_index), '{}')
      INTO hl_hold, hl_account, hl_direction, hl_amount, hl_idx
    FROM entries e JOIN unnest(a_id) WITH ORDINALITY AS a(id, ord) ON a.id = e.account_id
    WHERE e.hold_id = ANY(hd_id) AND e.kind = 'HOLD';
    FOR j IN 1 .. cardinality(hd_id) LOOP
      hd_new[j] := false;
      hd_touched[j] := false;
      hd_leg_first[j] := array_position(hl_hold, hd_id[j]);
      hd_leg_count[j] := 0;
      WHILE hd_leg_first[j] + hd_leg_count[j] <= cardinality(hl_hold) AND hl_hold[hd_leg_first[j] + hd_leg_count[j]] = hd_id[j] LOOP
        hd_leg_count[j] := hd_leg_count[j] + 1;
      END LOOP;
    END LOOP;
  END IF;

  IF 'createAccount' = ANY(c_op) OR 'createCurrency' = ANY(c_op) THEN
    SELECT coalesce(array_agg(cu.id), '{}'), coalesce(array_agg(cu.tenant_id), '{}'), coalesce(array_agg(cu.code), '{}')
      INTO cu_id, cu_tenant, cu_code
    FROM currencies cu
    WHERE cu.code = ANY(c_currency || c_code) AND (cu.tenant_id IS NULL OR cu.tenant_id = ANY(c_tenant));
    taken_codes := ARRAY(SELECT x.tenant::text || ' ' || x.code FROM unnest(c_tenant, c_code, c_op) AS x(tenant, code, op)
                          WHERE x.op = 'createAccount' AND ledger_account_by_code(x.tenant, x.code) IS NOT NULL);
  END IF;

  -- The expired holds' releases run first, as expireHold commands of their own (no key, no answer).
  FOR j IN 1 .. coalesce(cardinality(v_expired), 0) LOOP
    v_h := array_position(hd_id, v_expired[j]);
    c_op := c_op || 'expireHold'::text; c_tenant := c_tenant || hd_tenant[v_h]; c_key := c_key || NULL::text;
    c_group := c_group || NULL::int; c_hold := c_hold || hd_id[v_h];
  END LOOP;
  n_all := cardinality(c_op);

  -- Taken after the locks: no writer that committed before them has a later timestamp.
  SELECT array_agg(x.now ORDER BY c.ord) INTO c_now
  FROM unnest(c_tenant) WITH ORDINALITY AS c(tenant, ord)
  JOIN (SELECT t.tenant, ledger_now(t.tenant) AS now FROM (SELECT DISTINCT unnest(c_tenant) AS tenant) AS t) AS x ON x.tenant = c.tenant;

  r_ok := array_fill(NULL::boolean, ARRAY[n_all]);
  r_replay := array_fill(false, ARRAY[n_all]);
  r_error := array_fill(NULL::jsonb, ARRAY[n_all]); r_object := r_error;
  r_transfer := array_fill(NULL::uuid, ARRAY[n_all]); r_hold := r_transfer; r_account := r_transfer; r_currency := r_transfer;
  r_seq := array_fill(NULL::bigint, ARRAY[n_all]);
  r_at := array_fill(NULL::timestamptz, ARRAY[n_all]);
  c_gfirst := array_fill(NULL::int, ARRAY[n_all]);
  c_gfail := c_gfirst;

  ------------------------------------------------------------------ 2. execute
  FOR v_step IN 1 .. n_all LOOP
    -- The releases of expired holds (commands n+1 .. n_all) first, then the batch in order.
    i := CASE WHEN v_step <= n_all - n THEN n + v_step ELSE v_step - (n_all - n) END;
    -------------------------------------------------------------- atomic groups
    IF c_group[i] IS NULL THEN
      g_current := NULL;
    ELSIF c_group[i] IS DISTINCT FROM g_current THEN
      g_current := c_group[i];
      g_first := i;
      g_last := i;
      WHILE g_last < n AND c_group[g_last + 1] = g_current LOOP g_last := g_last + 1; END LOOP;
      g_failed := NULL;
      -- A conflicting key, or a replayed rejection, fails the group before it touches anything:
      -- retrying a failed batch fails the same way.
      FOR j IN g_first .. g_last LOOP
        ASSERT c_op[j] = 'postTransfer', 'ledger: atomic groups are transfers';  -- the undo log covers no more
        k := c_earlier[j];
        WHILE k IS NOT NULL AND NOT k = ANY(k_cmd) LOOP k := c_earlier[k]; END LOOP;
        IF (k IS NOT NULL AND (c_op[k] <> c_op[j] OR c_hash[k] <> c_hash[j] OR NOT r_ok[k]))
           OR (k IS NULL AND c_stored[j] IS NOT NULL AND (c_stored_op[j] <> c_op[j] OR c_stored_hash[j] <> c_hash[j] OR c_stored[j] ? 'code')) THEN
          g_failed := j;
          EXIT;
        END IF;
      END LOOP;
      FOR j IN g_first .. g_last LOOP
        c_gfirst[j] := g_first;
        c_gfail[j] := g_failed;
      END LOOP;
      g_marks := ARRAY[cardinality(t_id), cardinality(e_id), cardinality(k_cmd), cardinality(u_idx)];
    END IF;

    -------------------------------------------------------------- idempotency
    IF c_key[i] IS NOT NULL THEN
      -- The same key earlier in this batch, if its outcome was stored: as if the requests had
      -- come one after the other. Else the key's stored outcome.
      k := c_earlier[i];
      WHILE k IS NOT NULL AND NOT k = ANY(k_cmd) LOOP k := c_earlier[k]; END LOOP;
      IF k IS NOT NULL THEN
        IF c_op[k] <> c_op[i] OR c_hash[k] <> c_hash[i] THEN
          r_ok[i] := false;
          r_error[i] := jsonb_build_object('code', 'IdempotencyConflict', 'idempotencyKey', c_key[i]);
        ELSE
          r_ok[i] := r_ok[k]; r_replay[i] := true; r_error[i] := r_error[k];
          r_transfer[i] := r_transfer[k]; r_hold[i] := r_hold[k]; r_account[i] := r_account[k]; r_currency[i] := r_currency[k];
        END IF;
        CONTINUE;
      ELSIF c_stored[i] IS NOT NULL THEN
        IF c_stored_op[i] <> c_op[i] OR c_stored_hash[i] <> c_hash[i] THEN
          r_ok[i] := false;
          r_error[i] := jsonb_build_object('code', 'IdempotencyConflict', 'idempotencyKey', c_key[i]);
        ELSIF c_stored[i] ? 'code' THEN
          r_ok[i] := false; r_replay[i] := true; r_error[i] := c_stored[i];
        ELSE
          r_ok[i] := true; r_replay[i] := true;
          r_transfer[i] := c_stored[i]->>'transferId'; r_hold[i] := c_stored[i]->>'holdId';
          r_account[i] := c_stored[i]->>'accountId'; r_currency[i] := c_stored[i]->>'currencyId';
        END IF;
        CONTINUE;
      END IF;
    END IF;
    -- A new member of a group that failed (on another member's key, or on a rejection): not posted.
    CONTINUE WHEN g_current IS NOT NULL AND g_failed IS NOT NULL;

    v_now := c_now[i];
    v_rejection := NULL;
    p_kind := NULL;
    p_acc := '{}';
    p_direction := '{}';
    p_amount := '{}';
    p_force := false;
    v_transfer := NULL;
    v_hold := NULL;
    v_h := NULL;
    v_t := NULL;

    -------------------------------------------------------------- decide
    IF c_op[i] IN ('postTransfer', 'createHold') THEN
      p_kind := CASE c_op[i] WHEN 'postTransfer' THEN 'POSTED'::"EntryKind" ELSE 'HOLD'::"EntryKind" END;
      IF c_op[i] = 'createHold' THEN
        v_field := CASE WHEN c_expires_at[i] IS NOT NULL THEN 'expiresAt' ELSE 'expiresInSeconds' END;
        v_expires := coalesce(c_expires_at[i], v_now + c_expires_in_ms[i] * interval '1 millisecond');
        IF v_expires <= v_now OR v_expires > v_now + c_duration_max_ms[i] * interval '1 millisecond' THEN
          v_rejection := jsonb_build_object('code', 'InvalidInput', 'field', v_field, 'reason', 'EXPIRY_OUT_OF_RANGE',
            'message', format('%s: the hold must expire after now (%s) and within %s seconds', v_field, v_now,
                              c_duration_max_ms[i] / 1000));
        END IF;
      END IF;
      -- Which accounts, in which currency: a request that names a wrong account hears about that,
      -- whatever the balances.
      FOR k IN c_leg_first[i] .. c_leg_first[i] + c_leg_count[i] - 1 LOOP
        EXIT WHEN v_rejection IS NOT NULL;
        v_idx := l_idx[k];
        IF v_idx IS NULL THEN
          v_rejection := jsonb_build_object('code', 'AccountNotFound', 'legIndex', k - c_leg_first[i], 'accountRef',
            CASE WHEN l_account[k] IS NOT NULL THEN jsonb_build_object('accountId', l_account[k])
                 ELSE jsonb_build_object('accountCode', l_code[k]) END);
        ELSIF v_idx = ANY(p_acc) THEN
          -- Named twice (by id and by code): a malformed request, answered as the service answers
          -- an account named twice by id.
          v_rejection := jsonb_build_object('code', 'InvalidInput', 'reason', 'DUPLICATE_ACCOUNT',
            'field', format('legs[%s]', k - c_leg_first[i]),
            'message', format('legs[%s]: an account may appear on only one leg of a transfer', k - c_leg_first[i]));
        ELSIF a_currency[v_idx] <> l_currency[k] THEN
          v_rejection := jsonb_build_object('code', 'CurrencyMismatch', 'legIndex', k - c_leg_first[i],
            'accountId', a_id[v_idx], 'accountCurrency', a_currency[v_idx], 'legCurrency', l_currency[k]);
        ELSE
          p_acc := p_acc || v_idx;
          p_direction := p_direction || l_direction[k];
          p_amount := p_amount || l_amount[k];
        END IF;
      END LOOP;

    ELSIF c_op[i] IN ('captureHold', 'voidHold', 'expireHold') THEN
      v_h := array_position(hd_id, c_hold[i]);
      IF v_h IS NOT NULL AND hd_tenant[v_h] <> c_tenant[i] THEN v_h := NULL; END IF;
      IF v_h IS NULL THEN
        v_rejection := jsonb_build_object('code', 'HoldNotFound', 'holdId', c_hold[i]);
      ELSE
        v_ts := v_now;
        FOR k IN hd_leg_first[v_h] .. hd_leg_first[v_h] + hd_leg_count[v_h] - 1 LOOP v_ts := greatest(v_ts, a_last[hl_idx[k]]); END LOOP;
        v_remaining := hd_amount[v_h] - hd_captured[v_h];
        v_amount := v_remaining;
        IF hd_status[v_h] = 'OPEN' AND hd_expires[v_h] <= v_ts THEN
          -- Expired from expires_at on, whether or not the job has released it yet: released now,
          -- and a capture or void of it is refused.
          p_kind := 'RELEASE';
          v_released := 'EXPIRED';
          IF c_op[i] <> 'expireHold' THEN
            v_rejection := jsonb_build_object('code', 'HoldExpired', 'holdId', hd_id[v_h], 'expiresAt', hd_expires[v_h]);
          END IF;
        ELSIF hd_status[v_h] = 'EXPIRED' AND c_op[i] <> 'expireHold' THEN
          v_rejection := jsonb_build_object('code', 'HoldExpired', 'holdId', hd_id[v_h], 'expiresAt', hd_expires[v_h]);
        ELSIF hd_status[v_h] <> 'OPEN' OR c_op[i] = 'expireHold' THEN
          v_rejection := jsonb_build_object('code', 'HoldNotOpen', 'holdId', hd_id[v_h], 'status', hd_status[v_h]);
        ELSIF c_op[i] = 'voidHold' THEN
          p_kind := 'RELEASE';
          v_released := 'VOIDED';
        ELSE
          p_kind := 'CAPTURE';
          v_amount := coalesce(c_amount[i], v_remaining);
          IF hd_leg_count[v_h] <> 2 AND v_amount <> v_remaining THEN
            v_rejection := jsonb_build_object('code', 'InvalidInput', 'field', 'amount', 'reason', 'PARTIAL_MULTI_LEG',
              'message', 'amount: a hold with more than two legs is captured whole; leave amount out');
          ELSIF v_amount > v_remaining THEN
            v_rejection := jsonb_build_object('code', 'CaptureExceedsRemaining', 'holdId', hd_id[v_h],
              'remaining', v_remaining::text, 'requested', v_amount::text);
          END IF;
        END IF;
        -- A release applies even when it answers HoldExpired; nothing else applies with a rejection.
        IF p_kind = 'RELEASE' OR (p_kind = 'CAPTURE' AND v_rejection IS NULL) THEN
          -- Two-leg holds settle in parts (the amount on both legs); others whole (each leg's amount).
          FOR k IN hd_leg_first[v_h] .. hd_leg_first[v_h] + hd_leg_count[v_h] - 1 LOOP
            p_acc := p_acc || hl_idx[k];
            p_direction := p_direction || hl_direction[k];
            p_amount := p_amount || CASE WHEN hd_leg_count[v_h] = 2 THEN v_amount ELSE hl_amount[k] END;
          END LOOP;
        END IF;
      END IF;

    ELSIF c_op[i] = 'reverseTransfer' THEN
      p_kind := 'POSTED';
      p_force := c_force[i];
      IF c_hold[i] IS NOT NULL THEN
        j := array_position(nh_id, c_hold[i]);
        v_rejection := CASE WHEN j IS NOT NULL AND nh_tenant[j] = c_tenant[i]
          THEN jsonb_build_object('code', 'NotReversible', 'reason', 'HOLD', 'holdId', c_hold[i])
          -- An unknown hold id is an unknown id, as the caller gave it.
          ELSE jsonb_build_object('code', 'TransferNotFound', 'holdId', c_hold[i]) END;
      ELSE
        v_t := array_position(tt_id, c_transfer[i]);
        IF v_t IS NOT NULL AND tt_tenant[v_t] <> c_tenant[i] THEN v_t := NULL; END IF;
        IF v_t IS NULL THEN
          v_rejection := jsonb_build_object('code', 'TransferNotFound', 'transferId', c_transfer[i]);
        ELSIF tt_reverses[v_t] IS NOT NULL THEN
          v_rejection := jsonb_build_object('code', 'NotReversible', 'reason', 'REVERSAL', 'transferId', tt_id[v_t]);
        ELSE
          v_remaining := tl_amount[tt_leg_first[v_t]] - tt_reversed[v_t];
          v_amount := coalesce(c_amount[i], v_remaining);
          IF tt_leg_count[v_t] <> 2 AND c_amount[i] IS NOT NULL THEN
            v_rejection := jsonb_build_object('code', 'InvalidInput', 'field', 'amount', 'reason', 'PARTIAL_MULTI_LEG',
              'message', 'amount: a transfer with more than two legs is reversed whole; leave amount out');
          ELSIF v_remaining = 0 OR v_amount > v_remaining THEN
            v_rejection := jsonb_build_object('code', 'ReversalExceedsRemaining', 'transferId', tt_id[v_t],
              'remaining', v_remaining::text, 'requested', v_amount::text);
          ELSE
            -- The legs inverted; two-leg transfers in parts (the amount on both legs), others whole.
            FOR k IN tt_leg_first[v_t] .. tt_leg_first[v_t] + tt_leg_count[v_t] - 1 LOOP
              p_acc := p_acc || tl_idx[k];
              p_direction := p_direction || CASE tl_direction[k] WHEN 'DEBIT' THEN 'CREDIT'::"Side" ELSE 'DEBIT'::"Side" END;
              p_amount := p_amount || CASE WHEN tt_leg_count[v_t] = 2 THEN v_amount ELSE tl_amount[k] END;
            END LOOP;
          END IF;
        END IF;
      END IF;

    ELSIF c_op[i] = 'createAccount' THEN
      -- The tenant's own currency of that code, else the global one.
      j := NULL;
      FOR k IN 1 .. cardinality(cu_id) LOOP
        IF cu_code[k] = c_currency[i] AND (cu_tenant[k] = c_tenant[i] OR (cu_tenant[k] IS NULL AND j IS NULL)) THEN j := k; END IF;
      END LOOP;
      IF j IS NULL THEN
        v_rejection := jsonb_build_object('code', 'CurrencyNotFound', 'currency', c_currency[i]);
      ELSIF (c_tenant[i]::text || ' ' || c_code[i]) = ANY(taken_codes) THEN
        v_rejection := jsonb_build_object('code', 'AccountCodeTaken', 'accountCode', c_code[i]);
      ELSE
        v_id := gen_random_uuid();
        taken_codes := taken_codes || (c_tenant[i]::text || ' ' || c_code[i]);
        na_id := na_id || v_id; na_tenant := na_tenant || c_tenant[i]; na_code := na_code || c_code[i];
        na_name := na_name || c_name[i]; na_currency_id := na_currency_id || cu_id[j]; na_normal := na_normal || c_normal[i];
        na_min := na_min || c_min[i]; na_max := na_max || c_max[i]; na_metadata := na_metadata || c_metadata[i];
        -- Millisecond precision, as the column (and the accounts paging cursor) has.
        na_created := na_created || v_now::timestamptz(3);
        r_account[i] := v_id;
        r_object[i] := jsonb_build_object('id', v_id, 'tenant_id', c_tenant[i], 'code', c_code[i], 'name', c_name[i],
          'currency_id', cu_id[j], 'normal_side', c_normal[i], 'min_balance', c_min[i]::text, 'max_balance', c_max[i]::text,
          'metadata', c_metadata[i], 'created_at', v_now::timestamptz(3), 'debits_posted', '0', 'credits_posted', '0',
          'debits_pending', '0', 'credits_pending', '0', 'version', '0', 'last_entry_at', NULL, 'forced_out_of_bounds', false);
      END IF;

    ELSIF c_op[i] = 'updateAccount' THEN
      v_idx := array_position(a_id, c_account[i]);
      IF v_idx IS NOT NULL AND a_tenant[v_idx] <> c_tenant[i] THEN v_idx := NULL; END IF;
      IF v_idx IS NULL THEN
        v_rejection := jsonb_build_object('code', 'AccountNotFound', 'accountRef', jsonb_build_object('accountId', c_account[i]));
      ELSE
        v_min := CASE WHEN c_set_min[i] THEN c_min[i] ELSE a_min[v_idx] END;
        v_max := CASE WHEN c_set_max[i] THEN c_max[i] ELSE a_max[v_idx] END;
        IF v_min IS NOT NULL AND v_max IS NOT NULL AND v_min > v_max THEN
          v_rejection := jsonb_build_object('code', 'InvalidInput', 'field', 'minBalance', 'reason', 'BOUNDS_INVERTED',
            'message', 'minBalance: must not exceed maxBalance');
        ELSIF NOT ledger_within_bounds(a_normal[v_idx], v_min, v_max, a_dp[v_idx], a_cp[v_idx], a_dq[v_idx], a_cq[v_idx]) THEN
          -- Open holds count: every way they can settle must stay within the new bounds.
          v_rejection := jsonb_build_object('code', 'BoundsViolated', 'accountId', a_id[v_idx], 'balance',
            (CASE a_normal[v_idx] WHEN 'CREDIT' THEN a_cp[v_idx]::numeric - a_dp[v_idx] ELSE a_dp[v_idx]::numeric - a_cp[v_idx] END)::text);
        ELSE
          a_min[v_idx] := v_min;
          a_max[v_idx] := v_max;
          IF c_set_name[i] THEN a_name[v_idx] := c_name[i]; END IF;
          IF c_set_metadata[i] THEN a_metadata[v_idx] := c_metadata[i]; END IF;
          -- Within bounds again: an account a forced reversal had taken outside them is no longer exempt.
          a_forced[v_idx] := false;
          a_settings[v_idx] := true;
          r_account[i] := a_id[v_idx];
          r_object[i] := jsonb_build_object('id', a_id[v_idx], 'tenant_id', a_tenant[v_idx], 'code', a_code[v_idx],
            'name', a_name[v_idx], 'currency_id', a_currency_id[v_idx], 'normal_side', a_normal[v_idx],
            'min_balance', a_min[v_idx]::text, 'max_balance', a_max[v_idx]::text, 'metadata', a_metadata[v_idx],
            'created_at', a_created[v_idx], 'debits_posted', a_dp[v_idx]::text, 'credits_posted', a_cp[v_idx]::text,
            'debits_pending', a_dq[v_idx]::text, 'credits_pending', a_cq[v_idx]::text, 'version', a_version[v_idx]::text,
            'last_entry_at', a_last[v_idx], 'forced_out_of_bounds', false);
        END IF;
      END IF;

    ELSIF c_op[i] = 'createCurrency' THEN
      j := NULL;
      FOR k IN 1 .. cardinality(cu_id) LOOP
        IF cu_code[k] = c_code[i] AND (cu_tenant[k] IS NULL OR cu_tenant[k] = c_tenant[i]) THEN j := k; END IF;
      END LOOP;
      FOR k IN 1 .. cardinality(nc_id) LOOP
        IF nc_code[k] = c_code[i] AND nc_tenant[k] = c_tenant[i] THEN j := k; END IF;
      END LOOP;
      IF j IS NOT NULL THEN
        v_rejection := jsonb_build_object('code', 'CurrencyCodeTaken', 'currency', c_code[i]);
      ELSE
        v_id := gen_random_uuid();
        nc_id := nc_id || v_id; nc_tenant := nc_tenant || c_tenant[i]; nc_code := nc_code || c_code[i];
        nc_scale := nc_scale || c_scale[i];
        r_currency[i] := v_id;
        r_object[i] := jsonb_build_object('id', v_id, 'tenant_id', c_tenant[i], 'code', c_code[i], 'scale', c_scale[i], 'created_at', v_now);
      END IF;

    ELSE
      RAISE EXCEPTION 'ledger: unknown command %', c_op[i];
    END IF;

    -------------------------------------------------------------- check the legs to post or reserve
    IF v_rejection IS NULL AND p_kind IN ('POSTED', 'HOLD') THEN
      FOR k IN 1 .. cardinality(p_acc) LOOP
        v_idx := p_acc[k];
        -- Totals never wrap: a sum past the signed 64-bit range is a rejection (the pending amounts
        -- count: a capture moves them into the posted totals).
        v_side_total := CASE p_direction[k] WHEN 'DEBIT' THEN a_dp[v_idx] + a_dq[v_idx] ELSE a_cp[v_idx] + a_cq[v_idx] END;
        IF p_amount[k] > int64_max - v_side_total THEN
          v_rejection := jsonb_build_object('code', 'AmountOverflow', 'legIndex', k - 1, 'accountId', a_id[v_idx]);
          EXIT;
        END IF;
        CONTINUE WHEN p_force;
        v_posted := CASE a_normal[v_idx] WHEN 'CREDIT' THEN a_cp[v_idx]::numeric - a_dp[v_idx] ELSE a_dp[v_idx]::numeric - a_cp[v_idx] END;
        IF p_direction[k] <> a_normal[v_idx] THEN
          -- Lowers the balance (POSTED) or reserves against it (HOLD): the available balance decides.
          IF a_min[v_idx] IS NOT NULL THEN
            v_limit := v_posted - CASE a_normal[v_idx] WHEN 'CREDIT' THEN a_dq[v_idx] ELSE a_cq[v_idx] END;
            IF v_limit - p_amount[k] < a_min[v_idx] THEN
              v_rejection := jsonb_build_object('code', 'InsufficientFunds', 'legIndex', k - 1, 'accountId', a_id[v_idx],
                'available', v_limit::text, 'requested', p_amount[k]::text, 'minBalance', a_min[v_idx]::text);
              EXIT;
            END IF;
          END IF;
        ELSIF a_max[v_idx] IS NOT NULL THEN
          v_limit := v_posted + CASE a_normal[v_idx] WHEN 'CREDIT' THEN a_cq[v_idx] ELSE a_dq[v_idx] END + p_amount[k];
          IF v_limit > a_max[v_idx] THEN
            v_rejection := jsonb_build_object('code', 'BalanceLimitExceeded', 'legIndex', k - 1, 'accountId', a_id[v_idx],
              'balanceAfter', v_limit::text, 'maxBalance', a_max[v_idx]::text);
            EXIT;
          END IF;
        END IF;
      END LOOP;
    END IF;

    -------------------------------------------------------------- apply
    IF cardinality(p_acc) > 0 AND (v_rejection IS NULL OR p_kind = 'RELEASE') THEN
      v_ts := v_now;
      FOR k IN 1 .. cardinality(p_acc) LOOP v_ts := greatest(v_ts, a_last[p_acc[k]]); END LOOP;
      IF p_kind IN ('POSTED', 'CAPTURE') THEN
        -- Invariant (the service checked it too): debits equal credits per currency.
        FOR k IN 1 .. cardinality(p_acc) LOOP
          v_balance := 0;
          FOR j IN 1 .. cardinality(p_acc) LOOP
            IF a_currency[p_acc[j]] = a_currency[p_acc[k]] THEN
              v_balance := v_balance + CASE p_direction[j] WHEN 'DEBIT' THEN p_amount[j] ELSE -p_amount[j] END;
            END IF;
          END LOOP;
          IF v_balance <> 0 THEN RAISE EXCEPTION 'ledger invariant: command % (%) is unbalanced', i, c_key[i]; END IF;
        END LOOP;
        v_transfer := ledger_uuidv7();
        t_id := t_id || v_transfer; t_seq := t_seq || nextval('transfers_seq_seq'); t_tenant := t_tenant || c_tenant[i];
        t_key := t_key || c_key[i]; t_description := t_description || c_description[i]; t_metadata := t_metadata || c_metadata[i];
        t_at := t_at || v_ts; t_reverses := t_reverses || tt_id[v_t]; t_forced := t_forced || p_force;
        t_hold := t_hold || CASE WHEN p_kind = 'CAPTURE' THEN hd_id[v_h] END;
        -- A capture that gives no reference takes its hold's; a reversal's is its own (or none).
        t_external_ref := t_external_ref || CASE WHEN p_kind = 'CAPTURE' THEN coalesce(c_external_ref[i], hd_external_ref[v_h])
                                                 ELSE c_external_ref[i] END;
        r_transfer[i] := v_transfer;
        r_seq[i] := t_seq[cardinality(t_seq)];
      END IF;
      IF c_op[i] = 'createHold' THEN
        v_h := cardinality(hd_id) + 1;
        hd_id[v_h] := ledger_uuidv7(); hd_seq[v_h] := nextval('holds_seq_seq'); hd_tenant[v_h] := c_tenant[i];
        hd_key[v_h] := c_key[i]; hd_description[v_h] := c_description[i]; hd_metadata[v_h] := c_metadata[i];
        hd_external_ref[v_h] := c_external_ref[i];
        hd_currency_id[v_h] := a_currency_id[p_acc[1]]; hd_captured[v_h] := 0; hd_released[v_h] := 0; hd_status[v_h] := 'OPEN';
        hd_expires[v_h] := v_expires; hd_created[v_h] := v_ts; hd_closed[v_h] := NULL; hd_new[v_h] := true; hd_touched[v_h] := true;
        hd_amount[v_h] := 0;
        FOR k IN 1 .. cardinality(p_acc) LOOP
          IF p_direction[k] = 'DEBIT' THEN hd_amount[v_h] := hd_amount[v_h] + p_amount[k]; END IF;
        END LOOP;
      END IF;
      IF v_h IS NOT NULL THEN v_hold := hd_id[v_h]; END IF;
      FOR k IN 1 .. cardinality(p_acc) LOOP
        v_idx := p_acc[k];
        IF g_current IS NOT NULL THEN  -- (posted totals only: groups are transfers)
          u_idx := u_idx || v_idx; u_dp := u_dp || a_dp[v_idx]; u_cp := u_cp || a_cp[v_idx]; u_version := u_version || a_version[v_idx];
          u_last := u_last || a_last[v_idx]; u_forced := u_forced || a_forced[v_idx]; u_touched := u_touched || a_touched[v_idx];
        END IF;
        ASSERT p_amount[k] > 0, 'ledger: entry amounts are positive';
        -- POSTED and CAPTURE move posted totals; HOLD raises pending totals; RELEASE and CAPTURE lower them.
        IF p_direction[k] = 'DEBIT' THEN
          IF p_kind IN ('POSTED', 'CAPTURE') THEN a_dp[v_idx] := a_dp[v_idx] + p_amount[k]; END IF;
          IF p_kind = 'HOLD' THEN a_dq[v_idx] := a_dq[v_idx] + p_amount[k];
          ELSIF p_kind <> 'POSTED' THEN a_dq[v_idx] := a_dq[v_idx] - p_amount[k]; END IF;
        ELSE
          IF p_kind IN ('POSTED', 'CAPTURE') THEN a_cp[v_idx] := a_cp[v_idx] + p_amount[k]; END IF;
          IF p_kind = 'HOLD' THEN a_cq[v_idx] := a_cq[v_idx] + p_amount[k];
          ELSIF p_kind <> 'POSTED' THEN a_cq[v_idx] := a_cq[v_idx] - p_amount[k]; END IF;
        END IF;
        a_version[v_idx] := a_version[v_idx] + 1;
        a_last[v_idx] := v_ts;
        -- Only a forced change, or one on an account a forced change took out, needs the check.
        IF a_forced[v_idx] OR p_force THEN
          a_forced[v_idx] := NOT ledger_within_bounds(a_normal[v_idx], a_min[v_idx], a_max[v_idx],
            a_dp[v_idx], a_cp[v_idx], a_dq[v_idx], a_cq[v_idx]);
        END IF;
        a_touched[v_idx] := true;
        -- Entry ids are taken only after the accounts' locks (which gave this transaction its id):
        -- the webhook materializer's id bounds rest on it (src/webhooks/position.ts).
        e_cmd := e_cmd || i; e_id := e_id || nextval('entries_id_seq'); e_tenant := e_tenant || c_tenant[i];
        e_kind := e_kind || p_kind; e_transfer := e_transfer || v_transfer; e_hold := e_hold || v_hold;
        e_account := e_account || a_id[v_idx]; e_leg := e_leg || (k - 1); e_direction := e_direction || p_direction[k];
        e_amount := e_amount || p_amount[k]; e_version := e_version || a_version[v_idx]; e_dp := e_dp || a_dp[v_idx];
        e_cp := e_cp || a_cp[v_idx]; e_dq := e_dq || a_dq[v_idx]; e_cq := e_cq || a_cq[v_idx]; e_at := e_at || v_ts;
      END LOOP;
      -- What the command did to its hold, or to what its transfer reverses.
      v_settled := v_settled OR p_kind IN ('RELEASE', 'CAPTURE');
      IF p_kind = 'RELEASE' THEN
        hd_status[v_h] := v_released; hd_released[v_h] := v_remaining; hd_closed[v_h] := v_ts; hd_touched[v_h] := true;
      ELSIF p_kind = 'CAPTURE' THEN
        hd_captured[v_h] := hd_captured[v_h] + v_amount;
        IF hd_captured[v_h] = hd_amount[v_h] THEN hd_status[v_h] := 'CAPTURED'; hd_closed[v_h] := v_ts; END IF;
        hd_touched[v_h] := true;
      ELSIF v_t IS NOT NULL THEN
        tt_reversed[v_t] := tt_reversed[v_t] + v_amount;
      END IF;
      r_at[i] := v_ts;
      IF v_hold IS NOT NULL THEN
        r_hold[i] := v_hold;
        r_object[i] := jsonb_build_object('id', v_hold, 'seq', hd_seq[v_h]::text, 'tenant_id', hd_tenant[v_h],
          'idempotency_key', hd_key[v_h], 'description', hd_description[v_h], 'metadata', hd_metadata[v_h],
          'currency_id', hd_currency_id[v_h], 'amount', hd_amount[v_h]::text, 'captured_amount', hd_captured[v_h]::text,
          'released_amount', hd_released[v_h]::text, 'status', hd_status[v_h], 'expires_at', hd_expires[v_h],
          'created_at', hd_created[v_h], 'closed_at', hd_closed[v_h], 'external_ref', hd_external_ref[v_h]);
      END IF;
    END IF;
    r_ok[i] := v_rejection IS NULL;
    r_error[i] := v_rejection;

    -------------------------------------------------------------- an atomic group's first rejection undoes it
    IF g_current IS NOT NULL AND v_rejection IS NOT NULL THEN
      FOR k IN REVERSE cardinality(u_idx) .. g_marks[4] + 1 LOOP
        v_idx := u_idx[k];
        a_dp[v_idx] := u_dp[k]; a_cp[v_idx] := u_cp[k]; a_version[v_idx] := u_version[k];
        a_last[v_idx] := u_last[k]; a_forced[v_idx] := u_forced[k]; a_touched[v_idx] := u_touched[k];
      END LOOP;
      u_idx := u_idx[:g_marks[4]]; u_dp := u_dp[:g_marks[4]]; u_cp := u_cp[:g_marks[4]]; u_version := u_version[:g_marks[4]];
      u_last := u_last[:g_marks[4]]; u_forced := u_forced[:g_marks[4]]; u_touched := u_touched[:g_marks[4]];
      t_id := t_id[:g_marks[1]]; t_seq := t_seq[:g_marks[1]]; t_tenant := t_tenant[:g_marks[1]]; t_key := t_key[:g_marks[1]];
      t_description := t_description[:g_marks[1]]; t_metadata := t_metadata[:g_marks[1]]; t_at := t_at[:g_marks[1]];
      t_reverses := t_reverses[:g_marks[1]]; t_forced := t_forced[:g_marks[1]]; t_hold := t_hold[:g_marks[1]];
      t_external_ref := t_external_ref[:g_marks[1]];
      e_cmd := e_cmd[:g_marks[2]]; e_id := e_id[:g_marks[2]]; e_tenant := e_tenant[:g_marks[2]]; e_kind := e_kind[:g_marks[2]];
      e_transfer := e_transfer[:g_marks[2]]; e_hold := e_hold[:g_marks[2]]; e_account := e_account[:g_marks[2]];
      e_leg := e_leg[:g_marks[2]]; e_direction := e_direction[:g_marks[2]]; e_amount := e_amount[:g_marks[2]];
      e_version := e_version[:g_marks[2]]; e_dp := e_dp[:g_marks[2]]; e_cp := e_cp[:g_marks[2]]; e_dq := e_dq[:g_marks[2]];
      e_cq := e_cq[:g_marks[2]]; e_at := e_at[:g_marks[2]];
      k_cmd := k_cmd[:g_marks[3]];
      g_failed := i;
      FOR j IN g_first .. g_last LOOP c_gfail[j] := i; END LOOP;
    END IF;

    -- The outcome is stored under the key: every success, every business rejection.
    IF c_key[i] IS NOT NULL AND (v_rejection IS NULL OR v_rejection->>'code' <> 'InvalidInput') THEN
      k_cmd := k_cmd || i;
    END IF;
  END LOOP;

  -- The members of a failed group not answered from their keys are not posted.
  FOR i IN 1 .. n LOOP
    IF c_gfail[i] IS NOT NULL AND i <> c_gfail[i] AND NOT r_replay[i] THEN
      r_ok[i] := false;
      r_error[i] := jsonb_build_object('code', 'BatchAborted', 'failedIndex', c_gfail[i] - c_gfirst[i]);
    END IF;
  END LOOP;

  ------------------------------------------------------------------ 3. commit
  -- One statement per table written, and only for what the batch has.
  IF cardinality(t_id) > 0 THEN
    INSERT INTO transfers (id, seq, tenant_id, idempotency_key, description, metadata, created_at, reverses_id, forced, hold_id,
                           external_ref)
    SELECT * FROM unnest(t_id, t_seq, t_tenant, t_key, t_description, t_metadata, t_at, t_reverses, t_forced, t_hold, t_external_ref);
  END IF;
  IF true = ANY(hd_new) THEN
    INSERT INTO holds (id, seq, tenant_id, idempotency_key, description, metadata, currency_id, amount, captured_amount,
                       released_amount, status, expires_at, created_at, closed_at, external_ref)
    SELECT x.id, x.seq, x.tenant, x.key, x.description, x.metadata, x.currency, x.amount, x.captured, x.released, x.status,
           x.expires, x.created, x.closed, x.external_ref
    FROM unnest(hd_id, hd_seq, hd_tenant, hd_key, hd_description, hd_metadata, hd_currency_id, hd_amount, hd_captured,
                hd_released, hd_status, hd_expires, hd_created, hd_closed, hd_new, hd_external_ref)
      AS x(id, seq, tenant, key, description, metadata, currency, amount, captured, released, status, expires, created, closed, new,
           external_ref)
    WHERE x.new;
  END IF;
  IF v_settled THEN
    UPDATE holds h SET captured_amount = x.captured, released_amount = x.released, status = x.status, closed_at = x.closed
    FROM unnest(hd_id, hd_captured, hd_released, hd_status, hd_closed, hd_new, hd_touched)
      AS x(id, captured, released, status, closed, new, touched)
    -- = ANY: found by key (joined alone, a plan cached on a nearly empty table scanned the whole
    -- key index for them; so the updates of accounts below).
    WHERE h.id = ANY (hd_id) AND h.id = x.id AND x.touched AND NOT x.new;
  END IF;
  IF cardinality(e_id) > 0 THEN
    INSERT INTO entries (id, tenant_id, kind, transfer_id, hold_id, account_id, leg_index, direction, amount, account_version,
                         debits_posted_after, credits_posted_after, debits_pending_after, credits_pending_after, created_at)
    SELECT * FROM unnest(e_id, e_tenant, e_kind, e_transfer, e_hold, e_account, e_leg, e_direction, e_amount, e_version,
                         e_dp, e_cp, e_dq, e_cq, e_at);
    UPDATE accounts a SET debits_posted = x.dp, credits_posted = x.cp, debits_pending = x.dq, credits_pending = x.cq,
                          version = x.version, last_entry_at = x.last, forced_out_of_bounds = x.forced
    FROM unnest(a_id, a_dp, a_cp, a_dq, a_cq, a_version, a_last, a_forced, a_touched)
      AS x(id, dp, cp, dq, cq, version, last, forced, touched)
    WHERE a.id = ANY (a_id) AND a.id = x.id AND x.touched;
  END IF;
  IF true = ANY(a_settings) THEN
    UPDATE accounts a SET name = x.name, metadata = x.metadata, min_balance = x.min, max_balance = x.max, forced_out_of_bounds = false
    FROM unnest(a_id, a_name, a_metadata, a_min, a_max, a_settings) AS x(id, name, metadata, min, max, settings)
    WHERE a.id = ANY (a_id) AND a.id = x.id AND x.settings;
  END IF;
  IF cardinality(na_id) > 0 THEN
    INSERT INTO accounts (id, tenant_id, code, name, currency_id, normal_side, min_balance, max_balance, metadata, created_at)
    SELECT * FROM unnest(na_id, na_tenant, na_code, na_name, na_currency_id, na_normal, na_min, na_max, na_metadata, na_created);
  END IF;
  IF cardinality(nc_id) > 0 THEN
    INSERT INTO currencies (id, tenant_id, code, scale) SELECT * FROM unnest(nc_id, nc_tenant, nc_code, nc_scale);
  END IF;
  IF cardinality(k_cmd) > 0 THEN
    INSERT INTO idempotency_keys (tenant_id, key, operation, request_hash, result)
    SELECT c_tenant[x.i], c_key[x.i], c_op[x.i], c_hash[x.i],
           coalesce(r_error[x.i], jsonb_strip_nulls(jsonb_build_object('transferId', r_transfer[x.i], 'holdId', r_hold[x.i],
                                                                       'accountId', r_account[x.i], 'currencyId', r_currency[x.i])))
    FROM unnest(k_cmd) AS x(i);
  END IF;

  -- The answers, each new success with its entries ("id,kind,account,leg,direction,amount,version,dp,cp,dq,cq;...").
  RETURN (SELECT json_agg(CASE WHEN NOT x.ok THEN json_build_object('ok', false, 'replay', x.replay, 'error', x.error)
                               ELSE json_build_object('ok', true, 'replay', x.replay, 'transferId', x.transfer, 'holdId', x.hold,
                                 'accountId', x.account, 'currencyId', x.currency, 'seq', x.seq::text, 'at', x.at,
                                 'object', x.object, 'entries', w.entries) END
                          ORDER BY x.ord)
          FROM unnest(r_ok[1:n], r_replay[1:n], r_error[1:n], r_transfer[1:n], r_hold[1:n], r_account[1:n], r_currency[1:n],
                      r_seq[1:n], r_at[1:n], r_object[1:n]) WITH ORDINALITY
            AS x(ok, replay, error, transfer, hold, account, currency, seq, at, object, ord)
          LEFT JOIN (SELECT y.cmd, string_agg(concat_ws(',', y.id, y.kind, y.account, y.leg, y.direction, y.amount, y.version,
                                                        y.dp, y.cp, y.dq, y.cq), ';' ORDER BY y.id) AS entries
                     FROM unnest(e_cmd, e_id, e_kind, e_account, e_leg, e_direction, e_amount, e_version, e_dp, e_cp, e_dq, e_cq)
                       AS y(cmd, id, kind, account, leg, direction, amount, version, dp, cp, dq, cq)
                     WHERE y.cmd <= n GROUP BY y.cmd) AS w
            ON w.cmd = x.ord AND x.ok AND NOT x.replay);
END $$;

-- The expiry job: releases up to p_limit holds whose expiry has passed, through the engine, and
-- returns how many. Safe with several server instances: the engine re-checks each hold under its
-- accounts' locks and its own, so each is released once.
CREATE OR REPLACE FUNCTION ledger_expire_holds(p_limit int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  horizon timestamptz := ledger_clock_horizon();  -- a variable: an index range below
  commands jsonb;
BEGIN
  SELECT jsonb_agg(jsonb_build_object('op', 'expireHold', 'tenant', h.tenant_id, 'holdId', h.id)) INTO commands
  FROM (SELECT h.id, h.tenant_id FROM holds h
        WHERE h.status = 'OPEN' AND h.expires_at <= horizon AND h.expires_at <= ledger_now(h.tenant_id)
        ORDER BY h.expires_at LIMIT p_limit) AS h;
  IF commands IS NULL THEN RETURN 0; END IF;
  RETURN (SELECT count(*) FROM json_array_elements(ledger_execute(commands)) AS x WHERE (x->>'ok')::boolean);
END $$;
