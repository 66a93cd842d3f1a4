import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Gpt, pickBin, type GptPrefixInputs } from '../../policies/gpt.ts';
import { InstructionEncoder } from '../../policies/textEncoder.ts';
import { maxAbsDiff, useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const tiny = { nLayer: 2, nHead: 2, nEmbd: 32, mlpRatio: 2, bins: 16, actionDim: 3, chunk: 2, maxPrefix: 12, visionDim: 8, textDim: 6, proprioDim: 4 };

function prefixInputs(B: number, seed = 1): GptPrefixInputs {
  // 4 vision tokens, 5 language tokens (last two padded in row 0), 1 proprio token -> Tp = 10
  const mask = tf.tensor2d(Array.from({ length: B * 5 }, (_, i) => (i < 5 && i >= 3 ? 0 : 1)), [B, 5]);
  return {
    vision: tf.randomNormal([B, 4, 8], 0, 1, 'float32', seed) as tf.Tensor3D,
    text: tf.randomNormal([B, 5, 6], 0, 1, 'float32', seed + 1) as tf.Tensor3D,
    textMask: mask,
    proprio: tf.randomNormal([B, 4], 0, 1, 'float32', seed + 2) as tf.Tensor2D,
  };
}

function disposeInputs(p: GptPrefixInputs): void {
  tf.dispose([p.vision!, p.text!, p.textMask!, p.proprio!]);
}

describe('GPT action decoder', () => {
  it('parameter count matches the analytic count', () => {
    const g = new Gpt(tiny);
    expect(g.paramCount()).toBe(Gpt.countParams(tiny));
    expect(g.numActionTokens).toBe(6);
    g.dispose();
  });

  it('point estimates: argmax takes the spike at the bound, the median the middle of the mass', () => {
    // probabilities [0.4, 0, 0.1, 0.1, 0.2, 0.2] as log-probabilities
    const logits = [0.4, 1e-12, 0.1, 0.1, 0.2, 0.2].map(Math.log);
    const never = () => { throw new Error('greedy decoding must not draw'); };
    expect(pickBin(logits, 6, 0, 'argmax', never)).toBe(0);
    // cumulative 0.4, 0.4, 0.5 reaches half the mass at bin 2
    expect(pickBin(logits, 6, 0, 'median', never)).toBe(2);
    // shifting all logits (softmax invariance) changes nothing
    expect(pickBin(logits.map((v) => v + 30), 6, 0, 'median', never)).toBe(2);
    // the mean: 0.1*2 + 0.1*3 + 0.2*4 + 0.2*5 = 2.3 -> bin 2; shifted logits give the same
    expect(pickBin(logits, 6, 0, 'mean', never)).toBe(2);
    expect(pickBin(logits.map((v) => v + 30), 6, 0, 'mean', never)).toBe(2);
    // two modes, 0.6 "hold" (bin 0) vs 0.4 "move" (bin 5): the median freezes at 0, the mean moves to 5 * 0.4 = 2
    const modes = [0.6, 0, 0, 0, 0, 0.4].map((p) => Math.log(p + 1e-12));
    expect(pickBin(modes, 6, 0, 'median', never)).toBe(0);
    expect(pickBin(modes, 6, 0, 'mean', never)).toBe(2);
    // a draw of 0.95 of the mass at temperature 1 lands in the last bin, 0.1 in the first
    expect(pickBin(logits, 6, 1, 'median', () => 0.95)).toBe(5);
    expect(pickBin(logits, 6, 1, 'argmax', () => 0.1)).toBe(0);
  });

  it('median decoding picks, at every step, the median bin of that step\'s distribution', () => {
    const g = new Gpt(tiny);
    const inp = prefixInputs(2);
    const res = g.decode(inp, { point: 'median' });
    const probs = tf.tidy(() => tf.softmax(res.logits, -1).arraySync() as number[][][]);
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < 6; j++) {
        let cum = 0, k = 0;
        while (k < 15 && (cum += probs[b][j][k]) < 0.5 - 1e-6) k++;
        expect(res.tokens[b][j]).toBe(k);
      }
    }
    tf.dispose(res.logits);
    disposeInputs(inp);
    g.dispose();
  });

  it('KV-cached decoding == uncached decoding == teacher-forced full forward (tokens and logits)', () => {
    const g = new Gpt(tiny);
    const inp = prefixInputs(2);
    const n0 = tf.memory().numTensors;
    for (const temperature of [0, 1.5]) {
      const cached = g.decode(inp, { temperature, seed: 7 });
      const uncached = g.decode(inp, { temperature, seed: 7, useCache: false });
      expect(cached.tokens).toEqual(uncached.tokens);
      expect(cached.tokens[0].length).toBe(6);
      expect(maxAbsDiff(cached.logits, uncached.logits)).toBeLessThan(1e-5);
      // Full forward on the decoded sequence gives the same per-step logits.
      const toks = tf.tensor2d(cached.tokens, [2, 6], 'int32');
      const full = g.forward(inp, toks);
      expect(full.shape).toEqual([2, 6, 16]);
      expect(maxAbsDiff(cached.logits, full)).toBeLessThan(1e-5);
      if (temperature === 0) {
        // greedy = argmax of the logits at every step
        const am = tf.tidy(() => Array.from(full.argMax(-1).dataSync()));
        expect(am).toEqual(cached.tokens.flat());
      }
      tf.dispose([cached.logits, uncached.logits, toks, full]);
    }
    expect(tf.memory().numTensors).toBe(n0); // decoding frees its caches
    disposeInputs(inp);
    g.dispose();
  });

  it('padding mask: changing padded language tokens does not change the output', () => {
    const g = new Gpt(tiny);
    const inp = prefixInputs(1);
    const toks = tf.tensor2d([[1, 2, 3, 4, 5, 6]], [1, 6], 'int32');
    const a = g.forward(inp, toks);
    const noisy = tf.tidy(() => inp.text!.add(tf.tensor3d([0, 0, 0, 9, 9], [1, 5, 1]))); // only padded rows 3,4 change
    const b = g.forward({ ...inp, text: noisy as tf.Tensor3D }, toks);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-5);
    tf.dispose([a, b, noisy, toks]);
    disposeInputs(inp);
    g.dispose();
  });

  it('overfits a tiny fixed batch: loss drops well below its initial value within 50 Adam steps', () => {
    const g = new Gpt({ ...tiny, nEmbd: 32 });
    const inp = prefixInputs(4, 3);
    const targets = tf.tensor2d([[1, 5, 9, 13, 2, 0], [15, 14, 13, 12, 11, 10], [3, 3, 3, 7, 7, 7], [0, 8, 0, 8, 0, 8]], [4, 6], 'int32');
    const opt = tf.train.adam(3e-3);
    const loss0 = tf.tidy(() => g.loss(inp, targets).dataSync()[0]);
    expect(loss0).toBeGreaterThan(Math.log(16) * 0.8); // ~ uniform over 16 bins at init
    let last = loss0;
    for (let i = 0; i < 50; i++) {
      const l = opt.minimize(() => g.loss(inp, targets), true, g.trainableVariables());
      last = l!.dataSync()[0];
      l!.dispose();
    }
    expect(last).toBeLessThan(0.2 * loss0);
    // and greedy decoding now reproduces the targets
    const dec = g.decode(inp);
    expect(dec.tokens).toEqual(targets.arraySync());
    dec.logits.dispose();
    opt.dispose();
    tf.dispose(targets);
    disposeInputs(inp);
    g.dispose();
  });
});

describe('InstructionEncoder', () => {
  it('shapes, pooling ignores padding, both depths and both pools, analytic count', () => {
    for (const [depth, pool] of [[0, 'mean'], [1, 'mean'], [0, 'slots'], [1, 'slots']] as const) {
      const cfg = { vocabSize: 20, maxLen: 6, dim: 16, depth, heads: 2, pool, roleHeads: pool === 'slots' ? 4 : 0 };
      const enc = new InstructionEncoder(cfg);
      expect(enc.paramCount()).toBe(InstructionEncoder.countParams(cfg));
      const ids = tf.tensor2d([[2, 5, 6, 3, 0, 0], [2, 7, 3, 0, 0, 0]], [2, 6], 'int32');
      const ids2 = tf.tensor2d([[2, 5, 6, 3, 9, 9], [2, 7, 3, 1, 1, 1]], [2, 6], 'int32'); // different padding ids
      const mask = tf.tensor2d([[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]]);
      const n0 = tf.memory().numTensors;
      const a = enc.forward(ids, mask);
      const b = enc.forward(ids2, mask);
      expect(a.embedding.shape).toEqual([2, 16]);
      expect(a.tokens.shape).toEqual([2, 6, 16]);
      expect(a.mask.shape).toEqual([2, 6]);
      expect(maxAbsDiff(a.embedding, b.embedding)).toBeLessThan(1e-5);
      if (cfg.roleHeads) {
        const r = enc.roleLogits(a.embedding);
        expect(r.shape).toEqual([2, 4, 20]);
        r.dispose();
      } else expect(() => enc.roleLogits(a.embedding)).toThrow(/roleHeads > 0/);
      tf.dispose([a.embedding, a.tokens, a.mask, b.embedding, b.tokens, b.mask]);
      expect(tf.memory().numTensors).toBe(n0);
      tf.dispose([ids, ids2, mask]);
      enc.dispose();
    }
  });

  it('slot pooling: one attention pool per learned query, concatenated and projected (hand-checked against a host computation)', () => {
    const cfg = { vocabSize: 12, maxLen: 5, dim: 4, depth: 0, heads: 1, pool: 'slots' as const, slots: 2, seed: 3 };
    const enc = new InstructionEncoder(cfg);
    expect(InstructionEncoder.countParams(cfg) - InstructionEncoder.countParams({ ...cfg, pool: 'mean' })).toBe(2 * 4 + 2 * 4 * 4 + 4);
    const w = enc.namedWeights();
    const ids = tf.tensor2d([[2, 5, 7, 3, 0]], [1, 5], 'int32');
    const mask = tf.tensor2d([[1, 1, 1, 1, 0]]);
    // The slot pool sits before the depth-0 MLP: rebuild the tokens and the pooled vector on the host, then compare the MLP of it.
    const wte = w.wte.arraySync() as number[][];
    const wpe = w.wpe.arraySync() as number[][];
    const g = w['ln_f.g'].arraySync() as number[];
    const bLn = w['ln_f.b'].arraySync() as number[];
    const tokens = [2, 5, 7, 3].map((id, i) => {
      const x = wte[id].map((v, d) => v + wpe[i][d]);
      const mu = x.reduce((a, v) => a + v, 0) / 4;
      const varr = x.reduce((a, v) => a + (v - mu) ** 2, 0) / 4;
      return x.map((v, d) => ((v - mu) / Math.sqrt(varr + 1e-5)) * g[d] + bLn[d]);
    });
    const q = w['slots.queries'].arraySync() as number[][];
    const slots = q.map((qk) => {
      const s = tokens.map((t) => t.reduce((a, v, d) => a + v * qk[d], 0) / 2); // / sqrt(4)
      const e = s.map((v) => Math.exp(v - Math.max(...s)));
      const z = e.reduce((a, v) => a + v, 0);
      return [0, 1, 2, 3].map((d) => tokens.reduce((a, t, i) => a + (e[i] / z) * t[d], 0));
    });
    const flat = slots.flat();
    const P = w['slots.proj.w'].arraySync() as number[][];
    const pb = w['slots.proj.b'].arraySync() as number[];
    const pooled = [0, 1, 2, 3].map((d) => pb[d] + flat.reduce((a, v, i) => a + v * P[i][d], 0));
    const out = enc.forward(ids, mask);
    const mlp = tf.tidy(() => {
      const x = tf.tensor2d([pooled]);
      const h = tf.matMul(x, w['pool_mlp.fc1.w']).add(w['pool_mlp.fc1.b']);
      const gelu = h.mul(0.5).mul(tf.scalar(1).add(tf.tanh(h.add(h.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI)))));
      return x.add(tf.matMul(gelu, w['pool_mlp.fc2.w']).add(w['pool_mlp.fc2.b']));
    });
    expect(maxAbsDiff(out.embedding, mlp)).toBeLessThan(1e-5);
    tf.dispose([out.embedding, out.tokens, out.mask, mlp, ids, mask]);
    enc.dispose();
    expect(() => new InstructionEncoder({ ...cfg, pool: 'max' as never })).toThrow(/pool must be 'mean' or 'slots'/);
  });
});
