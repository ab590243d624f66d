-- hand-written
ALTER TABLE "entries" ADD CONSTRAINT "entries_amount_positive" CHECK ("amount" > 0);

CREATE OR REPLACE FUNCTION entries_immutable() RETURNS trigger AS $$
BEGIN
  -- a semicolon; inside the body; and a 'quoted; string'
  RAISE EXCEPTION 'entries are immutable (op %)', TG_OP;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER entries_no_update BEFORE UPDATE OR DELETE ON "entries"
  FOR EACH ROW EXECUTE FUNCTION entries_immutable();

CREATE FUNCTION add_one(x bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $body$ SELECT x + 1; $body$;

DO $$ BEGIN PERFORM 1; END $$;
