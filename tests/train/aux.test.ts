// Auxiliary position targets: derivation from the episode spec and expert
// actions (hand-worked), delivery through the dataset, and the GPT's masked
// regression loss added to the action cross-entropy.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Gpt } from '../../policies/gpt.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { AUX_DIM, PLAN_DIM, auxTargets, planTargets } from '../../src/train/auxTargets.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { dirSource } from '../../src/train/node.ts';
import { NO_AUGMENT } from '../../src/train/augment.ts';
import { useCpu } from '../tf/tensors.ts';
import { disposeBatch, toPolicyBatch } from '../../src/train/trainer.ts';
import { TINY_POLICY, synthDataset } from './helpers.ts';
import { roleLoss, roleTargetIds } from '../../policies/roleAux.ts';
import { VlaPolicy } from '../../policies/policy.ts';

beforeAll(useCpu);

const spec = {
  task: 'stack', seed: 3, goal: { object: 'red cube', target: 'blue cylinder' },
  layout: {
    objects: [
      { name: 'red cube', color: 'red', shape: 'cube', x: 0.11, y: -0.055, yaw: 0 },
      { name: 'blue cylinder', color: 'blue', shape: 'cylinder', x: -0.22, y: 0.044, yaw: 0 },
    ],
    bowls: [{ name: 'green bowl', color: 'green', x: 0, y: 0, yaw: 0 }],
  },
} as unknown as EpisodeSpec;

describe('auxiliary targets', () => {
  it('object (x, y) until the first close command, destination (x, y) always, scaled by the 0.22 m half-width', () => {
    // 4 steps, actions [gripper, other]: close at step 2 (observation 2 still shows the object in place)
    const actions = Float32Array.from([0, 9, 0, 9, 1, 9, 0, 9]);
    const { target, mask } = auxTargets(spec, actions, 4, 2, 0);
    expect(AUX_DIM).toBe(4);
    expect(Array.from(target.subarray(0, 4)).map((v) => +v.toFixed(6))).toEqual([0.5, -0.25, -1, 0.2]);
    expect(Array.from(target.subarray(12, 16)).map((v) => +v.toFixed(6))).toEqual([0.5, -0.25, -1, 0.2]);
    expect(Array.from(mask)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1]);
  });

  it('plan targets: the object at its place, then in the gripper (TCP x, y), then where it was let go; the destination always', () => {
    // 5 steps, proprio [x, y] per step, actions [gripper]: close at steps 1-2, open at 3
    const proprio = Float32Array.from([0.1, 0.1, 0.11, -0.05, 0.0, 0.0, -0.2, 0.04, -0.21, 0.05]);
    const actions = Float32Array.from([0, 1, 1, 0, 0]);
    const p = planTargets(spec, proprio, 2, actions, 1, 0, 5);
    expect(PLAN_DIM).toBe(4);
    const rows = Array.from({ length: 5 }, (_, t) => Array.from(p.subarray(t * 4, t * 4 + 4), (v) => +v.toFixed(3)));
    expect(rows).toEqual([
      [0.11, -0.055, -0.22, 0.044], // in place
      [0.11, -0.055, -0.22, 0.044], // the close command is issued at this observation
      [0, 0, -0.22, 0.044], // held: where the TCP is
      [-0.2, 0.04, -0.22, 0.044], // held (the open command comes now)
      [-0.2, 0.04, -0.22, 0.044], // released: stays where it was let go
    ]);
  });

  it('names a goal missing from the layout', () => {
    const bad = { ...spec, goal: { object: 'red cube', target: 'pink bowl' } } as EpisodeSpec;
    expect(() => auxTargets(bad, new Float32Array(2), 1, 2, 0)).toThrow(/no object or bowl named "pink bowl"/);
  });

  it('DemoDataset delivers them per step when asked, and not otherwise', async () => {
    const source = dirSource(synthDataset({ episodes: 3, steps: 6 }));
    const d = new DemoDataset(source, { cameras: ['scene'], batchSize: 6, seed: 0, valFraction: 0, augment: NO_AUGMENT, aux: true });
    const refs = Array.from({ length: 6 }, (_, t) => ({ episode: 2, t }));
    const b = await d.batch(refs, null);
    expect(b.aux?.dim).toBe(4);
    // synthetic episode 2: red cube at (0.02, -0.04), blue bowl at (0.15, -0.1); gripper closes first at t = 4
    expect(Array.from(b.aux!.target.subarray(0, 4)).map((v) => +v.toFixed(4))).toEqual([0.0909, -0.1818, 0.6818, -0.4545]);
    expect(Array.from(b.aux!.mask.filter((_, i) => i % 4 === 0))).toEqual([1, 1, 1, 1, 1, 0]);
    const plain = new DemoDataset(source, { cameras: ['scene'], batchSize: 6, seed: 0, valFraction: 0, augment: NO_AUGMENT });
    expect((await plain.batch(refs, null)).aux).toBeUndefined();
  });
});

describe('GPT auxiliary head', () => {
  const cfg = { nLayer: 1, nHead: 2, nEmbd: 16, mlpRatio: 2, bins: 8, actionDim: 2, chunk: 1, maxPrefix: 4, visionDim: 4, proprioDim: 3, auxDim: 2 };

  it('adds weight x masked MSE of the last prefix state to the cross-entropy; a zero mask adds nothing', () => {
    const g = new Gpt(cfg);
    expect(g.paramCount()).toBe(Gpt.countParams(cfg));
    expect(Gpt.countParams(cfg) - Gpt.countParams({ ...cfg, auxDim: 0 })).toBe(16 * 2 + 2);
    const inp = { vision: tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1) as tf.Tensor3D, proprio: tf.randomNormal([2, 3], 0, 1, 'float32', 2) as tf.Tensor2D };
    const tok = tf.tensor2d([[1, 5], [7, 0]], [2, 2], 'int32');
    const target = tf.tensor2d([[3, -2], [1, 4]]);
    const read = (t: tf.Tensor) => {
      const v = t.arraySync();
      t.dispose();
      return v as number;
    };
    const mask = tf.tensor2d([[1, 1], [0, 1]]); // one entry unsupervised: mean over the other 3
    const zero = tf.zeros([2, 2]) as tf.Tensor2D;
    const n0 = tf.memory().numTensors;
    const ce = read(g.loss(inp, tok, false));
    const p = g.predictAux(inp);
    const [[p00, p01], [, p11]] = p.arraySync();
    p.dispose();
    const expected = ce + 0.5 * (((p00 - 3) ** 2 + (p01 + 2) ** 2 + (p11 - 4) ** 2) / 3);
    expect(read(g.loss(inp, tok, false, { target, mask, weight: 0.5 }))).toBeCloseTo(expected, 4);
    expect(read(g.loss(inp, tok, false, { target, mask: zero, weight: 0.5 }))).toBeCloseTo(ce, 5);
    expect(tf.memory().numTensors).toBe(n0); // no leak
    const noAux = new Gpt({ ...cfg, auxDim: 0 });
    expect(() => noAux.loss(inp, tok, false, { target, mask, weight: 1 })).toThrow(/auxDim = 0/);
    expect(() => noAux.predictAux(inp)).toThrow(/no auxiliary head/);
    noAux.dispose();
    g.dispose();
    tf.dispose([inp.vision, inp.proprio, tok, target, mask, zero]);
  });
});

describe('VlaPolicy with auxDim', () => {
  it('the training batch carries the targets and the loss grows by auxWeight x the position error', async () => {
    const source = dirSource(synthDataset({ episodes: 2, steps: 6 }));
    const d = new DemoDataset(source, { cameras: ['scene'], batchSize: 4, seed: 0, valFraction: 0, augment: NO_AUGMENT, aux: true });
    const raw = await d.trainBatch(0, 0);
    const losses = [0, 2].map((auxWeight) => {
      const p = new VlaPolicy({ ...TINY_POLICY, auxDim: 4, auxWeight });
      const batch = toPolicyBatch(raw, p);
      expect(batch.aux?.target.shape).toEqual([4, 4]);
      const l = p.computeLoss(batch, false);
      const v = l.dataSync()[0];
      tf.dispose(l);
      disposeBatch(batch);
      p.dispose();
      return v;
    });
    expect(losses[1]).toBeGreaterThan(losses[0] + 1e-3); // same init (same seed): only the auxiliary term differs
    const wrong = new VlaPolicy({ ...TINY_POLICY, auxDim: 3 });
    expect(() => toPolicyBatch(raw, wrong)).toThrow(/3 auxiliary targets, the dataset gives 4/);
    wrong.dispose();
  });
});

describe('VlaPolicy with roleAuxWeight', () => {
  it('the batch carries the goal role words and the loss adds roleAuxWeight x the role cross-entropy', async () => {
    const source = dirSource(synthDataset({ episodes: 2, steps: 6 }));
    const d = new DemoDataset(source, { cameras: ['scene'], batchSize: 4, seed: 0, valFraction: 0, augment: NO_AUGMENT });
    const raw = await d.trainBatch(0, 0);
    expect(raw.roles).toEqual(Array(4).fill(['red', 'cube', 'blue', 'bowl'])); // synthetic goal: red cube -> blue bowl
    const p = new VlaPolicy({ ...TINY_POLICY, roleAuxWeight: 2 });
    const batch = toPolicyBatch(raw, p);
    const read = (t: tf.Tensor) => {
      const v = t.dataSync()[0];
      t.dispose();
      return v;
    };
    const withRoles = read(p.computeLoss(batch, false));
    const without = read(p.computeLoss({ ...batch, roles: null }, false));
    const logits = p.roleLogits(batch.instructions);
    const role = read(roleLoss(logits, roleTargetIds(p.textTokenizer, batch.roles!)));
    logits.dispose();
    expect(role).toBeGreaterThan(1); // untrained heads: about ln(vocab size)
    expect(withRoles - without).toBeCloseTo(2 * role, 4);
    expect(() => p.computeLoss({ ...batch, roles: batch.roles!.map(() => ['red', 'cube', 'teal', 'bowl']) }, false)).toThrow(/destination colour "teal" of sample 0 is not in the policy's vocabulary/);
    disposeBatch(batch);
    p.dispose();
    expect(() => new VlaPolicy({ ...TINY_POLICY, roleAuxWeight: -1 })).toThrow(/roleAuxWeight must be >= 0/);
  });
});
