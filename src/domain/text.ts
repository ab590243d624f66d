// Which characters a text input may hold. Three levels, each a superset of the refusals before:
//   storable    what PostgreSQL can keep at all: no NUL (U+0000), no unpaired surrogate (it has
//               no UTF-8 form). Every string a client sends, lookups and metadata included.
//   prose       descriptions and names, which people read: storable, and no control character
//               but tab, line feed and carriage return. Bidirectional controls are allowed (RTL
//               text needs them); screens must show such text isolated (<bdi>, dir="auto").
//   identifier  account codes, idempotency keys and external references, which people compare
//               and copy: prose, and
//               no tab or line break either, no bidirectional control (U+061C, U+200E, U+200F,
//               U+202A..U+202E, U+2066..U+2069) and no line or paragraph separator: two codes
//               that look alike on a screen are alike in bytes.
import { fail, invalidInput, ok, type Result } from "./problems.js";

export type TextLevel = "storable" | "prose" | "identifier";

const refused: Record<TextLevel, RegExp> = {
  storable: /[\u0000\p{Cs}]/u,
  prose: /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\p{Cs}]/u,
  identifier: /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u2028-\u202E\u2066-\u2069\p{Cs}]/u,
};

const describe = (character: string): string => {
  const unit = character.codePointAt(0)!;
  return `U+${unit.toString(16).toUpperCase().padStart(4, "0")}`;
};

/** The first refused character of `text` at `level`, as "U+XXXX at position n", or null. */
export function refusedCharacter(text: string, level: TextLevel): string | null {
  const match = refused[level].exec(text);
  return match ? `${describe(match[0])} at position ${match.index}` : null;
}

export function checkCharacters(text: string, field: string, level: TextLevel): Result<string> {
  const found = refusedCharacter(text, level);
  if (found === null) return ok(text);
  const rule =
    level === "identifier"
      ? "control, bidirectional-control and unpaired-surrogate characters are refused"
      : level === "prose"
        ? "NUL, control characters other than tab and line breaks, and unpaired surrogates are refused"
        : "NUL and unpaired surrogates are refused";
  return fail(invalidInput(field, "FORBIDDEN_CHARACTER", `contains ${found}: ${rule}`));
}

/**
 * Every key and string of a JSON value is storable, and every number keeps its value: a number
 * of magnitude 2^53 or more may already have been rounded by JSON.parse (9007199254740993 reads
 * as ...992), so it is refused rather than stored changed; send such numbers as strings.
 */
export function checkJsonValue(value: unknown, field: string): Result<void> {
  if (typeof value === "string") return voidOf(checkCharacters(value, field, "storable"));
  if (typeof value === "number") {
    return Number.isInteger(value) && !Number.isSafeInteger(value)
      ? fail(invalidInput(field, "UNSAFE_NUMBER", `${value} lies beyond 2^53, where JSON numbers are not exact: send it as a string`))
      : ok(undefined);
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const checked = checkJsonValue(item, `${field}[${index}]`);
      if (!checked.ok) return checked;
    }
    return ok(undefined);
  }
  if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      const name = checkCharacters(key, `${field} key`, "storable");
      if (!name.ok) return name;
      const checked = checkJsonValue(item, `${field}.${key}`);
      if (!checked.ok) return checked;
    }
  }
  return ok(undefined);
}

const voidOf = (result: Result<unknown>): Result<void> => (result.ok ? ok(undefined) : result);
