// The statistics of the paired comparison (src/eval/stats.ts): exact McNemar
// p-values, binomial tails and the test's power. Reference values were
// computed independently in a one-off python3 script with exact integer
// arithmetic (math.comb):
//   p(b, c) = min(1, 2 * sum(comb(b+c, k) for k in range(min(b, c) + 1)) / 2**(b+c))
//   power(N, psi, d, alpha): psi = max(psi, d), w = 1/2 + d / (2 psi);
//     sum over n <= N, c <= n of comb(N, n) psi^n (1-psi)^(N-n) * comb(n, c) w^c (1-w)^(n-c)
//     for the (n, c) with p(n - c, c) < alpha.
import { describe, expect, it } from 'vitest';
import { binomCdf, mcnemarExact, mcnemarPower, minDetectableEffect } from '../../src/eval/stats.ts';

describe('exact McNemar test', () => {
  it('matches exact integer reference values (python3 math.comb)', () => {
    expect(mcnemarExact(0, 6)).toBeCloseTo(0.03125, 12); // 2 / 2^6
    expect(mcnemarExact(1, 9)).toBeCloseTo(0.021484375, 12); // 2 * 11 / 1024
    expect(mcnemarExact(3, 12)).toBeCloseTo(0.03515625, 12);
    expect(mcnemarExact(40, 60)).toBeCloseTo(0.05688793364098079, 12);
    expect(mcnemarExact(2, 0)).toBeCloseTo(0.5, 12);
  });

  it('b = c (and no discordant pair at all) gives p = 1; the test is symmetric in b and c', () => {
    for (const n of [0, 1, 5, 50, 700]) expect(mcnemarExact(n, n)).toBe(1);
    expect(mcnemarExact(9, 1)).toBe(mcnemarExact(1, 9));
    expect(mcnemarExact(17, 30)).toBe(mcnemarExact(30, 17));
  });

  it('does not overflow or underflow at thousands of pairs (C(10200, k) and 2^-10200 are far outside doubles)', () => {
    expect(mcnemarExact(480, 560) / 0.014259079095386026).toBeCloseTo(1, 10);
    expect(mcnemarExact(5000, 5200) / 0.04878796312682245).toBeCloseTo(1, 9);
    const tiny = mcnemarExact(0, 2000); // 2^-1999: below the smallest double, so 0 rather than NaN
    expect(Number.isNaN(tiny)).toBe(false);
    expect(tiny).toBeLessThan(1e-300);
  });

  it('binomCdf matches a hand sum and its edge cases; bad counts are refused by name', () => {
    expect(binomCdf(3, 10, 0.3)).toBeCloseTo(0.6496107184, 10); // sum_{k<=3} C(10,k) .3^k .7^(10-k)
    expect(binomCdf(-1, 10, 0.3)).toBe(0);
    expect(binomCdf(10, 10, 0.3)).toBe(1);
    expect(binomCdf(4, 10, 1)).toBe(0);
    expect(binomCdf(0, 10, 0)).toBe(1);
    expect(() => mcnemarExact(-1, 3)).toThrow(/mcnemarExact: need non-negative integer counts, got b=-1 c=3/);
    expect(() => binomCdf(1, 2.5, 0.5)).toThrow(/binomCdf/);
  });
});

describe('power of the exact McNemar test', () => {
  it('matches an exact enumeration (python3 math.comb)', () => {
    expect(mcnemarPower(200, 0.4, 0.1, 0.05)).toBeCloseTo(0.5692662954849292, 10);
    expect(mcnemarPower(200, 0, 0.1, 0.05)).toBeCloseTo(0.9999612880675428, 10); // no observed discordance: the 10 points would all be discordant
    expect(mcnemarPower(20, 0.2, 0.1, 0.05)).toBeCloseTo(0.03179278058494331, 10);
    expect(mcnemarPower(60, 0.25, 0.15, 0.05)).toBeCloseTo(0.5808549092029065, 10);
  });

  it('grows with the effect and the number of pairs, falls with the discordance; a null effect rejects at most alpha', () => {
    expect(mcnemarPower(200, 0.3, 0.15, 0.05)).toBeGreaterThan(mcnemarPower(200, 0.3, 0.1, 0.05));
    expect(mcnemarPower(800, 0.3, 0.1, 0.05)).toBeGreaterThan(mcnemarPower(200, 0.3, 0.1, 0.05));
    expect(mcnemarPower(200, 0.6, 0.1, 0.05)).toBeLessThan(mcnemarPower(200, 0.3, 0.1, 0.05));
    const size = mcnemarPower(200, 0.3, 1e-9, 0.05);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(0.05);
    expect(mcnemarPower(5, 0.5, 1, 0.05)).toBe(0); // five pairs can never reach p < 0.05 (min p = 2 / 2^5)
  });

  it('the minimum detectable effect is where the power crosses 0.8, or null when no effect is detectable', () => {
    const mde = minDetectableEffect(200, 0.4, 0.05)!;
    expect(mde).toBeGreaterThan(0.1); // 0.1 had power 0.57 above
    expect(mcnemarPower(200, 0.4, mde, 0.05)).toBeGreaterThanOrEqual(0.8);
    expect(mcnemarPower(200, 0.4, mde - 0.005, 0.05)).toBeLessThan(0.8);
    expect(minDetectableEffect(5, 0.3, 0.05)).toBeNull();
    expect(minDetectableEffect(2000, 0.3, 0.05)!).toBeLessThan(minDetectableEffect(200, 0.3, 0.05)!);
  });
});
