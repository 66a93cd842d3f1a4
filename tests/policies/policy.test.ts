import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type PolicyObservation, VlaPolicy } from '../../policies/policy.ts';
import { createPolicy, listPolicies, policyConfig } from '../../policies/registry.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const low = [-0.025, -0.025, -0.025, -0.25, 0, 0];
const high = [0.025, 0.025, 0.025, 0.25, 1, 1];
const small = {
  backbone: 'efficientnet_film_xs_64',
  imageSize: 32,
  textDim: 16,
  textHeads: 2,
  gptLayers: 1,
  gptHeads: 2,
  gptDim: 32,
  bins: 32,
  actionLow: low,
  actionHigh: high,
  cameras: ['scene', 'wrist'],
};

function frame(w: number, h: number, seed: number) {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + seed * 97) % 256;
  return { width: w, height: h, data };
}

function obs(seed: number, instruction = 'put the red cube in the blue bowl'): PolicyObservation {
  return {
    images: { scene: frame(40, 40, seed), wrist: frame(32, 32, seed + 1) },
    proprio: Float32Array.from([0.1, -0.1, 0.2, 0, 0.04, seed % 2]),
    instruction,
  };
}

describe('VlaPolicy', () => {
  it('registry: recipes, overrides, unknown fields', () => {
    expect(listPolicies()).toEqual(['efficientnet-film', 'efficientnet-film-64', 'vit-siglip', 'vit-siglip-openvla']);
    expect(policyConfig('vit-siglip-openvla').useTextTokens).toBe(true);
    expect(policyConfig('vit-siglip').useTextTokens).toBe(false); // the shipped ViT takes RT-1's token path (tests/policies/recipes.test.ts)
    expect(policyConfig('efficientnet-film', { blind: true }).blind).toBe(true);
    expect(() => policyConfig('efficientnet-film', { nope: 1 } as never)).toThrow(/unknown config field/);
    expect(() => createPolicy('rt-2')).toThrow(/unknown policy/);
  });

  it('selectAction / predictActionChunk / reset with action chunks (efficientnet-film, 2 cameras)', () => {
    const before = tf.memory().numTensors;
    const p = new VlaPolicy({ ...small, chunkLength: 3 });
    expect(p.backbone.textDim).toBe(16); // FiLM conditioned on the instruction encoder
    const n0 = tf.memory().numTensors;
    const chunk = p.predictActionChunk(obs(1));
    expect(chunk.length).toBe(3);
    for (const a of chunk) {
      expect(a).toBeInstanceOf(Float32Array);
      expect(a.length).toBe(6);
      a.forEach((v, d) => expect(v >= low[d] && v <= high[d]).toBe(true));
    }
    expect(tf.memory().numTensors).toBe(n0); // no leak per call
    let calls = 0;
    const orig = p.predictActionChunk.bind(p);
    p.predictActionChunk = (o) => {
      calls++;
      return orig(o);
    };
    for (let i = 0; i < 4; i++) p.selectAction(obs(i));
    expect(calls).toBe(2); // chunk of 3 -> steps 0..2 from the first, step 3 from the second
    p.reset();
    p.selectAction(obs(5));
    expect(calls).toBe(3);
    expect(() => p.predictActionChunk({ ...obs(1), images: { scene: frame(32, 32, 1) } })).toThrow(/camera 'wrist' missing/);
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('computeLoss is finite and training reduces it; namedWeights keys are stable', () => {
    const n0 = tf.memory().numTensors;
    const p = new VlaPolicy({ ...small, cameras: ['scene'] });
    const q = new VlaPolicy({ ...small, cameras: ['scene'] });
    const keys = Object.keys(p.namedWeights());
    expect(keys).toEqual(Object.keys(q.namedWeights()));
    expect(keys.some((k) => k.startsWith('backbone.blocks.0.film.'))).toBe(true);
    expect(keys).toContain('gpt.wte_action');
    expect(keys).toContain('text.wte');
    q.dispose();
    const observations = [obs(1), obs(2, 'stack the green cube on the red cube')];
    const actions = [
      [0.01, -0.02, 0, 0.1, 1, 0],
      [-0.02, 0.02, 0.01, -0.2, 0, 1],
    ];
    const batch = p.collate(observations, actions);
    const opt = tf.train.adam(3e-3);
    const l0 = tf.tidy(() => p.computeLoss(batch, false).dataSync()[0]);
    expect(Number.isFinite(l0)).toBe(true);
    expect(l0).toBeGreaterThan(Math.log(32) * 0.7);
    let l = l0;
    for (let i = 0; i < 10; i++) {
      const v = opt.minimize(() => p.computeLoss(batch), true, p.trainableVariables())!;
      l = v.dataSync()[0];
      v.dispose();
    }
    expect(l).toBeLessThan(0.7 * l0);
    opt.dispose();
    tf.dispose([...Object.values(batch.images), batch.proprio!]);
    p.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('actionOrder: tokens in decode order (terminate first), actions back in environment order', () => {
    const n0 = tf.memory().numTensors;
    const order = [5, 0, 1, 2, 3, 4];
    const plain = new VlaPolicy({ ...small, cameras: ['scene'], chunkLength: 2 });
    const p = new VlaPolicy({ ...small, cameras: ['scene'], chunkLength: 2, actionOrder: order });
    const chunk = [0.01, -0.02, 0, 0.1, 1, 0, -0.025, 0.02, 0.01, -0.2, 0, 1];
    const batch = p.collate([obs(1)], [chunk]);
    const envTokens = plain.actionTokens(batch), decodeTokens = p.actionTokens(batch);
    for (let k = 0; k < 2; k++) for (let i = 0; i < 6; i++) expect(decodeTokens[k * 6 + i]).toBe(envTokens[k * 6 + order[i]]);
    expect(decodeTokens[0]).toBe(0); // terminate of step 0 comes first
    expect(decodeTokens[6]).toBe(31); // ... and of step 1
    // Trained on one sample, greedy decoding gives back its actions in environment order.
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < 60; i++) tf.dispose(opt.minimize(() => p.computeLoss(batch), true, p.trainableVariables()) ?? []);
    const out = p.predictActionChunk(obs(1)).flatMap((a) => Array.from(a));
    const w = (i: number) => (high[i % 6] - low[i % 6]) / 32;
    out.forEach((v, i) => expect(Math.abs(v - chunk[i])).toBeLessThanOrEqual(w(i)));
    expect(() => new VlaPolicy({ ...small, actionOrder: [0, 1, 2, 3, 4, 4] })).toThrow(/permutation of 0..5/);
    opt.dispose();
    tf.dispose([...Object.values(batch.images), batch.proprio!]);
    p.dispose();
    plain.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it("blind: the image content does not matter", () => {
    const p = new VlaPolicy({ ...small, cameras: ['scene'], blind: true });
    const a = p.collate([obs(1)], [[0, 0, 0, 0, 1, 0]]);
    const b = p.collate([obs(7)], [[0, 0, 0, 0, 1, 0]]);
    const la = tf.tidy(() => p.computeLoss(a, false).dataSync()[0]);
    const lb = tf.tidy(() => p.computeLoss(b, false).dataSync()[0]);
    expect(la).toBe(lb);
    tf.dispose([a.images.scene, a.proprio!, b.images.scene, b.proprio!]);
    p.dispose();
  });

  it('vit-siglip: patch + language tokens in the prefix; config JSON round trip; fitted action bounds', () => {
    const p = new VlaPolicy({
      ...small,
      backbone: 'siglip_tiny_patch8_96',
      useTextTokens: true,
      backboneOverrides: { depth: 1 },
      cameras: ['scene'],
      actionDim: 4,
      actionLow: [-1, -1, -1, 0],
      actionHigh: [1, 1, 1, 1],
    });
    expect(p.gpt.config.maxPrefix).toBe(16 + 16 + 1); // 4x4 patches at 32 px + 16 text tokens + proprio
    const a = p.selectAction(obs(3));
    expect(a.length).toBe(4);
    const state = JSON.parse(JSON.stringify(p.toJSON()));
    const r = VlaPolicy.fromJSON(state);
    expect(Object.keys(r.namedWeights())).toEqual(Object.keys(p.namedWeights()));
    r.dispose();
    p.fitActionBounds(Array.from({ length: 101 }, (_, i) => [i / 100, -i / 100, 0.5, i % 2]));
    expect(p.actionTokenizer.low[0]).toBeCloseTo(0.01, 10);
    expect(p.config.actionHigh[1]).toBeCloseTo(-0.01, 10);
    p.dispose();
  });

  it('proprio normalization: fitted mean/std (std floored), applied before the GPT, validated', () => {
    const p = new VlaPolicy({ ...small, proprioDim: 2 });
    p.fitProprioStats([[0, 1], [2, 1], [4, 1]]);
    expect(p.config.proprioMean).toEqual([2, 1]);
    expect(p.config.proprioStd[0]).toBeCloseTo(Math.sqrt(8 / 3), 6);
    expect(p.config.proprioStd[1]).toBe(1e-2); // constant dimension: floored, not 0
    // Same weights: a normalizing policy on raw proprio == a plain one on pre-normalized proprio.
    const plain = new VlaPolicy({ ...small, proprioDim: 2 });
    for (const [k, v] of Object.entries(plain.namedWeights())) v.assign(p.namedWeights()[k]);
    const raw = { ...obs(1), proprio: Float32Array.from([3, 1.02]) };
    const pre = { ...obs(1), proprio: Float32Array.from([(3 - 2) / p.config.proprioStd[0], 0.02 / 1e-2]) };
    const a = p.encodeObservation(raw);
    const b = plain.encodeObservation(pre);
    expect(Array.from(a.proprio!.dataSync()).map((v) => +v.toFixed(4))).toEqual(Array.from(b.proprio!.dataSync()).map((v) => +v.toFixed(4)));
    expect(p.predictActionChunk(raw)).toEqual(plain.predictActionChunk(pre));
    tf.dispose([a.vision, a.proprio!, b.vision, b.proprio!]);
    p.dispose();
    plain.dispose();
    expect(() => new VlaPolicy({ ...small, proprioDim: 2, proprioMean: [0], proprioStd: [1] })).toThrow(/proprioMean\/proprioStd must both be empty or have proprioDim = 2 entries/);
    expect(() => new VlaPolicy({ ...small, proprioDim: 1, proprioMean: [0], proprioStd: [0] })).toThrow(/proprioStd entries must be > 0/);
  });

  it('saliency: mean TokenLearner map (CNN) or last-layer attention received (ViT) over the feature grid, summing to 1, no leak', () => {
    const cnn = new VlaPolicy({ ...small, imageSize: 64 });
    const vit = new VlaPolicy({ ...small, backbone: 'siglip_tiny_patch8_96', backboneOverrides: { depth: 1, dim: 32, heads: 2 }, imageSize: 32 });
    const n0 = tf.memory().numTensors;
    const a = cnn.saliency(obs(1));
    expect([a.kind, a.camera, a.grid]).toEqual(['tokenlearner', 'scene', [2, 2]]); // xs preset: output stride 32 at 64 px
    const b = vit.saliency(obs(1), 'wrist');
    expect([b.kind, b.camera, b.grid]).toEqual(['attention', 'wrist', [4, 4]]); // 32 px / 8 px patches
    const tl = new VlaPolicy({ ...small, backbone: 'siglip_film_tl8_patch16_96', backboneOverrides: { depth: 1, dim: 32, heads: 2 }, imageSize: 32 });
    const n1 = tf.memory().numTensors;
    const c = tl.saliency(obs(1));
    expect([c.kind, c.camera, c.grid]).toEqual(['tokenlearner', 'scene', [2, 2]]); // a ViT with TokenLearner: its maps, 32 px / 16 px patches
    expect(tf.memory().numTensors).toBe(n1);
    tl.dispose();
    for (const s of [a, b, c]) {
      expect(s.heat.length).toBe(s.grid[0] * s.grid[1]);
      expect(s.heat.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 4);
      expect(s.heat.every((v) => v >= 0)).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(n0);
    expect(() => cnn.saliency(obs(1), 'top')).toThrow(/camera 'top' missing/);
    cnn.dispose();
    vit.dispose();
  });
});
