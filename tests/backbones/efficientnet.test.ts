import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EfficientNet, appendCoords, create, efficientNetLayout, getPreset, makeDivisible, type EfficientNetConfig } from '../../backbones/index.ts';
import { maxAbsDiff, randomImages, useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

describe('EfficientNet', () => {
  it('makeDivisible follows torchvision _make_divisible', () => {
    expect(makeDivisible(32 * 1.2, 8)).toBe(40); // int(38.4 + 4) // 8 * 8 = 40
    expect(makeDivisible(16 * 0.35, 8)).toBe(8); // max(8, 8)
    expect(makeDivisible(24 * 1.1, 8)).toBe(24); // 26.4 -> 24 (>= 0.9 * 26.4)
  });

  it('B0 / B3 layouts: block counts, widths, head', () => {
    const b0 = efficientNetLayout(getPreset('efficientnet_b0') as EfficientNetConfig);
    expect(b0.blocks.length).toBe(16);
    expect([b0.stemCh, b0.lastCh, b0.headCh]).toEqual([32, 320, 1280]);
    const b3 = efficientNetLayout(getPreset('efficientnet_b3') as EfficientNetConfig);
    expect(b3.blocks.length).toBe(26); // 2+3+3+5+5+6+2
    expect([b3.stemCh, b3.lastCh, b3.headCh]).toEqual([40, 384, 1536]);
    // torchvision names: stage 6 of B3 has layers 0..5
    expect(b3.blocks.filter((b) => b.stage === 6).map((b) => b.layer)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('FiLM is the identity at init: output with text == output without text', () => {
    const m = create('efficientnet_film_xs_64') as EfficientNet;
    const x = randomImages(2, 32, 32);
    const t = tf.randomNormal([2, m.textDim], 0, 3, 'float32', 5) as tf.Tensor2D;
    for (const training of [false, true]) {
      const a = m.forward(x, t, training);
      const b = m.forward(x, null, training);
      expect(maxAbsDiff(a.tokens, b.tokens)).toBe(0);
      expect(maxAbsDiff(a.pooled, b.pooled)).toBe(0);
      tf.dispose([a.tokens, a.pooled, b.tokens, b.pooled]);
    }
    // Non-zero FiLM weights make the text matter. (Training mode: at init the
    // running statistics are not calibrated and inference-mode activations of
    // an untrained net are ~1e-11.)
    const w = m.namedWeights()['blocks.0.film.w'];
    w.assign(tf.randomNormal(w.shape, 0, 0.1, 'float32', 9));
    const a = m.forward(x, t, true);
    const b = m.forward(x, null, true);
    expect(maxAbsDiff(a.tokens, b.tokens)).toBeGreaterThan(1e-4);
    tf.dispose([a.tokens, a.pooled, b.tokens, b.pooled, x, t]);
    m.dispose();
  });

  it('training mode updates BN running stats; inference uses them', () => {
    const m = create('efficientnet_film_xs_64', { tokenLearnerTokens: 0 }) as EfficientNet;
    const rm = m.namedWeights()['stem.bn.running_mean'];
    const before = rm.dataSync().slice();
    const x = randomImages(2, 32, 32);
    const out = m.forward(x, null, true);
    const after = rm.dataSync();
    expect(Array.from(after).some((v, i) => Math.abs(v - before[i]) > 1e-6)).toBe(true);
    // Without TokenLearner every final position is a token: 32 -> 16 -> 16 -> 8 -> 4 -> 2 -> 2 -> 1 -> 1.
    expect(out.tokens.shape).toEqual([2, 1, m.outputDim]);
    expect(m.outputTokens(32, 32)).toBe(1);
    expect(m.outputTokens(64, 64)).toBe(4);
    tf.dispose([out.tokens, out.pooled, x]);
    m.dispose();
  });

  it('gradients reach every trainable weight, zero-initialized FiLM included', () => {
    const m = create('efficientnet_film_xs_64') as EfficientNet;
    const x = randomImages(2, 32, 32);
    const t = tf.randomNormal([2, m.textDim], 0, 1, 'float32', 2) as tf.Tensor2D;
    const { value, grads } = tf.variableGrads(() => {
      const o = m.forward(x, t, true);
      return tf.tidy(() => o.tokens.square().mean().add(o.pooled.mean())) as tf.Scalar;
    }, m.trainableVariables());
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    expect(Object.keys(grads).length).toBe(m.trainableVariables().length);
    const filmGrad = grads[m.namedWeights()['blocks.0.film.w'].name];
    expect(tf.tidy(() => filmGrad.abs().max().dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads), x, t]);
    m.dispose();
  });

  it('classifier head of the published presets; B0 FLOPs match the published 0.39 GMACs', () => {
    const m = create('efficientnet_b0', { numClasses: 10 });
    const x = randomImages(1, 32, 32);
    const o = m.forward(x, null, false);
    expect(o.logits?.shape).toEqual([1, 10]);
    expect(o.tokens.shape).toEqual([1, 1, 1280]);
    tf.dispose([o.tokens, o.pooled, o.logits!, x]);
    m.dispose();
    // FLOPs at 224 px: torchvision reports 0.39 GMACs for B0.
    const b0 = create('efficientnet_b0');
    expect(b0.flopsPerFrame(224, 224) / 2 / 1e9).toBeCloseTo(0.39, 1);
    b0.dispose();
  });

  it('coordinate channels: cell centres in [-1, 1]; OS16 preset tokens carry attention-weighted positions', () => {
    const map = tf.zeros([1, 2, 4, 1]) as tf.Tensor4D;
    const withXY = appendCoords(map);
    expect(withXY.shape).toEqual([1, 2, 4, 3]);
    // row 0: x = -0.75, -0.25, 0.25, 0.75 at y = -0.5; row 1 at y = 0.5
    expect((withXY.arraySync() as number[][][][])[0][1].map((v) => v.slice(1))).toEqual([[-0.75, 0.5], [-0.25, 0.5], [0.25, 0.5], [0.75, 0.5]]);
    tf.dispose([map, withXY]);
    const m = create('efficientnet_film_s_os16_96');
    expect(m.outputDim).toBe(efficientNetLayout(m.config as EfficientNetConfig).headCh + 2);
    expect(m.outputTokens(64, 64)).toBe(8);
    expect((m as EfficientNet).featureSize(64, 64)).toEqual([4, 4]); // output stride 16
    const x = randomImages(1, 64, 64);
    const o = m.forward(x, tf.zeros([1, 64]) as tf.Tensor2D, false);
    // softmax TokenLearner maps are convex weights: the coordinate channels of every token stay in [-0.75, 0.75]
    const last2 = o.tokens.slice([0, 0, m.outputDim - 2], [1, 8, 2]);
    const v = Array.from(last2.dataSync());
    expect(Math.max(...v.map(Math.abs))).toBeLessThanOrEqual(0.75 + 1e-6);
    tf.dispose([x, o.tokens, o.pooled, last2]);
    m.dispose();
  });
});
