-- A delivery's attempts live in its own row (a jsonb array, oldest first), written by the same
-- update that records the attempt's outcome: a row and two index entries fewer per attempt than
-- a table of attempts.
ALTER TABLE "webhook_deliveries" ADD COLUMN "attempts" JSONB NOT NULL DEFAULT '[]';

UPDATE "webhook_deliveries" d
   SET "attempts" = a.list
  FROM (SELECT delivery_id,
               jsonb_agg(jsonb_build_object('at', "at", 'outcome', outcome, 'status_code', status_code,
                                            'duration_ms', duration_ms, 'error', error) ORDER BY id) AS list
          FROM "webhook_attempts" GROUP BY delivery_id) a
 WHERE d.id = a.delivery_id;

DROP TABLE "webhook_attempts";
