// Validation of account and currency requests.
import type { BalanceBounds, Side } from "./balance.js";
import { checkCurrencyCode, checkIdempotencyKey, checkMetadata, checkText, type Metadata } from "./fields.js";
import type { Limits } from "./limits.js";
import { parseSignedAmount, type AmountInput } from "./money.js";
import { fail, invalidInput, ok, type Result } from "./problems.js";

export interface CreateAccountRequest {
  idempotencyKey: string;
  code: string;
  name: string;
  currency: string;
  normalSide: Side;
  minBalance?: AmountInput | null;
  maxBalance?: AmountInput | null;
  metadata?: unknown;
}

export interface NewAccount extends BalanceBounds {
  idempotencyKey: string;
  code: string;
  name: string;
  currency: string;
  normalSide: Side;
  metadata: Metadata;
}

export interface UpdateAccountRequest {
  idempotencyKey: string;
  id: string;
  name?: string | null;
  metadata?: unknown;
  minBalance?: AmountInput | null;
  maxBalance?: AmountInput | null;
}

/** Only the fields present change; `null` bounds remove a bound. */
export interface AccountChanges {
  name?: string;
  metadata?: Metadata;
  minBalance?: bigint | null;
  maxBalance?: bigint | null;
}

function parseBound(text: AmountInput | null | undefined, field: string): Result<bigint | null> {
  return text === null || text === undefined ? ok(null) : parseSignedAmount(text, field);
}

export function checkBoundsOrder(bounds: BalanceBounds): Result<BalanceBounds> {
  if (bounds.minBalance !== null && bounds.maxBalance !== null && bounds.minBalance > bounds.maxBalance) {
    return fail(invalidInput("minBalance", "BOUNDS_INVERTED", "must not exceed maxBalance"));
  }
  return ok(bounds);
}

export function validateCreateAccount(request: CreateAccountRequest, limits: Limits): Result<NewAccount> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const code = checkText(request.code, "code", "accountCodeLengthMax", limits, true);
  if (!code.ok) return code;
  const name = checkText(request.name, "name", "nameLengthMax", limits, true);
  if (!name.ok) return name;
  const currency = checkCurrencyCode(request.currency, "currency");
  if (!currency.ok) return currency;
  const metadata = checkMetadata(request.metadata, "metadata", limits);
  if (!metadata.ok) return metadata;
  const minBalance = parseBound(request.minBalance, "minBalance");
  if (!minBalance.ok) return minBalance;
  const maxBalance = parseBound(request.maxBalance, "maxBalance");
  if (!maxBalance.ok) return maxBalance;
  const bounds = checkBoundsOrder({ minBalance: minBalance.value, maxBalance: maxBalance.value });
  if (!bounds.ok) return bounds;
  return ok({
    idempotencyKey: key.value,
    code: code.value,
    name: name.value,
    currency: request.currency,
    normalSide: request.normalSide,
    metadata: metadata.value,
    ...bounds.value,
  });
}

export function validateUpdateAccount(request: UpdateAccountRequest, limits: Limits): Result<AccountChanges> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const changes: AccountChanges = {};
  if (request.name !== undefined) {
    const name = checkText(request.name ?? "", "name", "nameLengthMax", limits, true);
    if (!name.ok) return name;
    changes.name = name.value;
  }
  if (request.metadata !== undefined) {
    const metadata = checkMetadata(request.metadata, "metadata", limits);
    if (!metadata.ok) return metadata;
    changes.metadata = metadata.value;
  }
  for (const field of ["minBalance", "maxBalance"] as const) {
    if (request[field] === undefined) continue;
    const bound = parseBound(request[field], field);
    if (!bound.ok) return bound;
    changes[field] = bound.value;
  }
  return ok(changes);
}

export interface NewCurrency {
  idempotencyKey: string;
  code: string;
  scale: number;
}

export function validateCreateCurrency(request: NewCurrency, limits: Limits): Result<NewCurrency> {
  const key = checkIdempotencyKey(request.idempotencyKey, limits);
  if (!key.ok) return key;
  const code = checkCurrencyCode(request.code, "code");
  if (!code.ok) return code;
  if (!Number.isInteger(request.scale) || request.scale < 0 || request.scale > 18) {
    return fail(invalidInput("scale", "CURRENCY_SCALE_RANGE", "must be an integer from 0 to 18"));
  }
  return ok(request);
}
