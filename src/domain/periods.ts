// Calendar periods in UTC for balance histories.
import { fail, invalidInput, limitExceeded, ok, type Result } from "./problems.js";

export type Granularity = "HOUR" | "DAY" | "MONTH";

export interface Period {
  start: Date;
  /** Exclusive. */
  end: Date;
}

/** The start of the period that contains `at`. */
export function periodStart(at: Date, granularity: Granularity): Date {
  const d = new Date(at.getTime());
  if (granularity === "MONTH") return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  if (granularity === "DAY") return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()));
}

export function nextPeriodStart(start: Date, granularity: Granularity): Date {
  if (granularity === "MONTH") return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
  if (granularity === "DAY") return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1));
  return new Date(start.getTime() + 3600_000);
}

/**
 * The periods from the one containing `from` to the one containing `to`, keeping those that
 * have ended by `now`. More than `pointsMax` periods in the range is a LimitExceeded.
 */
export function periodsBetween(from: Date, to: Date, granularity: Granularity, now: Date, pointsMax: number): Result<Period[]> {
  if (from.getTime() > to.getTime()) return fail(invalidInput("from", "BOUNDS_INVERTED", "must not be after to"));
  const periods: Period[] = [];
  for (let start = periodStart(from, granularity); start.getTime() <= to.getTime(); start = nextPeriodStart(start, granularity)) {
    if (periods.length === pointsMax) return fail(limitExceeded("balanceHistoryPointsMax", pointsMax, "number of periods"));
    periods.push({ start, end: nextPeriodStart(start, granularity) });
  }
  return ok(periods.filter((p) => p.end.getTime() <= now.getTime()));
}
