// Instants to the microsecond (src/domain/instant.ts): parsing what clients and PostgreSQL write,
// writing six fractional digits, comparing past the millisecond.
import { describe, expect, it } from "vitest";
import { compareInstants, Instant, instantOf, parseInstant } from "../../src/domain/instant.js";

describe("parseInstant", () => {
  it.each<[string, string]>([
    ["2026-11-21T18:00:00.123456Z", "2026-11-21T18:00:00.123456Z"],
    ["2026-11-21T18:00:00Z", "2026-11-21T18:00:00.000000Z"],
    ["2026-11-21T18:00Z", "2026-11-21T18:00:00.000000Z"],
    ["2026-11-21T18:00:00.1Z", "2026-11-21T18:00:00.100000Z"],
    ["2026-11-21 18:00:00.003661+00", "2026-11-21T18:00:00.003661Z"],
    ["2026-11-21T18:00:00.5+05:30", "2026-11-21T12:30:00.500000Z"],
    ["2026-11-21T18:00:00-0800", "2026-11-22T02:00:00.000000Z"],
    ["1969-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"],
  ])("%s is %s", (text, expected) => {
    expect(parseInstant(text)?.toISOString()).toBe(expected);
  });

  it.each([
    "2026-11-21T18:00:00.1234567Z",
    "2026-11-21T18:00:00",
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-11-21T24:00:00Z",
    "not a time",
    "",
  ])("refuses %j", (text) => {
    expect(parseInstant(text)).toBeNull();
  });
});

describe("Instant", () => {
  it("is a Date on its millisecond that writes its microseconds", () => {
    const instant = new Instant(Date.UTC(2026, 0, 1, 0, 0, 0, 123), 456);
    expect(instant).toBeInstanceOf(Date);
    expect(instant.getTime()).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    expect(instant.toISOString()).toBe("2026-01-01T00:00:00.123456Z");
    expect(JSON.stringify({ at: instant })).toBe('{"at":"2026-01-01T00:00:00.123456Z"}');
    expect(Instant.ofEpochMicros(instant.epochMicros).toISOString()).toBe(instant.toISOString());
    expect(instantOf(new Date(0)).toISOString()).toBe("1970-01-01T00:00:00.000000Z");
  });

  it("compares past the millisecond, plain Dates on their millisecond", () => {
    const ms = Date.UTC(2026, 0, 1);
    expect(compareInstants(new Instant(ms, 1), new Instant(ms, 2))).toBe(-1);
    expect(compareInstants(new Instant(ms, 2), new Instant(ms, 2))).toBe(0);
    expect(compareInstants(new Instant(ms, 0), new Date(ms))).toBe(0);
    expect(compareInstants(new Instant(ms, 999), new Date(ms + 1))).toBe(-1);
  });
});
