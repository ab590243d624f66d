// Money formatting with string/BigInt arithmetic only: amounts are integer minor units as
// decimal strings (GraphQL `Amount`), which may exceed 2^53, so they never become a `number`.

const integerPattern = /^-?\d+$/;

/** The amount as a BigInt; throws on anything that is not a decimal integer string. */
export function parseMinor(amountMinor: string): bigint {
  if (!integerPattern.test(amountMinor)) throw new RangeError(`not an amount in minor units: ${JSON.stringify(amountMinor)}`);
  return BigInt(amountMinor);
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** "-123456", 2 -> "-1,234.56"; "5", 2 -> "0.05"; "1000", 0 -> "1,000". */
export function formatMinor(amountMinor: string, scale: number): string {
  if (!Number.isInteger(scale) || scale < 0) throw new RangeError(`bad scale: ${scale}`);
  const value = parseMinor(amountMinor);
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, "0");
  const whole = groupThousands(digits.slice(0, digits.length - scale));
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : "";
  return (negative ? "-" : "") + whole + fraction;
}

export interface CurrencyRef {
  code: string;
  scale: number;
}

/** "1,234.56 USD". */
export function formatMoney(amountMinor: string, currency: CurrencyRef): string {
  return `${formatMinor(amountMinor, currency.scale)} ${currency.code}`;
}

/** Compares two amounts (or versions) given as decimal strings: -1, 0 or 1. */
export function compareMinor(a: string, b: string): -1 | 0 | 1 {
  const x = parseMinor(a);
  const y = parseMinor(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
