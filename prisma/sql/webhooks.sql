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

-- The dispatcher's claim, in one call: under an advisory lock that serializes claims over every
-- instance (so the in-flight counts it reads are exact), lease up to p_count of the oldest due
-- deliveries, at most p_concurrency in flight per endpoint (one while its breaker is half-open,
-- none while open). A claimed delivery's next attempt moves to its lease's end: while leased it
-- is not due, and when its instance dies it is due again. Its statement takes its snapshot after
-- the lock (READ COMMITTED: a snapshot per statement), so it sees every earlier claim.
CREATE OR REPLACE FUNCTION ledger_webhook_claim(p_lease_ms bigint, p_failures_max int, p_concurrency int, p_count int)
RETURNS TABLE (id uuid, endpoint_id uuid, event_id uuid, event_type text, attempt_count int, horizon_from timestamptz,
               lease_token uuid, url text, secret_sealed text, previous_secret_sealed text,
               previous_secret_expires_at timestamptz, body text)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7810759523990402915); -- "ledgerwc"
  RETURN QUERY
    -- Per enabled endpoint whose breaker lets it send, its oldest due deliveries (at most its
    -- concurrency): one endpoint's backlog never hides another's (tenants stay apart).
    WITH candidates AS (
      SELECT c.id, c.endpoint_id, c.next_attempt_at
        FROM webhook_endpoints e
        CROSS JOIN LATERAL (
          SELECT d.id, d.endpoint_id, d.next_attempt_at FROM webhook_deliveries d
           WHERE d.endpoint_id = e.id AND d.status = 'PENDING' AND d.next_attempt_at <= now()
           ORDER BY d.next_attempt_at, d.id LIMIT p_concurrency) c
       WHERE e.status = 'ENABLED' AND (e.breaker_open_until IS NULL OR e.breaker_open_until <= now())
    ), busy AS (
      SELECT b.endpoint_id, count(*)::int AS n FROM webhook_deliveries b
       WHERE b.lease_until IS NOT NULL AND b.lease_until > now() AND b.endpoint_id IN (SELECT c.endpoint_id FROM candidates c)
       GROUP BY b.endpoint_id
    ), ready AS (
      SELECT c.id, c.next_attempt_at,
             row_number() OVER (PARTITION BY c.endpoint_id ORDER BY c.next_attempt_at, c.id) AS rank,
             CASE WHEN ep.consecutive_failures >= p_failures_max THEN 1 ELSE p_concurrency END - coalesce(b.n, 0) AS room
        FROM candidates c
        JOIN webhook_endpoints ep ON ep.id = c.endpoint_id
        LEFT JOIN busy b ON b.endpoint_id = c.endpoint_id
       WHERE ep.status = 'ENABLED' AND (ep.breaker_open_until IS NULL OR ep.breaker_open_until <= now())
    ), pick AS (
      -- Round-robin over the endpoints (each one's first, then each one's second, ...), oldest
      -- first within a round: one endpoint's backlog cannot take every slot of the claim.
      SELECT r.id FROM ready r WHERE r.rank <= r.room ORDER BY r.rank, r.next_attempt_at, r.id LIMIT p_count
    ), leased AS (
      UPDATE webhook_deliveries d
         SET lease_until = now() + p_lease_ms * interval '1 millisecond', next_attempt_at = now() + p_lease_ms * interval '1 millisecond',
             lease_token = gen_random_uuid(), attempt_count = d.attempt_count + 1
        FROM pick
       WHERE d.id = pick.id
      RETURNING d.id, d.endpoint_id, d.event_id, d.attempt_count, d.horizon_from, d.lease_token
    )
    SELECT l.id, l.endpoint_id, l.event_id, ev.type, l.attempt_count, l.horizon_from, l.lease_token, ep.url, ep.secret_sealed,
           ep.previous_secret_sealed, ep.previous_secret_expires_at, ev.payload::text
      FROM leased l JOIN webhook_endpoints ep ON ep.id = l.endpoint_id JOIN webhook_events ev ON ev.id = l.event_id;
END;
$$;

-- The outcomes of attempts, recorded together in one call (the dispatcher gathers those that
-- finish close together). Per attempt: one update of its delivery, which appends the attempt to
-- the delivery's list (the last 100 are kept; attempt_count counts them all) and, only while the
-- attempt's lease still holds (p_tokens), moves the delivery to its next state: an attempt that
-- outlived its lease is listed but moves nothing. Per
-- endpoint, its breaker as if the outcomes had come one by one in the order given: a success
-- closes it, each failure after the last success counts, and reaching p_failures_max opens it for
-- p_cooldown_ms; a 410 disables the endpoint. Returns the deliveries moved and the endpoints whose
-- breaker these outcomes opened.
CREATE OR REPLACE FUNCTION ledger_webhook_record(
  p_ids uuid[], p_tokens uuid[], p_endpoints uuid[], p_outcomes text[], p_status_codes int[], p_durations int[],
  p_errors text[], p_statuses text[], p_next timestamptz[], p_failures_max int, p_cooldown_ms bigint
) RETURNS TABLE (moved uuid[], opened uuid[]) LANGUAGE sql AS $$
  -- The claims' lock (ledger_webhook_claim), so no claim moves a lease while this records; its
  -- own statement, so the next one's snapshot is taken after it.
  SELECT pg_advisory_xact_lock(7810759523990402915);
  WITH given AS (
    SELECT * FROM unnest(p_ids, p_tokens, p_endpoints, p_outcomes, p_status_codes, p_durations, p_errors, p_statuses, p_next)
      WITH ORDINALITY AS g(id, token, endpoint_id, outcome, status_code, duration_ms, error, status, next_at, ord)
  ), held AS (
    -- Exact: tokens change only in claims, which the lock above keeps out until this commits.
    SELECT g.ord, coalesce(d.lease_token = g.token, false) AS held FROM given g JOIN webhook_deliveries d ON d.id = g.id
  ), delivery AS (
    UPDATE webhook_deliveries d
       SET attempts = CASE WHEN jsonb_array_length(d.attempts) >= 100 THEN d.attempts - 0 ELSE d.attempts END
                      || jsonb_build_array(jsonb_build_object(
                           'at', now() - g.duration_ms * interval '1 millisecond', 'outcome', g.outcome,
                           'status_code', g.status_code, 'duration_ms', g.duration_ms, 'error', g.error)),
           status = CASE WHEN h.held THEN g.status::"WebhookDeliveryStatus" ELSE d.status END,
           next_attempt_at = CASE WHEN h.held THEN coalesce(g.next_at, now()) ELSE d.next_attempt_at END,
           lease_until = CASE WHEN h.held THEN NULL ELSE d.lease_until END,
           lease_token = CASE WHEN h.held THEN NULL ELSE d.lease_token END,
           delivered_at = CASE WHEN NOT h.held THEN d.delivered_at WHEN g.status = 'DELIVERED' THEN now() END,
           failed_at = CASE WHEN NOT h.held THEN d.failed_at WHEN g.status = 'FAILED' THEN now() END
      FROM held h JOIN given g ON g.ord = h.ord
     WHERE d.id = g.id
    RETURNING d.id, h.held
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
           updated_at = now()
      FROM outcomes o
     -- Successes alone on a closed breaker change nothing: the endpoint's row is left alone (no
     -- lock queue behind it).
     WHERE ep.id = o.endpoint_id AND NOT (o.trailing = 0 AND NOT o.gone AND ep.consecutive_failures = 0 AND ep.breaker_open_until IS NULL)
    RETURNING ep.id, o.trailing > 0 AND ep.consecutive_failures >= p_failures_max
              AND ep.consecutive_failures - o.trailing < p_failures_max AS opened
  )
  SELECT coalesce((SELECT array_agg(id) FROM delivery WHERE held), '{}'), coalesce((SELECT array_agg(id) FROM endpoint WHERE opened), '{}')
$$;
