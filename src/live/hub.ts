// Routes the change feed's committed entries to this instance's subscriptions: balance changes
// by account, posted transfers and hold changes by tenant (filtered in memory).
import DataLoader from "dataloader";
import type { Database } from "../db/client.js";
import { assert } from "../domain/assert.js";
import { jsonContains } from "../domain/json-contains.js";
import { holdChanges, postedTransfers, type HoldChangeDraft, type PostedTransfer } from "../domain/live-events.js";
import { committedBefore, type FeedStart } from "../domain/live-watch.js";
import type { HoldChange } from "./events.js";
import type { Hold, Transfer } from "../ledger/records.js";
import { readHolds, readTransfers } from "../ledger/reads.js";
import { errorText, log } from "../ops/log.js";
import { BalanceStream } from "./balance-stream.js";
import type { FeedEntry } from "./entry-rows.js";
import { EventChannel } from "./event-channel.js";
import type { ChangeFeed } from "./feed.js";
import type { LiveConnection } from "./live-connection.js";

const logger = log.child({ component: "live events" });

export interface TransferWatch {
  accountId: string | null;
  currency: string | null;
  metadata: Record<string, unknown> | null;
}

export interface HoldWatch {
  accountId: string | null;
  holdId: string | null;
}

/** A tenant-wide subscription: what it asks for, where it sends, and from when (see FeedStart). */
interface TenantWatcher<W, E> {
  watch: W;
  channel: EventChannel<E>;
  start: Promise<FeedStart>;
}

interface TenantWatchers {
  transfers: Set<TenantWatcher<TransferWatch, Transfer>>;
  holds: Set<TenantWatcher<HoldWatch, HoldChange>>;
}

type WatchOf<K extends keyof TenantWatchers> = TenantWatchers[K] extends Set<{ watch: infer W }> ? W : never;
type EventOf<K extends keyof TenantWatchers> = TenantWatchers[K] extends Set<{ channel: EventChannel<infer E> }> ? E : never;

/** What a subscription needs from its connection: the queue bound and a per-event refresh. */
export interface Subscriber {
  connection: LiveConnection;
  /** Called before each event is handed over (fresh DataLoaders: events must not see stale rows). */
  beforeEach(): void;
}

export interface AccountState {
  normalSide: "DEBIT" | "CREDIT";
  version: bigint;
}

export interface LiveHub {
  readonly feed: ChangeFeed;
  /**
   * Registers a stream for the accounts, then reads those that are this tenant's. The caller
   * starts the stream, or returns it when an account is missing.
   */
  watchBalances(
    tenantId: string,
    accountIds: string[],
    subscriber: Subscriber,
  ): Promise<{ stream: BalanceStream; accounts: Map<string, AccountState> }>;
  watchTransfers(tenantId: string, watch: TransferWatch, subscriber: Subscriber): Promise<EventChannel<Transfer>>;
  watchHolds(tenantId: string, watch: HoldWatch, subscriber: Subscriber): Promise<EventChannel<HoldChange>>;
  /** A transfer of this tenant, from a cache all subscriptions share (transfers never change). */
  transfer(tenantId: string, id: string): Promise<Transfer | null>;
  /** The payloads of the NOTIFYs on `channel` that `matches` takes (reconciliationChanged). */
  watchNotices(channel: string, matches: (payload: string) => boolean, subscriber: Subscriber): Promise<EventChannel<string>>;
  /** Subscriptions open on this instance. */
  subscriptionCount(): number;
}

/** A Map that forgets its oldest entries beyond `max`: DataLoader's cache, bounded. */
class BoundedCache<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}

const transferMatches = (watch: TransferWatch, posted: PostedTransfer, transfer: Transfer): boolean =>
  (watch.accountId === null || posted.accountIds.includes(watch.accountId)) &&
  (watch.currency === null || posted.currencyCodes.includes(watch.currency)) &&
  (watch.metadata === null || jsonContains(transfer.metadata, watch.metadata));

const holdMatches = (watch: HoldWatch, change: HoldChangeDraft): boolean =>
  (watch.accountId === null || change.accountIds.includes(watch.accountId)) && (watch.holdId === null || change.holdId === watch.holdId);

function holdChangeOf(draft: HoldChangeDraft, hold: Hold): HoldChange {
  let change: HoldChange["change"];
  if (draft.kind !== "RELEASED") change = draft.kind;
  else {
    assert(hold.status === "VOIDED" || hold.status === "EXPIRED", "a released hold is voided or expired");
    change = hold.status;
  }
  return { change, holdId: draft.holdId, amount: draft.amount, transferId: draft.transferId };
}

export function createLiveHub(db: Database, feed: ChangeFeed): LiveHub {
  const byAccount = new Map<string, Set<BalanceStream>>();
  const byTenant = new Map<string, TenantWatchers>();
  let subscriptions = 0;
  // Every subscriber of an account asks for the same transfer of each event: load it once.
  const transfers = new DataLoader<string, Transfer | null>(
    async (ids) => {
      const found = new Map((await readTransfers(db, null, ids)).map((t) => [t.id, t]));
      return ids.map((id) => found.get(id) ?? null);
    },
    { cacheMap: new BoundedCache<string, Promise<Transfer | null>>(10_000) },
  );
  // Tenant events need rows loaded; one batch at a time keeps them in commit order.
  let tenantWork: Promise<void> = Promise.resolve();

  feed.listen(
    (entries) => {
      for (const entry of entries) {
        const streams = byAccount.get(entry.accountId);
        if (streams) for (const stream of streams) stream.offer(entry);
      }
      const watched = entries.filter((entry) => byTenant.has(entry.tenantId));
      if (watched.length > 0) {
        tenantWork = tenantWork
          .then(() => deliverTenantEvents(watched))
          .catch((error: unknown) => {
            logger.error({ err: errorText(error) }, "delivering live events failed");
          });
      }
    },
    () => subscriptions > 0,
  );

  async function deliverTenantEvents(entries: FeedEntry[]): Promise<void> {
    const posted = postedTransfers(entries).filter((t) => (byTenant.get(t.tenantId)?.transfers.size ?? 0) > 0);
    const changes = holdChanges(entries).filter((h) => (byTenant.get(h.tenantId)?.holds.size ?? 0) > 0);
    const [transferRows, holds] = await Promise.all([
      readTransfers(
        db,
        null,
        posted.map((t) => t.transferId),
      ),
      readHolds(
        db,
        null,
        changes.map((h) => h.holdId),
      ),
    ]);
    for (const transfer of transferRows) transfers.prime(transfer.id, transfer);
    const transferById = new Map(transferRows.map((t) => [t.id, t]));
    const holdById = new Map(holds.map((h) => [h.id, h]));
    for (const item of posted) {
      const transfer = transferById.get(item.transferId);
      assert(transfer, "a committed transfer exists");
      for (const { watch, channel, start } of byTenant.get(item.tenantId)?.transfers ?? []) {
        if (!committedBefore(await start, item.txId) && transferMatches(watch, item, transfer)) channel.push(transfer);
      }
    }
    for (const draft of changes) {
      const hold = holdById.get(draft.holdId);
      assert(hold, "a changed hold exists");
      const model = holdChangeOf(draft, hold);
      for (const { watch, channel, start } of byTenant.get(draft.tenantId)?.holds ?? []) {
        if (!committedBefore(await start, draft.txId) && holdMatches(watch, draft)) channel.push(model);
      }
    }
  }

  async function snapshotNow(): Promise<FeedStart> {
    const { rows } = await db.pool.query<{ xmax: string; xip: string[] }>(
      "SELECT pg_snapshot_xmax(s)::text AS xmax, ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x) AS xip FROM pg_current_snapshot() AS s",
    );
    return { xmax: BigInt(rows[0]!.xmax), inProgress: new Set(rows[0]!.xip.map(BigInt)) };
  }

  function tenantWatchers(tenantId: string): TenantWatchers {
    const known = byTenant.get(tenantId);
    if (known) return known;
    const watchers: TenantWatchers = { transfers: new Set(), holds: new Set() };
    byTenant.set(tenantId, watchers);
    return watchers;
  }

  function forgetTenantIfIdle(tenantId: string): void {
    const watchers = byTenant.get(tenantId);
    if (watchers && watchers.transfers.size === 0 && watchers.holds.size === 0) byTenant.delete(tenantId);
  }

  /** Registers a tenant-wide stream of `kind`; it unregisters itself when it ends. */
  async function watchTenant<K extends keyof TenantWatchers>(
    tenantId: string,
    kind: K,
    watch: WatchOf<K>,
    { connection, beforeEach }: Subscriber,
  ): Promise<EventChannel<EventOf<K>>> {
    await feed.ready();
    const watchers = tenantWatchers(tenantId)[kind] as Set<TenantWatcher<WatchOf<K>, EventOf<K>>>;
    let started!: (start: FeedStart) => void;
    const entry: TenantWatcher<WatchOf<K>, EventOf<K>> = {
      watch,
      channel: new EventChannel<EventOf<K>>(
        connection,
        () => {
          subscriptions--;
          watchers.delete(entry);
          forgetTenantIfIdle(tenantId);
        },
        beforeEach,
      ),
      start: new Promise<FeedStart>((resolve) => (started = resolve)),
    };
    subscriptions++;
    // Registered first, then the snapshot: whatever commits after it reaches the channel.
    watchers.add(entry);
    try {
      started(await snapshotNow());
    } catch (error) {
      await entry.channel.return();
      throw error;
    }
    return entry.channel;
  }

  return {
    feed,
    async watchBalances(tenantId, accountIds, { connection, beforeEach }) {
      await feed.ready();
      const stream: BalanceStream = new BalanceStream(
        db.pool,
        connection,
        () => {
          subscriptions--;
          for (const id of accountIds) {
            const streams = byAccount.get(id);
            streams?.delete(stream);
            if (streams?.size === 0) byAccount.delete(id);
          }
        },
        beforeEach,
      );
      subscriptions++;
      // Register before reading the versions: a change committed after the read is offered.
      for (const id of accountIds) {
        const streams = byAccount.get(id);
        if (streams) streams.add(stream);
        else byAccount.set(id, new Set([stream]));
      }
      const { rows } = await db.pool.query<{ id: string; normal_side: "DEBIT" | "CREDIT"; version: string }>(
        "SELECT id, normal_side, version::text FROM accounts WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        [tenantId, accountIds],
      );
      const accounts = new Map(rows.map((row) => [row.id, { normalSide: row.normal_side, version: BigInt(row.version) }]));
      return { stream, accounts };
    },
    watchTransfers: (tenantId, watch, subscriber) => watchTenant(tenantId, "transfers", watch, subscriber),
    watchHolds: (tenantId, watch, subscriber) => watchTenant(tenantId, "holds", watch, subscriber),
    async transfer(tenantId, id) {
      const transfer = await transfers.load(id);
      if (!transfer) transfers.clear(id); // not cached: it may commit later
      return transfer?.tenantId === tenantId ? transfer : null;
    },
    async watchNotices(channel, matches, { connection, beforeEach }) {
      await feed.ready(); // the feed's connection (re)connects while it is active
      let unlisten = () => {};
      const events = new EventChannel<string>(
        connection,
        () => {
          subscriptions--;
          unlisten();
        },
        beforeEach,
      );
      subscriptions++;
      unlisten = feed.notices(channel, (payload) => {
        if (matches(payload)) events.push(payload);
      });
      return events;
    },
    subscriptionCount: () => subscriptions,
  };
}
