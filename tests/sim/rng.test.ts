import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';

describe('Rng', () => {
  it('is a pure function of the seed', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(xa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(xa);
  });
  it('stays in range and is roughly uniform', () => {
    const r = new Rng(7);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 20000; i++) {
      const v = r.next();
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
      bins[Math.floor(v * 10)]++;
    }
    for (const n of bins) expect(Math.abs(n - 2000)).toBeLessThan(200);
    for (let i = 0; i < 1000; i++) {
      const k = r.int(2, 4);
      expect([2, 3, 4]).toContain(k);
    }
  });
  it('rejects invalid seeds', () => {
    expect(() => new Rng(-1)).toThrow(/seed must be an integer/);
    expect(() => new Rng(1.5)).toThrow(/seed must be an integer/);
  });
});
