-- The ledger's clock and its ids.
--
-- The tenant's time is the real clock unless a test clock row (tenant_clocks) moves it forward or
-- freezes it. Time only moves forward, so entry timestamps never go backwards within an account.

CREATE OR REPLACE FUNCTION ledger_now(p_tenant uuid) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT coalesce(
    (SELECT coalesce(c.frozen_at, clock_timestamp() + c.offset_ms * interval '1 millisecond')
     FROM tenant_clocks c WHERE c.tenant_id = p_tenant),
    clock_timestamp())
$$;

-- The latest "now" of any tenant: an index-friendly upper bound for finding expired holds.
CREATE OR REPLACE FUNCTION ledger_clock_horizon() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT greatest(clock_timestamp() + coalesce(max(c.offset_ms), 0) * interval '1 millisecond', max(c.frozen_at))
  FROM tenant_clocks c
$$;

-- Test clock controls (test/support/clock.ts).
CREATE OR REPLACE FUNCTION ledger_clock_advance(p_tenant uuid, p_ms bigint) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  IF p_ms < 0 THEN RAISE EXCEPTION 'ledger clock: time only moves forward'; END IF;
  INSERT INTO tenant_clocks AS c (tenant_id, offset_ms) VALUES (p_tenant, p_ms)
  ON CONFLICT (tenant_id) DO UPDATE
    SET offset_ms = c.offset_ms + p_ms, frozen_at = c.frozen_at + p_ms * interval '1 millisecond';
  RETURN ledger_now(p_tenant);
END $$;

CREATE OR REPLACE FUNCTION ledger_clock_freeze(p_tenant uuid, p_at timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  IF p_at < ledger_now(p_tenant) THEN RAISE EXCEPTION 'ledger clock: time only moves forward'; END IF;
  INSERT INTO tenant_clocks AS c (tenant_id, frozen_at) VALUES (p_tenant, p_at)
  ON CONFLICT (tenant_id) DO UPDATE SET frozen_at = p_at;
  RETURN p_at;
END $$;

CREATE OR REPLACE FUNCTION ledger_clock_unfreeze(p_tenant uuid) RETURNS timestamptz LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tenant_clocks c SET
    offset_ms = greatest(c.offset_ms, ceil(extract(epoch FROM c.frozen_at - clock_timestamp()) * 1000)::bigint),
    frozen_at = NULL
  WHERE c.tenant_id = p_tenant AND c.frozen_at IS NOT NULL;
  RETURN ledger_now(p_tenant);
END $$;

-- A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made in time order
-- land at the right edge of their indexes instead of on a random page (fewer pages dirtied, fewer
-- full-page images after a checkpoint). PostgreSQL 18 has uuidv7(); this works from 13 on.
CREATE OR REPLACE FUNCTION ledger_uuidv7() RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
    PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1), 'hex')::uuid
$$;

-- The smallest id ledger_uuidv7() makes at or after `t` (its 48 time bits, then zeros): ids made
-- before t sort below it, so a primary key of such ids finds the rows made before a time by a range.
CREATE OR REPLACE FUNCTION ledger_uuidv7_floor(t timestamptz) RETURNS uuid LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT encode(overlay('\x00000000000000000000000000000000'::bytea
    PLACING substring(int8send((extract(epoch FROM t) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 'hex')::uuid
$$;
