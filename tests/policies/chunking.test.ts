// Action chunks decoded in one pass (policies/gpt.ts decoding 'parallel',
// OpenVLA-OFT), the continuous L1 head, the layout's value encoding, the
// chunk executors (policies/chunkExecution.ts) and moving a trained
// autoregressive decoder to parallel chunks (src/train/checkpoint.ts).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Gpt, type GptPrefixInputs } from '../../policies/gpt.ts';
import { attentionBias } from '../../backbones/transformer.ts';
import { ChunkExecutor, checkChunkExecution, parseChunkExecution } from '../../policies/chunkExecution.ts';
import { TokenLayout } from '../../policies/tokenLayout.ts';
import { VlaPolicy } from '../../policies/policy.ts';
import { transplantWeights } from '../../src/train/checkpoint.ts';
import { TINY_POLICY } from '../train/helpers.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const tiny = { nLayer: 2, nHead: 2, nEmbd: 32, mlpRatio: 2, bins: 16, actionDim: 3, chunk: 2, maxPrefix: 12, visionDim: 8, proprioDim: 4, auxDim: 2 };

function inputs(B: number, seed = 1): GptPrefixInputs {
  return { vision: tf.randomNormal([B, 4, 8], 0, 1, 'float32', seed) as tf.Tensor3D, proprio: tf.randomNormal([B, 4], 0, 1, 'float32', seed + 2) as tf.Tensor2D };
}
const free = (p: GptPrefixInputs) => tf.dispose([p.vision!, p.proprio!]);

describe('parallel decoding', () => {
  it('decodes every token of the chunk from one pass: the tokens are the per-position argmax of that pass', () => {
    const g = new Gpt({ ...tiny, decoding: 'parallel' });
    expect(g.paramCount()).toBe(Gpt.countParams({ ...tiny, decoding: 'parallel' }));
    expect(Object.keys(g.namedWeights())).not.toContain('wte_action');
    const inp = inputs(2);
    const n0 = tf.memory().numTensors;
    const dec = g.decode(inp);
    expect(dec.logits.shape).toEqual([2, 6, 16]);
    const argmax = tf.tidy(() => dec.logits.argMax(-1).arraySync() as number[][]);
    expect(dec.tokens).toEqual(argmax);
    // teacher-forced logits do not depend on the target tokens (nothing is fed back)
    const a = g.forward(inp, tf.zeros([2, 6], 'int32'));
    const b = g.forward(inp, tf.fill([2, 6], 5, 'int32'));
    expect(tf.tidy(() => a.sub(dec.logits).abs().max().dataSync()[0])).toBeLessThan(1e-5);
    expect(tf.tidy(() => a.sub(b).abs().max().dataSync()[0])).toBe(0);
    tf.dispose([dec.logits, a, b]);
    expect(tf.memory().numTensors).toBe(n0 + 2); // the two int target tensors above
    free(inp);
    g.dispose();
  });

  it('the prefix stays causal (queries never leak into it) while the queries see each other', () => {
    const g = new Gpt({ ...tiny, decoding: 'parallel' });
    const inp = inputs(1);
    const aux0 = g.predictAux(inp);
    const out0 = g.forward(inp, tf.zeros([1, 6], 'int32'));
    const q = g.namedWeights().action_query;
    const before = q.clone();
    // perturb only query 5: the prefix (aux head) must not move, query 0's output must
    q.assign(tf.tidy(() => q.add(tf.oneHot(tf.tensor1d([5], 'int32'), 6).reshape([6, 1]).mul(tf.randomNormal([1, 32], 0, 30, 'float32', 9)))));
    const aux1 = g.predictAux(inp);
    const out1 = g.forward(inp, tf.zeros([1, 6], 'int32'));
    expect(tf.tidy(() => aux1.sub(aux0).abs().max().dataSync()[0])).toBe(0);
    expect(tf.tidy(() => out1.slice([0, 0, 0], [1, 1, 16]).sub(out0.slice([0, 0, 0], [1, 1, 16])).abs().max().dataSync()[0])).toBeGreaterThan(1e-6);
    q.assign(before);
    // the mask itself: causal rows for the prefix, full rows for the 2-query tail
    const bias = attentionBias(5, 5, true, null, 2)!.reshape([5, 5]).arraySync() as number[][];
    expect(bias.map((r) => r.map((v) => (v < 0 ? 0 : 1)))).toEqual([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 1, 1, 1]]);
    tf.dispose([aux0, aux1, out0, out1, before]);
    free(inp);
    g.dispose();
  });

  it('L1 head: values in [-1, 1] from one pass, an L1 loss that falls when fitted, and refusal without parallel decoding', () => {
    expect(() => new Gpt({ ...tiny, head: 'l1' })).toThrow(/head 'l1' needs decoding 'parallel'/);
    expect(() => new Gpt({ ...tiny, decoding: 'sideways' as never })).toThrow(/decoding must be autoregressive or parallel/);
    const cfg = { ...tiny, decoding: 'parallel' as const, head: 'l1' as const };
    const g = new Gpt(cfg);
    expect(g.paramCount()).toBe(Gpt.countParams(cfg));
    expect(Object.keys(g.namedWeights()).filter((k) => k.startsWith('lm_head'))).toEqual([]);
    const inp = inputs(4);
    const target = tf.tidy(() => tf.randomUniform([4, 6], -0.8, 0.8, 'float32', 3)) as tf.Tensor2D;
    const opt = tf.train.adam(0.005); // L1's sign gradients oscillate at larger steps
    const l0 = g.loss(inp, target, true);
    const first = l0.dataSync()[0];
    for (let i = 0; i < 60; i++) opt.minimize(() => g.loss(inp, target, true), true, g.trainableVariables())?.dispose();
    const l1 = g.loss(inp, target, true);
    expect(l1.dataSync()[0]).toBeLessThan(first * 0.3);
    const dec = g.decode(inp);
    expect(dec.values!.length).toBe(4);
    for (const row of dec.values!) for (const v of row) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    tf.dispose([l0, l1, target, dec.logits]);
    opt.dispose();
    free(inp);
    g.dispose();
  });
});

describe('token layout values (continuous head targets)', () => {
  it('encodeValues / decodeValues round-trip in decode order, clipped to the bounds', () => {
    const layout = new TokenLayout({ actionDim: 3, actionOrder: [2, 0, 1], chunkLength: 2, bins: 256, actionLow: [-1, 0, -2], actionHigh: [1, 1, 2], planDims: 0, planLow: [], planHigh: [] });
    const a = [0.5, 0.25, -2, -1, 1, 3];
    const v = layout.encodeValues(a);
    expect(v).toEqual([-1, 0.5, -0.5, 1, -1, 1]); // per step: dim 2, dim 0, dim 1
    const back = layout.decodeValues(v);
    expect(Array.from(back.actions[0])).toEqual([0.5, 0.25, -2]);
    expect(Array.from(back.actions[1])).toEqual([-1, 1, 2]); // 3 clipped to the bound 2
  });
});

describe('chunk execution', () => {
  const chunk = (t: number) => [0, 1, 2, 3].map((k) => Float32Array.of(t * 10 + k));
  function run(e: Parameters<typeof checkChunkExecution>[0], steps: number): { actions: number[]; inferences: number[] } {
    const x = new ChunkExecutor(e, 4);
    const actions: number[] = [], inferences: number[] = [];
    for (let t = 0; t < steps; t++) {
      if (x.needsInference()) { inferences.push(t); x.push(chunk(t)); }
      actions.push(x.next()[0]);
    }
    return { actions, inferences };
  }

  it('open loop plays each chunk through; receding re-plans every m steps', () => {
    expect(run({ mode: 'open_loop' }, 8)).toEqual({ actions: [0, 1, 2, 3, 40, 41, 42, 43], inferences: [0, 4] });
    expect(run({ mode: 'receding', every: 2 }, 6)).toEqual({ actions: [0, 1, 20, 21, 40, 41], inferences: [0, 2, 4] });
  });

  it('temporal ensembling averages every live prediction for the step with ACT weights exp(-m i), oldest first', () => {
    const r = run({ mode: 'ensemble', decay: 0 }, 3);
    expect(r.inferences).toEqual([0, 1, 2]);
    // step 1: predictions 1 (from t=0) and 10 (from t=1); step 2: 2, 11, 20
    expect(r.actions).toEqual([0, 5.5, 11]);
    const m = 0.5;
    const w = [1, Math.exp(-m)];
    expect(run({ mode: 'ensemble', decay: m }, 2).actions[1]).toBeCloseTo((w[0] * 1 + w[1] * 10) / (w[0] + w[1]), 5);
  });

  it('bad execution settings are errors naming the field', () => {
    expect(() => checkChunkExecution({ mode: 'receding', every: 5 }, 4)).toThrow(/every must be an integer in \[1, 4\]/);
    expect(() => checkChunkExecution({ mode: 'later' as never }, 4)).toThrow(/mode must be open_loop, receding, ensemble/);
    expect(() => parseChunkExecution('receding:x')).toThrow(/bad argument/);
    expect(parseChunkExecution('receding:2')).toEqual({ mode: 'receding', every: 2 });
    expect(parseChunkExecution('ensemble')).toEqual({ mode: 'ensemble' });
  });
});

describe('policy with parallel chunks', () => {
  it('predicts K actions per inference, runs each execution mode, and leaks no tensor', () => {
    const p = new VlaPolicy({ ...TINY_POLICY, cameras: ['scene'], chunkLength: 4, decoding: 'parallel', head: 'l1', chunkExecution: { mode: 'receding', every: 2 } });
    const frame = { width: 32, height: 32, data: new Uint8Array(32 * 32 * 3).fill(90) };
    const obs = { images: { scene: frame }, proprio: new Float32Array(6), instruction: 'put the red cube in the blue bowl' };
    expect(p.predictActionChunk(obs).length).toBe(4);
    const n0 = tf.memory().numTensors;
    for (let t = 0; t < 5; t++) p.selectAction(obs);
    p.setChunkExecution({ mode: 'ensemble' });
    for (let t = 0; t < 5; t++) expect(p.selectAction(obs).length).toBe(6);
    expect(tf.memory().numTensors).toBe(n0);
    expect(() => p.setChunkExecution({ mode: 'receding', every: 9 })).toThrow(/\[1, 4\]/);
    p.dispose();
  });

  it('an autoregressive single-step decoder moves to parallel 4-step chunks keeping every trained weight but the token inputs', () => {
    const ar = new VlaPolicy({ ...TINY_POLICY, cameras: ['scene'] });
    const par = new VlaPolicy({ ...ar.config, chunkLength: 4, decoding: 'parallel' });
    const fresh = transplantWeights(ar, par, 'test');
    expect(fresh).toEqual(['gpt.action_query']);
    const a = ar.namedWeights()['gpt.wpe'], b = par.namedWeights()['gpt.wpe'];
    const Tp = ar.gpt.config.maxPrefix;
    expect(b.shape[0]).toBe(Tp + 24);
    // prefix rows kept; the query for step 1's token 2 starts from the row that predicted token 2 (Tp-1+2)
    const d = tf.tidy(() => [b.slice([0, 0], [Tp, 32]).sub(a.slice([0, 0], [Tp, 32])).abs().max().dataSync()[0], b.slice([Tp + 6 + 2, 0], [1, 32]).sub(a.slice([Tp - 1 + 2, 0], [1, 32])).abs().max().dataSync()[0]]);
    expect(d).toEqual([0, 0]);
    expect(par.namedWeights()['gpt.lm_head.w'].dataSync()).toEqual(ar.namedWeights()['gpt.lm_head.w'].dataSync());
    ar.dispose();
    par.dispose();
  });
});
