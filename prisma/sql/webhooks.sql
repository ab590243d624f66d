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
