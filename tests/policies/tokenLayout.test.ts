import { describe, expect, it } from 'vitest';
import { TokenLayout } from '../../policies/tokenLayout.ts';

// 10 bins: an action dimension over [-1, 1] has bins of width 0.2; a plan dimension over [0, 1] of 0.1.
const cfg = { actionDim: 3, actionOrder: [2, 0, 1], chunkLength: 2, bins: 10, actionLow: [-1, -1, -1], actionHigh: [1, 1, 1], planDims: 1, planLow: [0], planHigh: [1] };

describe('TokenLayout (plan tokens, then action tokens in decode order, per step)', () => {
  it('hand-worked encode / decode', () => {
    const l = new TokenLayout(cfg);
    expect([l.perStep, l.total]).toEqual([4, 8]);
    // step 0: action [0.1, 0.5, -0.8] -> bins [5, 7, 1] (RT-1 example), plan 0.35 -> bin 3
    // step 1: action [-1, 1, 0] -> bins [0, 9, 5], plan 0.99 -> bin 9
    const tokens = l.encode([0.1, 0.5, -0.8, -1, 1, 0], [0.35, 0.99]);
    expect(tokens).toEqual([3, 1, 5, 7, 9, 5, 0, 9]); // [plan, a2, a0, a1] per step
    expect([0, 1, 2, 3, 4].map((i) => l.slot(i))).toEqual([
      { kind: 'plan', dim: 0 }, { kind: 'action', dim: 2 }, { kind: 'action', dim: 0 }, { kind: 'action', dim: 1 }, { kind: 'plan', dim: 0 },
    ]);
    expect(l.binWidth(0)).toBeCloseTo(0.1, 9);
    expect(l.binWidth(1)).toBeCloseTo(0.2, 9);
    const { actions, plan } = l.decode(tokens);
    expect(actions.map((a) => Array.from(a, (v) => +v.toFixed(4)))).toEqual([[0.1, 0.5, -0.7], [-0.9, 0.9, 0.1]]); // bin centres
    expect(plan.map((p) => +p[0].toFixed(4))).toEqual([0.35, 0.95]);
  });

  it('without plan tokens it is the plain action order; bad configs and inputs are named', () => {
    const plain = new TokenLayout({ ...cfg, planDims: 0, planLow: [], planHigh: [], actionOrder: [] });
    expect(plain.encode([0.1, 0.5, -0.8, -1, 1, 0])).toEqual([5, 7, 1, 0, 9, 5]);
    expect(plain.decode([5, 7, 1, 0, 9, 5]).plan.every((p) => p.length === 0)).toBe(true);
    expect(() => new TokenLayout({ ...cfg, actionOrder: [0, 0, 1] })).toThrow(/permutation of 0..2/);
    expect(() => new TokenLayout({ ...cfg, planLow: [] })).toThrow(/planLow\/planHigh must have planDims = 1/);
    const l = new TokenLayout(cfg);
    expect(() => l.encode([0, 0, 0, 0, 0, 0])).toThrow(/plan targets have 0 values, expected 2/);
    expect(() => l.encode([0, 0, 0], [0, 0])).toThrow(/action chunk has 3 values, expected 6/);
    expect(() => l.decode([1, 2, 3])).toThrow(/3 tokens, expected 8/);
  });
});
