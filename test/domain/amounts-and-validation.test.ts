// Table-driven tests of the pure domain (src/domain): no database, no HTTP.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  checkBoundsOrder,
  validateCreateAccount,
  validateCreateCurrency,
  validateUpdateAccount,
  type CreateAccountRequest,
  type NewCurrency,
  type UpdateAccountRequest,
} from "../../src/domain/account.js";
import { postedBalance, type BalanceBounds, type Side } from "../../src/domain/balance.js";
import { withinBounds } from "../support/bounds.js";
import { canonicalJson, requestHash } from "../../src/domain/canonical.js";
import { fromGlobalId, nodeTypeOf, toGlobalId, type NodeType } from "../../src/domain/ids.js";
import { limitsDefault, type Limits } from "../../src/domain/limits.js";
import { int64Max, int64Min, NotAString, parsePositiveAmount, parseSignedAmount } from "../../src/domain/money.js";
import type { Problem, Result } from "../../src/domain/problems.js";
import { validateTransfer, type LegRequest, type TransferRequest } from "../../src/domain/transfer.js";

const limits: Limits = limitsDefault;

/** The problem of a failed result; fails the test on success. */
function problemOf<T>(result: Result<T>): Problem {
  if (result.ok) throw new Error(`expected a problem, got ${canonicalJson(result.value)}`);
  return result.problem;
}

/** The value of a successful result; fails the test with the problem otherwise. */
function successOf<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.problem)}`);
  return result.value;
}

const int64MaxText = "9223372036854775807";
const int64MaxPlusOneText = "9223372036854775808";
const int64MinText = "-9223372036854775808";
const int64MinMinusOneText = "-9223372036854775809";

// ------------------------------------------------------------------ money

describe("parseSignedAmount / parsePositiveAmount", () => {
  it.each<[string, string, bigint]>([
    ["zero", "0", 0n],
    ["a negative amount", "-5", -5n],
    ["a positive amount", "1050", 1050n],
    ["a ten", "10", 10n],
    ["int64 max", int64MaxText, int64Max],
    ["int64 min", int64MinText, int64Min],
  ])("parseSignedAmount: %s is accepted", (_, text, expected) => {
    expect(successOf(parseSignedAmount(text, "minBalance"))).toBe(expected);
  });

  it.each<[string, string, string]>([
    ["fractional 1.5", "1.5", "AMOUNT_NOT_INTEGER"],
    ["exponent 1e3", "1e3", "AMOUNT_NOT_INTEGER"],
    ["leading zeros 007", "007", "AMOUNT_LEADING_ZERO"],
    ["double zero 00", "00", "AMOUNT_LEADING_ZERO"],
    ["negative zero -0", "-0", "AMOUNT_LEADING_ZERO"],
    ["negative leading zero -01", "-01", "AMOUNT_LEADING_ZERO"],
    ["leading space", " 1", "AMOUNT_NOT_INTEGER"],
    ["trailing space", "1 ", "AMOUNT_NOT_INTEGER"],
    ["trailing newline", "1\n", "AMOUNT_NOT_INTEGER"],
    ["explicit plus sign", "+1", "AMOUNT_NOT_INTEGER"],
    ["double minus", "--1", "AMOUNT_NOT_INTEGER"],
    ["a lone minus", "-", "AMOUNT_NOT_INTEGER"],
    ["letters", "abc", "AMOUNT_NOT_INTEGER"],
    ["hex", "0x10", "AMOUNT_NOT_INTEGER"],
    ["non-ASCII digits", "\u0661\u0662", "AMOUNT_NOT_INTEGER"],
    ["the empty string", "", "AMOUNT_NOT_INTEGER"],
    ["thousands separator", "1,000", "AMOUNT_NOT_INTEGER"],
    ["int64 max + 1", int64MaxPlusOneText, "AMOUNT_OUT_OF_RANGE"],
    ["int64 min - 1", int64MinMinusOneText, "AMOUNT_OUT_OF_RANGE"],
    ["a 41-digit number", "9".repeat(41), "AMOUNT_OUT_OF_RANGE"],
    ["a 100000-digit number", "1".repeat(100_000), "AMOUNT_OUT_OF_RANGE"],
    ["a 100000-digit negative number", `-${"1".repeat(100_000)}`, "AMOUNT_OUT_OF_RANGE"],
    ["a 100000-character non-number", "x".repeat(100_000), "AMOUNT_NOT_INTEGER"],
  ])("parseSignedAmount: %s is %s", (_, text, reason) => {
    const problem = problemOf(parseSignedAmount(text, "maxBalance"));
    expect(problem).toMatchObject({ code: "InvalidInput", field: "maxBalance", reason });
    expect(typeof problem.message).toBe("string");
  });

  it.each<[string, NotAString]>([
    ["a JSON number beyond 2^53 (already rounded by JSON.parse)", new NotAString("the JSON number 9007199254740992")],
    ["a JSON number 1e3", new NotAString("the JSON number 1000")],
    ["an integer literal", new NotAString("the literal 1050")],
  ])("parseSignedAmount and parsePositiveAmount: %s is AMOUNT_NOT_A_STRING", (_, sent) => {
    for (const parse of [parseSignedAmount, parsePositiveAmount]) {
      const problem = problemOf(parse(sent, "amount"));
      expect(problem).toMatchObject({ code: "InvalidInput", field: "amount", reason: "AMOUNT_NOT_A_STRING" });
      expect(problem.message).toContain(sent.sent);
    }
  });

  it.each<[string, string, bigint]>([
    ["one", "1", 1n],
    ["a typical amount", "1050", 1050n],
    ["int64 max", int64MaxText, int64Max],
  ])("parsePositiveAmount: %s is accepted", (_, text, expected) => {
    expect(successOf(parsePositiveAmount(text, "amount"))).toBe(expected);
  });

  it.each<[string, string, string]>([
    ["zero", "0", "AMOUNT_NOT_POSITIVE"],
    ["negative zero", "-0", "AMOUNT_LEADING_ZERO"],
    ["negative", "-1", "AMOUNT_NOT_POSITIVE"],
    ["int64 min", int64MinText, "AMOUNT_NOT_POSITIVE"],
    ["fractional 1.5", "1.5", "AMOUNT_NOT_INTEGER"],
    ["exponent 1e3", "1e3", "AMOUNT_NOT_INTEGER"],
    ["leading space", " 1", "AMOUNT_NOT_INTEGER"],
    ["letters", "abc", "AMOUNT_NOT_INTEGER"],
    ["the empty string", "", "AMOUNT_NOT_INTEGER"],
    ["int64 max + 1", int64MaxPlusOneText, "AMOUNT_OUT_OF_RANGE"],
    ["int64 min - 1", int64MinMinusOneText, "AMOUNT_OUT_OF_RANGE"],
    ["a 100000-digit number", "7".repeat(100_000), "AMOUNT_OUT_OF_RANGE"],
  ])("parsePositiveAmount: %s is %s", (_, text, reason) => {
    expect(problemOf(parsePositiveAmount(text, "legs[0].amount"))).toMatchObject({
      code: "InvalidInput",
      field: "legs[0].amount",
      reason,
    });
  });
});

// ------------------------------------------------------------------ transfers

const accountId = () => randomUUID();
const globalAccount = (raw: string) => toGlobalId("Account", raw);

function leg(ref: { id?: string | null; code?: string | null }, direction: Side, amount: string, currency = "USD"): LegRequest {
  return { account: ref, direction, amount, currency };
}

describe("validateTransfer", () => {
  const a = accountId();
  const b = accountId();
  const c = accountId();
  const d = accountId();

  const shorthand = (over: Partial<TransferRequest> = {}): TransferRequest => ({
    idempotencyKey: "tr-1",
    from: { id: globalAccount(a) },
    to: { id: globalAccount(b) },
    amount: "100",
    currency: "USD",
    ...over,
  });

  const withLegs = (legs: LegRequest[], over: Partial<TransferRequest> = {}): TransferRequest => ({
    idempotencyKey: "tr-2",
    legs,
    ...over,
  });

  const twoLegs = () => [leg({ id: globalAccount(a) }, "DEBIT", "100"), leg({ code: "merchant:1" }, "CREDIT", "100")];

  /** n legs over distinct accounts, debits and credits alternating, balanced when n is even. */
  const manyLegs = (n: number) => Array.from({ length: n }, (_, i) => leg({ code: `acct-${i}` }, i % 2 === 0 ? "DEBIT" : "CREDIT", "10"));

  it("validateTransfer: shorthand becomes a debit of from and a credit of to", () => {
    const transfer = successOf(validateTransfer(shorthand({ description: "coffee", metadata: { order: 7 } }), limits));
    expect(transfer).toEqual({
      idempotencyKey: "tr-1",
      description: "coffee",
      metadata: { order: 7 },
      legs: [
        { account: { accountId: a }, direction: "DEBIT", amountMinor: 100n, currency: "USD" },
        { account: { accountId: b }, direction: "CREDIT", amountMinor: 100n, currency: "USD" },
      ],
    });
  });

  it("validateTransfer: shorthand by code is ok and defaults description and metadata", () => {
    const transfer = successOf(validateTransfer(shorthand({ from: { code: "x" }, to: { code: "y" } }), limits));
    expect(transfer.description).toBe("");
    expect(transfer.metadata).toEqual({});
    expect(transfer.legs.map((l) => l.account)).toEqual([{ accountCode: "x" }, { accountCode: "y" }]);
  });

  it("validateTransfer: legs are ok and keep their order", () => {
    const transfer = successOf(validateTransfer(withLegs(twoLegs()), limits));
    expect(transfer.legs).toEqual([
      { account: { accountId: a }, direction: "DEBIT", amountMinor: 100n, currency: "USD" },
      { account: { accountCode: "merchant:1" }, direction: "CREDIT", amountMinor: 100n, currency: "USD" },
    ]);
  });

  it("validateTransfer: a multi-currency FX transfer balanced per currency is ok", () => {
    const transfer = successOf(
      validateTransfer(
        withLegs([
          leg({ id: globalAccount(a) }, "DEBIT", "100", "USD"),
          leg({ id: globalAccount(b) }, "CREDIT", "100", "USD"),
          leg({ id: globalAccount(c) }, "DEBIT", "92", "EUR"),
          leg({ id: globalAccount(d) }, "CREDIT", "92", "EUR"),
        ]),
        limits,
      ),
    );
    expect(transfer.legs).toHaveLength(4);
  });

  it(`validateTransfer: exactly legsPerTransferMax (${limits.legsPerTransferMax}) legs are ok`, () => {
    expect(successOf(validateTransfer(withLegs(manyLegs(limits.legsPerTransferMax)), limits)).legs).toHaveLength(limits.legsPerTransferMax);
  });

  it("validateTransfer: legs at int64 max each are balanced even though their sum exceeds int64", () => {
    const transfer = successOf(
      validateTransfer(
        withLegs([
          leg({ code: "a" }, "DEBIT", int64MaxText),
          leg({ code: "b" }, "DEBIT", int64MaxText),
          leg({ code: "c" }, "CREDIT", int64MaxText),
          leg({ code: "d" }, "CREDIT", int64MaxText),
        ]),
        limits,
      ),
    );
    expect(transfer.legs.map((l) => l.amountMinor)).toEqual([int64Max, int64Max, int64Max, int64Max]);
  });

  it("validateTransfer: an idempotency key of exactly idempotencyKeyLengthMax characters is ok", () => {
    expect(
      successOf(validateTransfer(shorthand({ idempotencyKey: "k".repeat(limits.idempotencyKeyLengthMax) }), limits)).idempotencyKey,
    ).toHaveLength(limits.idempotencyKeyLengthMax);
  });

  it("validateTransfer: a description of exactly descriptionLengthMax characters is ok", () => {
    expect(
      successOf(validateTransfer(shorthand({ description: "d".repeat(limits.descriptionLengthMax) }), limits)).description,
    ).toHaveLength(limits.descriptionLengthMax);
  });

  it("validateTransfer: metadata of exactly metadataBytesMax bytes is ok", () => {
    // {"a":"xxx..."} is 8 bytes plus the string.
    const metadata = { a: "x".repeat(limits.metadataBytesMax - 8) };
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBe(limits.metadataBytesMax);
    expect(successOf(validateTransfer(shorthand({ metadata }), limits)).metadata).toEqual(metadata);
  });

  it.each<[string, () => TransferRequest, Record<string, unknown>]>([
    [
      "both forms given is TRANSFER_FORM",
      () => shorthand({ legs: twoLegs() }),
      { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" },
    ],
    [
      "legs with one shorthand field is TRANSFER_FORM",
      () => withLegs(twoLegs(), { amount: "100" }),
      { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" },
    ],
    ["neither form is TRANSFER_FORM", () => ({ idempotencyKey: "k" }), { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" }],
    [
      "shorthand without from is TRANSFER_FORM",
      () => shorthand({ from: null }),
      { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" },
    ],
    [
      "shorthand without to is TRANSFER_FORM",
      () => shorthand({ to: undefined }),
      { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" },
    ],
    [
      "shorthand without amount is TRANSFER_FORM",
      () => shorthand({ amount: null }),
      { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" },
    ],
    [
      "shorthand without currency is TRANSFER_FORM",
      () => shorthand({ currency: null }),
      { code: "InvalidInput", field: "legs", reason: "TRANSFER_FORM" },
    ],
    ["no legs is TOO_FEW_LEGS", () => withLegs([]), { code: "InvalidInput", field: "legs", reason: "TOO_FEW_LEGS" }],
    [
      "1 leg is TOO_FEW_LEGS",
      () => withLegs([leg({ code: "a" }, "DEBIT", "1")]),
      { code: "InvalidInput", field: "legs", reason: "TOO_FEW_LEGS" },
    ],
    [
      "legs over legsPerTransferMax is LimitExceeded",
      () => withLegs(manyLegs(limits.legsPerTransferMax + 2)),
      { code: "LimitExceeded", limit: "legsPerTransferMax", max: String(limits.legsPerTransferMax) },
    ],
    [
      "the same account id on two legs is DUPLICATE_ACCOUNT",
      () => withLegs([leg({ id: globalAccount(a) }, "DEBIT", "5"), leg({ id: globalAccount(a) }, "CREDIT", "5")]),
      { code: "InvalidInput", field: "legs[1]", reason: "DUPLICATE_ACCOUNT" },
    ],
    [
      "the same account code on two legs is DUPLICATE_ACCOUNT",
      () => withLegs([leg({ code: "a" }, "DEBIT", "5"), leg({ code: "b" }, "CREDIT", "2"), leg({ code: "a" }, "CREDIT", "3")]),
      { code: "InvalidInput", field: "legs[2]", reason: "DUPLICATE_ACCOUNT" },
    ],
    [
      "shorthand from and to the same account is DUPLICATE_ACCOUNT",
      () => shorthand({ to: { id: globalAccount(a) } }),
      { code: "InvalidInput", field: "to", reason: "DUPLICATE_ACCOUNT" },
    ],
    [
      "an account ref with both id and code is EXACTLY_ONE_OF",
      () => withLegs([leg({ code: "a" }, "DEBIT", "5"), leg({ id: globalAccount(b), code: "b" }, "CREDIT", "5")]),
      { code: "InvalidInput", field: "legs[1].account", reason: "EXACTLY_ONE_OF" },
    ],
    [
      "an account ref with neither id nor code is EXACTLY_ONE_OF",
      () => withLegs([leg({}, "DEBIT", "5"), leg({ code: "b" }, "CREDIT", "5")]),
      { code: "InvalidInput", field: "legs[0].account", reason: "EXACTLY_ONE_OF" },
    ],
    [
      "an account ref with null id and null code is EXACTLY_ONE_OF",
      () => withLegs([leg({ id: null, code: null }, "DEBIT", "5"), leg({ code: "b" }, "CREDIT", "5")]),
      { code: "InvalidInput", field: "legs[0].account", reason: "EXACTLY_ONE_OF" },
    ],
    [
      "a shorthand from with both id and code is EXACTLY_ONE_OF",
      () => shorthand({ from: { id: globalAccount(a), code: "a" } }),
      { code: "InvalidInput", field: "from", reason: "EXACTLY_ONE_OF" },
    ],
    [
      "an empty account code is EMPTY",
      () => withLegs([leg({ code: "a" }, "DEBIT", "5"), leg({ code: "" }, "CREDIT", "5")]),
      { code: "InvalidInput", field: "legs[1].account.code", reason: "EMPTY" },
    ],
    [
      "a malformed account id is AccountNotFound with its legIndex",
      () => withLegs([leg({ code: "a" }, "DEBIT", "5"), leg({ id: "acct_not-a-uuid" }, "CREDIT", "5")]),
      { code: "AccountNotFound", account: "acct_not-a-uuid", legIndex: 1 },
    ],
    [
      "a transfer id used as an account id is AccountNotFound",
      () => withLegs([leg({ id: toGlobalId("Transfer", a) }, "DEBIT", "5"), leg({ code: "b" }, "CREDIT", "5")]),
      { code: "AccountNotFound", account: toGlobalId("Transfer", a), legIndex: 0 },
    ],
    [
      "an account id with an upper-case uuid is AccountNotFound",
      () => shorthand({ to: { id: globalAccount(b.toUpperCase()) } }),
      { code: "AccountNotFound", account: globalAccount(b.toUpperCase()), legIndex: 1 },
    ],
    [
      "a zero leg amount is AMOUNT_NOT_POSITIVE",
      () => withLegs([leg({ code: "a" }, "DEBIT", "0"), leg({ code: "b" }, "CREDIT", "0")]),
      { code: "InvalidInput", field: "legs[0].amount", reason: "AMOUNT_NOT_POSITIVE" },
    ],
    [
      "a negative shorthand amount is AMOUNT_NOT_POSITIVE",
      () => shorthand({ amount: "-100" }),
      { code: "InvalidInput", field: "amount", reason: "AMOUNT_NOT_POSITIVE" },
    ],
    [
      "a fractional leg amount is AMOUNT_NOT_INTEGER",
      () => withLegs([leg({ code: "a" }, "DEBIT", "1"), leg({ code: "b" }, "CREDIT", "1.5")]),
      { code: "InvalidInput", field: "legs[1].amount", reason: "AMOUNT_NOT_INTEGER" },
    ],
    [
      "a leg amount over int64 is AMOUNT_OUT_OF_RANGE",
      () => shorthand({ amount: int64MaxPlusOneText }),
      { code: "InvalidInput", field: "amount", reason: "AMOUNT_OUT_OF_RANGE" },
    ],
    [
      "debits above credits is UnbalancedTransfer",
      () => withLegs([leg({ code: "a" }, "DEBIT", "100"), leg({ code: "b" }, "CREDIT", "90")]),
      { code: "UnbalancedTransfer", currency: "USD", debits: "100", credits: "90" },
    ],
    [
      "an FX transfer unbalanced in its second currency is UnbalancedTransfer in that currency",
      () =>
        withLegs([
          leg({ code: "a" }, "DEBIT", "100", "USD"),
          leg({ code: "b" }, "CREDIT", "100", "USD"),
          leg({ code: "c" }, "DEBIT", "92", "EUR"),
          leg({ code: "d" }, "CREDIT", "91", "EUR"),
        ]),
      { code: "UnbalancedTransfer", currency: "EUR", debits: "92", credits: "91" },
    ],
    [
      "equal totals in different currencies is UnbalancedTransfer",
      () => withLegs([leg({ code: "a" }, "DEBIT", "100", "USD"), leg({ code: "b" }, "CREDIT", "100", "EUR")]),
      { code: "UnbalancedTransfer", currency: "USD", debits: "100", credits: "0" },
    ],
    [
      "only debits is UnbalancedTransfer",
      () => withLegs([leg({ code: "a" }, "DEBIT", "1"), leg({ code: "b" }, "DEBIT", "1")]),
      { code: "UnbalancedTransfer", currency: "USD", debits: "2", credits: "0" },
    ],
    [
      "array metadata is METADATA_NOT_OBJECT",
      () => shorthand({ metadata: [1, 2] }),
      { code: "InvalidInput", field: "metadata", reason: "METADATA_NOT_OBJECT" },
    ],
    [
      "string metadata is METADATA_NOT_OBJECT",
      () => shorthand({ metadata: "note" }),
      { code: "InvalidInput", field: "metadata", reason: "METADATA_NOT_OBJECT" },
    ],
    [
      "number metadata is METADATA_NOT_OBJECT",
      () => shorthand({ metadata: 5 }),
      { code: "InvalidInput", field: "metadata", reason: "METADATA_NOT_OBJECT" },
    ],
    [
      "metadata one byte over metadataBytesMax is LimitExceeded",
      () => shorthand({ metadata: { a: "x".repeat(limits.metadataBytesMax - 7) } }),
      { code: "LimitExceeded", limit: "metadataBytesMax", max: String(limits.metadataBytesMax) },
    ],
    [
      "metadata over metadataBytesMax in UTF-8 bytes (not characters) is LimitExceeded",
      () => shorthand({ metadata: { a: "\u00e9".repeat(limits.metadataBytesMax / 2) } }),
      { code: "LimitExceeded", limit: "metadataBytesMax", max: String(limits.metadataBytesMax) },
    ],
    [
      "a description over descriptionLengthMax is LimitExceeded",
      () => shorthand({ description: "d".repeat(limits.descriptionLengthMax + 1) }),
      { code: "LimitExceeded", limit: "descriptionLengthMax", max: String(limits.descriptionLengthMax) },
    ],
    [
      "an empty idempotency key is EMPTY",
      () => shorthand({ idempotencyKey: "" }),
      { code: "InvalidInput", field: "idempotencyKey", reason: "EMPTY" },
    ],
    [
      "an overlong idempotency key is LimitExceeded",
      () => shorthand({ idempotencyKey: "k".repeat(limits.idempotencyKeyLengthMax + 1) }),
      { code: "LimitExceeded", limit: "idempotencyKeyLengthMax", max: String(limits.idempotencyKeyLengthMax) },
    ],
  ])("validateTransfer: %s", (_, request, expected) => {
    const problem = problemOf(validateTransfer(request(), limits));
    expect(problem).toMatchObject(expected);
    expect(typeof problem.message).toBe("string");
    expect(problem.message.length).toBeGreaterThan(0);
  });

  it("validateTransfer: legs over a lowered legsPerTransferMax is LimitExceeded with that max", () => {
    const small = { ...limits, legsPerTransferMax: 3 };
    expect(successOf(validateTransfer(withLegs(manyLegs(2)), small)).legs).toHaveLength(2);
    expect(problemOf(validateTransfer(withLegs(manyLegs(4)), small))).toMatchObject({
      code: "LimitExceeded",
      limit: "legsPerTransferMax",
      max: "3",
    });
  });
});

// ------------------------------------------------------------------ accounts and currencies

describe("validateCreateAccount", () => {
  const request = (over: Partial<CreateAccountRequest> = {}): CreateAccountRequest => ({
    idempotencyKey: "acct-1",
    code: "merchant:shirtypuff:available",
    name: "Shirtypuff",
    currency: "USD",
    normalSide: "CREDIT",
    minBalance: "0",
    maxBalance: null,
    ...over,
  });

  it("validateCreateAccount: a full request is ok with bounds as bigints", () => {
    expect(
      successOf(validateCreateAccount(request({ minBalance: "-500", maxBalance: "100000", metadata: { tier: "gold" } }), limits)),
    ).toEqual({
      idempotencyKey: "acct-1",
      code: "merchant:shirtypuff:available",
      name: "Shirtypuff",
      currency: "USD",
      normalSide: "CREDIT",
      minBalance: -500n,
      maxBalance: 100000n,
      metadata: { tier: "gold" },
    });
  });

  it.each<[string, Partial<CreateAccountRequest>, BalanceBounds]>([
    ["null bounds are unbounded", { minBalance: null, maxBalance: null }, { minBalance: null, maxBalance: null }],
    ["omitted bounds are unbounded", { minBalance: undefined, maxBalance: undefined }, { minBalance: null, maxBalance: null }],
    ["equal bounds are ok", { minBalance: "7", maxBalance: "7" }, { minBalance: 7n, maxBalance: 7n }],
    ["int64 extremes are ok", { minBalance: int64MinText, maxBalance: int64MaxText }, { minBalance: int64Min, maxBalance: int64Max }],
  ])("validateCreateAccount: %s", (_, over, bounds) => {
    const account = successOf(validateCreateAccount(request(over), limits));
    expect({ minBalance: account.minBalance, maxBalance: account.maxBalance }).toEqual(bounds);
  });

  it.each<[string]>([["USD"], ["BTC"], ["ABC_123"], [`A${"B".repeat(15)}`], ["X__"]])(
    "validateCreateAccount: currency code %s is well-formed",
    (currency) => {
      expect(successOf(validateCreateAccount(request({ currency }), limits)).currency).toBe(currency);
    },
  );

  it.each<[string, Partial<CreateAccountRequest>, Record<string, unknown>]>([
    [
      "inverted bounds are BOUNDS_INVERTED",
      { minBalance: "10", maxBalance: "9" },
      { code: "InvalidInput", field: "minBalance", reason: "BOUNDS_INVERTED" },
    ],
    [
      "a lower-case currency is CURRENCY_CODE_FORMAT",
      { currency: "usd" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a two-letter currency is CURRENCY_CODE_FORMAT",
      { currency: "US" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a 17-character currency is CURRENCY_CODE_FORMAT",
      { currency: "A".repeat(17) },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a currency starting with a digit is CURRENCY_CODE_FORMAT",
      { currency: "1USD" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a currency starting with an underscore is CURRENCY_CODE_FORMAT",
      { currency: "_USD" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a currency with a symbol is CURRENCY_CODE_FORMAT",
      { currency: "U$D" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a currency with a trailing space is CURRENCY_CODE_FORMAT",
      { currency: "USD " },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "a currency with a trailing newline is CURRENCY_CODE_FORMAT",
      { currency: "USD\n" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    [
      "an empty currency is CURRENCY_CODE_FORMAT",
      { currency: "" },
      { code: "InvalidInput", field: "currency", reason: "CURRENCY_CODE_FORMAT" },
    ],
    ["an empty name is EMPTY", { name: "" }, { code: "InvalidInput", field: "name", reason: "EMPTY" }],
    ["a blank name is EMPTY", { name: "  \t" }, { code: "InvalidInput", field: "name", reason: "EMPTY" }],
    ["an empty code is EMPTY", { code: "" }, { code: "InvalidInput", field: "code", reason: "EMPTY" }],
    [
      "a name over nameLengthMax is LimitExceeded",
      { name: "n".repeat(limits.nameLengthMax + 1) },
      { code: "LimitExceeded", limit: "nameLengthMax", max: String(limits.nameLengthMax) },
    ],
    [
      "a code over accountCodeLengthMax is LimitExceeded",
      { code: "c".repeat(limits.accountCodeLengthMax + 1) },
      { code: "LimitExceeded", limit: "accountCodeLengthMax", max: String(limits.accountCodeLengthMax) },
    ],
    ["an empty idempotency key is EMPTY", { idempotencyKey: "" }, { code: "InvalidInput", field: "idempotencyKey", reason: "EMPTY" }],
    [
      "an overlong idempotency key is LimitExceeded",
      { idempotencyKey: "k".repeat(limits.idempotencyKeyLengthMax + 1) },
      { code: "LimitExceeded", limit: "idempotencyKeyLengthMax", max: String(limits.idempotencyKeyLengthMax) },
    ],
    [
      "a fractional minBalance is AMOUNT_NOT_INTEGER",
      { minBalance: "1.5" },
      { code: "InvalidInput", field: "minBalance", reason: "AMOUNT_NOT_INTEGER" },
    ],
    [
      "a maxBalance over int64 is AMOUNT_OUT_OF_RANGE",
      { maxBalance: int64MaxPlusOneText },
      { code: "InvalidInput", field: "maxBalance", reason: "AMOUNT_OUT_OF_RANGE" },
    ],
    [
      "array metadata is METADATA_NOT_OBJECT",
      { metadata: ["a"] },
      { code: "InvalidInput", field: "metadata", reason: "METADATA_NOT_OBJECT" },
    ],
    [
      "boolean metadata is METADATA_NOT_OBJECT",
      { metadata: true },
      { code: "InvalidInput", field: "metadata", reason: "METADATA_NOT_OBJECT" },
    ],
    [
      "oversized metadata is LimitExceeded",
      { metadata: { blob: "x".repeat(limits.metadataBytesMax) } },
      { code: "LimitExceeded", limit: "metadataBytesMax", max: String(limits.metadataBytesMax) },
    ],
  ])("validateCreateAccount: %s", (_, over, expected) => {
    expect(problemOf(validateCreateAccount(request(over), limits))).toMatchObject(expected);
  });
});

describe("validateUpdateAccount", () => {
  const request = (over: Partial<UpdateAccountRequest> = {}): UpdateAccountRequest => ({
    idempotencyKey: "upd-1",
    id: globalAccount(randomUUID()),
    ...over,
  });

  it.each<[string, Partial<UpdateAccountRequest>, Record<string, unknown>]>([
    ["omitted fields are not changes", {}, {}],
    ["a new name is a change", { name: "Renamed" }, { name: "Renamed" }],
    ["new metadata is a change", { metadata: { a: 1 } }, { metadata: { a: 1 } }],
    ["a null bound removes that bound", { minBalance: null }, { minBalance: null }],
    ["both bounds are parsed", { minBalance: "-10", maxBalance: "10" }, { minBalance: -10n, maxBalance: 10n }],
  ])("validateUpdateAccount: %s", (_, over, changes) => {
    expect(successOf(validateUpdateAccount(request(over), limits))).toStrictEqual(changes);
  });

  it.each<[string, Partial<UpdateAccountRequest>, Record<string, unknown>]>([
    ["an empty name is EMPTY", { name: "" }, { code: "InvalidInput", field: "name", reason: "EMPTY" }],
    [
      "a name over nameLengthMax is LimitExceeded",
      { name: "n".repeat(limits.nameLengthMax + 1) },
      { code: "LimitExceeded", limit: "nameLengthMax" },
    ],
    ["array metadata is METADATA_NOT_OBJECT", { metadata: [] }, { code: "InvalidInput", field: "metadata", reason: "METADATA_NOT_OBJECT" }],
    [
      "oversized metadata is LimitExceeded",
      { metadata: { blob: "x".repeat(limits.metadataBytesMax) } },
      { code: "LimitExceeded", limit: "metadataBytesMax" },
    ],
    [
      "a malformed minBalance is AMOUNT_NOT_INTEGER",
      { minBalance: "1e3" },
      { code: "InvalidInput", field: "minBalance", reason: "AMOUNT_NOT_INTEGER" },
    ],
    [
      "a maxBalance below int64 min is AMOUNT_OUT_OF_RANGE",
      { maxBalance: int64MinMinusOneText },
      { code: "InvalidInput", field: "maxBalance", reason: "AMOUNT_OUT_OF_RANGE" },
    ],
    ["an empty idempotency key is EMPTY", { idempotencyKey: "" }, { code: "InvalidInput", field: "idempotencyKey", reason: "EMPTY" }],
  ])("validateUpdateAccount: %s", (_, over, expected) => {
    expect(problemOf(validateUpdateAccount(request(over), limits))).toMatchObject(expected);
  });
});

describe("checkBoundsOrder", () => {
  it.each<[string, BalanceBounds, boolean]>([
    ["min below max is ok", { minBalance: -1n, maxBalance: 1n }, true],
    ["min equal to max is ok", { minBalance: 5n, maxBalance: 5n }, true],
    ["no min is ok", { minBalance: null, maxBalance: -5n }, true],
    ["no max is ok", { minBalance: 5n, maxBalance: null }, true],
    ["min above max is BOUNDS_INVERTED", { minBalance: 6n, maxBalance: 5n }, false],
  ])("checkBoundsOrder: %s", (_, bounds, accepted) => {
    const result = checkBoundsOrder(bounds);
    if (accepted) expect(successOf(result)).toEqual(bounds);
    else expect(problemOf(result)).toMatchObject({ code: "InvalidInput", field: "minBalance", reason: "BOUNDS_INVERTED" });
  });
});

describe("validateCreateCurrency", () => {
  const request = (over: Partial<NewCurrency> = {}): NewCurrency => ({ idempotencyKey: "cur-1", code: "POINTS", scale: 0, ...over });

  it.each<[string, Partial<NewCurrency>]>([
    ["scale 0 is ok", { scale: 0 }],
    ["scale 18 is ok", { scale: 18 }],
    ["a 16-character code is ok", { code: "LOYALTY_POINTS_1" }],
    ["a 3-character code is ok", { code: "XPT" }],
  ])("validateCreateCurrency: %s", (_, over) => {
    expect(successOf(validateCreateCurrency(request(over), limits))).toEqual(request(over));
  });

  it.each<[string, Partial<NewCurrency>, Record<string, unknown>]>([
    ["scale -1 is CURRENCY_SCALE_RANGE", { scale: -1 }, { field: "scale", reason: "CURRENCY_SCALE_RANGE" }],
    ["scale 19 is CURRENCY_SCALE_RANGE", { scale: 19 }, { field: "scale", reason: "CURRENCY_SCALE_RANGE" }],
    ["scale 1.5 is CURRENCY_SCALE_RANGE", { scale: 1.5 }, { field: "scale", reason: "CURRENCY_SCALE_RANGE" }],
    ["scale NaN is CURRENCY_SCALE_RANGE", { scale: Number.NaN }, { field: "scale", reason: "CURRENCY_SCALE_RANGE" }],
    ["a lower-case code is CURRENCY_CODE_FORMAT", { code: "points" }, { field: "code", reason: "CURRENCY_CODE_FORMAT" }],
    ["a two-letter code is CURRENCY_CODE_FORMAT", { code: "PT" }, { field: "code", reason: "CURRENCY_CODE_FORMAT" }],
    ["a 17-character code is CURRENCY_CODE_FORMAT", { code: "LOYALTY_POINTS_12" }, { field: "code", reason: "CURRENCY_CODE_FORMAT" }],
    ["a code with a hyphen is CURRENCY_CODE_FORMAT", { code: "MY-PTS" }, { field: "code", reason: "CURRENCY_CODE_FORMAT" }],
    ["a code starting with a digit is CURRENCY_CODE_FORMAT", { code: "9PTS" }, { field: "code", reason: "CURRENCY_CODE_FORMAT" }],
    ["an empty code is CURRENCY_CODE_FORMAT", { code: "" }, { field: "code", reason: "CURRENCY_CODE_FORMAT" }],
    ["an empty idempotency key is EMPTY", { idempotencyKey: "" }, { field: "idempotencyKey", reason: "EMPTY" }],
  ])("validateCreateCurrency: %s", (_, over, expected) => {
    expect(problemOf(validateCreateCurrency(request(over), limits))).toMatchObject({ code: "InvalidInput", ...expected });
  });

  it("validateCreateCurrency: an overlong idempotency key is LimitExceeded", () => {
    expect(problemOf(validateCreateCurrency(request({ idempotencyKey: "k".repeat(256) }), limits))).toMatchObject({
      code: "LimitExceeded",
      limit: "idempotencyKeyLengthMax",
      max: "255",
    });
  });
});

// ------------------------------------------------------------------ ids

describe("ids", () => {
  const uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";

  it.each<[NodeType, string | bigint, string]>([
    ["Account", uuid, `acct_${uuid}`],
    ["Transfer", uuid, `tr_${uuid}`],
    ["Entry", 42n, "ent_42"],
    ["Entry", "1", "ent_1"],
    ["Entry", 2n ** 63n - 1n, "ent_9223372036854775807"],
  ])("toGlobalId/fromGlobalId/nodeTypeOf: %s %s round trips through %s", (type, raw, globalId) => {
    expect(toGlobalId(type, raw)).toBe(globalId);
    expect(fromGlobalId(type, globalId)).toBe(String(raw));
    expect(nodeTypeOf(globalId)).toBe(type);
  });

  it.each<[string, NodeType, string]>([
    ["an account id with another type's prefix", "Account", `tr_${uuid}`],
    ["a transfer id with another type's prefix", "Transfer", `acct_${uuid}`],
    ["an entry id with another type's prefix", "Entry", "acct_1"],
    ["a bare uuid", "Account", uuid],
    ["an upper-case uuid", "Account", `acct_${uuid.toUpperCase()}`],
    ["a uuid without dashes", "Account", `acct_${uuid.replaceAll("-", "")}`],
    ["a uuid with trailing text", "Account", `acct_${uuid}x`],
    ["a uuid with a trailing newline", "Transfer", `tr_${uuid}\n`],
    ["a non-uuid", "Transfer", "tr_abc"],
    ["the prefix alone", "Account", "acct_"],
    ["an upper-case prefix", "Account", `ACCT_${uuid}`],
    ["the empty string", "Account", ""],
    ["entry zero", "Entry", "ent_0"],
    ["an entry with a leading zero", "Entry", "ent_01"],
    ["a negative entry", "Entry", "ent_-1"],
    ["an entry past int64", "Entry", "ent_9223372036854775808"],
    ["a 20-digit entry", "Entry", "ent_12345678901234567890"],
    ["a fractional entry", "Entry", "ent_1.5"],
    ["an entry with a uuid", "Entry", `ent_${uuid}`],
  ])("fromGlobalId: %s is rejected", (_, type, globalId) => {
    expect(fromGlobalId(type, globalId)).toBeNull();
  });

  it.each<[string, NodeType | null]>([
    ["acct_anything", "Account"],
    ["tr_anything", "Transfer"],
    ["ent_anything", "Entry"],
    ["acct", null],
    ["ACCT_x", null],
    ["node_1", null],
    ["", null],
  ])("nodeTypeOf: %j is %s", (globalId, type) => {
    expect(nodeTypeOf(globalId)).toBe(type);
  });
});

// ------------------------------------------------------------------ canonical form

describe("canonicalJson / requestHash", () => {
  it.each<[string, unknown, unknown]>([
    ["key order does not matter", { b: 1, a: 2 }, { a: 2, b: 1 }],
    ["nested key order does not matter", { x: { d: [1, { z: 1, y: 2 }], c: null } }, { x: { c: null, d: [1, { y: 2, z: 1 }] } }],
    ["undefined fields are the same as absent ones", { a: 1, b: undefined }, { a: 1 }],
  ])("canonicalJson: %s", (_, left, right) => {
    expect(canonicalJson(left)).toBe(canonicalJson(right));
    expect(requestHash("op", left)).toBe(requestHash("op", right));
  });

  it.each<[string, unknown, string]>([
    ["keys are sorted", { b: 1, a: { d: 2, c: 3 } }, '{"a":{"c":3,"d":2},"b":1}'],
    ["bigints are decimal strings", { amount: 12345678901234567890n, neg: -5n }, '{"amount":"12345678901234567890","neg":"-5"}'],
    ["bigints in arrays are decimal strings", [1n, 2n], '["1","2"]'],
    ["array order is kept", [3, 1, 2], "[3,1,2]"],
    ["null is kept", { a: null }, '{"a":null}'],
    ["dates are ISO strings", { at: new Date("2026-11-21T18:00:00.000Z") }, '{"at":"2026-11-21T18:00:00.000Z"}'],
  ])("canonicalJson: %s", (_, value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it.each<[string, [string, unknown], [string, unknown]]>([
    ["different amounts differ", ["postTransfer", { amount: 1n }], ["postTransfer", { amount: 2n }]],
    ["different operations differ", ["createAccount", { code: "a" }], ["updateAccount", { code: "a" }]],
    ["an extra field differs", ["op", { a: 1 }], ["op", { a: 1, b: 2 }]],
    ["null differs from absent", ["op", { minBalance: null }], ["op", {}]],
    ["array order differs", ["op", { legs: [1, 2] }], ["op", { legs: [2, 1] }]],
  ])("requestHash: %s", (_, [op1, req1], [op2, req2]) => {
    expect(requestHash(op1, req1)).not.toBe(requestHash(op2, req2));
  });

  /** The first implementation, whose text every stored fingerprint was made from. */
  const sortedStringify = (value: unknown): string => {
    const sortDeep = (v: unknown): unknown => {
      if (typeof v === "bigint") return v.toString();
      if (Array.isArray(v)) return v.map(sortDeep);
      if (v !== null && typeof v === "object" && !(v instanceof Date)) {
        return Object.fromEntries(
          Object.keys(v)
            .sort()
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .map((k) => [k, sortDeep((v as Record<string, unknown>)[k])]),
        );
      }
      return v;
    };
    return JSON.stringify(sortDeep(value));
  };

  it.each<[string, unknown]>([
    [
      "a transfer",
      {
        idempotencyKey: "k-1",
        description: 'order "1001" ünïcödé \u2028',
        metadata: { z: [1, 2.5, null, true], a: { nested: "x" } },
        legs: [{ account: { accountId: "u" }, direction: "DEBIT", amountMinor: 9007199254740993n, currency: "USD" }],
      },
    ],
    ["a hold with an expiry date", { expiry: { expiresAt: new Date("2026-11-21T18:00:00.123Z") }, legs: [] }],
    ["undefined inside arrays and objects", { a: [undefined, 1], b: undefined, c: { d: undefined } }],
    ["empty containers and odd keys", { "": {}, "\n": [], é: [[]] }],
    ["negative zero and exponents", { n: -0, big: 1e21, small: 1e-7 }],
  ])("canonicalJson writes exactly the text of the first implementation: %s", (_, value) => {
    expect(canonicalJson(value)).toBe(sortedStringify(value));
  });

  it("requestHash: is a sha256 hex digest and stable across calls", () => {
    const request = { legs: [{ amountMinor: 100n, account: { accountId: "x" } }] };
    expect(requestHash("postTransfer", request)).toMatch(/^[0-9a-f]{64}$/);
    expect(requestHash("postTransfer", request)).toBe(requestHash("postTransfer", structuredClone(request)));
  });
});

// ------------------------------------------------------------------ balances

describe("postedBalance / withinBounds", () => {
  it.each<[Side, bigint, bigint, bigint]>([
    ["CREDIT", 0n, 0n, 0n],
    ["CREDIT", 30n, 100n, 70n],
    ["CREDIT", 100n, 30n, -70n],
    ["DEBIT", 30n, 100n, -70n],
    ["DEBIT", 100n, 30n, 70n],
    ["CREDIT", 0n, int64Max, int64Max],
    ["DEBIT", 0n, int64Max, -int64Max],
  ])("postedBalance: %s-normal with debits %s and credits %s is %s", (side, debitsPosted, creditsPosted, expected) => {
    expect(postedBalance(side, { debitsPosted, creditsPosted })).toBe(expected);
  });

  it.each<[string, bigint, BalanceBounds, boolean]>([
    ["no bounds allow anything", -(2n ** 70n), { minBalance: null, maxBalance: null }, true],
    ["the minimum itself is within", 0n, { minBalance: 0n, maxBalance: null }, true],
    ["one below the minimum is outside", -1n, { minBalance: 0n, maxBalance: null }, false],
    ["the maximum itself is within", 10n, { minBalance: null, maxBalance: 10n }, true],
    ["one above the maximum is outside", 11n, { minBalance: null, maxBalance: 10n }, false],
    ["between both bounds is within", 5n, { minBalance: -5n, maxBalance: 5n }, true],
    ["a negative minimum allows an overdraft", -50n, { minBalance: -100n, maxBalance: null }, true],
    ["below a negative minimum is outside", -101n, { minBalance: -100n, maxBalance: 0n }, false],
  ])("withinBounds: %s", (_, balance, bounds, expected) => {
    expect(withinBounds(balance, bounds)).toBe(expected);
  });
});
