import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { headDistances, meanAttentionDistance } from '../../src/analysis/attention.ts';
import { effectiveReceptiveField, theoreticalReceptiveField } from '../../src/analysis/receptiveField.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('mean attention distance (hand-worked)', () => {
  const g = { gridH: 2, gridW: 2, patchSize: 16 };
  it('uniform attention on a 2x2 grid: (0 + 16 + 16 + 16*sqrt2) / 4 = 13.657 px', () => {
    const attn = new Array(16).fill(0.25);
    expect(meanAttentionDistance(attn, g)).toBeCloseTo((32 + 16 * Math.SQRT2) / 4, 6);
  });
  it('self attention is 0; attending to the horizontal neighbour is one patch', () => {
    const eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
    expect(meanAttentionDistance(eye, g)).toBe(0);
    // patches 0 1 / 2 3: each attends to its row neighbour (0<->1, 2<->3)
    const nb = [0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0];
    expect(meanAttentionDistance(nb, g)).toBe(16);
  });
  it('a class token is excluded and patch weights renormalised', () => {
    // T = 3 (cls + 2 patches in a 1x2 grid); each patch puts .5 on cls, .25 self, .25 other.
    const attn = [1, 0, 0, 0.5, 0.25, 0.25, 0.5, 0.25, 0.25];
    expect(meanAttentionDistance(attn, { gridH: 1, gridW: 2, patchSize: 8, prefixTokens: 1 })).toBe(4);
    expect(headDistances([...attn, 1, 0, 0, 0, 1, 0, 0, 0, 1], 2, { gridH: 1, gridW: 2, patchSize: 8, prefixTokens: 1 })).toEqual([4, 0]);
    expect(() => meanAttentionDistance([1, 2], g)).toThrow(/2 values for 4 tokens/);
  });
});

describe('receptive fields', () => {
  it('theoretical: 3x3 = 3; two 3x3 = 5; 3x3 s2 then 3x3 = 7', () => {
    expect(theoreticalReceptiveField([{ kernel: 3, stride: 1 }])).toBe(3);
    expect(theoreticalReceptiveField([{ kernel: 3, stride: 1 }, { kernel: 3, stride: 1 }])).toBe(5);
    expect(theoreticalReceptiveField([{ kernel: 3, stride: 2 }, { kernel: 3, stride: 1 }])).toBe(7);
  });
  it('effective RF of one all-ones 3x3 conv is exactly its 3x3 window, uniform', () => {
    const w = tf.ones([3, 3, 3, 4]) as tf.Tensor4D;
    const erf = effectiveReceptiveField((x) => tf.conv2d(x, w, 1, 'same'), 9, 9, 3, 1);
    w.dispose();
    expect(erf.size).toBe(3);
    for (let y = 0; y < 9; y++) for (let x = 0; x < 9; x++) {
      const inside = Math.abs(y - 4) <= 1 && Math.abs(x - 4) <= 1;
      expect(erf.map[y * 9 + x]).toBeCloseTo(inside ? 1 / 9 : 0, 6);
    }
  });
  it('two stacked 3x3 convs: effective field 5x5, peaked at the centre (1,2,3,2,1 outer product)', () => {
    const w = tf.ones([3, 3, 1, 1]) as tf.Tensor4D;
    const erf = effectiveReceptiveField((x) => tf.conv2d(tf.conv2d(x, w, 1, 'same'), w, 1, 'same'), 9, 9, 1, 1);
    w.dispose();
    expect(erf.size).toBe(5);
    expect(erf.map[4 * 9 + 4] / erf.map[2 * 9 + 2]).toBeCloseTo(9, 5); // (3*3) / (1*1)
  });
});

describe('cost vs resolution', () => {
  it('least squares recovers a line', async () => {
    const { linearFit } = await import('../../src/analysis/resolution.ts');
    const [a, k] = linearFit([1, 2, 3, 4], [3, 5, 7, 9]); // y = 1 + 2x
    expect(a).toBeCloseTo(1, 10);
    expect(k).toBeCloseTo(2, 10);
  });
  it('CNN FLOPs scale with the pixel count; ViT attention share grows with the patch count', async () => {
    const { costVsResolution } = await import('../../src/analysis/resolution.ts');
    const rows = costVsResolution(['efficientnet_film_xs_64', 'vit_tiny_patch16_64_tl8'], [32, 64], 1);
    const cnn = rows.filter((r) => r.family === 'cnn');
    const vit = rows.filter((r) => r.family === 'transformer');
    // 4x the pixels: within 15% of 4x the FLOPs (padding and the fixed-size head break exactness).
    expect(cnn[1].flops / cnn[0].flops).toBeGreaterThan(3.4);
    expect(cnn[1].flops / cnn[0].flops).toBeLessThan(4.6);
    expect(vit[1].attentionShare!).toBeGreaterThan(vit[0].attentionShare!);
    expect(vit[1].patches).toBe(16);
    for (const r of vit) expect(r.predictedFlops / r.flops).toBeGreaterThan(0.9);
    for (const r of rows) expect(r.latencyP50Ms).toBeGreaterThan(0);
  });
});
