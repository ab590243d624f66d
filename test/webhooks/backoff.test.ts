// The retry schedule (src/webhooks/backoff.ts): exponential, capped, jittered between half and all
// of the delay, and given up after the horizon.
import { describe, expect, it } from "vitest";
import { nextAttemptOrGiveUp, retryDelayMs, retryScheduleDefault } from "../../src/webhooks/backoff.js";

const schedule = { baseMs: 1000, maxMs: 60_000 };
const lowest = () => 0;
const highest = () => 0.999999;

describe("retryDelayMs", () => {
  it.each<[number, number, number]>([
    // attempt, least delay (random 0), most delay (random just under 1)
    [1, 500, 1000],
    [2, 1000, 2000],
    [3, 2000, 4000],
    [6, 16_000, 32_000],
    [7, 30_000, 60_000], // 64 s capped at 60 s
    [8, 30_000, 60_000],
    [1000, 30_000, 60_000],
  ])("after attempt %i waits between %i and %i ms", (attempt, least, most) => {
    expect(retryDelayMs(attempt, schedule, lowest)).toBe(least);
    expect(retryDelayMs(attempt, schedule, highest)).toBe(most);
    expect(retryDelayMs(attempt, schedule, () => 0.5)).toBe((least + most) / 2);
  });

  it("stays between half and all of the delay whatever the randomness", () => {
    for (let i = 0; i < 1000; i++) {
      const delay = retryDelayMs(3, schedule);
      expect(delay).toBeGreaterThanOrEqual(2000);
      expect(delay).toBeLessThanOrEqual(4000);
    }
  });

  it("is never below 1 ms", () => {
    expect(retryDelayMs(1, { baseMs: 1, maxMs: 1 }, lowest)).toBe(1);
    expect(retryDelayMs(1, { baseMs: 0.1, maxMs: 1 }, lowest)).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses attempt number %d", (attempt) => {
    expect(() => retryDelayMs(attempt, schedule)).toThrow(/numbered from 1/);
  });
});

describe("nextAttemptOrGiveUp", () => {
  const createdAt = new Date("2026-01-01T00:00:00Z");
  const options = { ...schedule, horizonMs: 3_600_000 };
  const at = (ms: number) => new Date(createdAt.getTime() + ms);

  it("is now plus the delay while that is within the horizon", () => {
    expect(nextAttemptOrGiveUp(at(0), createdAt, 1, options, highest)).toEqual(at(1000));
    expect(nextAttemptOrGiveUp(at(5000), createdAt, 3, options, lowest)).toEqual(at(7000));
    expect(nextAttemptOrGiveUp(at(3_540_000), createdAt, 20, options, highest)).toEqual(at(3_600_000)); // on the horizon itself
  });

  it("gives up (null) when the next attempt would fall after the horizon", () => {
    expect(nextAttemptOrGiveUp(at(3_540_001), createdAt, 20, options, highest)).toBeNull();
    expect(nextAttemptOrGiveUp(at(3_590_000), createdAt, 20, options, lowest)).toBeNull();
    expect(nextAttemptOrGiveUp(at(3_570_000), createdAt, 20, options, lowest)).toEqual(at(3_600_000));
  });

  it("gives 23 to 35 attempts in about 3 days on the default schedule", () => {
    for (const [random, attempts] of [
      [lowest, 35],
      [highest, 23],
    ] as const) {
      let now = createdAt;
      let attempt = 1;
      for (let next = nextAttemptOrGiveUp(now, createdAt, attempt, retryScheduleDefault, random); next; ) {
        now = next;
        attempt++;
        next = nextAttemptOrGiveUp(now, createdAt, attempt, retryScheduleDefault, random);
      }
      expect(attempt).toBe(attempts);
      expect(now.getTime() - createdAt.getTime()).toBeGreaterThan(retryScheduleDefault.horizonMs - retryScheduleDefault.maxMs);
    }
  });
});
