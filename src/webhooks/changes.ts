// Reading the committed rows that events are made of: entries with what their payloads need of
// their accounts, and the transfers and holds they belong to. The materializer reads the entries
// of the transactions it has not read yet; bodies.ts reads those of the objects whose events it
// makes again. Both turn them into events with eventsOf (events.ts), so an event made again is
// the event first made, byte for byte (the rows are immutable).
import type pg from "pg";
import type { Side } from "../domain/balance.js";
import {
  accountFromRow,
  entryColumns,
  entryFromRow,
  holdColumns,
  holdFromRow,
  transferColumns,
  transferFromRow,
  type AccountRow,
  type EntryRow,
  type HoldRow,
  type TransferRow,
} from "../ledger/rows.js";
import type { ChangeSet } from "./events.js";

/** Entries with what their payloads need of their accounts; callers add WHERE and ORDER BY e.tx_id, e.id (the order events are made in). */
export const entriesSelect = `SELECT ${entryColumns("e")}, e.tx_id::text, a.code AS a_code, a.normal_side AS a_normal_side, c.code AS currency_code
  FROM entries e JOIN accounts a ON a.id = e.account_id JOIN currencies c ON c.id = a.currency_id`;

export type ChangedEntryRow = EntryRow & { tx_id: string; a_code: string; a_normal_side: Side; currency_code: string };
export type CreatedAccountRow = AccountRow & { tx_id: string; currency_code: string };

/**
 * The change set of these rows: reads the transfers and holds their entries belong to (one
 * statement each, prepared once per connection: planning them again at every call cost more
 * than running them).
 */
export async function readChanges(
  client: Pick<pg.ClientBase, "query">,
  entryRows: readonly ChangedEntryRow[],
  accountRows: readonly CreatedAccountRow[],
): Promise<ChangeSet> {
  const entries = entryRows.map((row) => ({
    entry: entryFromRow(row),
    txId: BigInt(row.tx_id),
    accountCode: row.a_code,
    normalSide: row.a_normal_side,
    currencyCode: row.currency_code,
  }));
  const transferIds = [...new Set(entries.flatMap(({ entry }) => (entry.transferId ? [entry.transferId] : [])))];
  const holdIdsOfEntries = entries.flatMap(({ entry }) => (entry.holdId ? [entry.holdId] : []));
  const transferResult =
    transferIds.length > 0
      ? await client.query<TransferRow>({
          name: "webhook-transfers",
          text: `SELECT ${transferColumns("t")} FROM transfers t WHERE t.id = ANY($1::uuid[])`,
          values: [transferIds],
        })
      : { rows: [] as TransferRow[] };
  const transfers = new Map(transferResult.rows.map((row) => [row.id, transferFromRow(row)]));
  const holdIds = [...new Set([...holdIdsOfEntries, ...[...transfers.values()].flatMap((t) => (t.holdId ? [t.holdId] : []))])];
  const holdResult =
    holdIds.length > 0
      ? await client.query<HoldRow & { c_code: string }>({
          name: "webhook-holds",
          text: `SELECT ${holdColumns("h")}, c.code AS c_code FROM holds h JOIN currencies c ON c.id = h.currency_id WHERE h.id = ANY($1::uuid[])`,
          values: [holdIds],
        })
      : { rows: [] as (HoldRow & { c_code: string })[] };
  const holds = new Map(holdResult.rows.map((row) => [row.id, { hold: holdFromRow(row), currencyCode: row.c_code }]));
  const accounts = accountRows.map((row) => ({
    account: accountFromRow(row),
    txId: BigInt(row.tx_id),
    currencyCode: row.currency_code,
  }));
  return { entries, accounts, transfers, holds };
}
