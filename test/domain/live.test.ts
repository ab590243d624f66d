// Table-driven unit tests of the live path's pure core: version sequencing, event derivation,
// JSON containment and the subscription arguments' checks.
import { describe, expect, it } from "vitest";
import { InvariantViolation } from "../../src/domain/assert.js";
import { jsonContains } from "../../src/domain/json-contains.js";
import { holdChanges, postedTransfers, type ChangedEntry } from "../../src/domain/live-events.js";
import { checkAfterVersion, checkBalanceWatch, committedBefore } from "../../src/domain/live-watch.js";
import { acceptFetched, nextStep, offer, startSequence, type VersionSequence } from "../../src/domain/version-sequence.js";

const v = (version: number) => ({ version: BigInt(version) });
const versions = (events: { version: bigint }[]) => events.map((e) => Number(e.version));

function sequence(delivered: number, known: number, buffered: number[] = [], catchUpThrough = 0): VersionSequence<{ version: bigint }> {
  return { delivered: BigInt(delivered), known: BigInt(known), buffer: buffered.map(v), catchUpThrough: BigInt(catchUpThrough) };
}

describe("version sequence", () => {
  const offers: [string, VersionSequence<{ version: bigint }>, number, boolean, string, number[], number][] = [
    ["the next version is buffered", sequence(3, 3), 4, true, "buffered", [4], 4],
    ["a version after the buffered run is buffered", sequence(3, 5, [4, 5]), 6, true, "buffered", [4, 5, 6], 6],
    ["a delivered version is a duplicate", sequence(3, 3), 3, true, "duplicate", [], 3],
    ["an older version is a duplicate", sequence(3, 3), 1, true, "duplicate", [], 3],
    ["a buffered version is a duplicate", sequence(3, 5, [4, 5]), 5, true, "duplicate", [4, 5], 5],
    ["a gap defers and raises known", sequence(3, 3), 6, true, "deferred", [], 6],
    ["while replaying, a live version defers", sequence(0, 100), 101, true, "deferred", [], 101],
    ["no room defers the next version", sequence(3, 3), 4, false, "deferred", [], 4],
    ["a deferred version never lowers known", sequence(3, 9), 5, true, "deferred", [], 9],
  ];
  for (const [condition, state, version, room, outcome, buffer, known] of offers) {
    it(`offer: ${condition}`, () => {
      expect(offer(state, v(version), room)).toBe(outcome);
      expect(versions(state.buffer)).toEqual(buffer);
      expect(state.known).toBe(BigInt(known));
    });
  }

  it("nextStep: delivers buffered events first, then fetches what is known, then idles", () => {
    const state = sequence(3, 7, [4, 5]);
    expect(nextStep(state)).toEqual({ kind: "deliver", event: v(4), replayed: false });
    expect(nextStep(state)).toEqual({ kind: "deliver", event: v(5), replayed: false });
    expect(state.delivered).toBe(5n);
    expect(nextStep(state)).toEqual({ kind: "fetch", afterVersion: 5n });
    expect(acceptFetched(state, 5n, [v(6), v(7)])).toEqual([v(6), v(7)]);
    expect(nextStep(state)).toEqual({ kind: "idle" });
  });

  it("startSequence: starts replaying from afterVersion up to the current version", () => {
    const state = startSequence(2n, 5n);
    expect(nextStep(state)).toEqual({ kind: "fetch", afterVersion: 2n });
    expect(() => startSequence(6n, 5n)).toThrow(InvariantViolation);
  });

  // The race of #12 defect 5: the account was at version 10 when the subscription started after
  // version 5, and the feed, running behind, offers version 6 before storage is read.
  it("nextStep: a catch-up version the feed offers before storage is read is still replayed; later ones are live", () => {
    const state = startSequence<{ version: bigint }>(5n, 10n);
    expect(offer(state, v(6))).toBe("buffered");
    expect(nextStep(state)).toEqual({ kind: "deliver", event: v(6), replayed: true });
    expect(acceptFetched(state, 6n, [7, 8, 9, 10].map(v)).length).toBe(4);
    expect(offer(state, v(11))).toBe("buffered");
    expect(nextStep(state)).toEqual({ kind: "deliver", event: v(11), replayed: false });
  });

  it("nextStep: without afterVersion nothing is catch-up", () => {
    const state = startSequence<{ version: bigint }>(10n, 10n);
    expect(offer(state, v(11))).toBe("buffered");
    expect(nextStep(state)).toEqual({ kind: "deliver", event: v(11), replayed: false });
  });

  // [condition, state before, afterVersion of the fetch, page read, handed over, delivered, buffer, known]
  const fetches: [string, VersionSequence<{ version: bigint }>, number, number[], number[], number, number[], number][] = [
    ["a page is handed over and advances delivery", sequence(2, 5), 2, [3, 4, 5], [3, 4, 5], 5, [], 5],
    ["a partial page leaves the rest known", sequence(2, 9), 2, [3, 4], [3, 4], 4, [], 9],
    ["live events buffered during the read that the page covers are dropped", sequence(2, 6, [3, 4, 5]), 2, [3, 4], [3, 4], 4, [5], 6],
    ["versions delivered meanwhile are skipped", sequence(5, 8, [6, 7, 8]), 2, [3, 4, 5, 6, 7], [6, 7], 7, [8], 8],
    ["a page beyond known raises known", sequence(2, 3), 2, [3, 4], [3, 4], 4, [], 4],
  ];
  for (const [condition, state, after, page, handed, delivered, buffer, known] of fetches) {
    it(`acceptFetched: ${condition}`, () => {
      expect(versions(acceptFetched(state, BigInt(after), page.map(v)))).toEqual(handed);
      expect([state.delivered, versions(state.buffer), state.known]).toEqual([BigInt(delivered), buffer, BigInt(known)]);
    });
  }

  it("acceptFetched: refuses a page with a gap, and an empty page when a version is known", () => {
    expect(() => acceptFetched(sequence(2, 5), 2n, [v(3), v(5)])).toThrow(InvariantViolation);
    expect(() => acceptFetched(sequence(2, 5), 2n, [])).toThrow(InvariantViolation);
  });

  it("version sequence: any interleaving of offers and fetches hands over each version exactly once, in order", () => {
    // A deterministic pseudo-random schedule over 500 rounds.
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const state = startSequence<{ version: bigint }>(0n, 20n);
    let committed = 20;
    const handed: number[] = [];
    for (let round = 0; round < 500; round++) {
      const choice = random();
      if (choice < 0.4) {
        committed++;
        if (random() < 0.8) offer(state, v(committed), random() < 0.9); // some live events are lost
      } else {
        const step = nextStep(state);
        if (step.kind === "deliver") handed.push(Number(step.event.version));
        if (step.kind === "fetch") {
          const from = Number(step.afterVersion);
          const page = Array.from({ length: Math.min(5, committed - from) }, (_, i) => v(from + 1 + i));
          handed.push(...versions(acceptFetched(state, step.afterVersion, page)));
        }
      }
    }
    expect(handed).toEqual(Array.from({ length: handed.length }, (_, i) => i + 1));
  });
});

const entry = (overrides: Partial<ChangedEntry>): ChangedEntry => ({
  entryId: 1n,
  txId: 1n,
  tenantId: "t",
  kind: "POSTED",
  transferId: "tr1",
  holdId: null,
  accountId: "a1",
  direction: "DEBIT",
  amount: 10n,
  currencyCode: "USD",
  ...overrides,
});

describe("live events", () => {
  it("postedTransfers: one per transfer, with its accounts and currencies, ordered by its newest entry", () => {
    const entries = [
      entry({ entryId: 1n, transferId: "tr2", accountId: "a1" }),
      entry({ entryId: 2n, transferId: "tr1", accountId: "a2", direction: "CREDIT" }),
      entry({ entryId: 3n, transferId: "tr1", accountId: "a3", currencyCode: "EUR" }),
      entry({ entryId: 4n, transferId: "tr2", accountId: "a4", direction: "CREDIT" }),
      entry({ entryId: 5n, kind: "HOLD", transferId: null, holdId: "h1" }),
      entry({ entryId: 6n, kind: "CAPTURE", transferId: "tr3", holdId: "h1" }),
    ];
    expect(postedTransfers(entries)).toEqual([
      { tenantId: "t", txId: 1n, transferId: "tr1", accountIds: ["a2", "a3"], currencyCodes: ["USD", "EUR"] },
      { tenantId: "t", txId: 1n, transferId: "tr2", accountIds: ["a1", "a4"], currencyCodes: ["USD"] },
      { tenantId: "t", txId: 1n, transferId: "tr3", accountIds: ["a1"], currencyCodes: ["USD"] },
    ]);
  });

  const holdCases: [string, ChangedEntry[], unknown[]][] = [
    [
      "a reservation is CREATED with its debits",
      [
        entry({ kind: "HOLD", transferId: null, holdId: "h", amount: 30n }),
        entry({ entryId: 2n, kind: "HOLD", transferId: null, holdId: "h", amount: 30n, direction: "CREDIT", accountId: "a2" }),
      ],
      [{ tenantId: "t", txId: 1n, holdId: "h", kind: "CREATED", amount: 30n, transferId: null, accountIds: ["a1", "a2"] }],
    ],
    [
      "a capture is CAPTURED with its transfer",
      [entry({ kind: "CAPTURE", transferId: "tr9", holdId: "h", amount: 12n })],
      [{ tenantId: "t", txId: 1n, holdId: "h", kind: "CAPTURED", amount: 12n, transferId: "tr9", accountIds: ["a1"] }],
    ],
    [
      "a release is RELEASED",
      [entry({ kind: "RELEASE", transferId: null, holdId: "h", amount: 5n })],
      [{ tenantId: "t", txId: 1n, holdId: "h", kind: "RELEASED", amount: 5n, transferId: null, accountIds: ["a1"] }],
    ],
    [
      "two transactions on one hold are two changes, in entry order",
      [
        entry({ entryId: 1n, txId: 1n, kind: "HOLD", transferId: null, holdId: "h", amount: 9n }),
        entry({ entryId: 2n, txId: 2n, kind: "RELEASE", transferId: null, holdId: "h", amount: 9n }),
      ],
      [
        { tenantId: "t", txId: 1n, holdId: "h", kind: "CREATED", amount: 9n, transferId: null, accountIds: ["a1"] },
        { tenantId: "t", txId: 2n, holdId: "h", kind: "RELEASED", amount: 9n, transferId: null, accountIds: ["a1"] },
      ],
    ],
    [
      "two captures in one transaction (one batch) are two changes",
      [
        entry({ entryId: 1n, kind: "CAPTURE", transferId: "tr1", holdId: "h", amount: 4n }),
        entry({ entryId: 2n, kind: "CAPTURE", transferId: "tr2", holdId: "h", amount: 6n }),
      ],
      [
        { tenantId: "t", txId: 1n, holdId: "h", kind: "CAPTURED", amount: 4n, transferId: "tr1", accountIds: ["a1"] },
        { tenantId: "t", txId: 1n, holdId: "h", kind: "CAPTURED", amount: 6n, transferId: "tr2", accountIds: ["a1"] },
      ],
    ],
    ["plain transfer legs are no hold change", [entry({})], []],
  ];
  for (const [condition, entries, expected] of holdCases) {
    it(`holdChanges: ${condition}`, () => expect(holdChanges(entries)).toEqual(expected));
  }
});

describe("tenant-wide subscription start", () => {
  // A snapshot with xmax 10 and transaction 7 still running when it was taken.
  const start = { xmax: 10n, inProgress: new Set([7n]) };
  const cases: [string, bigint, boolean][] = [
    ["a transaction before xmax, not running, committed before the start", 6n, true],
    ["a transaction running at the start commits after it", 7n, false],
    ["xmax itself had not started", 10n, false],
    ["a later transaction commits after the start", 11n, false],
  ];
  for (const [condition, txId, expected] of cases) {
    it(`committedBefore: ${condition}`, () => expect(committedBefore(start, txId)).toBe(expected));
  }
});

describe("JSON containment", () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ["an object contains a subset of its keys", { a: 1, b: 2 }, { a: 1 }, true],
    ["a missing key is not contained", { a: 1 }, { b: 1 }, false],
    ["a different value is not contained", { a: 1 }, { a: 2 }, false],
    ["nested objects are contained recursively", { o: { id: 7, x: [1, 2] } }, { o: { id: 7 } }, true],
    ["an array contains a subset of its elements, any order", { t: [1, 2, 3] }, { t: [3, 1] }, true],
    ["an array does not contain a missing element", { t: [1, 2] }, { t: [4] }, false],
    ["a nested array does not contain a bare scalar", { t: [1, [2]] }, { t: [2] }, false],
    ["a top-level array contains a scalar element", [1, 2], 2, true],
    ["an empty object is contained in any object", { a: 1 }, {}, true],
    ["types must match", { a: "1" }, { a: 1 }, false],
    ["null matches null", { a: null }, { a: null }, true],
  ];
  for (const [condition, container, contained, expected] of cases) {
    it(`jsonContains: ${condition}`, () => expect(jsonContains(container, contained)).toBe(expected));
  }
});

describe("subscription arguments", () => {
  const id = "acct_11111111-1111-4111-8111-111111111111";
  const other = "acct_22222222-2222-4222-8222-222222222222";
  const cases: [string, string[], string[] | null, unknown][] = [
    ["no accounts is EMPTY", [], null, { code: "InvalidInput", reason: "EMPTY" }],
    [
      "more accounts than the limit is LimitExceeded",
      [id, other, "acct_x"],
      null,
      { code: "LimitExceeded", limit: "subscriptionAccountsMax" },
    ],
    ["an account twice is DUPLICATE_ACCOUNT", [id, id], null, { code: "InvalidInput", reason: "DUPLICATE_ACCOUNT" }],
    ["a malformed id is AccountNotFound", ["tr_1"], null, { code: "AccountNotFound", account: "tr_1" }],
    ["fewer versions than accounts is AFTER_VERSION", [id, other], ["1"], { code: "InvalidInput", reason: "AFTER_VERSION" }],
    ["a negative version is AFTER_VERSION", [id], ["-1"], { code: "InvalidInput", reason: "AFTER_VERSION" }],
    ["a version past 64 bits is AFTER_VERSION", [id], ["9223372036854775808"], { code: "InvalidInput", reason: "AFTER_VERSION" }],
  ];
  for (const [condition, ids, after, problem] of cases) {
    it(`checkBalanceWatch: ${condition}`, () => {
      const result = checkBalanceWatch(ids, after, 2);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problem).toMatchObject(problem as object);
    });
  }

  it("checkBalanceWatch: accepts ids with one version each, or none", () => {
    expect(checkBalanceWatch([id, other], ["0", "12"], 2)).toEqual({
      ok: true,
      value: {
        accountIds: ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"],
        afterVersions: [0n, 12n],
      },
    });
    expect(checkBalanceWatch([id], null, 2)).toMatchObject({ ok: true, value: { afterVersions: null } });
  });

  it("checkAfterVersion: a version the account has not reached is AFTER_VERSION; its current one is fine", () => {
    expect(checkAfterVersion(id, 5n, 5n).ok).toBe(true);
    expect(checkAfterVersion(id, 6n, 5n)).toMatchObject({ ok: false, problem: { reason: "AFTER_VERSION" } });
  });
});
