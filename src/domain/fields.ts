// Checks shared by every input: keys, texts (length and characters, see text.ts), metadata.
import type { Limits } from "./limits.js";
import { fail, invalidInput, limitExceeded, ok, type Result } from "./problems.js";
import { checkCharacters, checkJsonValue } from "./text.js";

export type Metadata = Record<string, unknown>;

export function checkIdempotencyKey(key: string, limits: Limits, field = "idempotencyKey"): Result<string> {
  if (key.length === 0) return fail(invalidInput(field, "EMPTY", "must not be empty"));
  if (key.length > limits.idempotencyKeyLengthMax) {
    return fail(limitExceeded("idempotencyKeyLengthMax", limits.idempotencyKeyLengthMax, `${field} length`));
  }
  return checkCharacters(key, field, "identifier");
}

/**
 * A payment provider's reference (a charge, payout or refund id) on a transfer or hold: absent
 * (undefined), or 1..externalRefLengthMax identifier characters. Not unique: a charge and its
 * refunds may share one. An empty string is refused rather than taken for "none", so a client
 * that forgot to fill it in hears about it.
 */
export function checkExternalRef(ref: string | null | undefined, limits: Limits, field = "externalRef"): Result<string | undefined> {
  if (ref === null || ref === undefined) return ok(undefined);
  if (ref.length === 0) return fail(invalidInput(field, "EMPTY", "must not be empty: leave it out for none"));
  if (ref.length > limits.externalRefLengthMax) {
    return fail(limitExceeded("externalRefLengthMax", limits.externalRefLengthMax, `${field} length`));
  }
  return checkCharacters(ref, field, "identifier");
}

const currencyCodePattern = /^[A-Z][A-Z0-9_]{2,15}$/;

/**
 * A currency code as every input gives it (accounts, currencies, transfer legs, holds): the same
 * answer for the same mistake everywhere, so "usd" is InvalidInput, never a CurrencyMismatch.
 */
export function checkCurrencyCode(code: string, field: string): Result<string> {
  return currencyCodePattern.test(code) ? ok(code) : fail(invalidInput(field, "CURRENCY_CODE_FORMAT", "must match ^[A-Z][A-Z0-9_]{2,15}$"));
}

export function checkText(
  text: string,
  field: string,
  limit: "descriptionLengthMax" | "nameLengthMax" | "accountCodeLengthMax",
  limits: Limits,
  required: boolean,
): Result<string> {
  if (required && text.trim().length === 0) return fail(invalidInput(field, "EMPTY", "must not be empty"));
  if (text.length > limits[limit]) return fail(limitExceeded(limit, limits[limit], `${field} length`));
  return checkCharacters(text, field, limit === "accountCodeLengthMax" ? "identifier" : "prose");
}

/** Metadata is a JSON object whose serialized size (UTF-8) stays under the limit. */
export function checkMetadata(value: unknown, field: string, limits: Limits): Result<Metadata> {
  if (value === null || value === undefined) return ok({});
  if (typeof value !== "object" || Array.isArray(value)) {
    return fail(invalidInput(field, "METADATA_NOT_OBJECT", "must be a JSON object"));
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), "utf8");
  if (bytes > limits.metadataBytesMax) {
    return fail(limitExceeded("metadataBytesMax", limits.metadataBytesMax, `${field} size in bytes`));
  }
  const checked = checkJsonValue(value, field);
  return checked.ok ? ok(value as Metadata) : checked;
}
