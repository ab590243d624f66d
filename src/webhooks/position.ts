// Where the webhook materializer has read to, as the change feed keeps it (src/live/feed.ts):
// every transaction from xmax on, and those listed in xip, is still to read; every other one
// had finished when the position was taken, and was read then (or rolled back). Pure.
//
// With it go bounds on the ids of the entries still to read, so that a pass reads the entries
// table by its primary key from the newest ids on instead of by transaction id (a BRIN index,
// whose block ranges, and every page not yet summarized, a pass would read and recheck whole).
// The bounds rest on one rule of the write engine (prisma/sql/engine.sql): a transaction locks
// its accounts (which gives it its transaction id) before it takes ids for its entries. So a
// transaction whose id was given after the entries' sequence was read takes entry ids above the
// value read. A pass reads the sequence, then takes its snapshot, then gets its own transaction
// id: every transaction id from its own on was given after the read.

export interface FeedPosition {
  xmax: bigint;
  xip: readonly bigint[];
}

/** A position with its id bounds: entries of transactions from xmax on have ids above `idsAbove`; of xip[i], above `xipIdsAbove[i]`. */
export interface MaterializerPosition extends FeedPosition {
  idsAbove: bigint;
  xipIdsAbove: readonly bigint[];
}

/** Every entry `position` has still to read has an id above this. */
export function entryIdFloor(position: MaterializerPosition): bigint {
  return position.xipIdsAbove.reduce((low, bound) => (bound < low ? bound : low), position.idsAbove);
}

/**
 * The position a pass's snapshot leaves, as seen from the pass's own transaction id `own` (given
 * after the snapshot was taken). A snapshot's xmax is the newest finished transaction's id plus
 * one: ids from there to `own` were given before `own`, and their transactions had not finished
 * (or not begun) when the snapshot was taken. They are listed as in progress, so that every
 * transaction not listed from `own` on was given its id after the pass read the sequence.
 */
export function snapshotPosition(snapshot: FeedPosition, own: bigint): FeedPosition {
  const between: bigint[] = [];
  for (let id = snapshot.xmax; id < own; id++) between.push(id);
  return { xmax: own > snapshot.xmax ? own : snapshot.xmax, xip: [...snapshot.xip, ...between] };
}

/**
 * SQL condition on `column` (a transaction id) for what `from` has still to read; with `cut`, only
 * transactions below it (a pass that stopped at a transaction boundary).
 */
export function unreadCondition(from: FeedPosition, column: string, cut: bigint | null = null): string {
  const upper = cut === null ? "" : ` AND ${column} < ${cut}`;
  const listed = from.xip.filter((t) => cut === null || t < cut);
  const inProgress = listed.length > 0 ? ` OR ${column} IN (${listed.join(",")})` : "";
  return `(${column} >= ${from.xmax}${upper})${inProgress}`;
}

/**
 * The position after reading, in the snapshot `current`, what `from` had still to read below
 * `cut` (null: all of it). Still unread: everything from the cut on, and below it what `current`
 * saw in progress.
 */
export function nextPosition(from: FeedPosition, current: FeedPosition, cut: bigint | null): FeedPosition {
  if (cut === null) return { xmax: current.xmax, xip: [...current.xip].sort(compare) };
  const xmax = cut > from.xmax ? cut : from.xmax;
  const inProgress = new Set(current.xip);
  const xip = new Set([...from.xip, ...current.xip].filter((t) => t < xmax && (t >= cut || inProgress.has(t))));
  return { xmax, xip: [...xip].sort(compare) };
}

/**
 * `next` (the position after a pass from `from`) with its id bounds. `idsBefore`: the entries'
 * sequence as read just before the pass's snapshot. A transaction in progress then either was
 * in progress at `from` too (its bound carries over) or had no id at `from` (from's bound). After
 * a cut the bounds stay at from's lowest: what is left unread may be anything `from` had.
 */
export function withIdBounds(from: MaterializerPosition, next: FeedPosition, cut: bigint | null, idsBefore: bigint): MaterializerPosition {
  if (cut !== null) {
    const floor = entryIdFloor(from);
    return { ...next, idsAbove: floor, xipIdsAbove: next.xip.map(() => floor) };
  }
  const carried = new Map(from.xip.map((t, i) => [t, from.xipIdsAbove[i] ?? 0n]));
  return { ...next, idsAbove: idsBefore, xipIdsAbove: next.xip.map((t) => carried.get(t) ?? from.idsAbove) };
}

const compare = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
