-- Every event is made by one insert and looked up by its id; seq only orders a replay (a sort
-- of the matched events), so its unique index was an entry per event that nothing read.
-- DropIndex
DROP INDEX "webhook_events_seq_key";
