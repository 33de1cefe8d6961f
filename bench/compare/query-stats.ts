/** Percentiles of latency samples, by nearest rank (no interpolation), as the query report uses them. */

/** The p-th percentile (0 < p ≤ 100) of ascending samples; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function ascending(values: Iterable<number>): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The median of samples in any order; NaN for none. */
export function median(values: readonly number[]): number {
  return percentile(ascending(values), 50);
}
