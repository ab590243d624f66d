// Statistics of measured samples: nearest-rank percentiles (every latency the benchmark reports)
// and means.

/** The nearest-rank `p`th percentile of ascending `sorted` values; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The values in ascending order (a copy). */
export const ascending = (values: ArrayLike<number>) => Float64Array.from(values).sort();

/** The mean of `values`; 0 when there are none. */
export const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/**
 * The baseline windows just before and after `item` in a run of alternating windows (the nearest
 * on each side for which `isBaseline` holds): what a window's cost is weighed against.
 */
export function baselinesAround<T>(items: readonly T[], item: T, isBaseline: (candidate: T) => boolean): T[] {
  const at = items.indexOf(item);
  const before = items.slice(0, at).reverse().find(isBaseline);
  const after = items.slice(at + 1).find(isBaseline);
  return [before, after].filter((w): w is T => w !== undefined);
}
