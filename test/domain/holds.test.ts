// Table-driven tests of the pure domain of holds, reversals, periods, history filters and
// pending balances (src/domain): no database, no HTTP.
import { describe, expect, it } from "vitest";
import { availableBalance, pendingBalance, type BalanceBounds, type Side, type Totals } from "../../src/domain/balance.js";
import { envelopeWithinBounds } from "../support/bounds.js";
import { validateHistoryFilter, type HistoryFilterRequest } from "../../src/domain/history-filter.js";
import {
  settleHold,
  validateCreateHold,
  validateReverse,
  validateSettleHold,
  viewHold,
  type CreateHoldRequest,
  type HoldState,
  type HoldStatus,
  type ReverseRequest,
  type SettleAction,
  type SettleHoldRequest,
} from "../../src/domain/hold.js";
import { limitsDefault, type Limits } from "../../src/domain/limits.js";
import { nextPeriodStart, periodsBetween, periodStart, type Granularity } from "../../src/domain/periods.js";
import type { Problem, Result } from "../../src/domain/problems.js";

const limits: Limits = limitsDefault;

function problemOf<T>(result: Result<T>): Problem {
  if (result.ok)
    throw new Error(`expected a problem, got ${JSON.stringify(result.value, (_, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
  return result.problem;
}

function successOf<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.problem)}`);
  return result.value;
}

const utc = (iso: string) => new Date(iso);
const uuid = "0b9f3c1e-6d2a-4c8e-9f71-2a5b3c4d5e6f";
const accountA = `acct_${uuid.replace(/^0/, "1")}`;
const accountB = `acct_${uuid.replace(/^0/, "2")}`;

// ------------------------------------------------------------------ settleHold

const expiresAt = utc("2026-03-01T12:00:00.000Z");
const before = utc("2026-03-01T11:59:59.999Z");
const after = utc("2026-03-01T12:00:00.001Z");

const holdState = (over: Partial<HoldState> = {}): HoldState => ({
  status: "OPEN",
  amount: 500n,
  capturedAmount: 0n,
  releasedAmount: 0n,
  expiresAt,
  ...over,
});

describe("settleHold", () => {
  const capture = (amountMinor: bigint | null): SettleAction => ({ kind: "capture", amountMinor });
  const voidIt: SettleAction = { kind: "void" };

  it.each<[string, HoldState, SettleAction, number, Date, Record<string, unknown>, Partial<HoldState>]>([
    [
      "a full capture before expiresAt captures what remains",
      holdState(),
      capture(null),
      2,
      before,
      { ok: true, kind: "capture", amountMinor: 500n },
      { status: "CAPTURED", capturedAmount: 500n },
    ],
    [
      "a partial capture leaves the hold open",
      holdState(),
      capture(200n),
      2,
      before,
      { ok: true, kind: "capture", amountMinor: 200n },
      { status: "OPEN", capturedAmount: 200n },
    ],
    [
      "a capture without amount after a partial one takes the rest",
      holdState({ capturedAmount: 200n }),
      capture(null),
      2,
      before,
      { ok: true, kind: "capture", amountMinor: 300n },
      { status: "CAPTURED", capturedAmount: 500n },
    ],
    [
      "a capture of exactly what remains closes the hold",
      holdState({ capturedAmount: 200n }),
      capture(300n),
      2,
      before,
      { ok: true, kind: "capture", amountMinor: 300n },
      { status: "CAPTURED", capturedAmount: 500n },
    ],
    [
      "a void releases what remains",
      holdState({ capturedAmount: 200n }),
      voidIt,
      2,
      before,
      { ok: true, kind: "void", releasedMinor: 300n },
      { status: "VOIDED", capturedAmount: 200n, releasedAmount: 300n },
    ],
    [
      "a whole capture of a three-leg hold is allowed",
      holdState(),
      capture(null),
      3,
      before,
      { ok: true, kind: "capture", amountMinor: 500n },
      { status: "CAPTURED", capturedAmount: 500n },
    ],
    [
      "a three-leg capture naming exactly what remains is allowed",
      holdState(),
      capture(500n),
      3,
      before,
      { ok: true, kind: "capture", amountMinor: 500n },
      { status: "CAPTURED", capturedAmount: 500n },
    ],
    [
      "a void of a three-leg hold is allowed",
      holdState(),
      voidIt,
      3,
      before,
      { ok: true, kind: "void", releasedMinor: 500n },
      { status: "VOIDED", releasedAmount: 500n },
    ],
  ])("settleHold: %s", (_, hold, action, legs, now, decision, next) => {
    const result = settleHold(hold, action, legs, now);
    expect(result).toMatchObject(decision);
    expect(result.next).toEqual({ ...hold, ...next });
  });

  it.each<[string, HoldState, SettleAction, number, Date, string, HoldStatus]>([
    ["a capture at exactly expiresAt is HoldExpired", holdState(), capture(null), 2, expiresAt, "HoldExpired", "EXPIRED"],
    ["a void at exactly expiresAt is HoldExpired", holdState(), voidIt, 2, expiresAt, "HoldExpired", "EXPIRED"],
    ["a capture after expiresAt is HoldExpired", holdState({ capturedAmount: 100n }), capture(50n), 2, after, "HoldExpired", "EXPIRED"],
    [
      "a capture of a released expired hold is HoldExpired",
      holdState({ status: "EXPIRED", releasedAmount: 500n }),
      capture(null),
      2,
      before,
      "HoldExpired",
      "EXPIRED",
    ],
    [
      "a capture of a captured hold is HoldNotOpen",
      holdState({ status: "CAPTURED", capturedAmount: 500n }),
      capture(1n),
      2,
      before,
      "HoldNotOpen",
      "CAPTURED",
    ],
    [
      "a void of a voided hold is HoldNotOpen",
      holdState({ status: "VOIDED", releasedAmount: 500n }),
      voidIt,
      2,
      before,
      "HoldNotOpen",
      "VOIDED",
    ],
    [
      "a closed hold stays HoldNotOpen after expiresAt",
      holdState({ status: "VOIDED", releasedAmount: 500n }),
      voidIt,
      2,
      after,
      "HoldNotOpen",
      "VOIDED",
    ],
    [
      "a capture beyond what remains is CaptureExceedsRemaining",
      holdState({ capturedAmount: 200n }),
      capture(301n),
      2,
      before,
      "CaptureExceedsRemaining",
      "OPEN",
    ],
    ["a partial capture of a three-leg hold is PartialMultiLeg", holdState(), capture(100n), 3, before, "PartialMultiLeg", "OPEN"],
    ["a three-leg capture above the amount is PartialMultiLeg", holdState(), capture(600n), 3, before, "PartialMultiLeg", "OPEN"],
  ])("settleHold: %s", (_, hold, action, legs, now, code, nextStatus) => {
    const result = settleHold(hold, action, legs, now);
    expect(result).toMatchObject({ ok: false, code });
    expect(result.next.status).toBe(nextStatus);
  });

  it("settleHold: a rejection that finds the hold expired records the release of what remains", () => {
    const result = settleHold(holdState({ capturedAmount: 120n }), capture(10n), 2, expiresAt);
    expect(result.next).toEqual(holdState({ status: "EXPIRED", capturedAmount: 120n, releasedAmount: 380n }));
  });

  it("settleHold: other rejections leave the state unchanged", () => {
    const hold = holdState({ capturedAmount: 200n });
    expect(settleHold(hold, capture(301n), 2, before).next).toBe(hold);
  });
});

// ------------------------------------------------------------------ viewHold

describe("viewHold", () => {
  it.each<
    [
      string,
      HoldState,
      Date,
      { status: HoldStatus; capturedAmount: bigint; voidedAmount: bigint; expiredAmount: bigint; remainingAmount: bigint },
    ]
  >([
    [
      "an open hold before expiresAt shows what remains",
      holdState({ capturedAmount: 200n }),
      before,
      { status: "OPEN", capturedAmount: 200n, voidedAmount: 0n, expiredAmount: 0n, remainingAmount: 300n },
    ],
    [
      "an open hold at expiresAt shows as expired before its release",
      holdState({ capturedAmount: 200n }),
      expiresAt,
      { status: "EXPIRED", capturedAmount: 200n, voidedAmount: 0n, expiredAmount: 300n, remainingAmount: 0n },
    ],
    [
      "a released expired hold shows its released amount as expired",
      holdState({ status: "EXPIRED", capturedAmount: 100n, releasedAmount: 400n }),
      after,
      { status: "EXPIRED", capturedAmount: 100n, voidedAmount: 0n, expiredAmount: 400n, remainingAmount: 0n },
    ],
    [
      "a voided hold shows its released amount as voided",
      holdState({ status: "VOIDED", capturedAmount: 100n, releasedAmount: 400n }),
      before,
      { status: "VOIDED", capturedAmount: 100n, voidedAmount: 400n, expiredAmount: 0n, remainingAmount: 0n },
    ],
    [
      "a voided hold stays voided after expiresAt",
      holdState({ status: "VOIDED", releasedAmount: 500n }),
      after,
      { status: "VOIDED", capturedAmount: 0n, voidedAmount: 500n, expiredAmount: 0n, remainingAmount: 0n },
    ],
    [
      "a captured hold stays captured after expiresAt",
      holdState({ status: "CAPTURED", capturedAmount: 500n }),
      after,
      { status: "CAPTURED", capturedAmount: 500n, voidedAmount: 0n, expiredAmount: 0n, remainingAmount: 0n },
    ],
  ])("viewHold: %s", (_, hold, now, view) => {
    expect(viewHold(hold, now)).toEqual(view);
    // amount = captured + voided + expired + remaining, whatever the state.
    expect(view.capturedAmount + view.voidedAmount + view.expiredAmount + view.remainingAmount).toBe(hold.amount);
  });

  it("viewHold: a hold that settled more than its amount is refused as a broken invariant", () => {
    expect(() => viewHold(holdState({ capturedAmount: 300n, releasedAmount: 201n }), before)).toThrow();
  });
});

// ------------------------------------------------------------------ validateCreateHold

describe("validateCreateHold", () => {
  const request = (over: Partial<CreateHoldRequest> = {}): CreateHoldRequest => ({
    idempotencyKey: "hold-1",
    from: { id: accountA },
    to: { id: accountB },
    amount: "250",
    currency: "USD",
    expiresInSeconds: 60,
    ...over,
  });

  it("validateCreateHold: the shorthand with a duration becomes two legs and a relative expiry", () => {
    const hold = successOf(validateCreateHold(request(), limits));
    expect(hold.expiry).toEqual({ expiresInMs: 60_000 });
    expect(hold.legs.map((l) => [l.direction, l.amountMinor, l.currency])).toEqual([
      ["DEBIT", 250n, "USD"],
      ["CREDIT", 250n, "USD"],
    ]);
    expect(hold).toMatchObject({ idempotencyKey: "hold-1", description: "", metadata: {} });
  });

  it("validateCreateHold: an expiresAt is kept as given (the database checks it against its clock)", () => {
    const at = utc("2030-01-01T00:00:00.000Z");
    expect(successOf(validateCreateHold(request({ expiresInSeconds: null, expiresAt: at }), limits)).expiry).toEqual({ expiresAt: at });
  });

  it.each<[string, number]>([
    ["one second", 1],
    ["exactly holdDurationMaxSeconds", limits.holdDurationMaxSeconds],
  ])("validateCreateHold: a duration of %s is accepted", (_, seconds) => {
    expect(successOf(validateCreateHold(request({ expiresInSeconds: seconds }), limits)).expiry).toEqual({ expiresInMs: seconds * 1000 });
  });

  it.each<[string, Partial<CreateHoldRequest>, Record<string, unknown>]>([
    [
      "both expiresAt and expiresInSeconds",
      { expiresAt: utc("2030-01-01T00:00:00Z") },
      { code: "InvalidInput", reason: "EXACTLY_ONE_OF", field: "expiresAt" },
    ],
    ["neither expiresAt nor expiresInSeconds", { expiresInSeconds: undefined }, { code: "InvalidInput", reason: "EXACTLY_ONE_OF" }],
    ["both given as null", { expiresInSeconds: null, expiresAt: null }, { code: "InvalidInput", reason: "EXACTLY_ONE_OF" }],
    ["a zero duration", { expiresInSeconds: 0 }, { code: "InvalidInput", reason: "EXPIRY_OUT_OF_RANGE", field: "expiresInSeconds" }],
    ["a negative duration", { expiresInSeconds: -5 }, { code: "InvalidInput", reason: "EXPIRY_OUT_OF_RANGE" }],
    ["a fractional duration", { expiresInSeconds: 1.5 }, { code: "InvalidInput", reason: "EXPIRY_OUT_OF_RANGE" }],
    [
      "a duration past holdDurationMaxSeconds",
      { expiresInSeconds: limits.holdDurationMaxSeconds + 1 },
      { code: "InvalidInput", reason: "EXPIRY_OUT_OF_RANGE" },
    ],
    ["an empty idempotency key", { idempotencyKey: "" }, { code: "InvalidInput", reason: "EMPTY", field: "idempotencyKey" }],
    ["a non-positive amount", { amount: "0" }, { code: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE" }],
    [
      "legs in two currencies",
      {
        from: undefined,
        to: undefined,
        amount: undefined,
        currency: undefined,
        legs: [
          { account: { id: accountA }, direction: "DEBIT", amount: "10", currency: "USD" },
          { account: { id: accountB }, direction: "CREDIT", amount: "10", currency: "USD" },
          { account: { code: "eur-a" }, direction: "DEBIT", amount: "10", currency: "EUR" },
          { account: { code: "eur-b" }, direction: "CREDIT", amount: "10", currency: "EUR" },
        ],
      },
      { code: "InvalidInput", reason: "MIXED_CURRENCIES", field: "legs" },
    ],
    [
      "unbalanced legs",
      {
        from: undefined,
        to: undefined,
        amount: undefined,
        currency: undefined,
        legs: [
          { account: { id: accountA }, direction: "DEBIT", amount: "10", currency: "USD" },
          { account: { id: accountB }, direction: "CREDIT", amount: "9", currency: "USD" },
        ],
      },
      { code: "UnbalancedTransfer", currency: "USD", debits: "10", credits: "9" },
    ],
  ])("validateCreateHold: %s is refused", (_, over, expected) => {
    expect(problemOf(validateCreateHold(request(over), limits))).toMatchObject(expected);
  });
});

// ------------------------------------------------------------------ validateSettleHold / validateReverse

const holdId = `hold_${uuid}`;
const transferId = `tr_${uuid}`;

describe("validateSettleHold", () => {
  const request = (over: Partial<SettleHoldRequest> = {}): SettleHoldRequest => ({ idempotencyKey: "settle-1", holdId, ...over });

  it.each<[string, Partial<SettleHoldRequest>, Record<string, unknown>]>([
    [
      "no amount means all that remains",
      {},
      { idempotencyKey: "settle-1", holdId: uuid, amountMinor: null, description: "", metadata: {} },
    ],
    ["a null amount means all that remains", { amount: null }, { amountMinor: null }],
    ["an amount is parsed to minor units", { amount: "250" }, { amountMinor: 250n }],
    [
      "description and metadata are kept",
      { description: "partial", metadata: { ref: "x" } },
      { description: "partial", metadata: { ref: "x" } },
    ],
  ])("validateSettleHold: %s", (_, over, expected) => {
    expect(successOf(validateSettleHold(request(over), limits))).toMatchObject(expected);
  });

  it.each<[string, Partial<SettleHoldRequest>, Record<string, unknown>]>([
    ["a transfer id is HoldNotFound", { holdId: transferId }, { code: "HoldNotFound", holdId: transferId }],
    ["a malformed hold id is HoldNotFound", { holdId: "hold_123" }, { code: "HoldNotFound", holdId: "hold_123" }],
    ["a zero amount", { amount: "0" }, { code: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE", field: "amount" }],
    ["a fractional amount", { amount: "1.5" }, { code: "InvalidInput", reason: "AMOUNT_NOT_INTEGER", field: "amount" }],
    ["an amount beyond int64", { amount: "9223372036854775808" }, { code: "InvalidInput", reason: "AMOUNT_OUT_OF_RANGE" }],
    [
      "an empty idempotency key, checked before the hold id",
      { idempotencyKey: "", holdId: "nope" },
      { code: "InvalidInput", reason: "EMPTY" },
    ],
    [
      "an over-long idempotency key",
      { idempotencyKey: "k".repeat(limits.idempotencyKeyLengthMax + 1) },
      { code: "LimitExceeded", limit: "idempotencyKeyLengthMax" },
    ],
    ["an array as metadata", { metadata: [1] }, { code: "InvalidInput", reason: "METADATA_NOT_OBJECT", field: "metadata" }],
    [
      "an over-long description",
      { description: "d".repeat(limits.descriptionLengthMax + 1) },
      { code: "LimitExceeded", limit: "descriptionLengthMax" },
    ],
  ])("validateSettleHold: %s is refused", (_, over, expected) => {
    expect(problemOf(validateSettleHold(request(over), limits))).toMatchObject(expected);
  });
});

describe("validateReverse", () => {
  const request = (over: Partial<ReverseRequest> = {}): ReverseRequest => ({ idempotencyKey: "reverse-1", transferId, ...over });

  it.each<[string, Partial<ReverseRequest>, Record<string, unknown>]>([
    ["a transfer id targets the transfer, not forced, whole", {}, { target: { transferId: uuid }, force: false, amountMinor: null }],
    ["a hold id targets the hold (refused later as NotReversible)", { transferId: holdId }, { target: { holdId: uuid } }],
    ["force true is kept", { force: true }, { force: true }],
    ["force null means not forced", { force: null }, { force: false }],
    ["an amount is parsed to minor units", { amount: "75" }, { amountMinor: 75n }],
  ])("validateReverse: %s", (_, over, expected) => {
    expect(successOf(validateReverse(request(over), limits))).toMatchObject(expected);
  });

  it.each<[string, Partial<ReverseRequest>, Record<string, unknown>]>([
    ["an account id is TransferNotFound", { transferId: accountA }, { code: "TransferNotFound", transferId: accountA }],
    ["a malformed transfer id is TransferNotFound", { transferId: "tr_xyz" }, { code: "TransferNotFound", transferId: "tr_xyz" }],
    ["a negative amount", { amount: "-1" }, { code: "InvalidInput", reason: "AMOUNT_NOT_POSITIVE", field: "amount" }],
    ["a non-numeric amount", { amount: "ten" }, { code: "InvalidInput", reason: "AMOUNT_NOT_INTEGER" }],
    ["an empty idempotency key", { idempotencyKey: "" }, { code: "InvalidInput", reason: "EMPTY" }],
    ["a scalar as metadata", { metadata: "x" }, { code: "InvalidInput", reason: "METADATA_NOT_OBJECT" }],
  ])("validateReverse: %s is refused", (_, over, expected) => {
    expect(problemOf(validateReverse(request(over), limits))).toMatchObject(expected);
  });
});

// ------------------------------------------------------------------ periods

describe("periodStart / nextPeriodStart", () => {
  it.each<[string, string, Granularity, string]>([
    ["an instant inside an hour", "2024-02-29T13:45:12.345Z", "HOUR", "2024-02-29T13:00:00.000Z"],
    ["an instant inside a leap day", "2024-02-29T13:45:12.345Z", "DAY", "2024-02-29T00:00:00.000Z"],
    ["an instant inside February of a leap year", "2024-02-29T13:45:12.345Z", "MONTH", "2024-02-01T00:00:00.000Z"],
    ["the last millisecond of a month", "2024-01-31T23:59:59.999Z", "MONTH", "2024-01-01T00:00:00.000Z"],
    ["the last millisecond of a year", "2023-12-31T23:59:59.999Z", "DAY", "2023-12-31T00:00:00.000Z"],
    ["an exact hour boundary", "2024-03-01T00:00:00.000Z", "HOUR", "2024-03-01T00:00:00.000Z"],
    ["an exact month boundary", "2024-03-01T00:00:00.000Z", "MONTH", "2024-03-01T00:00:00.000Z"],
  ])("periodStart: %s", (_, at, granularity, expected) => {
    expect(periodStart(utc(at), granularity).toISOString()).toBe(expected);
  });

  it.each<[string, string, Granularity, string]>([
    ["the hour before midnight ends at midnight", "2024-02-29T23:00:00.000Z", "HOUR", "2024-03-01T00:00:00.000Z"],
    ["February 28 of a leap year is followed by February 29", "2024-02-28T00:00:00.000Z", "DAY", "2024-02-29T00:00:00.000Z"],
    ["February 28 of a common year is followed by March 1", "2023-02-28T00:00:00.000Z", "DAY", "2023-03-01T00:00:00.000Z"],
    ["February 29 is followed by March 1", "2024-02-29T00:00:00.000Z", "DAY", "2024-03-01T00:00:00.000Z"],
    ["December 31 is followed by January 1", "2024-12-31T00:00:00.000Z", "DAY", "2025-01-01T00:00:00.000Z"],
    ["January is followed by February, not March", "2024-01-01T00:00:00.000Z", "MONTH", "2024-02-01T00:00:00.000Z"],
    ["December is followed by January of the next year", "2023-12-01T00:00:00.000Z", "MONTH", "2024-01-01T00:00:00.000Z"],
  ])("nextPeriodStart: %s", (_, start, granularity, expected) => {
    expect(nextPeriodStart(utc(start), granularity).toISOString()).toBe(expected);
  });

  it.each<[string, string, number]>([
    ["February 2024 (leap)", "2024-02-01T00:00:00.000Z", 29],
    ["February 2023", "2023-02-01T00:00:00.000Z", 28],
    ["February 2100 (not leap)", "2100-02-01T00:00:00.000Z", 28],
    ["February 2000 (leap)", "2000-02-01T00:00:00.000Z", 29],
    ["April", "2024-04-01T00:00:00.000Z", 30],
    ["January", "2024-01-01T00:00:00.000Z", 31],
  ])("nextPeriodStart: a MONTH period of %s lasts its calendar days", (_, start, days) => {
    const from = utc(start);
    expect((nextPeriodStart(from, "MONTH").getTime() - from.getTime()) / 86_400_000).toBe(days);
  });
});

describe("periodsBetween", () => {
  const farFuture = utc("2100-01-01T00:00:00.000Z");
  const starts = (result: Result<{ start: Date; end: Date }[]>) => successOf(result).map((p) => p.start.toISOString().slice(0, 10));

  it("periodsBetween: from after to is BOUNDS_INVERTED", () => {
    expect(problemOf(periodsBetween(utc("2024-03-02T00:00:00Z"), utc("2024-03-01T00:00:00Z"), "DAY", farFuture, 100))).toMatchObject({
      code: "InvalidInput",
      reason: "BOUNDS_INVERTED",
      field: "from",
    });
  });

  it("periodsBetween: from equal to to is the one period containing it", () => {
    const [period, ...rest] = successOf(periodsBetween(utc("2024-03-01T10:30:00Z"), utc("2024-03-01T10:30:00Z"), "HOUR", farFuture, 100));
    expect(rest).toEqual([]);
    expect(period).toEqual({ start: utc("2024-03-01T10:00:00Z"), end: utc("2024-03-01T11:00:00Z") });
  });

  it.each<[string, string, string, string[]]>([
    [
      "days across a leap February",
      "2024-02-27T10:00:00Z",
      "2024-03-01T05:00:00Z",
      ["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"],
    ],
    ["days across a common February", "2023-02-27T10:00:00Z", "2023-03-01T05:00:00Z", ["2023-02-27", "2023-02-28", "2023-03-01"]],
  ])("periodsBetween: %s", (_, from, to, expected) => {
    expect(starts(periodsBetween(utc(from), utc(to), "DAY", farFuture, 100))).toEqual(expected);
  });

  it("periodsBetween: months run from the month of from to the month of to, each ending where the next starts", () => {
    const periods = successOf(periodsBetween(utc("2024-01-31T23:00:00Z"), utc("2024-12-01T00:00:00Z"), "MONTH", farFuture, 100));
    expect(periods).toHaveLength(12);
    expect(periods.map((p) => p.start.getUTCMonth())).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const [i, p] of periods.entries()) {
      if (i > 0) expect(p.start).toEqual(periods[i - 1]!.end);
    }
    expect(periods[1]!.end).toEqual(utc("2024-03-01T00:00:00Z"));
  });

  it("periodsBetween: periods that have not ended by now are left out; one ending exactly at now is kept", () => {
    const now = utc("2024-02-29T00:00:00Z");
    expect(starts(periodsBetween(utc("2024-02-27T10:00:00Z"), utc("2024-03-01T05:00:00Z"), "DAY", now, 100))).toEqual([
      "2024-02-27",
      "2024-02-28",
    ]);
  });

  it("periodsBetween: exactly pointsMax periods are answered", () => {
    expect(successOf(periodsBetween(utc("2024-03-01T00:00:00Z"), utc("2024-03-01T23:59:59Z"), "HOUR", farFuture, 24))).toHaveLength(24);
  });

  it("periodsBetween: one period more than pointsMax is LimitExceeded", () => {
    expect(problemOf(periodsBetween(utc("2024-03-01T00:00:00Z"), utc("2024-03-02T00:00:00Z"), "HOUR", farFuture, 24))).toMatchObject({
      code: "LimitExceeded",
      limit: "balanceHistoryPointsMax",
      max: "24",
    });
  });

  it("periodsBetween: the limit counts the periods of the range, ended or not", () => {
    const now = utc("2024-03-01T02:00:00Z");
    expect(problemOf(periodsBetween(utc("2024-03-01T00:00:00Z"), utc("2024-03-02T00:00:00Z"), "HOUR", now, 24)).code).toBe("LimitExceeded");
  });
});

// ------------------------------------------------------------------ validateHistoryFilter

describe("validateHistoryFilter", () => {
  const t1 = utc("2024-03-01T00:00:00Z");
  const t2 = utc("2024-03-02T00:00:00Z");

  it.each<[string, HistoryFilterRequest, boolean, Record<string, unknown>]>([
    ["an empty filter", {}, false, {}],
    [
      "null fields are left out",
      { createdFrom: null, createdTo: null, amountMin: null, amountMax: null, direction: null, metadata: null },
      false,
      {},
    ],
    ["a time range without scope", { createdFrom: t1, createdTo: t2 }, false, { createdFrom: t1, createdTo: t2 }],
    ["metadata without scope", { metadata: { a: { b: 1 } } }, false, { metadata: { a: { b: 1 } } }],
    [
      "amounts and direction with entry scope",
      { amountMin: "5", amountMax: "5", direction: "CREDIT" },
      true,
      { amountMin: 5n, amountMax: 5n, direction: "CREDIT" },
    ],
  ])("validateHistoryFilter: %s is accepted", (_, request, entryScoped, expected) => {
    expect(successOf(validateHistoryFilter(request, entryScoped, limits))).toEqual(expected);
  });

  it.each<[string, HistoryFilterRequest, boolean, Record<string, unknown>]>([
    ["direction without entry scope", { direction: "DEBIT" }, false, { reason: "UNSUPPORTED_FILTER", field: "filter" }],
    ["amountMin without entry scope", { amountMin: "1" }, false, { reason: "UNSUPPORTED_FILTER" }],
    ["amountMax without entry scope", { amountMax: "1" }, false, { reason: "UNSUPPORTED_FILTER" }],
    [
      "an unsupported filter with an inverted range",
      { direction: "DEBIT", createdFrom: t2, createdTo: t1 },
      false,
      { reason: "UNSUPPORTED_FILTER" },
    ],
    ["createdFrom after createdTo", { createdFrom: t2, createdTo: t1 }, false, { reason: "BOUNDS_INVERTED", field: "filter.createdFrom" }],
    ["createdFrom equal to createdTo (an empty range)", { createdFrom: t1, createdTo: t1 }, true, { reason: "BOUNDS_INVERTED" }],
    ["amountMin above amountMax", { amountMin: "6", amountMax: "5" }, true, { reason: "BOUNDS_INVERTED", field: "filter.amountMin" }],
    ["a zero amountMin", { amountMin: "0" }, true, { reason: "AMOUNT_NOT_POSITIVE", field: "filter.amountMin" }],
    ["a fractional amountMax", { amountMax: "2.5" }, true, { reason: "AMOUNT_NOT_INTEGER", field: "filter.amountMax" }],
    ["an array as metadata", { metadata: [] }, false, { reason: "METADATA_NOT_OBJECT", field: "filter.metadata" }],
  ])("validateHistoryFilter: %s is refused", (_, request, entryScoped, expected) => {
    expect(problemOf(validateHistoryFilter(request, entryScoped, limits))).toMatchObject({ code: "InvalidInput", ...expected });
  });

  it("validateHistoryFilter: metadata over metadataBytesMax is LimitExceeded", () => {
    const metadata = { blob: "x".repeat(limits.metadataBytesMax) };
    expect(problemOf(validateHistoryFilter({ metadata }, false, limits))).toMatchObject({
      code: "LimitExceeded",
      limit: "metadataBytesMax",
    });
  });
});

// ------------------------------------------------------------------ pending and available balances

const totals = (over: Partial<Totals> = {}): Totals => ({
  debitsPosted: 0n,
  creditsPosted: 0n,
  debitsPending: 0n,
  creditsPending: 0n,
  ...over,
});

describe("pendingBalance / availableBalance", () => {
  it.each<[string, Side, Totals, bigint, bigint]>([
    ["no holds", "CREDIT", totals({ creditsPosted: 1000n }), 0n, 1000n],
    ["an outgoing hold on a CREDIT-normal account", "CREDIT", totals({ creditsPosted: 1000n, debitsPending: 300n }), -300n, 700n],
    [
      "an incoming hold on a CREDIT-normal account is not spendable",
      "CREDIT",
      totals({ creditsPosted: 1000n, creditsPending: 200n }),
      200n,
      1000n,
    ],
    [
      "both ways on a CREDIT-normal account",
      "CREDIT",
      totals({ creditsPosted: 1000n, debitsPosted: 100n, debitsPending: 300n, creditsPending: 200n }),
      -100n,
      600n,
    ],
    ["an outgoing hold on a DEBIT-normal account", "DEBIT", totals({ debitsPosted: 1000n, creditsPending: 300n }), -300n, 700n],
    [
      "both ways on a DEBIT-normal account",
      "DEBIT",
      totals({ debitsPosted: 1000n, creditsPending: 300n, debitsPending: 50n }),
      -250n,
      700n,
    ],
    ["holds beyond the balance make available negative", "CREDIT", totals({ debitsPending: 40n }), -40n, -40n],
  ])("pendingBalance / availableBalance: %s", (_, side, t, pending, available) => {
    expect(pendingBalance(side, t)).toBe(pending);
    expect(availableBalance(side, t)).toBe(available);
  });
});

describe("envelopeWithinBounds", () => {
  const bounds = (minBalance: bigint | null, maxBalance: bigint | null): BalanceBounds => ({ minBalance, maxBalance });
  // CREDIT-normal: posted 1000, 300 reserved outgoing, 200 reserved incoming: available 700, ceiling 1200.
  const held = totals({ creditsPosted: 1000n, debitsPending: 300n, creditsPending: 200n });

  it.each<[string, Side, Totals, BalanceBounds, boolean]>([
    ["no bounds", "CREDIT", held, bounds(null, null), true],
    ["minBalance equal to available", "CREDIT", held, bounds(700n, null), true],
    ["minBalance above available though below posted", "CREDIT", held, bounds(701n, null), false],
    ["maxBalance equal to posted plus incoming holds", "CREDIT", held, bounds(null, 1200n), true],
    ["maxBalance above posted but below posted plus incoming holds", "CREDIT", held, bounds(null, 1199n), false],
    ["both bounds exactly at the envelope", "CREDIT", held, bounds(700n, 1200n), true],
    [
      "a DEBIT-normal account's outgoing holds are credits",
      "DEBIT",
      totals({ debitsPosted: 500n, creditsPending: 100n }),
      bounds(401n, null),
      false,
    ],
    [
      "a DEBIT-normal account's incoming holds are debits",
      "DEBIT",
      totals({ debitsPosted: 500n, debitsPending: 100n }),
      bounds(0n, 600n),
      true,
    ],
    [
      "a DEBIT-normal account's incoming holds count against maxBalance",
      "DEBIT",
      totals({ debitsPosted: 500n, debitsPending: 100n }),
      bounds(0n, 599n),
      false,
    ],
  ])("envelopeWithinBounds: %s", (_, side, t, b, expected) => {
    expect(envelopeWithinBounds(side, t, b)).toBe(expected);
  });
});
