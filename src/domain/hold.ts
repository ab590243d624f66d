// Holds and reversals: request validation and the rules of a hold's life, as plain functions.
// What needs the ledger's state under locks (balances, the hold's current status, the clock)
// is decided by the write engine (prisma/sql/engine.sql), which follows the
// same rules; the model test (test/ledger/model.test.ts) checks the two agree.
import { assert } from "./assert.js";
import { checkExternalRef, checkIdempotencyKey, checkMetadata, checkText, type Metadata } from "./fields.js";
import { fromGlobalId } from "./ids.js";
import { compareInstants } from "./instant.js";
import type { Limits } from "./limits.js";
import { parsePositiveAmount, type AmountInput } from "./money.js";
import { fail, holdNotFound, invalidInput, ok, transferNotFound, type Result } from "./problems.js";
import { validateTransfer, type Leg, type TransferRequest } from "./transfer.js";

export type HoldStatus = "OPEN" | "CAPTURED" | "VOIDED" | "EXPIRED";

export interface CreateHoldRequest extends TransferRequest {
  expiresAt?: Date | null;
  expiresInSeconds?: number | null;
}

/** Exactly one of expiresAt (checked against the clock by the database) and expiresInSeconds. */
export type Expiry = { expiresAt: Date } | { expiresInMs: number };

export interface NewHold {
  idempotencyKey: string;
  description: string;
  metadata: Metadata;
  /** Absent when the request has none; a capture that gives none takes this one. */
  externalRef?: string;
  legs: Leg[];
  expiry: Expiry;
}

export function validateCreateHold(request: CreateHoldRequest, limits: Limits): Result<NewHold> {
  const transfer = validateTransfer(request, limits);
  if (!transfer.ok) return transfer;
  const currencies = new Set(transfer.value.legs.map((leg) => leg.currency));
  if (currencies.size > 1) return fail(invalidInput("legs", "MIXED_CURRENCIES", "all legs of a hold must be in one currency"));
  const hasAt = request.expiresAt !== null && request.expiresAt !== undefined;
  const hasIn = request.expiresInSeconds !== null && request.expiresInSeconds !== undefined;
  if (hasAt === hasIn) return fail(invalidInput("expiresAt", "EXACTLY_ONE_OF", "give exactly one of expiresAt and expiresInSeconds"));
  if (hasIn) {
    const seconds = request.expiresInSeconds!;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > limits.holdDurationMaxSeconds) {
      return fail(invalidInput("expiresInSeconds", "EXPIRY_OUT_OF_RANGE", `must be between 1 and ${limits.holdDurationMaxSeconds}`));
    }
  }
  const expiry: Expiry = hasIn ? { expiresInMs: request.expiresInSeconds! * 1000 } : { expiresAt: request.expiresAt! };
  return ok({ ...transfer.value, expiry });
}

interface AmountAndNotes {
  /** Null: all that remains. */
  amountMinor: bigint | null;
  description: string;
  metadata: Metadata;
  /**
   * Absent when the request has none (then a capture's transfer takes its hold's, a reversal has
   * none), so the request's fingerprint is what it was before externalRef existed.
   */
  externalRef?: string;
}

/** The optional amount, description, metadata and externalRef of a capture or a reversal. */
function checkAmountAndNotes(
  request: { amount?: AmountInput | null; description?: string | null; metadata?: unknown; externalRef?: string | null },
  limits: Limits,
): Result<AmountAndNotes> {
  let amountMinor: bigint | null = null;
  if (request.amount !== null && request.amount !== undefined) {
    const amount = parsePositiveAmount(request.amount, "amount");
    if (!amount.ok) return amount;
    amountMinor = amount.value;
  }
  const description = checkText(request.description ?? "", "description", "descriptionLengthMax", limits, false);
  if (!description.ok) return description;
  const metadata = checkMetadata(request.metadata, "metadata", limits);
  if (!metadata.ok) return metadata;
  const externalRef = checkExternalRef(request.externalRef, limits);
  if (!externalRef.ok) return externalRef;
  return ok({
    amountMinor,
    description: description.value,
    metadata: metadata.value,
    ...(externalRef.value === undefined ? {} : { externalRef: externalRef.value }),
  });
}

export interface SettleHoldRequest {
  idempotencyKey: string;
  holdId: string;
  amount?: AmountInput | null;
  description?: string | null;
  metadata?: unknown;
  externalRef?: string | null;
}

export interface HoldSettlement extends AmountAndNotes {
  idempotencyKey: string;
  /** The raw uuid. */
  holdId: string;
}

export function validateSettleHold(request: SettleHoldRequest, limits: Limits): Result<HoldSettlement> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const holdId = fromGlobalId("Hold", request.holdId);
  if (holdId === null) return fail(holdNotFound(request.holdId));
  const details = checkAmountAndNotes(request, limits);
  if (!details.ok) return details;
  return ok({ idempotencyKey: key.value, holdId, ...details.value });
}

export interface ReverseRequest {
  idempotencyKey: string;
  transferId: string;
  amount?: AmountInput | null;
  force?: boolean | null;
  description?: string | null;
  metadata?: unknown;
  externalRef?: string | null;
}

export interface Reversal extends AmountAndNotes {
  idempotencyKey: string;
  /** The raw uuid of a transfer, or of a hold (which is refused as NotReversible). */
  target: { transferId: string } | { holdId: string };
  force: boolean;
}

export function validateReverse(request: ReverseRequest, limits: Limits): Result<Reversal> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const transferId = fromGlobalId("Transfer", request.transferId);
  const holdId = transferId === null ? fromGlobalId("Hold", request.transferId) : null;
  if (transferId === null && holdId === null) return fail(transferNotFound(request.transferId));
  const details = checkAmountAndNotes(request, limits);
  if (!details.ok) return details;
  return ok({
    idempotencyKey: key.value,
    target: transferId !== null ? { transferId } : { holdId: holdId! },
    force: request.force ?? false,
    ...details.value,
  });
}

// ------------------------------------------------------------------ a hold's life

export interface HoldState {
  status: HoldStatus;
  amount: bigint;
  capturedAmount: bigint;
  /** What a void or the expiry gave back. */
  releasedAmount: bigint;
  expiresAt: Date;
}

/** A hold as readers see it at `now`: expired from expiresAt on, released or not. */
export interface HoldView {
  status: HoldStatus;
  capturedAmount: bigint;
  voidedAmount: bigint;
  expiredAmount: bigint;
  remainingAmount: bigint;
}

function isExpiredAt(hold: Pick<HoldState, "expiresAt">, now: Date): boolean {
  return compareInstants(now, hold.expiresAt) >= 0;
}

export function viewHold(hold: HoldState, now: Date): HoldView {
  const remaining = hold.amount - hold.capturedAmount - hold.releasedAmount;
  assert(remaining >= 0n, "a hold never settles more than its amount");
  const lapsed = hold.status === "OPEN" && isExpiredAt(hold, now);
  const status: HoldStatus = lapsed ? "EXPIRED" : hold.status;
  return {
    status,
    capturedAmount: hold.capturedAmount,
    voidedAmount: hold.status === "VOIDED" ? hold.releasedAmount : 0n,
    expiredAmount: hold.status === "EXPIRED" ? hold.releasedAmount : lapsed ? remaining : 0n,
    remainingAmount: status === "OPEN" ? remaining : 0n,
  };
}

export type SettleAction = { kind: "capture"; amountMinor: bigint | null } | { kind: "void" };

export type SettleDecision =
  | { ok: true; kind: "capture"; amountMinor: bigint; next: HoldState }
  | { ok: true; kind: "void"; releasedMinor: bigint; next: HoldState }
  | { ok: false; code: "HoldExpired" | "HoldNotOpen" | "CaptureExceedsRemaining" | "PartialMultiLeg"; next: HoldState };

/**
 * The one legal outcome of a capture or void at `now` (the instant taken under the hold's
 * lock). At or after expiresAt an open hold expires first, so the request answers HoldExpired.
 * `next` is the state afterwards (also on a rejection: an expiry found by it is recorded).
 */
export function settleHold(hold: HoldState, action: SettleAction, legCount: number, now: Date): SettleDecision {
  let state = hold;
  if (state.status === "OPEN" && isExpiredAt(state, now)) {
    state = { ...state, status: "EXPIRED", releasedAmount: state.amount - state.capturedAmount };
  }
  if (state.status === "EXPIRED") return { ok: false, code: "HoldExpired", next: state };
  if (state.status !== "OPEN") return { ok: false, code: "HoldNotOpen", next: state };
  const remaining = state.amount - state.capturedAmount;
  if (action.kind === "void") {
    return { ok: true, kind: "void", releasedMinor: remaining, next: { ...state, status: "VOIDED", releasedAmount: remaining } };
  }
  const requested = action.amountMinor ?? remaining;
  if (legCount !== 2 && requested !== remaining) return { ok: false, code: "PartialMultiLeg", next: state };
  if (requested > remaining) return { ok: false, code: "CaptureExceedsRemaining", next: state };
  const capturedAmount = state.capturedAmount + requested;
  return {
    ok: true,
    kind: "capture",
    amountMinor: requested,
    next: { ...state, capturedAmount, status: capturedAmount === state.amount ? "CAPTURED" : "OPEN" },
  };
}
