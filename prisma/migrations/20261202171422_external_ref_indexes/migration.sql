-- Hand-written, with 20261202171421_external_ref: what the external_ref columns need that Prisma's
-- schema language cannot say.

-- The payment provider's id is at most 255 characters and never empty, whatever the caller (the
-- service refuses both first: InvalidInput EMPTY, LimitExceeded externalRefLengthMax, which may
-- be set lower but not higher). It also keeps every entry of the indexes below far under
-- B-tree's size limit for an index row. NULL (no reference) passes.
ALTER TABLE transfers ADD CONSTRAINT transfers_external_ref_length CHECK (char_length(external_ref) BETWEEN 1 AND 255);
ALTER TABLE holds ADD CONSTRAINT holds_external_ref_length CHECK (char_length(external_ref) BETWEEN 1 AND 255);

-- Lookups by the provider's id: transfers(filter: {externalRef}) and account.entries(filter:
-- {externalRef}) read the tenant's transfers with one reference (a charge and its refunds, a
-- payout), a range scan of (tenant_id, external_ref) whatever the number of the tenant's
-- transfers; without an index they would be a scan of all of them. Every lookup is a tenant's,
-- so the tenant comes first. Partial, because every index on the hot tables must earn its place:
-- most transfers (internal movements, fees, the ledger's own adjustments) carry no reference, and
-- such a row costs no index entry and no index write; a row with one costs one entry, which its
-- lookup needs. The equality a lookup asks for implies external_ref IS NOT NULL, so the planner uses it.
CREATE INDEX transfers_tenant_id_external_ref_idx ON transfers (tenant_id, external_ref) WHERE external_ref IS NOT NULL;
-- Holds: the same lookup of an authorization by its provider id (the reconciliation this column is
-- for; no query reads holds by it yet). external_ref never changes after the insert, so the index
-- costs settlement updates nothing: they stay as HOT-eligible as they were.
CREATE INDEX holds_tenant_id_external_ref_idx ON holds (tenant_id, external_ref) WHERE external_ref IS NOT NULL;
