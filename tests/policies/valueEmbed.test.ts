import { describe, expect, it } from 'vitest';
import { sincosValueEmbed } from '../../policies/gpt.ts';

describe('sin-cos value embeddings', () => {
  it('RMS as asked, the same code for every dimension, neighbours closer than far bins, the value linearly readable', () => {
    const bins = 256, C = 64;
    const e = sincosValueEmbed(2, bins, C, 0.02);
    const row = (d: number, i: number) => e.subarray((d * bins + i) * C, (d * bins + i + 1) * C);
    let sq = 0;
    for (const v of e) sq += v * v;
    expect(Math.sqrt(sq / e.length)).toBeCloseTo(0.02, 4);
    expect(Array.from(row(1, 37))).toEqual(Array.from(row(0, 37)));
    const dist = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((v, k) => v - b[k]));
    for (const i of [10, 128, 200]) expect(dist(row(0, i), row(0, i + 1))).toBeLessThan(dist(row(0, i), row(0, i + 60)));
    // The slowest channel pair is a near-monotone code: its angle grows with the bin index.
    const angle = (i: number) => Math.atan2(row(0, i)[C / 2 - 1], row(0, i)[C - 1]);
    for (let i = 1; i < bins; i++) expect(angle(i)).toBeGreaterThan(angle(i - 1));
  });
});
