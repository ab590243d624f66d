// Validation of transfer requests: everything that can be decided without the database.
// What needs the ledger's state (accounts exist, currency matches, bounds) is decided by the
// posting function under locks (prisma/migrations/*_write_path).
import { assert } from "./assert.js";
import type { Side } from "./balance.js";
import { checkCurrencyCode, checkExternalRef, checkIdempotencyKey, checkMetadata, checkText, type Metadata } from "./fields.js";
import { fromGlobalId } from "./ids.js";
import type { Limits } from "./limits.js";
import { parsePositiveAmount, type AmountInput } from "./money.js";
import { checkCharacters } from "./text.js";
import { accountNotFound, fail, invalidInput, limitExceeded, ok, type Problem, type Result } from "./problems.js";

export interface AccountRefRequest {
  id?: string | null;
  code?: string | null;
}

export interface LegRequest {
  account: AccountRefRequest;
  direction: Side;
  amount: AmountInput;
  currency: string;
}

export interface TransferRequest {
  idempotencyKey: string;
  description?: string | null;
  metadata?: unknown;
  externalRef?: string | null;
  from?: AccountRefRequest | null;
  to?: AccountRefRequest | null;
  amount?: AmountInput | null;
  currency?: string | null;
  legs?: LegRequest[] | null;
}

/** An account named by its raw uuid or by its code. */
export type AccountRef = { accountId: string } | { accountCode: string };

export interface Leg {
  account: AccountRef;
  direction: Side;
  amountMinor: bigint;
  currency: string;
}

export interface Transfer {
  idempotencyKey: string;
  description: string;
  metadata: Metadata;
  /** Absent when the request has none, so the request's fingerprint is what it was before externalRef existed. */
  externalRef?: string;
  legs: Leg[];
}

function parseAccountRef(ref: AccountRefRequest, field: string): Result<AccountRef> {
  const hasId = ref.id !== null && ref.id !== undefined;
  const hasCode = ref.code !== null && ref.code !== undefined;
  if (hasId === hasCode) return fail(invalidInput(field, "EXACTLY_ONE_OF", "give exactly one of id and code"));
  if (hasId) {
    const accountId = fromGlobalId("Account", ref.id!);
    return accountId === null ? fail(accountNotFound(ref.id!)) : ok({ accountId });
  }
  if (ref.code!.length === 0) return fail(invalidInput(`${field}.code`, "EMPTY", "must not be empty"));
  // A lookup, so only what could never be stored is refused: codes made before the stricter
  // rules for new codes (text.ts) can still be named.
  const code = checkCharacters(ref.code!, `${field}.code`, "storable");
  return code.ok ? ok({ accountCode: code.value }) : code;
}

/** The two-leg shorthand becomes a debit of `from` and a credit of `to`. */
function legsOf(request: TransferRequest): Result<LegRequest[]> {
  const shorthand = [request.from, request.to, request.amount, request.currency];
  const shorthandGiven = shorthand.filter((v) => v !== null && v !== undefined).length;
  const legsGiven = request.legs !== null && request.legs !== undefined;
  if (legsGiven && shorthandGiven === 0) return ok(request.legs!);
  if (!legsGiven && shorthandGiven === 4) {
    const { from, to, amount, currency } = request as Required<{ [K in keyof TransferRequest]: NonNullable<TransferRequest[K]> }>;
    return ok([
      { account: from, direction: "DEBIT", amount, currency },
      { account: to, direction: "CREDIT", amount, currency },
    ]);
  }
  return fail(invalidInput("legs", "TRANSFER_FORM", "give either legs, or all of from, to, amount and currency"));
}

function refKey(ref: AccountRef): string {
  return "accountId" in ref ? `id:${ref.accountId}` : `code:${ref.accountCode}`;
}

/** Checks a transfer request and returns it in the form the posting function takes. */
export function validateTransfer(request: TransferRequest, limits: Limits): Result<Transfer> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const description = checkText(request.description ?? "", "description", "descriptionLengthMax", limits, false);
  if (!description.ok) return description;
  const metadata = checkMetadata(request.metadata, "metadata", limits);
  if (!metadata.ok) return metadata;
  const externalRef = checkExternalRef(request.externalRef, limits);
  if (!externalRef.ok) return externalRef;
  const legRequests = legsOf(request);
  if (!legRequests.ok) return legRequests;
  if (legRequests.value.length < 2) return fail(invalidInput("legs", "TOO_FEW_LEGS", "a transfer needs at least two legs"));
  if (legRequests.value.length > limits.legsPerTransferMax) {
    return fail(limitExceeded("legsPerTransferMax", limits.legsPerTransferMax, "number of legs"));
  }

  const legs: Leg[] = [];
  const seen = new Set<string>();
  for (const [index, legRequest] of legRequests.value.entries()) {
    const field = request.legs ? `legs[${index}]` : index === 0 ? "from" : "to";
    const account = parseAccountRef(legRequest.account, request.legs ? `${field}.account` : field);
    if (!account.ok) return withLegIndex(account.problem, index);
    if (seen.has(refKey(account.value))) {
      return fail(invalidInput(field, "DUPLICATE_ACCOUNT", "an account may appear on only one leg of a transfer"));
    }
    seen.add(refKey(account.value));
    const amount = parsePositiveAmount(legRequest.amount, request.legs ? `${field}.amount` : "amount");
    if (!amount.ok) return amount;
    const currency = checkCurrencyCode(legRequest.currency, request.legs ? `${field}.currency` : "currency");
    if (!currency.ok) return currency;
    legs.push({ account: account.value, direction: legRequest.direction, amountMinor: amount.value, currency: legRequest.currency });
  }

  const unbalanced = findUnbalancedCurrency(legs);
  if (unbalanced) return fail(unbalanced);
  return ok({
    idempotencyKey: key.value,
    description: description.value,
    metadata: metadata.value,
    ...(externalRef.value === undefined ? {} : { externalRef: externalRef.value }),
    legs,
  });
}

function withLegIndex(problem: Problem, legIndex: number): Result<never> {
  return fail(problem.code === "AccountNotFound" ? { ...problem, legIndex } : problem);
}

/** Debits must equal credits in every currency. */
function findUnbalancedCurrency(legs: Leg[]): Problem | null {
  const totals = new Map<string, { debits: bigint; credits: bigint }>();
  for (const leg of legs) {
    assert(leg.amountMinor > 0n, "leg amounts are positive");
    const total = totals.get(leg.currency) ?? { debits: 0n, credits: 0n };
    if (leg.direction === "DEBIT") total.debits += leg.amountMinor;
    else total.credits += leg.amountMinor;
    totals.set(leg.currency, total);
  }
  for (const [currency, { debits, credits }] of totals) {
    if (debits !== credits) {
      return {
        code: "UnbalancedTransfer",
        currency,
        debits: debits.toString(),
        credits: credits.toString(),
        message: `debits (${debits}) and credits (${credits}) differ in ${currency}`,
      };
    }
  }
  return null;
}
