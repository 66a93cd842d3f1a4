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

/** log(sum(exp(xs))) without overflow; -Infinity for an empty list. */
function logSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (!Number.isFinite(m)) return m;
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
}

/**
 * P(X <= m) for X ~ Binomial(n, p), summed in log space so large n neither
 * overflows C(n, k) nor underflows p^n: log term_0 = n log(1-p), then
 * term_{k+1} = term_k * (n-k)/(k+1) * p/(1-p).
 */
export function binomCdf(m: number, n: number, p: number): number {
  if (!Number.isInteger(n) || n < 0 || !(p >= 0 && p <= 1)) throw new Error(`binomCdf: need an integer n >= 0 and p in [0, 1], got n=${n} p=${p}`);
  if (m < 0) return 0;
  if (m >= n || p === 0) return 1;
  if (p === 1) return 0;
  const terms = [n * Math.log1p(-p)];
  const lr = Math.log(p) - Math.log1p(-p);
  for (let k = 0; k < Math.floor(m); k++) terms.push(terms[k] + Math.log((n - k) / (k + 1)) + lr);
  return Math.min(1, Math.exp(logSumExp(terms)));
}

/**
 * Exact McNemar test (McNemar 1947; the exact form is a sign test): of the n =
 * b + c discordant pairs (b: A succeeded, B failed; c: A failed, B succeeded),
 * under H0 each is b or c with probability 1/2, so the two-sided p-value is
 * min(1, 2 * P(X <= min(b, c))), X ~ Binomial(b + c, 1/2). Concordant pairs
 * carry no information about the difference and do not enter.
 */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) throw new Error(`mcnemarExact: need non-negative integer counts, got b=${b} c=${c}`);
  return Math.min(1, 2 * binomCdf(Math.min(b, c), b + c, 0.5));
}

const criticalCache = new Map<string, number>();

/** Largest k with mcnemarExact(k, n - k) < alpha: the test rejects when min(b, c) <= k; -1 when no split of n pairs can reject. Memoized. */
function criticalCount(n: number, alpha: number): number {
  const key = `${n} ${alpha}`;
  const hit = criticalCache.get(key);
  if (hit !== undefined) return hit;
  // Walk the null pmf C(n, k) / 2^n upwards while 2 * P(X <= k) stays below alpha.
  let logTerm = -n * Math.LN2, cdf = 0, k = -1;
  while (k + 1 < n - (k + 1)) {
    cdf += Math.exp(logTerm);
    if (2 * cdf >= alpha) break;
    k++;
    logTerm += Math.log((n - k) / (k + 1));
  }
  criticalCache.set(key, k);
  return k;
}

/**
 * Power of the exact McNemar test at level alpha for `pairs` paired episodes
 * when the true success rates differ by `effect` (p_B - p_A, in either
 * direction) and a fraction `discordance` of pairs are discordant. A
 * difference of `effect` needs at least that much discordance, so the
 * discordance used is max(discordance, effect). Unconditional: the number of
 * discordant pairs n ~ Binomial(pairs, psi), and given n the better side wins
 * each with probability 1/2 + effect / (2 psi) (Fagerland, Lydersen & Laake
 * 2013, BMC Med Res Methodol 13:91). Terms with P(n) < e^-40 are skipped.
 */
export function mcnemarPower(pairs: number, discordance: number, effect: number, alpha: number): number {
  if (!Number.isInteger(pairs) || pairs < 0) throw new Error(`mcnemarPower: pairs must be a non-negative integer, got ${pairs}`);
  const d = Math.min(1, Math.abs(effect));
  const psi = Math.min(1, Math.max(discordance, d));
  if (pairs === 0 || psi === 0) return 0;
  const win = Math.min(1, 0.5 + d / (2 * psi)); // P(a discordant pair favours the better side)
  const lr = psi === 1 ? 0 : Math.log(psi) - Math.log1p(-psi);
  let logPn = psi === 1 ? -Infinity : pairs * Math.log1p(-psi); // log P(n = 0)
  let power = 0;
  for (let n = 0; n <= pairs; n++) {
    if (n > 0 && psi < 1) logPn += Math.log((pairs - n + 1) / n) + lr;
    const pn = psi === 1 ? (n === pairs ? 1 : 0) : Math.exp(logPn);
    if (pn < Math.exp(-40)) continue;
    const k = criticalCount(n, alpha);
    if (k < 0) continue;
    power += pn * (binomCdf(k, n, 1 - win) + binomCdf(k, n, win)); // better side wins >= n-k, or the worse side wins >= n-k
  }
  return Math.min(1, power);
}

/**
 * Smallest difference in success rate (0..1) that the exact McNemar test
 * detects with probability >= `power` for these pairs and this discordance
 * (mcnemarPower, bisection to 1e-4), or null when even a difference of 1 is
 * not detected that often (too few pairs).
 */
export function minDetectableEffect(pairs: number, discordance: number, alpha: number, power = 0.8): number | null {
  if (mcnemarPower(pairs, discordance, 1, alpha) < power) return null;
  let lo = 0, hi = 1;
  while (hi - lo > 1e-4) {
    const mid = (lo + hi) / 2;
    if (mcnemarPower(pairs, discordance, mid, alpha) >= power) hi = mid;
    else lo = mid;
  }
  return hi;
}
