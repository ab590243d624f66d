-- Events reporting transfers and holds no longer store their body: it is made again from the
-- immutable rows they report (src/webhooks/bodies.ts), named by object_id. account.created keeps
-- its stored body (accounts change); events stored before this keep theirs too.
ALTER TABLE "webhook_events" ADD COLUMN "object_id" UUID, ALTER COLUMN "payload" DROP NOT NULL;
