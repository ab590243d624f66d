// One balanceChanged subscription: its accounts' changes, per account gap-free and in version
// order, from storage while catching up and from the feed once caught up (domain/version-sequence).
import type pg from "pg";
import { acceptFetched, nextStep, offer, startSequence, type VersionSequence } from "../domain/version-sequence.js";
import type { BalanceChange } from "./events.js";
import { entryFromRow } from "../ledger/rows.js";
import { accountOfRow, entryWithAccountColumns, type EntryWithAccountRow, type FeedEntry } from "./entry-rows.js";
import type { LiveConnection } from "./live-connection.js";

/** Changes read from storage per query while catching up. */
export const replayPageSize = 200;

export interface WatchedAccount {
  id: string;
  normalSide: "DEBIT" | "CREDIT";
  /** The last version the subscriber has. */
  afterVersion: bigint;
  /** The account's version when the subscription started. */
  currentVersion: bigint;
}

type StoredChange = { version: bigint; entry: EntryWithAccountRow };

export class BalanceStream implements AsyncIterableIterator<BalanceChange> {
  private readonly sequences = new Map<string, VersionSequence<FeedEntry | StoredChange>>();
  private readonly normalSides = new Map<string, "DEBIT" | "CREDIT">();
  private readonly order: string[] = [];
  private turn = 0;
  /** Offers that arrive before start() (the accounts' versions are being read). */
  private early: FeedEntry[] | null = [];
  /** Stored changes read and not yet handed over (at most a page). */
  private readonly fetched: BalanceChange[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly connection: LiveConnection,
    private readonly onClose: () => void,
    private readonly beforeEach: () => void,
  ) {}

  /** Begins sequencing once the accounts' versions are known (after registering for offers). */
  start(accounts: WatchedAccount[]): void {
    for (const account of accounts) {
      this.sequences.set(account.id, startSequence(account.afterVersion, account.currentVersion));
      this.normalSides.set(account.id, account.normalSide);
      this.order.push(account.id);
    }
    const early = this.early ?? [];
    this.early = null;
    for (const entry of early) this.offer(entry);
    this.signal();
  }

  /** A committed change of one of the accounts, from the feed. */
  offer(entry: FeedEntry): void {
    if (this.closed || this.connection.cutOff) return;
    if (this.early) {
      this.early.push(entry);
      // Bounded too: beyond the bound the versions are read from storage once started.
      if (this.early.length > this.connection.eventsQueuedMax) this.early.shift();
      return;
    }
    const sequence = this.sequences.get(entry.accountId);
    if (!sequence) return;
    if (offer(sequence, entry, this.connection.hasRoom()) === "buffered") this.connection.queued(1);
    this.signal();
  }

  async next(): Promise<IteratorResult<BalanceChange>> {
    for (;;) {
      if (this.connection.cutOff) await this.return(); // ends here: nothing more leaves
      if (this.closed) return { done: true, value: undefined };
      const stored = this.fetched.shift();
      if (stored) return this.hand(stored);
      let fetchedAny = false;
      for (let i = 0; i < this.order.length && !fetchedAny; i++) {
        const accountId = this.order[(this.turn + i) % this.order.length]!;
        const sequence = this.sequences.get(accountId)!;
        const step = nextStep(sequence);
        if (step.kind === "idle") continue;
        this.turn = (this.turn + i + 1) % this.order.length;
        if (step.kind === "deliver") {
          this.connection.queued(-1);
          return this.hand(this.changeOf(step.event, step.replayed));
        }
        const bufferedBefore = sequence.buffer.length;
        const changes = await this.readAfter(accountId, step.afterVersion);
        const fresh = acceptFetched(sequence, step.afterVersion, changes);
        this.connection.queued(sequence.buffer.length - bufferedBefore);
        this.fetched.push(...fresh.map((change) => this.changeOf(change, true)));
        fetchedAny = true;
      }
      if (fetchedAny) continue;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async return(): Promise<IteratorResult<BalanceChange>> {
    if (!this.closed) {
      this.closed = true;
      for (const sequence of this.sequences.values()) this.connection.queued(-sequence.buffer.length);
      this.onClose();
      this.signal();
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<BalanceChange> {
    return this;
  }

  private hand(change: BalanceChange): IteratorResult<BalanceChange> {
    this.beforeEach();
    return { done: false, value: change };
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private changeOf(change: FeedEntry | StoredChange, replayed: boolean): BalanceChange {
    const [entry, account] =
      "entryId" in change ? [change.entry, change.account] : [entryFromRow(change.entry), accountOfRow(change.entry)];
    return { accountId: entry.accountId, account, normalSide: this.normalSides.get(entry.accountId)!, entry, replayed };
  }

  private async readAfter(accountId: string, afterVersion: bigint): Promise<StoredChange[]> {
    const { rows } = await this.pool.query<EntryWithAccountRow>(
      `SELECT ${entryWithAccountColumns} FROM entries e JOIN accounts a ON a.id = e.account_id
        WHERE e.account_id = $1 AND e.account_version > $2 ORDER BY e.account_version LIMIT ${replayPageSize}`,
      [accountId, afterVersion.toString()],
    );
    return rows.map((row) => ({ version: BigInt(row.account_version), entry: row }));
  }
}
