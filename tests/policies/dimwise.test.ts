// 'dimwise' action decoding (policies/gpt.ts): the K steps of a chunk in
// parallel, the D dimensions of a step one after another, so each dimension
// conditions on the dimensions decoded before it (the parallel decoder's
// fixed point, results/learning). Block-causal attention (backbones/transformer.ts
// tailBlock), KV-cached decoding against the teacher-forced pass, and moving a
// trained autoregressive decoder onto it (src/train/checkpoint.ts).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Gpt, type GptPrefixInputs } from '../../policies/gpt.ts';
import { attentionBias } from '../../backbones/transformer.ts';
import { VlaPolicy } from '../../policies/policy.ts';
import { transplantWeights } from '../../src/train/checkpoint.ts';
import { TINY_POLICY } from '../train/helpers.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

// K = 2 steps of D = 3 dimensions: A = 6 tokens, step-major (token k*3 + d)
const tiny = { nLayer: 2, nHead: 2, nEmbd: 32, mlpRatio: 2, bins: 16, actionDim: 3, chunk: 2, maxPrefix: 12, visionDim: 8, proprioDim: 4, auxDim: 2, decoding: 'dimwise' as const };

function inputs(B: number, seed = 1): GptPrefixInputs {
  return { vision: tf.randomNormal([B, 4, 8], 0, 1, 'float32', seed) as tf.Tensor3D, proprio: tf.randomNormal([B, 4], 0, 1, 'float32', seed + 2) as tf.Tensor2D };
}
const free = (p: GptPrefixInputs) => tf.dispose([p.vision!, p.proprio!]);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);

describe('block-causal attention bias', () => {
  it('a tail of 4 in blocks of 2: each block sees the prefix, the blocks before it and itself', () => {
    const bias = attentionBias(6, 6, true, null, 4, 2)!.reshape([6, 6]).arraySync() as number[][];
    expect(bias.map((r) => r.map((v) => (v < 0 ? 0 : 1)))).toEqual([
      [1, 0, 0, 0, 0, 0],
      [1, 1, 0, 0, 0, 0],
      [1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 0, 0],
      [1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 1],
    ]);
    // with a cache: the 2 new positions of a block see all 4 cached keys and each other
    const cached = attentionBias(2, 6, true, null, 2)!.reshape([2, 6]).arraySync() as number[][];
    expect(cached.flat().every((v) => v === 0)).toBe(true);
    expect(() => attentionBias(6, 6, true, null, 4, 3)).toThrow(/tail 4 does not split into blocks of 3/);
  });
});

describe('dimwise decoding', () => {
  it('has the token table and no queries; counts its parameters', () => {
    const g = new Gpt(tiny);
    expect(g.paramCount()).toBe(Gpt.countParams(tiny));
    expect(Object.keys(g.namedWeights())).toContain('wte_action');
    expect(Object.keys(g.namedWeights())).not.toContain('action_query');
    g.dispose();
  });

  it('dimension d reads the tokens of dimensions < d of every step and nothing of dimensions >= d', () => {
    const g = new Gpt(tiny);
    const inp = inputs(1);
    const base = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const logitsWith = (tokens: number[]) => g.forward(inp, tf.tensor2d([tokens], [1, 6], 'int32'));
    const l0 = g.forward(inp, base);
    const dimDiff = (l: tf.Tensor3D, d: number) => tf.tidy(() => l.reshape([2, 3, 16]).slice([0, d, 0], [2, 1, 16]).sub(l0.reshape([2, 3, 16]).slice([0, d, 0], [2, 1, 16])).abs().max().dataSync()[0]);
    // change dimension 0 of step 1: dimension 0 (both steps) is unchanged, dimensions 1 and 2 move
    const a = logitsWith([1, 2, 3, 9, 5, 6]);
    expect(dimDiff(a, 0)).toBe(0);
    expect(dimDiff(a, 1)).toBeGreaterThan(1e-6);
    expect(dimDiff(a, 2)).toBeGreaterThan(1e-6);
    // change the last dimension: it is never fed, so nothing moves
    const b = logitsWith([1, 2, 11, 4, 5, 13]);
    expect(maxDiff(b, l0)).toBe(0);
    tf.dispose([base, l0, a, b]);
    free(inp);
    g.dispose();
  });

  it('KV-cached decoding in D passes gives the teacher-forced logits of the tokens it chose, for greedy and sampled decoding, and leaks nothing', () => {
    const g = new Gpt(tiny);
    const inp = inputs(3);
    const n0 = tf.memory().numTensors;
    for (const opts of [{}, { point: 'median' as const }, { temperature: 1, seed: 4 }]) {
      const dec = g.decode(inp, opts);
      expect(dec.logits.shape).toEqual([3, 6, 16]);
      expect(dec.tokens.map((t) => t.length)).toEqual([6, 6, 6]);
      const tf_ = tf.tensor2d(dec.tokens, [3, 6], 'int32');
      const forced = g.forward(inp, tf_);
      expect(maxDiff(forced, dec.logits)).toBeLessThan(1e-4);
      if (!('temperature' in opts) && !('point' in opts)) expect(tf.tidy(() => dec.logits.argMax(-1).arraySync())).toEqual(dec.tokens);
      tf.dispose([dec.logits, tf_, forced]);
    }
    expect(tf.memory().numTensors).toBe(n0);
    free(inp);
    g.dispose();
  });

  it('the teacher-forced cross-entropy falls when fitted', () => {
    const g = new Gpt(tiny);
    const inp = inputs(4);
    const target = tf.tidy(() => tf.randomUniform([4, 6], 0, 16, 'int32', 5)) as tf.Tensor2D;
    const opt = tf.train.adam(0.01);
    const l0 = g.loss(inp, target, true);
    for (let i = 0; i < 40; i++) opt.minimize(() => g.loss(inp, target, true), true, g.trainableVariables())?.dispose();
    const l1 = g.loss(inp, target, true);
    expect(l1.dataSync()[0]).toBeLessThan(l0.dataSync()[0] * 0.5);
    const dec = g.decode(inp);
    expect(dec.tokens).toEqual(target.arraySync()); // fitted: the greedy decode reproduces the targets
    tf.dispose([l0, l1, target, dec.logits]);
    opt.dispose();
    free(inp);
    g.dispose();
  });
});

describe('policy with dimwise chunks', () => {
  it('an autoregressive single-step decoder moves to dimwise 4-step chunks keeping every weight, and predicts 4 actions per call', () => {
    const ar = new VlaPolicy({ ...TINY_POLICY, cameras: ['scene'] });
    const dw = new VlaPolicy({ ...ar.config, chunkLength: 4, decoding: 'dimwise' });
    expect(transplantWeights(ar, dw, 'test')).toEqual([]);
    const a = ar.namedWeights(), b = dw.namedWeights();
    expect(b['gpt.wte_action'].dataSync()).toEqual(a['gpt.wte_action'].dataSync());
    // the slot predicting step 2's dimension 1 starts from the row that predicted dimension 1 (Tp-1+1)
    const Tp = ar.gpt.config.maxPrefix;
    expect(maxDiff(b['gpt.wpe'].slice([Tp + 2 * 6 + 1, 0], [1, 32]), a['gpt.wpe'].slice([Tp, 0], [1, 32]))).toBe(0);
    const frame = { width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(90) };
    const obs = { images: { scene: frame }, proprio: new Float32Array(6), instruction: 'put the red cube in the blue bowl' };
    expect(dw.predictActionChunk(obs).length).toBe(4);
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) expect(dw.selectAction(obs).length).toBe(6);
    expect(tf.memory().numTensors).toBe(n0);
    ar.dispose();
    dw.dispose();
  });
});
