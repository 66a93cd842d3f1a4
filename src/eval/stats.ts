// Statistics for evaluation reports.

export interface Interval {
  /** Point estimate k/n. */
  p: number;
  lo: number;
  hi: number;
  k: number;
  n: number;
}

/**
 * Wilson score interval for a binomial proportion (Wilson 1927): better than
 * the normal approximation at small n and near 0 or 1, where success rates of
 * policies often live. z = 1.96 gives a 95% interval.
 */
export function wilson(k: number, n: number, z = 1.96): Interval {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) throw new Error(`wilson: need integers 0 <= k <= n, got k=${k} n=${n}`);
  if (n === 0) return { p: 0, lo: 0, hi: 1, k, n };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { p, lo: Math.max(0, center - half), hi: Math.min(1, center + half), k, n };
}

/**
 * Percentile by linear interpolation between closest ranks (numpy's default,
 * "linear"): q in [0, 100]. Empty input gives NaN.
 */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (q / 100) * (s.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  n: number;
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), mean: mean(values), n: values.length };
}
