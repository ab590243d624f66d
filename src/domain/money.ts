// Money is bigint minor units. Amounts arrive as decimal strings and never pass through `number`.
import { fail, invalidInput, ok, type Result } from "./problems.js";

export const int64Max = 2n ** 63n - 1n;
export const int64Min = -(2n ** 63n);

/**
 * What a client sent for an Amount or BigInt that was not a JSON string (a JSON number, a bare
 * GraphQL literal). A JSON number may already have lost digits when the request was parsed
 * (9007199254740993 reads as ...992), so such a value is never taken: the domain answers
 * InvalidInput (AMOUNT_NOT_A_STRING) instead of guessing what was meant.
 */
export class NotAString {
  constructor(readonly sent: string) {}
}

/** An Amount or BigInt argument as the API hands it over: a string, or what was not one. */
export type AmountInput = string | NotAString;

/**
 * The one accepted spelling of an integer: optional minus, then digits without leading zeros
 * ("0", "1050", "-25"). "007", "-0", "+5", " 5", "1e3" and "10.50" are refused, so every
 * amount has exactly one text form.
 */
const integerPattern = /^(0|-?[1-9]\d*)$/;
const digitsPattern = /^-?\d+$/;

/** Parses a signed amount of minor units (bounds may be negative); rejects anything but an integer. */
export function parseSignedAmount(input: AmountInput, field: string): Result<bigint> {
  if (typeof input !== "string") {
    return fail(invalidInput(field, "AMOUNT_NOT_A_STRING", `send amounts as JSON strings of minor units, e.g. "1050" (got ${input.sent})`));
  }
  if (!integerPattern.test(input)) {
    return digitsPattern.test(input)
      ? fail(invalidInput(field, "AMOUNT_LEADING_ZERO", `"${input}" has a leading zero or is -0; write it without`))
      : fail(invalidInput(field, "AMOUNT_NOT_INTEGER", `"${input}" is not an integer number of minor units`));
  }
  if (input.replace("-", "").length > 40) {
    return fail(invalidInput(field, "AMOUNT_OUT_OF_RANGE", "outside the signed 64-bit range"));
  }
  const value = BigInt(input);
  if (value > int64Max || value < int64Min) {
    return fail(invalidInput(field, "AMOUNT_OUT_OF_RANGE", "outside the signed 64-bit range"));
  }
  return ok(value);
}

/** Parses the amount of a leg: a positive integer within the signed 64-bit range. */
export function parsePositiveAmount(input: AmountInput, field: string): Result<bigint> {
  const parsed = parseSignedAmount(input, field);
  if (parsed.ok && parsed.value <= 0n) {
    return fail(invalidInput(field, "AMOUNT_NOT_POSITIVE", "must be greater than zero"));
  }
  return parsed;
}
