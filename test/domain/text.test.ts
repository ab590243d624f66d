// The character rules of text inputs (src/domain/text.ts), level by level.
import { describe, expect, it } from "vitest";
import { checkCharacters, checkJsonValue, refusedCharacter, type TextLevel } from "../../src/domain/text.js";

const levels: TextLevel[] = ["storable", "prose", "identifier"];

describe("refusedCharacter", () => {
  // [what, text, refused at storable / prose / identifier]
  it.each<[string, string, [boolean, boolean, boolean]]>([
    ["plain ASCII", "merchant:shirtypuff", [false, false, false]],
    ["accented letters, CJK and an emoji (a surrogate pair)", "Café 東京 💶", [false, false, false]],
    ["NUL", "a\u0000b", [true, true, true]],
    ["a lone high surrogate", "a\uD800b", [true, true, true]],
    ["a lone low surrogate", "a\uDC00b", [true, true, true]],
    ["a high surrogate at the end", "a\uD83D", [true, true, true]],
    ["tab", "a\tb", [false, false, true]],
    ["line feed", "a\nb", [false, false, true]],
    ["carriage return", "a\rb", [false, false, true]],
    ["bell (other C0)", "a\u0007b", [false, true, true]],
    ["escape", "a\u001B[31m", [false, true, true]],
    ["delete", "a\u007Fb", [false, true, true]],
    ["a C1 control (NEL)", "a\u0085b", [false, true, true]],
    ["right-to-left override", "a\u202Eb", [false, false, true]],
    ["left-to-right embedding", "a\u202Ab", [false, false, true]],
    ["pop directional formatting", "a\u202Cb", [false, false, true]],
    ["first strong isolate", "a\u2068b", [false, false, true]],
    ["pop directional isolate", "a\u2069b", [false, false, true]],
    ["right-to-left mark", "a\u200Fb", [false, false, true]],
    ["Arabic letter mark", "a\u061Cb", [false, false, true]],
    ["line separator", "a\u2028b", [false, false, true]],
    ["no-break space (allowed everywhere)", "a\u00A0b", [false, false, false]],
    ["narrow no-break space U+202F (after the bidi range)", "a\u202Fb", [false, false, false]],
  ])("%s", (_, text, expected) => {
    expect(levels.map((level) => refusedCharacter(text, level) !== null)).toEqual(expected);
  });

  it("names the first refused character and its position", () => {
    expect(refusedCharacter("ab\u202Ecd\u0000", "identifier")).toBe("U+202E at position 2");
    expect(refusedCharacter("ab\u202Ecd\u0000", "storable")).toBe("U+0000 at position 5");
  });
});

describe("checkCharacters", () => {
  it("answers InvalidInput FORBIDDEN_CHARACTER with the field and what was found", () => {
    expect(checkCharacters("x\u0000", "description", "prose")).toMatchObject({
      ok: false,
      problem: {
        code: "InvalidInput",
        field: "description",
        reason: "FORBIDDEN_CHARACTER",
        message: expect.stringContaining("U+0000 at position 1"),
      },
    });
    expect(checkCharacters("fine", "code", "identifier")).toEqual({ ok: true, value: "fine" });
  });
});

describe("checkJsonValue", () => {
  it.each<[string, unknown, string | null]>([
    ["an object of plain values", { a: "x", b: 1, c: [true, null, 0.5], d: { e: "f" } }, null],
    ["the largest safe integer", { n: Number.MAX_SAFE_INTEGER }, null],
    ["a small float", { n: 1234.5678 }, null],
    ["a number of magnitude 1e300 (beyond 2^53, so not known exactly)", { n: 1e300 }, "metadata.n"],
    ["NUL in a nested string", { a: { b: ["ok", "no\u0000"] } }, "metadata.a.b[1]"],
    ["a lone surrogate in a key", { "k\uD800": 1 }, "metadata key"],
    ["an integer beyond 2^53", { order: 2 ** 53 + 2 }, "metadata.order"],
    ["a negative integer beyond 2^53", { order: -(2 ** 60) }, "metadata.order"],
  ])("%s", (_, value, refusedField) => {
    const checked = checkJsonValue(value, "metadata");
    if (refusedField === null) expect(checked.ok).toBe(true);
    else expect(checked).toMatchObject({ ok: false, problem: { code: "InvalidInput", field: refusedField } });
  });
});
