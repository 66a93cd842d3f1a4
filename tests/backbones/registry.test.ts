import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as registry from '../../backbones/index.ts';
import { disposeAll, randomImages, useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const small = registry.list({ excludeTag: 'published' });

describe('backbone registry', () => {
  it('lists presets, rejects unknown names and fields', () => {
    expect(small.length).toBeGreaterThanOrEqual(5);
    expect(registry.list()).toContain('efficientnet_b0');
    expect(() => registry.create('nope')).toThrow(/unknown backbone 'nope'/);
    expect(() => registry.create('efficientnet_film_xs_64', { widthMultt: 1 })).toThrow(/unknown config field 'widthMultt'/);
    const p = registry.getPreset('vit_tiny_patch8_96');
    p.dim = 1; // a copy
    expect(registry.getPreset('vit_tiny_patch8_96').dim).toBe(128);
  });

  it('published parameter counts match torchvision / timm exactly (analytic, no allocation)', () => {
    expect(registry.countParams('efficientnet_b0')).toBe(5_288_548);
    expect(registry.countParams('efficientnet_b3')).toBe(12_233_232);
    expect(registry.countParams('vit_base_patch16_224')).toBe(86_567_656);
    // Hand-derived from the HF SiglipVisionModel (siglip-base-patch16-224) shapes:
    // patch conv 590,592 + pos 196*768 = 150,528 + 12 blocks * 7,087,872 + post-LN 1,536
    // + MAP head (probe 768, in_proj 1,771,776, out_proj 590,592, LN 1,536, MLP 4,722,432) = 7,087,104
    expect(registry.countParams('siglip_base_patch16_224')).toBe(92_884_224);
    for (const n of registry.list({ tag: 'published' })) expect(registry.countParams(n)).toBeGreaterThan(5e6);
  });

  it('analytic count equals the built model for B0 (allocate + dispose)', () => {
    const before = tf.memory().numTensors;
    const m = registry.create('efficientnet_b0');
    expect(m.paramCount()).toBe(5_288_548);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const name of small) {
    it(`${name}: shapes, finite, no leaks, dispose frees all`, () => {
      const before = tf.memory().numTensors;
      const m = registry.create(name);
      expect(m.paramCount()).toBe(registry.countParams(name));
      expect(m.paramCount()).toBeGreaterThan(300_000);
      expect(m.paramCount()).toBeLessThan(2_100_000);
      // Stable keys: independent of the per-instance variable-name prefix.
      const keys = Object.keys(m.namedWeights());
      const m2 = registry.create(name);
      expect(Object.keys(m2.namedWeights())).toEqual(keys);
      expect(m2.namedWeights()[keys[0]].name).not.toBe(m.namedWeights()[keys[0]].name);
      m2.dispose();

      const cfg = m.config as { inputSize?: number; imgSize?: number };
      const S = (cfg.inputSize ?? cfg.imgSize) as number;
      // Tests run at half the nominal resolution (multiple of 16) to stay fast on the cpu backend.
      const H = Math.max(32, Math.round(S / 2 / 16) * 16);
      const B = 2;
      const x = randomImages(B, H, H);
      const text = m.textDim > 0 ? (tf.randomNormal([B, m.textDim], 0, 1, 'float32', 3) as tf.Tensor2D) : null;
      const n0 = tf.memory().numTensors;
      for (const training of [false, true]) {
        const out = m.forward(x, text, training);
        expect(out.tokens.shape).toEqual([B, m.outputTokens(H, H), m.outputDim]);
        expect(out.pooled.shape).toEqual([B, m.outputDim]);
        const finite = tf.tidy(() => tf.logicalAnd(out.tokens.isFinite().all(), out.pooled.isFinite().all()).dataSync()[0]);
        expect(finite).toBe(1);
        disposeAll([out.tokens, out.pooled, out.logits]);
        expect(tf.memory().numTensors).toBe(n0);
      }
      expect(m.flopsPerFrame(S, S)).toBeGreaterThan(m.flopsPerFrame(H, H));
      disposeAll([x, text]);
      m.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});
