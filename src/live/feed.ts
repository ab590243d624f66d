// The change feed: one connection per server instance finds the entries that committed since
// its last look, whichever instance (or tool) wrote them, and hands each to its listeners once.
//
// Gap-free without a NOTIFY per transaction: every entry carries the id of the transaction that
// wrote it (entries.tx_id). A look takes a REPEATABLE READ snapshot and reads the entries of
// the transactions the previous snapshot could not see: those with ids >= its xmax and those
// it listed as in progress (xip). Everything else below its xmax had finished by then, so the
// previous look read it or it was rolled back. Each transaction is read by exactly one look,
// whole, and a long-open transaction costs one id in the list, not a re-read.
//
// Looks are triggered by this instance's own commits (written()), by other instances' NOTIFYs,
// and at least every pollIntervalMs (a lost notification only delays). Each instance sends at
// most one NOTIFY per notifyGapMs for all its commits in that time, on this connection, after
// they committed: writers never take NOTIFY's commit lock.
import pg from "pg";
import { ledgerTypes } from "../db/pg-types.js";
import { entryWithAccountColumns, feedEntryFromRow, type EntryWithAccountRow, type FeedEntry } from "./entry-rows.js";
import { feedLog } from "./feed-log.js";

export const changesChannel = "ledger_changes";

export interface FeedOptions {
  connectionString: string;
  /** Longest time between two looks while active (covers lost notifications and other writers). */
  pollIntervalMs: number;
  /** Shortest time between two looks: commits arriving faster are read together. */
  pollGapMs: number;
  /** Shortest time between two NOTIFYs this instance sends for its commits. */
  notifyGapMs: number;
  /** Most entries one query of a look reads (a look pages through more). */
  entriesPerLookMax: number;
  /** Told of each look's outcome (metrics, readiness): null when it succeeded. */
  onLook?: (error: Error | null) => void;
}

export const feedOptionsDefault: Omit<FeedOptions, "connectionString"> = {
  pollIntervalMs: 1000,
  pollGapMs: 10,
  notifyGapMs: 10,
  entriesPerLookMax: 5000,
};

/** Gets every committed entry once, oldest entry first within a batch. */
export type FeedListener = (entries: FeedEntry[]) => void;

export interface ChangeFeed {
  /** A write committed through this instance: look soon, and tell the other instances. */
  written(): void;
  /** `wanted` tells whether commits should be looked for at once (someone subscribes). */
  listen(listener: FeedListener, wanted?: () => boolean): () => void;
  /** Resolves once every transaction that commits from now on is sure to reach the listeners. */
  ready(): Promise<void>;
  /**
   * Hands `listener` the payload of each NOTIFY on `channel` (other notices than commits, e.g.
   * a reconciliation run finished), on the feed's connection. A notice sent while the connection
   * is down is missed: listeners re-read state when it matters.
   */
  notices(channel: string, listener: (payload: string) => void): () => void;
  stop(): Promise<void>;
}

type Row = EntryWithAccountRow & { currency_code: string };

/** Transactions still to read: ids from `from` on, and those in progress at the last look. */
interface Unseen {
  from: bigint;
  inProgress: bigint[];
}

export function startChangeFeed(options: FeedOptions): ChangeFeed {
  const listeners = new Set<{ listener: FeedListener; wanted: () => boolean }>();
  const noticeListeners = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let stopped = false;
  /** The previous snapshot's xmax and in-progress list: what is still to read. */
  let unseen: Unseen | null = null;
  let established: Promise<void> | null = null;
  /** Set once the first look has fixed the horizon. */
  let active = false;
  let looking: Promise<void> | null = null;
  let lookAgain = false;
  let lastLookAt = 0;
  let lookTimer: NodeJS.Timeout | null = null;
  let notifyTimer: NodeJS.Timeout | null = null;
  let lastNotifyAt = 0;
  let pollTimer: NodeJS.Timeout | null = null;
  /** Looks and NOTIFYs take turns on the connection: a NOTIFY must not land inside a look's transaction. */
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = turn.then(work);
    turn = run.catch(() => {});
    return run;
  }
  /** Whether anyone subscribes: looks on demand only then; the poll timer keeps `unseen` fresh. */
  const interested = () => [...listeners].some(({ wanted }) => wanted());

  async function connection(): Promise<pg.Client> {
    if (client) return client;
    connecting ??= (async () => {
      const fresh = new pg.Client({
        connectionString: options.connectionString,
        application_name: "ledger-change-feed",
        types: ledgerTypes,
      });
      fresh.on("error", (error) => {
        if (!stopped) feedLog.connectionLost(error);
        if (client === fresh) client = null;
      });
      fresh.on("end", () => {
        if (client === fresh) client = null;
      });
      fresh.on("notification", (message) => {
        if (message.channel !== changesChannel) {
          for (const listener of noticeListeners.get(message.channel) ?? []) listener(message.payload ?? "");
          return;
        }
        // Our own NOTIFYs come back too; this instance has already looked for those commits.
        if (message.processId !== (fresh as unknown as { processID: number }).processID) requestLook();
      });
      try {
        await fresh.connect();
        // NOTIFYs are sent in their own tiny transactions: no need to wait for their fsync.
        const others = [...noticeListeners.keys()].map((channel) => `; LISTEN ${channel}`).join("");
        await fresh.query(`SET synchronous_commit = off; LISTEN ${changesChannel}${others}`);
      } catch (error) {
        await fresh.end().catch(() => {});
        throw error;
      }
      client = fresh;
      return fresh;
    })().finally(() => {
      connecting = null;
    });
    return connecting;
  }

  const snapshotQuery = `SELECT pg_snapshot_xmax(s)::text AS xmax, ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x) AS xip
    FROM pg_current_snapshot() AS s`;

  /** The entries of the transactions `unseen` names that the look's snapshot sees; `after` pages. */
  function unseenQuery({ from, inProgress }: Unseen, after?: Row): string {
    const still = inProgress.length > 0 ? ` OR e.tx_id IN (${inProgress.join(",")})` : "";
    const page = after ? ` AND (e.tx_id, e.id) > (${after.tx_id}, ${after.id})` : "";
    return `SELECT ${entryWithAccountColumns}, c.code AS currency_code
        FROM entries e JOIN accounts a ON a.id = e.account_id JOIN currencies c ON c.id = a.currency_id
       WHERE (e.tx_id >= ${from}${still})${page}
       ORDER BY e.tx_id, e.id LIMIT ${options.entriesPerLookMax}`;
  }

  /**
   * One look: reads what committed since the previous one and hands it out (not when only
   * establishing). Usually one round trip; a look with more than a page of entries pages through
   * them in one snapshot. Only a look that read everything moves on: a failed one is repeated.
   */
  async function look(establishing: boolean): Promise<void> {
    const db = await connection();
    const begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    if (unseen && !establishing) {
      const [, snapshot, page] = (await db.query(
        `${begin}; ${snapshotQuery}; ${unseenQuery(unseen)}; COMMIT`,
      )) as unknown as pg.QueryResult[];
      if (page!.rows.length < options.entriesPerLookMax) return moveOn(snapshot!, page!.rows as Row[]);
    }
    const [, snapshot] = (await db.query(`${begin}; ${snapshotQuery}`)) as unknown as pg.QueryResult[];
    const rows: Row[] = [];
    try {
      if (unseen && !establishing) {
        for (;;) {
          const page = await db.query<Row>(unseenQuery(unseen, rows.at(-1)));
          rows.push(...page.rows);
          if (page.rows.length < options.entriesPerLookMax) break;
        }
      }
    } finally {
      await db.query("COMMIT");
    }
    moveOn(snapshot!, rows);
  }

  function moveOn(snapshot: pg.QueryResult, rows: Row[]): void {
    const { xmax, xip } = snapshot.rows[0] as { xmax: string; xip: string[] };
    unseen = { from: BigInt(xmax), inProgress: xip.map(BigInt) };
    dispatch(rows);
  }

  function dispatch(rows: Row[]): void {
    if (rows.length === 0) return;
    const entries = rows.map(feedEntryFromRow).sort((a, b) => (a.entryId < b.entryId ? -1 : 1));
    for (const { listener } of listeners) listener(entries);
  }

  function runLook(): void {
    if (stopped || looking || !active) return;
    lookAgain = false;
    lastLookAt = Date.now();
    looking = exclusive(() => look(false))
      .then(
        () => options.onLook?.(null),
        (error: Error) => {
          // Nothing is lost: `unseen` stays as it was, and the poll timer looks again.
          options.onLook?.(error);
          if (!stopped) feedLog.lookFailed(error);
        },
      )
      .finally(() => {
        looking = null;
        if (lookAgain) requestLook(false);
      });
  }

  function requestLook(onDemand = true): void {
    if (stopped || !active || (onDemand && !interested())) return;
    if (looking) {
      lookAgain = true;
      return;
    }
    if (lookTimer) return;
    const wait = Math.max(0, lastLookAt + options.pollGapMs - Date.now());
    lookTimer = setTimeout(() => {
      lookTimer = null;
      runLook();
    }, wait);
  }

  function sendNotify(): void {
    notifyTimer = null;
    lastNotifyAt = Date.now();
    exclusive(async () => (await connection()).query(`NOTIFY ${changesChannel}`)).catch((error: Error) => {
      if (!stopped) feedLog.notifyFailed(error);
    });
  }

  return {
    written() {
      if (stopped) return;
      requestLook();
      if (!notifyTimer) notifyTimer = setTimeout(sendNotify, Math.max(0, lastNotifyAt + options.notifyGapMs - Date.now()));
    },
    listen(listener, wanted = () => true) {
      const entry = { listener, wanted };
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    notices(channel, listener) {
      if (!/^[a-z_]+$/.test(channel)) throw new Error(`not a channel name: ${channel}`);
      let set = noticeListeners.get(channel);
      if (!set) {
        set = new Set();
        noticeListeners.set(channel, set);
        // A connection made from now on listens to it; one open already is told now.
        if (client) exclusive(async () => (await connection()).query(`LISTEN ${channel}`)).catch(() => {});
      }
      set.add(listener);
      return () => set.delete(listener);
    },
    ready() {
      if (stopped) return Promise.reject(new Error("the change feed is stopped"));
      established ??= (async () => {
        await exclusive(() => look(true));
        active = true;
        pollTimer = setInterval(() => requestLook(false), options.pollIntervalMs);
      })().catch((error: unknown) => {
        established = null; // the next subscriber tries again
        throw error;
      });
      return established;
    },
    async stop() {
      stopped = true;
      for (const timer of [lookTimer, notifyTimer]) if (timer) clearTimeout(timer);
      if (pollTimer) clearInterval(pollTimer);
      await looking;
      await connecting?.catch(() => {});
      await client?.end().catch(() => {});
      client = null;
    },
  };
}
