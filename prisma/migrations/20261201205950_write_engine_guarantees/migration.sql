-- Hand-written, with 20261201205949_write_engine: what the write engine's tables keep once their
-- foreign keys are gone, and the indexes Prisma's schema language cannot express.

-- Rows that entries and transfers point at are never deleted (the foreign keys used to refuse
-- such deletes; transfers and entries already refuse UPDATE, DELETE and TRUNCATE, holds refuse
-- DELETE and TRUNCATE). Accounts still change in place (their balances), never go away.
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts
  FOR EACH ROW EXECUTE FUNCTION ledger_reject_change();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_reject_change();

-- Metadata containment (transfers(filter: {metadata}), entries(filter: {transferMetadata}) and
-- transferPosted's filter) only for rows that have metadata: most transfers have none, and a GIN
-- index otherwise takes an entry for '{}' on every insert. Queries add `metadata <> '{}'` to use it.
CREATE INDEX transfers_metadata_idx ON transfers USING GIN (metadata jsonb_path_ops) WHERE metadata <> '{}'::jsonb;

-- One stored-outcome shape for every writing mutation (see prisma/sql/engine.sql): accounts and
-- currencies used to store { ok, id } / { ok: false, problem } from the service; now, as every
-- other operation, the ids of what was made or changed, or the rejection (raw uuids, no message).
UPDATE idempotency_keys SET result = CASE
    WHEN (result->>'ok')::boolean THEN jsonb_build_object(
      CASE operation WHEN 'createCurrency' THEN 'currencyId' ELSE 'accountId' END, result->>'id')
    WHEN result->'problem'->>'code' = 'BoundsViolated' THEN
      jsonb_set((result->'problem') - 'message', '{accountId}', to_jsonb(substr(result->'problem'->>'accountId', length('acct_') + 1)))
    ELSE (result->'problem') - 'message' END
WHERE operation IN ('createAccount', 'updateAccount', 'createCurrency') AND result ? 'ok';
