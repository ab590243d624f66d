// The materializer's position (src/webhooks/position.ts): what a snapshot leaves unread, and the
// bounds below the ids of the entries still to read.
import { describe, expect, it } from "vitest";
import {
  entryIdFloor,
  nextPosition,
  snapshotPosition,
  unreadCondition,
  withIdBounds,
  type FeedPosition,
  type MaterializerPosition,
} from "../../src/webhooks/position.js";

const at = (xmax: number, xip: number[], idsAbove: number, xipIdsAbove: number[]): MaterializerPosition => ({
  xmax: BigInt(xmax),
  xip: xip.map(BigInt),
  idsAbove: BigInt(idsAbove),
  xipIdsAbove: xipIdsAbove.map(BigInt),
});

describe("snapshotPosition", () => {
  it.each<[string, FeedPosition, number, FeedPosition]>([
    ["nothing between xmax and the pass's own id", { xmax: 10n, xip: [7n] }, 10, { xmax: 10n, xip: [7n] }],
    // 10 and 11 were given before the pass's id 12 and had not finished: listed as in progress.
    ["ids between xmax and its own id are in progress", { xmax: 10n, xip: [7n] }, 12, { xmax: 12n, xip: [7n, 10n, 11n] }],
    ["an own id below xmax (none given meanwhile) changes nothing", { xmax: 10n, xip: [] }, 9, { xmax: 10n, xip: [] }],
  ])("%s", (_, snapshot, own, expected) => {
    expect(snapshotPosition(snapshot, BigInt(own))).toEqual(expected);
  });
});

describe("withIdBounds", () => {
  it.each<[string, MaterializerPosition, FeedPosition, number | null, number, MaterializerPosition]>([
    [
      "new transactions from xmax on take ids above the sequence read before the snapshot",
      at(10, [], 100, []),
      { xmax: 20n, xip: [] },
      null,
      150,
      at(20, [], 150, []),
    ],
    [
      "a transaction still in progress keeps its bound; one newly in progress gets the previous position's",
      at(10, [8], 100, [40]),
      { xmax: 20n, xip: [8n, 15n] },
      null,
      150,
      at(20, [8, 15], 150, [40, 100]),
    ],
    [
      "after a cut every bound stays at the lowest of the previous position",
      at(10, [8], 100, [40]),
      { xmax: 12n, xip: [8n] },
      12,
      150,
      at(12, [8], 40, [40]),
    ],
  ])("%s", (_, from, next, cut, idsBefore, expected) => {
    expect(withIdBounds(from, next, cut === null ? null : BigInt(cut), BigInt(idsBefore))).toEqual(expected);
  });
});

describe("entryIdFloor", () => {
  it.each<[MaterializerPosition, bigint]>([
    [at(10, [], 100, []), 100n],
    [at(10, [3, 4], 100, [60, 40]), 40n],
    [at(10, [3], 0, [60]), 0n],
  ])("of %o is %s", (position, floor) => {
    expect(entryIdFloor(position)).toBe(floor);
  });
});

describe("nextPosition and unreadCondition", () => {
  it("reads from xmax on and the listed transactions, and below a cut only", () => {
    const from = { xmax: 10n, xip: [7n, 12n] };
    expect(unreadCondition(from, "t")).toBe("(t >= 10) OR t IN (7,12)");
    expect(unreadCondition(from, "t", 11n)).toBe("(t >= 10 AND t < 11) OR t IN (7)");
    expect(nextPosition(from, { xmax: 20n, xip: [15n, 12n] }, null)).toEqual({ xmax: 20n, xip: [12n, 15n] });
    // Cut at 14: 14 and above stay unread; 12 is still in progress below the cut.
    expect(nextPosition(from, { xmax: 20n, xip: [12n, 15n] }, 14n)).toEqual({ xmax: 14n, xip: [12n] });
  });
});
