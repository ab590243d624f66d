// The dashboard's money formatting and chart scale: pure functions, BigInt only.
import { describe, expect, it } from "vitest";
import { niceYScale, yPixel } from "../../examples/dashboard/src/chartScale.js";
import { compareMinor, formatMinor, formatMoney } from "../../examples/dashboard/src/money.js";

describe("formatMinor", () => {
  const cases: { condition: string; amountMinor: string; scale: number; expected: string }[] = [
    { condition: "negative with grouping", amountMinor: "-123456", scale: 2, expected: "-1,234.56" },
    { condition: "less than one major unit is zero-padded", amountMinor: "5", scale: 2, expected: "0.05" },
    { condition: "scale 0 has no decimal point", amountMinor: "1000", scale: 0, expected: "1,000" },
    { condition: "zero", amountMinor: "0", scale: 2, expected: "0.00" },
    { condition: "zero at scale 0", amountMinor: "0", scale: 0, expected: "0" },
    { condition: "negative less than one unit", amountMinor: "-5", scale: 2, expected: "-0.05" },
    { condition: "exactly one major unit", amountMinor: "100", scale: 2, expected: "1.00" },
    { condition: "no grouping below a thousand", amountMinor: "99999", scale: 2, expected: "999.99" },
    { condition: "grouping at exactly a thousand", amountMinor: "100000", scale: 2, expected: "1,000.00" },
    { condition: "millions", amountMinor: "123456789", scale: 2, expected: "1,234,567.89" },
    { condition: "scale 8 (BTC)", amountMinor: "123456789", scale: 8, expected: "1.23456789" },
    { condition: "scale 8, one satoshi", amountMinor: "1", scale: 8, expected: "0.00000001" },
    { condition: "scale 3", amountMinor: "-1234567", scale: 3, expected: "-1,234.567" },
    { condition: "beyond 2^53 stays exact", amountMinor: "9007199254740993", scale: 2, expected: "90,071,992,547,409.93" },
    { condition: "signed 64-bit maximum", amountMinor: "9223372036854775807", scale: 2, expected: "92,233,720,368,547,758.07" },
    { condition: "signed 64-bit minimum", amountMinor: "-9223372036854775808", scale: 0, expected: "-9,223,372,036,854,775,808" },
    {
      condition: "beyond 64 bits still exact",
      amountMinor: "123456789012345678901234567890",
      scale: 18,
      expected: "123,456,789,012.345678901234567890",
    },
    { condition: "leading zeros are dropped", amountMinor: "000123", scale: 2, expected: "1.23" },
    { condition: "negative zero prints as zero", amountMinor: "-0", scale: 2, expected: "0.00" },
  ];
  for (const { condition, amountMinor, scale, expected } of cases) {
    it(`formatMinor: ${condition}`, () => {
      expect(formatMinor(amountMinor, scale)).toBe(expected);
    });
  }

  const invalid: { condition: string; amountMinor: string; scale: number }[] = [
    { condition: "rejects a decimal point", amountMinor: "10.5", scale: 2 },
    { condition: "rejects exponent notation", amountMinor: "1e3", scale: 2 },
    { condition: "rejects an empty string", amountMinor: "", scale: 2 },
    { condition: "rejects a plus sign", amountMinor: "+5", scale: 2 },
    { condition: "rejects whitespace", amountMinor: " 5", scale: 2 },
    { condition: "rejects a negative scale", amountMinor: "5", scale: -1 },
    { condition: "rejects a fractional scale", amountMinor: "5", scale: 1.5 },
  ];
  for (const { condition, amountMinor, scale } of invalid) {
    it(`formatMinor: ${condition}`, () => {
      expect(() => formatMinor(amountMinor, scale)).toThrow(RangeError);
    });
  }
});

describe("formatMoney and compareMinor", () => {
  it("formatMoney: appends the currency code", () => {
    expect(formatMoney("-1200", { code: "USD", scale: 2 })).toBe("-12.00 USD");
    expect(formatMoney("1000", { code: "JPY", scale: 0 })).toBe("1,000 JPY");
  });
  it("compareMinor: compares beyond 2^53 exactly", () => {
    expect(compareMinor("9007199254740993", "9007199254740992")).toBe(1);
    expect(compareMinor("-1", "0")).toBe(-1);
    expect(compareMinor("42", "42")).toBe(0);
  });
});

describe("chart y scale", () => {
  it("niceYScale: covers the values with round steps", () => {
    const scale = niceYScale([120345n, 98012n, 150000n], 100n);
    // range 51,988 / 4 ticks -> 12,997 -> the next of 1, 2, 5 x 10^k is 20,000
    expect(scale).toMatchObject({ lo: 80000n, hi: 160000n, step: 20000n });
    expect(scale.ticks).toEqual([80000n, 100000n, 120000n, 140000n, 160000n]);
  });
  it("niceYScale: negative values floor correctly", () => {
    expect(niceYScale([-1234n, 5678n], 100n)).toMatchObject({ lo: -2000n, hi: 6000n, step: 2000n });
  });
  it("niceYScale: a flat series is widened to include zero", () => {
    expect(niceYScale([500n, 500n], 100n)).toMatchObject({ lo: 0n, hi: 600n, step: 200n });
    expect(niceYScale([-500n], 100n)).toMatchObject({ lo: -600n, hi: 0n });
    expect(niceYScale([0n], 100n)).toMatchObject({ lo: 0n, hi: 100n });
  });
  it("yPixel: maps huge values exactly to the plot's edges and middle", () => {
    const big = 9223372036854775807n;
    const scale = { lo: 0n, hi: big - 1n, step: big - 1n, ticks: [] };
    expect(yPixel(big - 1n, scale, 10, 200)).toBe(10);
    expect(yPixel(0n, scale, 10, 200)).toBe(210);
    expect(yPixel((big - 1n) / 2n, scale, 10, 200)).toBe(110);
  });
});
