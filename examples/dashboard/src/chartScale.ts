// The chart's y scale in BigInt minor units: nice tick steps and pixel positions are computed
// exactly; only the final pixel coordinate becomes a number.

export interface YScale {
  lo: bigint;
  hi: bigint;
  step: bigint;
  ticks: bigint[];
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return -floorDiv(-a, b);
}

/** The smallest of 1, 2, 5 times a power of ten that is at least `rough` (and at least 1). */
function niceStep(rough: bigint): bigint {
  if (rough <= 1n) return 1n;
  let power = 1n;
  while (power * 10n <= rough) power *= 10n;
  for (const factor of [1n, 2n, 5n, 10n]) if (power * factor >= rough) return power * factor;
  return power * 10n;
}

/**
 * A y range that covers every value, with about `tickCountTarget` steps on round amounts.
 * A flat series is widened to include zero (or one major unit, `unitMinor`, when it is zero).
 */
export function niceYScale(values: readonly bigint[], unitMinor: bigint, tickCountTarget = 4): YScale {
  let min = values.reduce((a, b) => (b < a ? b : a), values[0] ?? 0n);
  let max = values.reduce((a, b) => (b > a ? b : a), values[0] ?? 0n);
  if (min === max) {
    if (min > 0n) min = 0n;
    else if (max < 0n) max = 0n;
    else max = unitMinor > 0n ? unitMinor : 1n;
  }
  const step = niceStep(ceilDiv(max - min, BigInt(tickCountTarget)));
  const lo = floorDiv(min, step) * step;
  const hi = ceilDiv(max, step) * step;
  const ticks: bigint[] = [];
  for (let tick = lo; tick <= hi; tick += step) ticks.push(tick);
  return { lo, hi, step, ticks };
}

const subPixels = 100n;

/** The y pixel of `value` in a plot `heightPx` tall starting at `topPx` (hi at the top). */
export function yPixel(value: bigint, scale: YScale, topPx: number, heightPx: number): number {
  const span = scale.hi - scale.lo;
  const scaled = ((scale.hi - value) * BigInt(Math.round(heightPx)) * subPixels) / span;
  return topPx + Number(scaled) / Number(subPixels);
}
