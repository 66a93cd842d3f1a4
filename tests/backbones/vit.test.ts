import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { ViT, bilinearResizeMatrix, create, interpolatePosEmbed, linearResizeMatrix, sincosPosEmbed } from '../../backbones/index.ts';
import { maxAbsDiff, randomImages, randomizeWeights, useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

describe('ViT position-embedding interpolation', () => {
  it('is the identity when the grid is unchanged', () => {
    expect(Array.from(linearResizeMatrix(3, 3))).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const pos = tf.randomNormal([12, 5], 0, 1, 'float32', 1) as tf.Tensor2D;
    const out = interpolatePosEmbed(pos, [3, 4], [3, 4]);
    expect(maxAbsDiff(out, pos)).toBe(0);
    tf.dispose([pos, out]);
  });

  it('hand-checked 1-D case: [0, 1] resized to 4 samples (half-pixel centers)', () => {
    // src = (d + 0.5) * 2/4 - 0.5 = -0.25, 0.25, 0.75, 1.25
    // -0.25 clamps to 0 -> v0; 0.25 -> 0.75 v0 + 0.25 v1; 0.75 -> 0.25 v0 + 0.75 v1; 1.25 -> i0 = 1, i1 = min(2, 1) = 1 -> v1
    const R = linearResizeMatrix(2, 4);
    const v = [0, 1];
    const out = [0, 1, 2, 3].map((d) => R[d * 2] * v[0] + R[d * 2 + 1] * v[1]);
    expect(out).toEqual([0, 0.25, 0.75, 1]);
  });

  it('hand-checked 2-D case: 2x2 grid -> 3x3 grid', () => {
    // per axis, in = 2, out = 3: src = (d + 0.5) * 2/3 - 0.5 = -1/6 (-> 0), 0.5, 7/6 (-> i0 = 1)
    // so rows / cols sample at 0, 0.5, 1: the 3x3 result is the bilinear grid with the centre = mean of the four.
    const pos = tf.tensor2d([[1], [3], [5], [11]]); // grid [[1, 3], [5, 11]], C = 1
    const out = interpolatePosEmbed(pos, [2, 2], [3, 3]);
    const got = Array.from(out.dataSync());
    const want = [1, 2, 3, 3, 5, 7, 5, 8, 11];
    got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 5));
    // Rows of the matrix sum to 1 (a convex combination).
    const M = bilinearResizeMatrix([2, 2], [3, 3]);
    for (let r = 0; r < 9; r++) expect(M.slice(r * 4, r * 4 + 4).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    tf.dispose([pos, out]);
  });
});

describe('ViT', () => {
  it('forward at the pretraining grid uses the stored position embeddings unchanged', () => {
    const m = create('vit_tiny_patch16_64_tl8', { tokenLearnerTokens: 0 }) as ViT;
    const stored = m.namedWeights()['pos_embed'];
    const got = m.patchPosEmbed([4, 4]);
    expect(maxAbsDiff(got, stored)).toBe(0);
    const other = m.patchPosEmbed([2, 3]);
    expect(other.shape).toEqual([6, 96]);
    tf.dispose([got, other]);
    m.dispose();
  });

  it('returns per-layer attention maps [B, heads, T, T] that sum to 1', () => {
    const m = create('vit_tiny_patch8_96', { depth: 2 }) as ViT;
    const x = randomImages(1, 32, 32);
    const n0 = tf.memory().numTensors;
    const o = m.forward(x, null, false, { returnAttention: true });
    expect(o.attention?.length).toBe(2);
    const T = 16 + 1; // 4x4 patches + class token
    expect(o.attention![0].shape).toEqual([1, 4, T, T]);
    const sums = tf.tidy(() => o.attention![1].sum(-1).sub(1).abs().max().dataSync()[0]);
    expect(sums).toBeLessThan(1e-5);
    tf.dispose([o.tokens, o.pooled, ...o.attention!]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose(x);
    m.dispose();
  });

  it("pooling: 'token' = class token, 'gap' = mean of patch tokens, 'map' = attention pool", () => {
    const x = randomImages(2, 32, 32);
    const gap = create('vit_tiny_patch8_96', { depth: 1, pool: 'gap' });
    const o = gap.forward(x, null, false);
    expect(maxAbsDiff(o.pooled, o.tokens.mean(1))).toBeLessThan(1e-6);
    tf.dispose([o.tokens, o.pooled]);
    gap.dispose();
    const map = create('siglip_tiny_patch8_96', { depth: 1 });
    const o2 = map.forward(x, null, false);
    expect(o2.pooled.shape).toEqual([2, 128]);
    expect(o2.tokens.shape).toEqual([2, 16, 128]);
    tf.dispose([o2.tokens, o2.pooled, x]);
    map.dispose();
  });

  it('vit_base_patch16_224 shapes, built with 1 of its 12 blocks: 86,567,656 - 11 x 7,087,872 params', () => {
    const before = tf.memory().numTensors;
    const m = create('vit_base_patch16_224', { depth: 1 });
    // per block: 2 LN (1536) + qkv (768*2304 + 2304) + proj (768*768 + 768) + fc1 (768*3072 + 3072) + fc2 (3072*768 + 768)
    expect(m.paramCount()).toBe(86_567_656 - 11 * 7_087_872);
    const w = m.namedWeights();
    expect(w['pos_embed'].shape).toEqual([197, 768]);
    expect(w['blocks.0.attn.qkv.w'].shape).toEqual([768, 2304]);
    expect(w['head.w'].shape).toEqual([768, 1000]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("posEmbedInit 'sincos': hand-checked 2x2 grid with C = 4 ([sin r, cos r, sin c, cos c]); class token row zero", () => {
    const pe = sincosPosEmbed(2, 4, true);
    const rows = Array.from({ length: 5 }, (_, i) => Array.from(pe.subarray(i * 4, i * 4 + 4)).map((v) => +v.toFixed(4)));
    const s1 = +Math.sin(1).toFixed(4);
    const c1 = +Math.cos(1).toFixed(4);
    expect(rows).toEqual([[0, 0, 0, 0], [0, 1, 0, 1], [0, 1, s1, c1], [s1, c1, 0, 1], [s1, c1, s1, c1]]);
    expect(() => sincosPosEmbed(2, 6, false)).toThrow(/divisible by 4/);
    const m = create('siglip_tiny_patch8_96', { patchSize: 16, posEmbedInit: 'sincos' });
    const w = m.namedWeights()['pos_embed'];
    expect(maxAbsDiff(w, tf.tensor2d(sincosPosEmbed(6, 128, false), [36, 128]))).toBe(0);
    m.dispose();
  });

  it('FiLM per block (zero-init = identity, then the instruction changes the tokens) + coordinate channels into TokenLearner', () => {
    const before = tf.memory().numTensors;
    const small = { dim: 32, heads: 2, mlpRatio: 2, textDim: 8, tokenLearnerHidden: 16 };
    const m = create('siglip_film_tl8_patch16_96', small) as ViT;
    expect(m.textDim).toBe(8);
    expect(m.outputDim).toBe(34); // C + x, y
    expect(m.outputTokens(48, 48)).toBe(8);
    expect(m.namedWeights()['film.3.w'].shape).toEqual([8, 64]); // [textDim, 2C]: gamma | beta
    expect(m.namedWeights()['tokenlearner.fc1.w'].shape).toEqual([34, 16]); // TokenLearner reads the coordinates too
    const x = randomImages(2, 48, 48);
    const t1 = tf.randomNormal([2, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
    const t2 = tf.randomNormal([2, 8], 0, 1, 'float32', 4) as tf.Tensor2D;
    const run = (t: tf.Tensor2D) => m.forward(x, t, false, { returnAttention: true, returnTokenLogits: true });
    const a = run(t1);
    const b = run(t2);
    expect(maxAbsDiff(a.tokens, b.tokens)).toBe(0); // zero-initialized FiLM: the instruction has no effect yet
    // Each token's last two channels are its map's attention-weighted cell centre (spatial soft-argmax).
    const coords = tf.tensor2d([-2 / 3, -2 / 3, 0, -2 / 3, 2 / 3, -2 / 3, -2 / 3, 0, 0, 0, 2 / 3, 0, -2 / 3, 2 / 3, 0, 2 / 3, 2 / 3, 2 / 3], [9, 2]); // 3x3 grid, row-major
    const want = tf.tidy(() => tf.matMul(a.tokenMaps!.reshape([16, 9]), coords)); // [B*S,N] @ [N,2]
    const got = tf.tidy(() => a.tokens.slice([0, 0, 32], [2, 8, 2]).reshape([16, 2]));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    expect(a.tokenLogits!.shape).toEqual([2, 8, 9]);
    randomizeWeights({ w: m.namedWeights()['film.0.w'] }, 5);
    const c = run(t1);
    const d = run(t2);
    expect(maxAbsDiff(c.tokens, d.tokens)).toBeGreaterThan(1e-3);
    const wrong = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => m.forward(x, wrong, false)).toThrow(/text embedding dim 5 != textDim 8/);
    expect(() => create('siglip_film_tl8_patch16_96', { ...small, textDim: 0 })).toThrow(/film needs textDim > 0/);
    expect(() => create('siglip_film_tl8_patch16_96', { ...small, pool: 'map' })).toThrow(/coordChannels needs pool 'gap'/);
    const headed = create('siglip_film_tl8_patch16_96', { ...small, numClasses: 5 });
    expect(headed.namedWeights()['head.w'].shape).toEqual([34, 5]); // a classifier reads the pooled tokens, coordinates included
    expect(headed.paramCount()).toBe(m.paramCount() + 34 * 5 + 5);
    headed.dispose();
    for (const o of [a, b, c, d]) tf.dispose([o.tokens, o.pooled, o.tokenMaps ?? [], o.tokenLogits ?? [], ...(o.attention ?? [])]);
    tf.dispose([x, t1, t2, wrong, coords, want, got]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
