-- Which endpoints an event goes to: its type is one the endpoint takes, and it passes the
-- endpoint's filter (touches the account; its metadata contains the object). The one home of the
-- rule: the materializer's deliveries and replayWebhookEvents both use it.
CREATE OR REPLACE FUNCTION ledger_webhook_matches(
  p_types text[], p_filter_account uuid, p_filter_metadata jsonb,
  e_type text, e_accounts uuid[], e_metadata jsonb
) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT e_type = ANY (p_types)
     AND (p_filter_account IS NULL OR p_filter_account = ANY (e_accounts))
     AND (p_filter_metadata IS NULL OR e_metadata @> p_filter_metadata)
$$;

-- Whoever inserts deliveries takes this lock first, in the inserting transaction (the
-- materializer, retryWebhookDelivery, replayWebhookEvents): inserts then commit in seq order, so
-- a claim's snapshot sees every endpoint's new deliveries as an unbroken run from its cursor, and
-- moving the cursor past those it leases never skips one still committing.
CREATE OR REPLACE FUNCTION ledger_webhook_deliveries_lock() RETURNS void LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(7810759523990402916); -- "ledgerwd"
$$;

-- Adds endpoints to webhook_endpoint_work: each may have a delivery to claim from its time on.
-- The one home of the rule that whoever makes a delivery due adds its endpoint with the time it is
-- due, in the same transaction: the materializer and replayWebhookEvents (new deliveries, now),
-- retryWebhookDelivery (now), the record (an attempt failed: its next attempt's time) and the
-- claim (a lease ran out: now). A claim probes only endpoints listed by now and removes an
-- endpoint's rows up to now once it finds nothing to claim and nothing in flight; a row it could
-- not see (its writer had not committed) stays for the next claim, so no work is left unlisted.
-- The time is the due time itself, never earlier: a probe before it would find nothing and
-- remove the row. Inserts only (ON CONFLICT DO NOTHING on the same time and endpoint), so a
-- writer never waits on a claim, nor a claim on a writer.
CREATE OR REPLACE FUNCTION ledger_webhook_work_from(p_endpoints uuid[], p_at timestamptz[]) RETURNS int LANGUAGE sql AS $$
  WITH added AS (
    INSERT INTO webhook_endpoint_work (from_at, endpoint_id)
    SELECT DISTINCT u.at, u.endpoint_id FROM unnest(p_endpoints, p_at) AS u(endpoint_id, at)
    ON CONFLICT DO NOTHING
    RETURNING 1)
  SELECT count(*)::int FROM added
$$;

-- A delivery its endpoint's cursor will claim: new (inserted PENDING, never due again) and after
-- the cursor. The one home of the rule: the claim, retryWebhookDelivery and the queue gauges use
-- it (inlined, so `seq > through` stays an index condition).
CREATE OR REPLACE FUNCTION ledger_webhook_awaits_cursor(
  p_seq bigint, p_due_at timestamptz, p_status "WebhookDeliveryStatus", p_through bigint
) RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT p_seq > p_through AND p_due_at IS NULL AND p_status = 'PENDING'
$$;

-- The dispatcher's claim, in one call: under an advisory lock that serializes claims and records
-- over every instance (so the leases it reads are exact), lease up to p_count of the deliveries
-- due, at most p_concurrency in flight per endpoint (one while its breaker is half-open, none
-- while open), looking only at the endpoints with work by now (webhook_endpoint_work; see
-- ledger_webhook_work_from). Per endpoint, those due again (due_at: after a failed attempt, a lease that ran
-- out, a retry) come first, oldest first, then its new deliveries in seq order after its cursor
-- (deliveries_claimed_through), which moves past those leased. Leases are kept on the endpoint's
-- row (lease_delivery_ids, lease_tokens, lease_until): a claim writes one row per endpoint it
-- leases from, not one per delivery. A leased delivery is not claimed again until its lease runs
-- out (its instance died, or its attempt outlived it); the claim that finds it expired drops it
-- and makes it due again. Each statement takes its snapshot after the lock (READ COMMITTED: a
-- snapshot per statement), so it sees every earlier claim. attempt_count is the number of the
-- attempt about to be made (recorded ones, and those whose lease ran out, + 1). stored_body is
-- null for events whose body is made again when sent (src/webhooks/bodies.ts).
CREATE OR REPLACE FUNCTION ledger_webhook_claim(p_lease_ms bigint, p_failures_max int, p_concurrency int, p_count int)
RETURNS TABLE (id uuid, endpoint_id uuid, event_id uuid, event_type text, object_id uuid, attempt_count int, horizon_from timestamptz,
               lease_token uuid, url text, secret_sealed text, previous_secret_sealed text,
               previous_secret_expires_at timestamptz, stored_body text)
-- Index scans whatever the statistics say: the plan is cached per session, and one made while
-- the deliveries table was still small (a new database, a fresh ANALYZE) scanned the whole table
-- at every claim once it had grown. JIT off: these are small statements, and before PostgreSQL
-- 18 a disabled scan's cost would set JIT compiling each of them. Generic plans: left to choose,
-- the plan cache kept planning these statements again at every call (their custom plans looked
-- cheaper than the generic one), which cost more than running them (about 0.5 ms of a 0.7 ms
-- claim); with index scans forced the generic plan is the one wanted anyway.
LANGUAGE plpgsql SET enable_seqscan = off SET jit = off SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_expired uuid[];
  v_expired_endpoints uuid[];
BEGIN
  PERFORM pg_advisory_xact_lock(7810759523990402915); -- "ledgerwc"
  -- Leases that ran out: each was an attempt sent whose outcome was never recorded. It counts
  -- (the next attempt carries the next number), the delivery is due again, and its endpoint has
  -- work now. Only endpoints with work can hold leases (a claim removes an endpoint's work only
  -- once none are in flight), so this looks at those alone.
  -- (Each endpoint looked up by its key, OFFSET 0 keeping it a lookup whatever the statistics
  -- were when the plan was cached; so below.)
  SELECT coalesce(array_agg(l.id), '{}'), coalesce(array_agg(e.id), '{}') INTO v_expired, v_expired_endpoints
    FROM (SELECT DISTINCT w.endpoint_id FROM webhook_endpoint_work w) wk
    CROSS JOIN LATERAL (SELECT e.id, e.lease_delivery_ids, e.lease_until FROM webhook_endpoints e
                         WHERE e.id = wk.endpoint_id AND cardinality(e.lease_until) > 0 OFFSET 0) e,
    unnest(e.lease_delivery_ids, e.lease_until) AS l(id, until)
   WHERE l.until <= now();
  IF cardinality(v_expired) > 0 THEN
    UPDATE webhook_deliveries d SET attempt_count = d.attempt_count + 1, due_at = now()
     WHERE d.id = ANY (v_expired) AND d.status = 'PENDING';
    PERFORM ledger_webhook_work_from(v_expired_endpoints, array_fill(now(), ARRAY[cardinality(v_expired_endpoints)]));
    UPDATE webhook_endpoints e
       SET (lease_delivery_ids, lease_tokens, lease_until) = (
             SELECT coalesce(array_agg(l.id ORDER BY l.n), '{}'), coalesce(array_agg(l.token ORDER BY l.n), '{}'),
                    coalesce(array_agg(l.until ORDER BY l.n), '{}')
               FROM unnest(e.lease_delivery_ids, e.lease_tokens, e.lease_until) WITH ORDINALITY AS l(id, token, until, n)
              WHERE l.until > now())
     WHERE e.id = ANY (v_expired_endpoints);
  END IF;

  RETURN QUERY
    WITH sending AS (
      -- Enabled endpoints whose breaker lets them send, with the deliveries they have in flight.
      -- Only those with work by now (webhook_endpoint_work): the rest are not looked at.
      SELECT e.id, e.deliveries_claimed_through AS through, e.lease_delivery_ids AS busy,
             CASE WHEN e.consecutive_failures >= p_failures_max THEN 1 ELSE p_concurrency END AS width
        FROM (SELECT DISTINCT w.endpoint_id FROM webhook_endpoint_work w WHERE w.from_at <= now()) wk
        CROSS JOIN LATERAL (SELECT e.* FROM webhook_endpoints e WHERE e.id = wk.endpoint_id OFFSET 0) e
       WHERE e.status = 'ENABLED' AND (e.breaker_open_until IS NULL OR e.breaker_open_until <= now())
    ), ready AS (
      -- Per endpoint the deliveries it would send next (at most its concurrency): those due
      -- again, then its new ones. One endpoint's backlog never hides another's (tenants stay apart).
      SELECT c.id, c.endpoint_id, c.seq, c.fresh, c.event_id, c.attempt_count, c.horizon_from,
             s.width - cardinality(s.busy) AS room,
             row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.fresh, c.due_at, c.seq) AS rank
        FROM sending s CROSS JOIN LATERAL (
          (SELECT d.id, d.endpoint_id, d.seq, false AS fresh, d.due_at, d.event_id, d.attempt_count, d.horizon_from
             FROM webhook_deliveries d
            WHERE d.endpoint_id = s.id AND d.due_at IS NOT NULL AND d.due_at <= now() AND d.id <> ALL (s.busy)
            ORDER BY d.due_at, d.id LIMIT p_concurrency)
          UNION ALL
          -- A retry of one before its first claim leaves it to the cursor.
          (SELECT d.id, d.endpoint_id, d.seq, true, d.created_at, d.event_id, d.attempt_count, d.horizon_from
             FROM webhook_deliveries d
            WHERE d.endpoint_id = s.id AND ledger_webhook_awaits_cursor(d.seq, d.due_at, d.status, s.through)
            ORDER BY d.seq LIMIT p_concurrency)) c
    ), candidates AS MATERIALIZED (
      -- Those each endpoint has room for, with their event, if it is still kept (an event past its
      -- retention is deleted: ledger_webhook_prune_events). Looked up by its key (OFFSET 0 keeps it
      -- a lookup: joined, a plan made on nearly empty tables scanned a whole index per delivery).
      SELECT r.*, ev.type AS event_type, ev.object_id, ev.payload, ev.type IS NOT NULL AS kept
        FROM ready r
        LEFT JOIN LATERAL (SELECT v.type, v.object_id, v.payload FROM webhook_events v WHERE v.id = r.event_id OFFSET 0) ev ON true
       WHERE r.rank <= r.room
    ), pick AS (
      -- Round-robin over the endpoints (each one's first, then each one's second, ...): one
      -- endpoint's backlog cannot take every slot of the claim.
      SELECT r.id, r.endpoint_id, r.seq, r.fresh, r.event_id, r.event_type, r.object_id, r.payload, r.attempt_count, r.horizon_from,
             gen_random_uuid() AS token
        FROM candidates r WHERE r.kept ORDER BY r.rank, r.fresh, r.seq LIMIT p_count
    ), orphaned AS (
      -- A delivery whose event is gone has nothing to send and is listed nowhere: deleted, not
      -- leased (else it would be claimed again each time its lease ran out).
      DELETE FROM webhook_deliveries d WHERE d.id = ANY (ARRAY(SELECT r.id FROM candidates r WHERE NOT r.kept))
    ), leased AS (
      UPDATE webhook_endpoints e
         SET (lease_delivery_ids, lease_tokens, lease_until) = (
               SELECT e.lease_delivery_ids || array_agg(p.id), e.lease_tokens || array_agg(p.token),
                      e.lease_until || array_agg(now() + p_lease_ms * interval '1 millisecond')
                 FROM pick p WHERE p.endpoint_id = e.id),
             -- Past the new ones leased: a round-robin cut takes each endpoint's first ones, in seq order.
             deliveries_claimed_through = coalesce((SELECT max(p.seq) FROM pick p WHERE p.endpoint_id = e.id AND p.fresh),
                                                   e.deliveries_claimed_through)
       -- = ANY (ARRAY(...)): found by key (as IN, a plan made on a near-empty table read the whole key index).
       WHERE e.id = ANY (ARRAY(SELECT p.endpoint_id FROM pick p))
    ), idle AS (
      -- Endpoints looked at with nothing to claim and nothing in flight: their work up to now is
      -- done. In this statement, so only rows its snapshot saw (and found done) are removed.
      DELETE FROM webhook_endpoint_work w
       WHERE w.from_at <= now() AND w.endpoint_id IN (
             SELECT s.id FROM sending s WHERE cardinality(s.busy) = 0 AND NOT EXISTS (SELECT 1 FROM ready r WHERE r.endpoint_id = s.id))
    )
    -- Each endpoint looked up by its key (OFFSET 0, as the events above).
    SELECT p.id, p.endpoint_id, p.event_id, p.event_type, p.object_id, p.attempt_count + 1, p.horizon_from, p.token, ep.url,
           ep.secret_sealed, ep.previous_secret_sealed, ep.previous_secret_expires_at, p.payload::text
      FROM pick p
      CROSS JOIN LATERAL (SELECT e.url, e.secret_sealed, e.previous_secret_sealed, e.previous_secret_expires_at
                            FROM webhook_endpoints e WHERE e.id = p.endpoint_id OFFSET 0) ep;
END;
$$;

-- The outcomes of attempts, recorded together in one call (the dispatcher gathers those that
-- finish close together). Per attempt: one update of its delivery, which appends the attempt to
-- the delivery's list (the last 100 are kept) and, only while the attempt's lease still holds
-- (p_tokens, on the endpoint's row), counts it and moves the delivery to its next state: an
-- attempt that outlived its lease is listed but moves nothing. The leases recorded are removed. Per
-- endpoint, its breaker as if the outcomes had come one by one in the order given: a success
-- closes it, each failure after the last success counts, and reaching p_failures_max opens it for
-- p_cooldown_ms; a 410 disables the endpoint. Returns the deliveries moved, the endpoints whose
-- breaker these outcomes opened, and the deliveries gone (deleted while their attempt was in
-- flight: their event passed its retention, ledger_webhook_prune_events).
CREATE OR REPLACE FUNCTION ledger_webhook_record(
  p_ids uuid[], p_tokens uuid[], p_endpoints uuid[], p_outcomes text[], p_status_codes int[], p_durations int[],
  p_errors text[], p_statuses text[], p_next timestamptz[], p_failures_max int, p_cooldown_ms bigint
) RETURNS TABLE (moved uuid[], opened uuid[], gone uuid[]) LANGUAGE sql
-- As the claim, for the same reasons (PostgreSQL 18 caches SQL functions' plans too).
SET enable_seqscan = off SET jit = off SET plan_cache_mode = force_generic_plan AS $$
  -- The claims' lock (ledger_webhook_claim): no claim moves a lease while this records, and
  -- endpoint rows are locked by one claim or record at a time. Its own statement, so the next
  -- one's snapshot is taken after it.
  SELECT pg_advisory_xact_lock(7810759523990402915);
  WITH given AS MATERIALIZED (
    -- Each attempt, and whether its lease still holds. Exact: leases change only in claims and
    -- records, which the lock above keeps out until this commits. Its endpoint looked up by key
    -- (OFFSET 0, as in the claim), the lease by its token's place in the endpoint's arrays (a token
    -- is made for one lease). Materialized: computed once a row. (A CTE of its own joined by ord
    -- was scanned once per delivery by the update below, and it read every endpoint's leases.)
    SELECT g.*, coalesce(ep.lease_delivery_ids[array_position(ep.lease_tokens, g.token)] = g.id, false) AS held
      FROM unnest(p_ids, p_tokens, p_endpoints, p_outcomes, p_status_codes, p_durations, p_errors, p_statuses, p_next)
           WITH ORDINALITY AS g(id, token, endpoint_id, outcome, status_code, duration_ms, error, status, next_at, ord)
      LEFT JOIN LATERAL (SELECT e.lease_delivery_ids, e.lease_tokens FROM webhook_endpoints e WHERE e.id = g.endpoint_id OFFSET 0) ep ON true
  ), delivery AS (
    UPDATE webhook_deliveries d
       SET attempts = CASE WHEN jsonb_array_length(d.attempts) >= 100 THEN d.attempts - 0 ELSE d.attempts END
                      || jsonb_build_array(jsonb_build_object(
                           'at', now() - g.duration_ms * interval '1 millisecond', 'outcome', g.outcome,
                           'status_code', g.status_code, 'duration_ms', g.duration_ms, 'error', g.error)),
           status = CASE WHEN g.held THEN g.status::"WebhookDeliveryStatus" ELSE d.status END,
           next_attempt_at = CASE WHEN g.held THEN coalesce(g.next_at, now()) ELSE d.next_attempt_at END,
           -- Unchanged (null) for a new delivery's first attempt that succeeded: no indexed column changes.
           due_at = CASE WHEN NOT g.held THEN d.due_at WHEN g.status = 'PENDING' THEN coalesce(g.next_at, now()) END,
           attempt_count = CASE WHEN g.held THEN d.attempt_count + 1 ELSE d.attempt_count END,
           delivered_at = CASE WHEN NOT g.held THEN d.delivered_at WHEN g.status = 'DELIVERED' THEN now() END,
           failed_at = CASE WHEN NOT g.held THEN d.failed_at WHEN g.status = 'FAILED' THEN now() END
      FROM given g
     -- = ANY (p_ids): the deliveries found by key, whichever side the cached plan joins first.
     WHERE d.id = ANY (p_ids) AND d.id = g.id
    RETURNING d.id, g.held
  ), due AS (
    -- Deliveries due again: their endpoints have work then (no call when all succeeded).
    SELECT CASE WHEN count(*) > 0 THEN ledger_webhook_work_from(array_agg(g.endpoint_id), array_agg(coalesce(g.next_at, now()))) END
      FROM given g WHERE g.held AND g.status = 'PENDING'
  ), outcomes AS (
    SELECT g.endpoint_id, bool_or(g.outcome = 'SUCCESS') AS succeeded, bool_or(g.outcome = 'GONE') AS gone,
           (count(*) FILTER (WHERE g.outcome <> 'SUCCESS' AND g.ord > coalesce(s.last_success, 0)))::int AS trailing
      FROM given g
      LEFT JOIN (SELECT endpoint_id, max(ord) AS last_success FROM given WHERE outcome = 'SUCCESS' GROUP BY endpoint_id) s
        USING (endpoint_id)
     GROUP BY g.endpoint_id
  ), endpoint AS (
    UPDATE webhook_endpoints ep
       SET consecutive_failures = CASE WHEN o.succeeded THEN 0 ELSE ep.consecutive_failures END + o.trailing,
           breaker_open_until = CASE
             WHEN o.trailing > 0 AND CASE WHEN o.succeeded THEN 0 ELSE ep.consecutive_failures END + o.trailing >= p_failures_max
               THEN now() + p_cooldown_ms * interval '1 millisecond'
             WHEN o.succeeded THEN NULL
             ELSE ep.breaker_open_until END,
           status = CASE WHEN o.gone THEN 'DISABLED'::"WebhookEndpointStatus" ELSE ep.status END,
           disabled_reason = CASE WHEN o.gone THEN 'GONE' ELSE ep.disabled_reason END,
           -- Successes alone on a closed breaker change only the leases.
           updated_at = CASE WHEN o.trailing = 0 AND NOT o.gone AND ep.consecutive_failures = 0 AND ep.breaker_open_until IS NULL
                             THEN ep.updated_at ELSE now() END,
           (lease_delivery_ids, lease_tokens, lease_until) = (
             SELECT coalesce(array_agg(l.id ORDER BY l.n), '{}'), coalesce(array_agg(l.token ORDER BY l.n), '{}'),
                    coalesce(array_agg(l.until ORDER BY l.n), '{}')
               FROM unnest(ep.lease_delivery_ids, ep.lease_tokens, ep.lease_until) WITH ORDINALITY AS l(id, token, until, n)
              WHERE NOT EXISTS (SELECT 1 FROM given g WHERE g.id = l.id AND g.token = l.token))
      FROM outcomes o
     -- = ANY (p_endpoints): found by key, as the deliveries above.
     WHERE ep.id = ANY (p_endpoints) AND ep.id = o.endpoint_id
    RETURNING ep.id, o.trailing > 0 AND ep.consecutive_failures >= p_failures_max
              AND ep.consecutive_failures - o.trailing < p_failures_max AS opened
  )
  -- FROM due: one row, so the work is added once, always.
  SELECT coalesce((SELECT array_agg(id) FROM delivery WHERE held), '{}'), coalesce((SELECT array_agg(id) FROM endpoint WHERE opened), '{}'),
         -- Looked for only when some delivery was not found (rare).
         CASE WHEN (SELECT count(*) FROM delivery) < cardinality(p_ids)
              THEN coalesce((SELECT array_agg(g.id) FROM given g WHERE NOT EXISTS (SELECT 1 FROM delivery d WHERE d.id = g.id)), '{}')
              ELSE '{}' END
    FROM due
$$;

-- One dispatcher cycle in one call (one round trip, no transaction held open between two
-- statements, so the claims' lock is held only while this runs): records the attempts that
-- finished (ledger_webhook_record), then claims up to p_count deliveries
-- (ledger_webhook_claim), whose statements see what the record wrote. The first row carries
-- the record's outcome (moved, opened, gone) and nothing else; the claimed deliveries follow, without
-- it (parsing those arrays again on every row cost the dispatcher more than the rows themselves).
CREATE OR REPLACE FUNCTION ledger_webhook_cycle(
  p_ids uuid[], p_tokens uuid[], p_endpoints uuid[], p_outcomes text[], p_status_codes int[], p_durations int[],
  p_errors text[], p_statuses text[], p_next timestamptz[], p_failures_max int, p_cooldown_ms bigint,
  p_lease_ms bigint, p_concurrency int, p_count int
) RETURNS TABLE (moved uuid[], opened uuid[], gone uuid[], id uuid, endpoint_id uuid, event_id uuid, event_type text, object_id uuid,
                 attempt_count int, horizon_from timestamptz, lease_token uuid, url text, secret_sealed text,
                 previous_secret_sealed text, previous_secret_expires_at timestamptz, stored_body text)
LANGUAGE plpgsql AS $$
DECLARE
  v_moved uuid[] := '{}';
  v_opened uuid[] := '{}';
  v_gone uuid[] := '{}';
BEGIN
  IF cardinality(p_ids) > 0 THEN
    SELECT r.moved, r.opened, r.gone INTO v_moved, v_opened, v_gone
      FROM ledger_webhook_record(p_ids, p_tokens, p_endpoints, p_outcomes, p_status_codes, p_durations, p_errors,
                                 p_statuses, p_next, p_failures_max, p_cooldown_ms) r;
  END IF;
  RETURN QUERY SELECT v_moved, v_opened, v_gone, NULL::uuid, NULL::uuid, NULL::uuid, NULL::text, NULL::uuid, NULL::int,
                      NULL::timestamptz, NULL::uuid, NULL::text, NULL::text, NULL::text, NULL::timestamptz, NULL::text;
  IF p_count > 0 THEN
    RETURN QUERY SELECT NULL::uuid[], NULL::uuid[], NULL::uuid[], c.* FROM ledger_webhook_claim(p_lease_ms, p_failures_max, p_concurrency, p_count) c;
  END IF;
END;
$$;

-- The pruners' lock, tried in each prune statement's transaction: one pruner at a time over every
-- instance (another one's statement answers at once that it deleted nothing).
CREATE OR REPLACE FUNCTION ledger_webhook_pruner_lock() RETURNS boolean LANGUAGE sql AS $$
  SELECT pg_try_advisory_xact_lock(7810759523990402917); -- "ledgerwe"
$$;

-- Retention: deletes up to p_max deliveries DELIVERED before p_before, oldest first, and answers
-- how many. Their ids are UUIDv7s of their creation (ledger_uuidv7; a delivery is made before it
-- is delivered), so the primary key finds them by a range. PENDING ones are work, FAILED ones
-- dead letters to act on: both are kept here, and so are events (ledger_webhook_prune_events
-- deletes those past their own retention, with every delivery made before). One pruner at a time
-- over every instance (a second answers 0 at once).
CREATE OR REPLACE FUNCTION ledger_webhook_prune_delivered(p_before timestamptz, p_max int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  v_deleted int;
BEGIN
  IF NOT ledger_webhook_pruner_lock() THEN
    RETURN 0;
  END IF;
  WITH gone AS (
    DELETE FROM webhook_deliveries WHERE id IN (
      SELECT d.id FROM webhook_deliveries d
       WHERE d.id < ledger_uuidv7_floor(p_before) AND d.status = 'DELIVERED' AND d.delivered_at < p_before
       ORDER BY d.id LIMIT p_max)
    RETURNING 1)
  SELECT count(*)::int INTO v_deleted FROM gone;
  RETURN v_deleted;
END;
$$;

-- Event retention: deletes up to p_max deliveries made before p_before (any status: their events
-- go too, so none could be sent or re-sent), then up to p_max events that occurred before it,
-- oldest first each, and answers how many of each. Events' ids are UUIDv7s of when their change
-- was made (src/webhooks/ids.ts) and deliveries' of their creation, so the primary keys find both
-- by a range; the timestamps guard rows stored with random ids. A delivery made after p_before of
-- an older event (a retry or replay near the edge) outlives its event: the claim drops it unsent
-- (ledger_webhook_claim), listings do not show it, and this deletes it once it is old enough.
CREATE OR REPLACE FUNCTION ledger_webhook_prune_events(p_before timestamptz, p_max int)
RETURNS TABLE (events int, deliveries int) LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ledger_webhook_pruner_lock() THEN
    RETURN QUERY SELECT 0, 0;
    RETURN;
  END IF;
  RETURN QUERY WITH gone_deliveries AS (
    DELETE FROM webhook_deliveries WHERE id IN (
      SELECT d.id FROM webhook_deliveries d
       WHERE d.id < ledger_uuidv7_floor(p_before) AND d.created_at < p_before ORDER BY d.id LIMIT p_max)
    RETURNING 1
  ), gone_events AS (
    DELETE FROM webhook_events WHERE id IN (
      SELECT v.id FROM webhook_events v
       WHERE v.id < ledger_uuidv7_floor(p_before) AND v.occurred_at < p_before ORDER BY v.id LIMIT p_max)
    RETURNING 1
  )
  SELECT (SELECT count(*)::int FROM gone_events), (SELECT count(*)::int FROM gone_deliveries);
END;
$$;
