// When a failed webhook delivery is tried again: exponential backoff with "equal jitter" (half the
// delay fixed, half random), so a receiver that was down is not hit by every pending delivery at
// the same instant when it comes back, and a delivery is given up after a horizon. Pure: the
// caller passes the clock and, in tests, the randomness.
import { assert } from "../domain/assert.js";

export interface RetrySchedule {
  /** The delay after the first failed attempt (before jitter). */
  baseMs: number;
  /** The longest delay between two attempts (before jitter). */
  maxMs: number;
  /** No attempt later than this after the delivery was created. */
  horizonMs: number;
}

/** 10 s, doubling to 6 h (reached after 12 attempts, within half a day), then every 3 to 6 h, for 3 days: 23 to 35 attempts in all. */
export const retryScheduleDefault: RetrySchedule = { baseMs: 10_000, maxMs: 6 * 3600_000, horizonMs: 3 * 24 * 3600_000 };

/**
 * How long to wait after attempt `attemptNumber` (1 for the first) failed: `baseMs * 2^(attemptNumber-1)`,
 * at most `maxMs`, then a random point between half of that and all of it; at least 1 ms.
 */
export function retryDelayMs(
  attemptNumber: number,
  options: Pick<RetrySchedule, "baseMs" | "maxMs">,
  random: () => number = Math.random,
): number {
  assert(Number.isSafeInteger(attemptNumber) && attemptNumber >= 1, "attempts are numbered from 1");
  assert(options.baseMs > 0 && options.maxMs >= options.baseMs, "a retry schedule's base is positive and at most its maximum");
  const delay = Math.min(options.maxMs, options.baseMs * 2 ** (attemptNumber - 1));
  const half = delay / 2;
  return Math.max(1, Math.round(half + random() * half));
}

/** When to make the attempt after attempt `attemptNumber` failed at `now`, or null to give up (past the horizon). */
export function nextAttemptOrGiveUp(
  now: Date,
  createdAt: Date,
  attemptNumber: number,
  options: RetrySchedule,
  random: () => number = Math.random,
): Date | null {
  const next = now.getTime() + retryDelayMs(attemptNumber, options, random);
  return next > createdAt.getTime() + options.horizonMs ? null : new Date(next);
}
