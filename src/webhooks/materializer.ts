// The webhook materializer: turns committed changes into events and deliveries, exactly once,
// without costing the write path anything (no outbox row, trigger or statement in a write).
//
// It reads the way the change feed does (src/live/feed.ts): entries and accounts carry the id of
// the transaction that wrote them, and a REPEATABLE READ snapshot tells which transactions have
// finished. Unlike the feed, its position (the previous snapshot's xmax and in-progress list) is
// stored, in webhook_feed_position, and moved in the same transaction that inserts the events
// and deliveries made from what it read: a crash of the service or of PostgreSQL at any moment
// either keeps both or neither, so every committed change gets its events once, and a rolled-back
// one never does. One instance materializes at a time (a session advisory lock on its own
// connection; another instance takes over when that connection dies).
//
// Only tenants with an enabled endpoint get events; a pass for a database without endpoints is
// one small transaction that moves the position.
import pg from "pg";
import { ledgerTypes } from "../db/pg-types.js";
import { accountColumns } from "../ledger/rows.js";
import type { BodyCache } from "./bodies.js";
import { entriesSelect, readChanges, type ChangedEntryRow, type CreatedAccountRow } from "./changes.js";
import { bodyOf, bodyStored, eventsOf, type WebhookEventDraft } from "./events.js";
import { entryIdFloor, nextPosition, snapshotPosition, unreadCondition, withIdBounds, type MaterializerPosition } from "./position.js";

/** pg_try_advisory_lock key of the one materializer ("ledgerwh"). */
const materializerLockKey = 0x6c65646765727768n;

export interface MaterializeOutcome {
  /** Some tenant has an enabled endpoint (else commits need not wake the materializer). */
  wanted: boolean;
  events: number;
  deliveries: number;
  /** More was left to read than one pass takes. */
  more: boolean;
}

/**
 * Reads at most `entriesPerPassMax` entries (whole transactions; one larger transaction whole).
 * Once committed, the events' bodies go into `cache` (the dispatcher sends them from there).
 */
export async function materializeOnce(client: pg.ClientBase, entriesPerPassMax: number, cache?: BodyCache): Promise<MaterializeOutcome> {
  // Before the snapshot (position.ts): entries of transactions that start after it get higher ids.
  const { rows } = await client.query<{ ids: string }>(
    "SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS ids FROM entries_id_seq",
  );
  const idsBefore = BigInt(rows[0]!.ids);
  await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
  try {
    const { outcome, made } = await readAndMake(client, entriesPerPassMax, idsBefore);
    await client.query("COMMIT");
    if (cache) for (const event of made) cache.set(event.id, bodyOf(event));
    return outcome;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}

const none: MaterializeOutcome = { wanted: false, events: 0, deliveries: 0, more: false };

async function readAndMake(
  client: pg.ClientBase,
  entriesPerPassMax: number,
  idsBefore: bigint,
): Promise<{ outcome: MaterializeOutcome; made: WebhookEventDraft[] }> {
  // The first statement takes the snapshot; the row lock keeps a second materializer out even if
  // two ever held the advisory lock (it would fail to serialize and try again). The deliveries
  // lock is held until COMMIT, as every inserter of deliveries holds it (webhooks.sql: why).
  const [, stored, snapshot] = (await client.query(`SELECT ledger_webhook_deliveries_lock();
    SELECT unread_from::text AS xmax, in_progress::text[] AS xip, entry_ids_above::text AS ids,
           coalesce(in_progress_entry_ids_above, '{}')::text[] AS xip_ids
      FROM webhook_feed_position WHERE id = 1 FOR UPDATE;
    SELECT pg_snapshot_xmax(s)::text AS xmax, ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x) AS xip,
           pg_current_xact_id()::text AS own,
           EXISTS (SELECT 1 FROM webhook_endpoints WHERE status = 'ENABLED') AS wanted
      FROM pg_current_snapshot() AS s`)) as unknown as pg.QueryResult[];
  const now = snapshot!.rows[0] as { xmax: string; xip: string[]; own: string; wanted: boolean };
  const current = snapshotPosition({ xmax: BigInt(now.xmax), xip: now.xip.map(BigInt) }, BigInt(now.own));
  const row = stored!.rows[0] as { xmax: string; xip: string[]; ids: string | null; xip_ids: string[] } | undefined;
  if (!row) {
    // First start: events begin with what commits from now on (the bounds of those in progress are unknown).
    await savePosition(client, { ...current, idsAbove: idsBefore, xipIdsAbove: current.xip.map(() => 0n) }, true);
    return { outcome: { ...none, wanted: now.wanted }, made: [] };
  }
  const from = storedPosition(row);
  if (!now.wanted) {
    await savePosition(client, withIdBounds(from, nextPosition(from, current, null), null, idsBefore));
    return { outcome: none, made: [] };
  }
  const unread = unreadCondition(from, "e.tx_id");
  const wantedTenants = "SELECT tenant_id FROM webhook_endpoints WHERE status = 'ENABLED'";
  const { rows: entryRows } = await client.query<ChangedEntryRow>(
    `${entriesSelect} WHERE e.id > ${entryIdFloor(from)} AND (${unread}) AND e.tenant_id IN (${wantedTenants})
      ORDER BY e.tx_id, e.id LIMIT ${entriesPerPassMax + 1}`,
  );
  // Cut at a transaction boundary: the last transaction read may be incomplete.
  let cut: bigint | null = null;
  if (entryRows.length > entriesPerPassMax) {
    const lastTx = BigInt(entryRows.at(-1)!.tx_id);
    const firstTx = BigInt(entryRows[0]!.tx_id);
    if (lastTx !== firstTx) {
      cut = lastTx;
      while (entryRows.length > 0 && BigInt(entryRows.at(-1)!.tx_id) === lastTx) entryRows.pop();
    } else {
      // One transaction larger than a pass: read it whole (bounded by the batch size limits).
      const rest = await client.query<(typeof entryRows)[number]>(
        `${entriesSelect} WHERE e.tx_id = ${lastTx} AND e.id > ${entryRows.at(-1)!.id} ORDER BY e.id`,
      );
      entryRows.push(...rest.rows);
      cut = lastTx + 1n;
    }
  }
  const accountUnread = unreadCondition(from, "a.tx_id", cut);
  const { rows: accountRows } = await client.query<CreatedAccountRow>(
    `SELECT ${accountColumns("a")}, a.tx_id::text, c.code AS currency_code
       FROM accounts a JOIN currencies c ON c.id = a.currency_id
      WHERE (${accountUnread}) AND a.tenant_id IN (${wantedTenants})`,
  );
  const events = eventsOf(await readChanges(client, entryRows, accountRows));
  const deliveries = await insertEvents(client, events);
  await savePosition(client, withIdBounds(from, nextPosition(from, current, cut), cut, idsBefore));
  return { outcome: { wanted: true, events: events.length, deliveries, more: cut !== null }, made: events };
}

/** A stored position; one stored before the id bounds existed has none (0: every id). */
function storedPosition(row: { xmax: string; xip: string[]; ids: string | null; xip_ids: string[] }): MaterializerPosition {
  const xip = row.xip.map(BigInt);
  const xipIds = row.xip_ids.length === xip.length ? row.xip_ids.map(BigInt) : xip.map(() => 0n);
  return { xmax: BigInt(row.xmax), xip, idsAbove: BigInt(row.ids ?? 0), xipIdsAbove: xipIds };
}

/**
 * One statement: the events, and a delivery for each endpoint that wants it (the rule:
 * ledger_webhook_matches), whose endpoints then have work (ledger_webhook_work_from). Only bodies
 * that cannot be made again are stored (bodyStored).
 */
async function insertEvents(client: pg.ClientBase, events: readonly WebhookEventDraft[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = events.map((event, index) => ({
    ord: index,
    id: event.id,
    tenant_id: event.tenantId,
    type: event.type,
    object_id: event.objectId,
    occurred_at: event.occurredAt.toISOString(),
    account_ids: event.accountIds,
    metadata: event.metadata,
    payload: bodyStored(event.type) ? event.payload : null,
  }));
  const { rows: counted } = await client.query<{ deliveries: string }>(
    `WITH given AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS g(ord int, id uuid, tenant_id uuid, type text, object_id uuid,
                                                          occurred_at timestamptz, account_ids uuid[], metadata jsonb, payload jsonb)
     ), events AS (
       INSERT INTO webhook_events (id, tenant_id, type, object_id, occurred_at, account_ids, metadata, payload)
       SELECT id, tenant_id, type, object_id, occurred_at, account_ids, metadata, payload FROM given ORDER BY ord
       RETURNING id, tenant_id, type, account_ids, metadata
     ), deliveries AS (
       INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id)
       SELECT ledger_uuidv7(), ev.tenant_id, ep.id, ev.id
         FROM given g JOIN events ev ON ev.id = g.id
         JOIN webhook_endpoints ep ON ep.tenant_id = ev.tenant_id AND ep.status = 'ENABLED'
          AND ledger_webhook_matches(ep.event_types, ep.filter_account_id, ep.filter_metadata, ev.type, ev.account_ids, ev.metadata)
        ORDER BY g.ord, ep.id
       RETURNING endpoint_id
     ), work AS (
       SELECT count(*) AS deliveries, ledger_webhook_work_from(array_agg(endpoint_id), array_agg(now())) FROM deliveries
     )
     SELECT deliveries::text FROM work`,
    [JSON.stringify(rows)],
  );
  return Number(counted[0]!.deliveries);
}

async function savePosition(client: pg.ClientBase, position: MaterializerPosition, first = false): Promise<void> {
  const values = [position.xmax.toString(), position.xip.map(String), position.idsAbove.toString(), position.xipIdsAbove.map(String)];
  await client.query(
    first
      ? `INSERT INTO webhook_feed_position (id, unread_from, in_progress, entry_ids_above, in_progress_entry_ids_above)
         VALUES (1, $1, $2::bigint[], $3, $4::bigint[]) ON CONFLICT (id) DO NOTHING`
      : `UPDATE webhook_feed_position SET unread_from = $1, in_progress = $2::bigint[], entry_ids_above = $3,
                in_progress_entry_ids_above = $4::bigint[], updated_at = now() WHERE id = 1`,
    values,
  );
}

// ------------------------------------------------------------------ the loop

export interface Materializer {
  /** Look soon. */
  wake(): void;
  /** A write committed on this instance: look soon, unless no tenant has an endpoint (the poll covers that). */
  written(): void;
  /** Runs passes until nothing is left (tests, and the loop itself). */
  drain(): Promise<MaterializeOutcome>;
  stop(): Promise<void>;
}

export interface MaterializerOptions {
  connectionString: string;
  /** Where the bodies of the events made go, for the dispatcher. */
  bodies?: BodyCache;
  pollIntervalMs: number;
  /** Shortest time between two passes (settings.ts: why). */
  batchWindowMs: number;
  entriesPerPassMax: number;
  /** After a pass that made deliveries (the dispatcher looks at once). */
  onDeliveries?: () => void;
  onPass?: (outcome: MaterializeOutcome | Error) => void;
}

/**
 * Every instance runs one; the one whose connection holds the advisory lock materializes, the
 * others try for the lock at each poll and take over when its holder's connection goes.
 */
export function startMaterializer(options: MaterializerOptions): Materializer {
  let client: pg.Client | null = null;
  let holdsLock = false;
  let stopped = false;
  /** Whether the last pass found an enabled endpoint. */
  let wanted = true;
  let running: Promise<MaterializeOutcome> | null = null;
  let again = false;
  const timer = setInterval(() => wake(), options.pollIntervalMs);
  timer.unref();

  async function connection(): Promise<pg.Client | null> {
    if (client && holdsLock) return client;
    if (!client) {
      // Its commits do not wait for the disk (synchronous_commit off, for this session only): a
      // pass that a crash of PostgreSQL undoes is lost with the position it moved, and the next
      // pass makes the same events again, with the same ids (ids.ts eventIdOf), so a receiver
      // that already had one de-duplicates it. The ledger's writes keep waiting for theirs.
      const fresh = new pg.Client({
        connectionString: options.connectionString,
        application_name: "ledger-webhooks",
        options: "-c synchronous_commit=off",
        types: ledgerTypes,
      });
      fresh.on("error", () => {
        if (client === fresh) {
          client = null;
          holdsLock = false;
        }
      });
      await fresh.connect();
      client = fresh;
    }
    const { rows } = await client.query<{ got: boolean }>("SELECT pg_try_advisory_lock($1) AS got", [materializerLockKey.toString()]);
    holdsLock = rows[0]!.got;
    return holdsLock ? client : null;
  }

  async function drainPasses(): Promise<MaterializeOutcome> {
    const total = { wanted, events: 0, deliveries: 0, more: false };
    for (;;) {
      const db = await connection();
      if (!db) {
        // Another instance materializes: this one's commits need not wake it (the poll tries for the lock).
        wanted = false;
        return total;
      }
      let outcome: MaterializeOutcome;
      try {
        outcome = await materializeOnce(db, options.entriesPerPassMax, options.bodies);
      } catch (error) {
        // A serialization failure or a lost connection: nothing moved; the next poll tries again.
        if (client === db && !isSerializationFailure(error)) {
          client = null;
          holdsLock = false;
          await db.end().catch(() => {});
        }
        throw error;
      }
      options.onPass?.(outcome);
      wanted = total.wanted = outcome.wanted;
      total.events += outcome.events;
      total.deliveries += outcome.deliveries;
      if (outcome.deliveries > 0) options.onDeliveries?.();
      if (!outcome.more || stopped) return total;
    }
  }

  function drain(): Promise<MaterializeOutcome> {
    if (running) {
      again = true;
      return running.then(() => drain());
    }
    running = drainPasses().finally(() => {
      running = null;
    });
    return running;
  }

  let lastPassAt = 0;
  let gapTimer: NodeJS.Timeout | null = null;

  /** Commits arriving within batchWindowMs of the last pass are read together by the next. */
  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (gapTimer) return;
    gapTimer = setTimeout(
      () => {
        gapTimer = null;
        pass();
      },
      Math.max(0, lastPassAt + options.batchWindowMs - Date.now()),
    );
  }

  function pass(): void {
    if (stopped) return;
    lastPassAt = Date.now();
    drain()
      .catch((error: Error) => options.onPass?.(error))
      .finally(() => {
        if (again && !stopped) {
          again = false;
          wake();
        }
      });
  }

  return {
    wake,
    written: () => {
      if (wanted) wake();
    },
    drain,
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (gapTimer) clearTimeout(gapTimer);
      await running?.catch(() => {});
      await client?.end().catch(() => {});
      client = null;
    },
  };
}

const isSerializationFailure = (error: unknown) => (error as { code?: string }).code === "40001";
