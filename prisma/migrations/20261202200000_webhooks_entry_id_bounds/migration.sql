-- The materializer's bounds on the ids of the entries it has still to read
-- (src/webhooks/position.ts): it reads entries by primary key from them on.
ALTER TABLE "webhook_feed_position" ADD COLUMN     "entry_ids_above" BIGINT,
ADD COLUMN     "in_progress_entry_ids_above" BIGINT[];

-- The position starts here, when the database is made, not at the first pass of the first
-- instance: a change committed between the two would otherwise be taken as before the start and
-- get no event. (A database that has a position keeps it.) No id bounds yet: any id.
INSERT INTO "webhook_feed_position" ("id", "unread_from", "in_progress")
SELECT 1, pg_snapshot_xmax(s)::text::bigint, ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x)
  FROM pg_current_snapshot() AS s
ON CONFLICT ("id") DO NOTHING;
