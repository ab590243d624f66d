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
      SELECT r.id FROM ready r WHERE r.rank <= r.room ORDER BY r.next_attempt_at, r.id LIMIT p_count
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
