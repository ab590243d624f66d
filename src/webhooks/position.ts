// Where the webhook materializer has read to, as the change feed keeps it (src/live/feed.ts):
// every transaction from xmax on, and those listed in xip, is still to read; every other one
// had finished when the position was taken, and was read then (or rolled back). Pure.

export interface FeedPosition {
  xmax: bigint;
  xip: readonly bigint[];
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

const compare = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
