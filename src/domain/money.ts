// Money is bigint minor units. Amounts arrive as decimal strings and never pass through `number`.
import { fail, invalidInput, ok, type Result } from "./problems.js";

export const int64Max = 2n ** 63n - 1n;
export const int64Min = -(2n ** 63n);

const integerPattern = /^-?\d+$/;

/** Parses a signed amount of minor units (bounds may be negative); rejects anything but an integer. */
export function parseSignedAmount(text: string, field: string): Result<bigint> {
  if (!integerPattern.test(text)) {
    return fail(invalidInput(field, "AMOUNT_NOT_INTEGER", `"${text}" is not an integer number of minor units`));
  }
  if (text.replace("-", "").length > 40) {
    return fail(invalidInput(field, "AMOUNT_OUT_OF_RANGE", "outside the signed 64-bit range"));
  }
  const value = BigInt(text);
  if (value > int64Max || value < int64Min) {
    return fail(invalidInput(field, "AMOUNT_OUT_OF_RANGE", "outside the signed 64-bit range"));
  }
  return ok(value);
}

/** Parses the amount of a leg: a positive integer within the signed 64-bit range. */
export function parsePositiveAmount(text: string, field: string): Result<bigint> {
  const parsed = parseSignedAmount(text, field);
  if (parsed.ok && parsed.value <= 0n) {
    return fail(invalidInput(field, "AMOUNT_NOT_POSITIVE", "must be greater than zero"));
  }
  return parsed;
}
