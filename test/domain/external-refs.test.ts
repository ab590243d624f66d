// External references (a payment provider's charge, payout or refund id) in the pure core: the
// check itself, each validator that takes one, and the request fingerprints they make.
import { describe, expect, it } from "vitest";
import { requestHash } from "../../src/domain/canonical.js";
import { checkExternalRef } from "../../src/domain/fields.js";
import { validateCreateHold, validateReverse, validateSettleHold } from "../../src/domain/hold.js";
import { toGlobalId } from "../../src/domain/ids.js";
import { limitsDefault, type Limits } from "../../src/domain/limits.js";
import type { Problem, Result } from "../../src/domain/problems.js";
import { validateTransfer, type TransferRequest } from "../../src/domain/transfer.js";

const limits: Limits = limitsDefault;
const uuid = "0b9f3c1e-6d2a-4c8e-9f71-2a5b3c4d5e6f";
const accountA = toGlobalId("Account", uuid.replace(/^0/, "1"));
const accountB = toGlobalId("Account", uuid.replace(/^0/, "2"));
const holdId = toGlobalId("Hold", uuid);
const transferId = toGlobalId("Transfer", uuid);

function problemOf<T>(result: Result<T>): Problem {
  if (result.ok) throw new Error(`expected a problem, got ${JSON.stringify(result.value)}`);
  return result.problem;
}

function successOf<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.problem)}`);
  return result.value;
}

const transfer = (over: Partial<TransferRequest> = {}): TransferRequest => ({
  idempotencyKey: "tr-1",
  from: { id: accountA },
  to: { id: accountB },
  amount: "100",
  currency: "USD",
  ...over,
});

describe("checkExternalRef", () => {
  it.each<[string, string | null | undefined, string | undefined]>([
    ["absent", undefined, undefined],
    ["null, as GraphQL gives an explicit null", null, undefined],
    ["a Stripe charge id", "ch_3N8x2fLkdIwHu7ix0snN0B15", "ch_3N8x2fLkdIwHu7ix0snN0B15"],
    ["a refund id with dashes and dots", "re-2026.11.21-0001", "re-2026.11.21-0001"],
    ["one character", "x", "x"],
    ["exactly externalRefLengthMax characters", "r".repeat(limits.externalRefLengthMax), "r".repeat(limits.externalRefLengthMax)],
    ["non-ASCII letters", "paiement-été", "paiement-été"],
  ])("takes %s", (_, ref, expected) => {
    expect(successOf(checkExternalRef(ref, limits))).toBe(expected);
  });

  it.each<[string, string, Record<string, unknown>]>([
    ["an empty string", "", { code: "InvalidInput", field: "externalRef", reason: "EMPTY" }],
    [
      "one character over externalRefLengthMax",
      "r".repeat(limits.externalRefLengthMax + 1),
      { code: "LimitExceeded", limit: "externalRefLengthMax", max: String(limits.externalRefLengthMax) },
    ],
    ["NUL", "ch_\u00001", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["a tab", "ch_\t1", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["a line feed", "ch_1\n", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["an escape (C0 control)", "\u001B[31mch_1", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["a C1 control", "ch_\u00851", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["a right-to-left override", "ch_\u202E1", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
    ["an unpaired surrogate", "ch_\uD8001", { code: "InvalidInput", field: "externalRef", reason: "FORBIDDEN_CHARACTER" }],
  ])("refuses %s", (_, ref, expected) => {
    const problem = problemOf(checkExternalRef(ref, limits));
    expect(problem).toMatchObject(expected);
    expect(problem.message.length).toBeGreaterThan(0);
  });

  it("follows a lowered externalRefLengthMax", () => {
    const small = { ...limits, externalRefLengthMax: 4 };
    expect(successOf(checkExternalRef("abcd", small))).toBe("abcd");
    expect(problemOf(checkExternalRef("abcde", small))).toMatchObject({ code: "LimitExceeded", limit: "externalRefLengthMax", max: "4" });
  });
});

describe("validators that take an externalRef", () => {
  const validators: [string, (externalRef: string | null | undefined) => Result<{ externalRef?: string }>][] = [
    ["validateTransfer", (externalRef) => validateTransfer(transfer({ externalRef }), limits)],
    ["validateCreateHold", (externalRef) => validateCreateHold({ ...transfer({ externalRef }), expiresInSeconds: 60 }, limits)],
    ["validateSettleHold", (externalRef) => validateSettleHold({ idempotencyKey: "c-1", holdId, externalRef }, limits)],
    ["validateReverse", (externalRef) => validateReverse({ idempotencyKey: "r-1", transferId, externalRef }, limits)],
  ];

  it.each(validators)("%s keeps a given externalRef", (_, validate) => {
    expect(successOf(validate("ch_1")).externalRef).toBe("ch_1");
  });

  it.each(validators)("%s leaves an absent or null externalRef out of the request (its fingerprint is unchanged)", (_, validate) => {
    for (const absent of [undefined, null]) expect("externalRef" in successOf(validate(absent))).toBe(false);
  });

  it.each(validators)("%s refuses an empty, over-long or control-character externalRef", (_, validate) => {
    expect(problemOf(validate(""))).toMatchObject({ code: "InvalidInput", field: "externalRef", reason: "EMPTY" });
    expect(problemOf(validate("r".repeat(limits.externalRefLengthMax + 1)))).toMatchObject({ limit: "externalRefLengthMax" });
    expect(problemOf(validate("a\u0007b"))).toMatchObject({ field: "externalRef", reason: "FORBIDDEN_CHARACTER" });
  });

  it("a transfer's fingerprint changes with its externalRef and is the old one without it", () => {
    const hash = (externalRef?: string | null) =>
      requestHash("postTransfer", successOf(validateTransfer(transfer({ externalRef }), limits)));
    // The shape every fingerprint stored before externalRef existed was made from.
    const { legs } = successOf(validateTransfer(transfer(), limits));
    expect(hash()).toBe(requestHash("postTransfer", { idempotencyKey: "tr-1", description: "", metadata: {}, legs }));
    expect(hash(null)).toBe(hash());
    expect(hash("ch_1")).not.toBe(hash());
    expect(hash("ch_1")).not.toBe(hash("ch_2"));
  });
});
