-- DropIndex
DROP INDEX "transfers_seq_key";

-- Hand-added: room in each page of accounts so balance updates stay HOT (no index entries
-- for the new row version: none of the columns they change is indexed).
ALTER TABLE accounts SET (fillfactor = 70);
