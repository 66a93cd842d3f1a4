// Spatial auxiliary supervision: soft cell targets (hand-worked), projected
// targets from the episode spec and proprio, delivery through the dataset
// (moved with the augmentation shift), and the two loss forms in the policy.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { softCellTargets, spatialTensors, tokenMapLoss } from '../../policies/spatialAux.ts';
import type { CameraSpec } from '../../sim/types.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { cameraSpecs, dirSource } from '../../src/train/node.ts';
import { NO_AUGMENT } from '../../src/train/augment.ts';
import { spatialTargets } from '../../src/train/spatialTargets.ts';
import { disposeBatch, toPolicyBatch } from '../../src/train/trainer.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { TINY_POLICY, TINY_VIT, synthDataset } from './helpers.ts';
import { VlaPolicy } from '../../policies/policy.ts';

beforeAll(async () => {
  await initBackend('wasm'); // the CNN's gradients at 64 px are too slow on the pure-JS backend
});

const round = (a: ArrayLike<number>) => Array.from(a, (v) => +v.toFixed(4));

describe('soft cell targets', () => {
  it('a cell centre is one-hot; between centres the weights are bilinear; the expected centre is the point', () => {
    // 4x4 grid: cell (row 1, col 2) has its centre at u = 2.5/4, v = 1.5/4
    expect(round(softCellTargets([2.5 / 4, 1.5 / 4], 1, 4, 4))).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // a quarter of the way from centre (0,0) to centre (0,1) along u, half way down to row 1
    const t = softCellTargets([0.5 / 4 + 0.25 / 4, 1 / 4], 1, 4, 4);
    expect(round(t.subarray(0, 6))).toEqual([0.375, 0.125, 0, 0, 0.375, 0.125]);
    let eu = 0, ev = 0;
    t.forEach((w, i) => { eu += w * ((i % 4) + 0.5) / 4; ev += w * (Math.floor(i / 4) + 0.5) / 4; });
    expect([+eu.toFixed(6), +ev.toFixed(6)]).toEqual([0.1875, 0.25]);
    // beyond the outermost centres the mass stays on the border cells; every target sums to 1
    const two = softCellTargets([0.99, 0.01, 0.01, 0.99], 2, 2, 3);
    expect(round(two)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
  });
});

// A camera straight above the origin looking down (image up = +y), and the default wrist camera.
const TOP: CameraSpec = { name: 'top', mount: 'fixed', position: [0, 0, 1], target: [0, 0, 0], fovDeg: 60 };
const spec = {
  task: 'pick_place', seed: 1, goal: { object: 'red cube', target: 'blue bowl' },
  layout: {
    objects: [{ name: 'red cube', color: 'red', shape: 'cube', x: 0.1, y: 0, yaw: 0 }],
    bowls: [{ name: 'blue bowl', color: 'blue', x: 0, y: 0.1, yaw: 0 }],
  },
} as unknown as EpisodeSpec;

describe('spatial targets', () => {
  it('projects the object and destination per camera; the object is masked after the first close; the wrist camera follows the TCP', () => {
    const [wrist] = cameraSpecs(['wrist']);
    // 3 steps; the TCP hovers above the cube, then the gripper closes at step 1
    const proprio = Float32Array.from([0.1, 0, 0.12, 0, 0.09, 0, 0.1, 0, 0.12, 0, 0.09, 0, 0.1, 0, 0.12, 0, 0.04, 1]);
    const actions = Float32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0]);
    const s = spatialTargets(spec, [TOP, wrist], proprio, 6, actions, 6, 4, 3);
    expect(s.length).toBe(3 * 2 * 2 * 3);
    const at = (t: number, cam: number, k: number) => Array.from(s.subarray(t * 12 + (cam * 2 + k) * 3, t * 12 + (cam * 2 + k) * 3 + 3));
    // top camera: +x is to the right, +y is up in the image
    const [u, v, vis] = at(0, 0, 0);
    expect(vis).toBe(1);
    expect(u).toBeGreaterThan(0.55);
    expect(v).toBeCloseTo(0.5, 6);
    const [du, dv] = at(0, 0, 1);
    expect(du).toBeCloseTo(0.5, 6);
    expect(dv).toBeLessThan(0.45);
    // the wrist camera above the cube sees it near the middle of its image
    const [wu, wv, wvis] = at(0, 1, 0);
    expect(wvis).toBe(1);
    expect(Math.abs(wu - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(wv - 0.5)).toBeLessThan(0.3);
    expect(at(1, 0, 0)[2]).toBe(1); // observation 1 (the close step) still shows the cube in place
    expect(at(2, 0, 0)).toEqual([0, 0, 0]); // then it moves with the gripper: masked
    expect(at(2, 0, 1)[2]).toBe(1); // the bowl never moves
  });

  it('DemoDataset delivers them, moved with the augmentation shift', async () => {
    const source = dirSource(synthDataset({ episodes: 2, steps: 6 }));
    const cams = cameraSpecs(['scene', 'wrist']);
    const d = new DemoDataset(source, { cameras: ['scene', 'wrist'], batchSize: 4, seed: 0, valFraction: 0, augment: NO_AUGMENT, spatial: cams });
    const refs = [0, 1, 2, 3].map((t) => ({ episode: 1, t }));
    const plain = (await d.batch(refs, null)).spatial!;
    expect(plain.length).toBe(4 * 2 * 2 * 3);
    const ep = await d.episode(1);
    expect(Array.from(plain.subarray(0, 12))).toEqual(Array.from(ep.spatial!.subarray(0, 12)));
    const shifted = new DemoDataset(source, { cameras: ['scene', 'wrist'], batchSize: 4, seed: 0, valFraction: 0, augment: { ...NO_AUGMENT, shift: 3 }, spatial: cams });
    const { Rng } = await import('../../sim/rng.ts');
    const s = (await shifted.batch(refs, new Rng(5))).spatial!;
    const moved = [0, 1, 2, 3].some((i) => s[i * 3 + 2] === 1 && Math.abs(s[i * 3] - plain[i * 3]) > 0.5 / 32);
    expect(moved).toBe(true);
    for (let i = 0; i < s.length / 3; i++) {
      if (s[i * 3 + 2] === 1) expect(Math.abs(s[i * 3] - plain[i * 3])).toBeLessThanOrEqual(3 / 32 + 1e-6);
    }
    expect(() => new DemoDataset(source, { cameras: ['scene'], batchSize: 4, valFraction: 0, spatial: cams })).toThrow(/must match cameras/);
    expect(() => cameraSpecs(['sky'])).toThrow(/no camera named "sky"/);
  });
});

describe('spatial loss in the policy', () => {
  it("'tokens': cross-entropy of TokenLearner maps 0/1 (masked), added with its weight; training lowers it", async () => {
    const n0 = tf.memory().numTensors;
    const source = dirSource(synthDataset({ episodes: 2, steps: 6 }));
    const cams = cameraSpecs(['scene', 'wrist']);
    const d = new DemoDataset(source, { cameras: ['scene', 'wrist'], batchSize: 4, seed: 0, valFraction: 0, augment: NO_AUGMENT, spatial: cams });
    const raw = await d.batch(Array.from({ length: 4 }, (_, t) => ({ episode: 0, t })), null);
    // 64 px input: a 2x2 grid after the tiny CNN's stride 32 (at 32 px it is a single cell)
    const base = { ...TINY_POLICY, imageSize: 64, cameras: ['scene', 'wrist'], actionLow: [-0.025, -0.025, -0.025, -0.25, 0, 0], actionHigh: [0.025, 0.025, 0.025, 0.25, 1, 1] };
    const off = new VlaPolicy(base);
    const on = new VlaPolicy({ ...base, spatialAux: 'tokens', spatialAuxWeight: 2 });
    const batch = toPolicyBatch(raw, on);
    const lOff = tf.tidy(() => off.computeLoss(batch, false).dataSync()[0]);
    const lOn = tf.tidy(() => on.computeLoss(batch, false).dataSync()[0]);
    const [gh, gw] = on.backbone.gridSize(on.imageSize, on.imageSize);
    const ce = tf.tidy(() => {
      const { target, mask } = spatialTensors(raw.spatial!, 4, 2, gh, gw);
      const imgs = tf.concat([batch.images.scene, batch.images.wrist].map((x) => tf.image.resizeBilinear(x, [64, 64], false, true)), 0) as tf.Tensor4D;
      const text = on.textEncoder.forward(...(() => {
        const { ids, mask: m } = on.textTokenizer.encodeBatch(batch.instructions, on.config.maxTextLen);
        return [tf.tensor2d(ids, [4, on.config.maxTextLen], 'int32'), tf.tensor2d(m, [4, on.config.maxTextLen])] as const;
      })());
      const out = on.backbone.forward(imgs, tf.tile(text.embedding, [2, 1]) as tf.Tensor2D, false, { returnTokenLogits: true });
      return tokenMapLoss(out.tokenLogits!, target, mask).dataSync()[0];
    });
    expect([gh, gw]).toEqual([2, 2]);
    expect(ce).toBeGreaterThan(0.5); // untrained maps are near uniform over the grid (log 4 = 1.39)
    expect(lOn - lOff).toBeCloseTo(2 * ce, 3); // same seeds: the action loss is identical
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < 15; i++) tf.dispose(opt.minimize(() => on.computeLoss(batch), true, on.trainableVariables()) ?? []);
    expect(tf.tidy(() => on.computeLoss(batch, false).dataSync()[0])).toBeLessThan(lOn - ce * 0.5);
    opt.dispose();
    disposeBatch(batch);
    off.dispose();
    on.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  }, 60_000);

  it("'pointer': the decoder's pointer head over patch tokens; kinds are checked against the backbone", async () => {
    const n0 = tf.memory().numTensors;
    const source = dirSource(synthDataset({ episodes: 2, steps: 6 }));
    const d = new DemoDataset(source, { cameras: ['scene'], batchSize: 6, seed: 0, valFraction: 0, augment: NO_AUGMENT, spatial: cameraSpecs(['scene']) });
    const raw = await d.batch(Array.from({ length: 6 }, (_, t) => ({ episode: 1, t })), null);
    const base = { ...TINY_VIT, cameras: ['scene'], actionLow: [-0.025, -0.025, -0.025, -0.25, 0, 0], actionHigh: [0.025, 0.025, 0.025, 0.25, 1, 1] };
    const off = new VlaPolicy(base);
    const on = new VlaPolicy({ ...base, spatialAux: 'pointer' });
    expect(on.paramCount().gpt - off.paramCount().gpt).toBe((32 + 1) * 2 * 32); // pointer head: [C, 2C] + bias
    const batch = toPolicyBatch(raw, on);
    const lOff = tf.tidy(() => off.computeLoss(batch, false).dataSync()[0]);
    const lOn = tf.tidy(() => on.computeLoss(batch, false).dataSync()[0]);
    expect(lOn - lOff).toBeGreaterThan(0.5 * Math.log(16)); // ~log(N) for a near-uniform pointer over 4x4 patches
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < 15; i++) tf.dispose(opt.minimize(() => on.computeLoss(batch), true, on.trainableVariables()) ?? []);
    expect(tf.tidy(() => on.computeLoss(batch, false).dataSync()[0])).toBeLessThan(lOn - 0.5);
    // validation reports how far the pointer's expected cell centre is from the target (per camera and target)
    const { Trainer } = await import('../../src/train/trainer.ts');
    const trainer = new Trainer(on, d, {}, { save: async () => {}, metrics: () => {} });
    const v = (await trainer.validate([d.trainSteps.slice(0, 6)]))!;
    trainer.opt.dispose();
    expect(v.valSpatialError).toHaveLength(2);
    v.valSpatialError!.forEach((e) => expect(e).toBeGreaterThanOrEqual(0));
    const probs = on.spatialProbabilities(batch)!;
    expect(probs.shape).toEqual([6, 1, 2, 16]);
    tf.tidy(() => probs.sum(-1).dataSync()).forEach((x) => expect(x).toBeCloseTo(1, 5));
    probs.dispose();
    // without targets in the batch the loss is the plain one
    const noTargets = { ...batch, spatial: null };
    expect(tf.tidy(() => on.computeLoss(noTargets, false).dataSync()[0])).toBeLessThan(tf.tidy(() => on.computeLoss(batch, false).dataSync()[0]));
    opt.dispose();
    disposeBatch(batch);
    off.dispose();
    on.dispose();
    expect(tf.memory().numTensors).toBe(n0);
    expect(() => new VlaPolicy({ ...base, spatialAux: 'tokens' })).toThrow(/needs a backbone with at least 2 TokenLearner tokens/);
    expect(() => new VlaPolicy({ ...TINY_POLICY, spatialAux: 'pointer' })).toThrow(/has a TokenLearner\); use 'tokens'/);
    expect(() => new VlaPolicy({ ...TINY_POLICY, spatialAux: 'everywhere' as never })).toThrow(/spatialAux must be off, tokens or pointer/);
  }, 60_000);
});
