// Behavior cloning can memorize: a tiny policy trained on 2 short demos
// reaches near-perfect teacher-forced token accuracy, and greedy selectAction
// on a training observation reproduces the demo action within one bin.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../policies/textTokenizer.ts';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { NO_AUGMENT } from '../../src/train/augment.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { PLAN_DIM, PLAN_HIGH, PLAN_LOW } from '../../src/train/auxTargets.ts';
import { dirSource } from '../../src/train/node.ts';
import { type EpochMetrics, Trainer } from '../../src/train/trainer.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { TINY_VIT, synthDataset } from './helpers.ts';
import { VlaPolicy } from '../../policies/policy.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('overfit 2 demos', () => {
  it('reaches near-perfect token accuracy and reproduces demo actions', async () => {
    const dir = synthDataset({ episodes: 2, steps: 8 });
    const source = dirSource(dir);
    const data = new DemoDataset(source, { cameras: ['scene'], batchSize: 16, seed: 1, valFraction: 0, augment: NO_AUGMENT });
    const policy = new VlaPolicy({
      ...TINY_VIT, vocab: TextTokenizer.fromCorpus(data.trainInstructions()).vocab, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH],
    });
    const metrics: EpochMetrics[] = [];
    const trainer = new Trainer(policy, data, { epochs: 120, lr: 1e-2, warmupSteps: 5, weightDecay: 0, saveEverySteps: 0 }, {
      save: async () => {},
      metrics: (m) => void metrics.push(m),
    });
    const n0 = tf.memory().numTensors;
    // Leak check over a few steps: the step count of tensors is constant.
    const first = await data.trainBatch(0, 0);
    trainer.trainStep(first);
    const n1 = tf.memory().numTensors;
    trainer.trainStep(first);
    trainer.trainStep(first);
    expect(tf.memory().numTensors).toBe(n1);
    expect(n1 - n0).toBe(0); // the AdamW moments exist since the Trainer was built
    trainer.state.step = 0; // restart the schedule (the extra steps just warm up)
    trainer.opt.step = 0;
    const r = await trainer.run();
    expect(r.interrupted).toBe(false);
    const firstLoss = metrics[0].trainLoss;
    const last = metrics.at(-1)!;
    expect(last.trainLoss).toBeLessThan(firstLoss / 5);
    // Teacher-forced accuracy on the training steps (validation of the training set).
    const acc = (await trainer.validate([data.trainSteps]))!;
    expect(acc.valAccuracy).toBeGreaterThan(0.95);
    // Continuous error per dimension, in action units: near zero where the tokens match.
    expect(acc.valMaePerDim).toHaveLength(6);
    acc.valMaePerDim.forEach((e, d) => expect(e).toBeLessThan(0.05 * (ACTION_HIGH[d] - ACTION_LOW[d])));
    const fresh = new VlaPolicy({ ...TINY_VIT, vocab: policy.config.vocab, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH], seed: 3 });
    const freshTrainer = new Trainer(fresh, data, {}, { save: async () => {}, metrics: () => {} });
    const untrained = (await freshTrainer.validate([data.trainSteps]))!;
    expect(untrained.valMaePerDim[0]).toBeGreaterThan(5 * acc.valMaePerDim[0] + 1e-3); // an untrained policy is far off
    freshTrainer.opt.dispose();
    fresh.dispose();
    // Greedy decoding on training observations reproduces the demo actions (within one bin).
    const ep = await data.episode(0);
    const res = source.info.resolution;
    const tok = policy.actionTokenizer;
    let within = 0;
    for (let t = 0; t < ep.steps; t++) {
      policy.reset();
      const a = policy.selectAction({
        images: { scene: { width: res, height: res, data: ep.images.scene.subarray(t * res * res * 3, (t + 1) * res * res * 3) } },
        proprio: ep.proprio.subarray(t * 6, t * 6 + 6), instruction: ep.instruction,
      });
      const target = tok.tokenize(ep.actions.subarray(t * 6, t * 6 + 6));
      const got = tok.tokenize(a);
      if (got.every((g, d) => Math.abs(g - target[d]) <= 1)) within++;
    }
    expect(within).toBeGreaterThanOrEqual(ep.steps - 1);
    expect(tf.memory().numTensors).toBe(n0); // validation and decoding leak nothing either
    trainer.opt.dispose();
    policy.dispose();
  }, 60_000);

  it('with plan tokens (ECoT-style): the policy names where the object and destination are, then acts', async () => {
    const dir = synthDataset({ episodes: 2, steps: 8 });
    const source = dirSource(dir);
    const data = new DemoDataset(source, { cameras: ['scene'], batchSize: 16, seed: 1, valFraction: 0, augment: NO_AUGMENT, plan: true });
    const policy = new VlaPolicy({
      ...TINY_VIT, vocab: TextTokenizer.fromCorpus(data.trainInstructions()).vocab, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH],
      planDims: PLAN_DIM, planLow: PLAN_LOW, planHigh: PLAN_HIGH, actionOrder: [5, 0, 1, 2, 3, 4],
    });
    const trainer = new Trainer(policy, data, { epochs: 120, lr: 1e-2, warmupSteps: 5, weightDecay: 0, saveEverySteps: 0 }, { save: async () => {}, metrics: () => {} });
    await trainer.run();
    const v = (await trainer.validate([data.trainSteps]))!;
    expect(v.valAccuracy).toBeGreaterThan(0.95);
    expect(v.valPlanMae).toHaveLength(PLAN_DIM);
    v.valPlanMae!.forEach((e) => expect(e).toBeLessThan(0.01));
    const ep = await data.episode(1);
    const res = source.info.resolution;
    policy.reset();
    const a = policy.selectAction({ images: { scene: { width: res, height: res, data: ep.images.scene.subarray(0, res * res * 3) } }, proprio: ep.proprio.subarray(0, 6), instruction: ep.instruction });
    expect(a).toHaveLength(6); // the environment gets its 6 values; the plan stays with the policy
    const want = ep.plan!.subarray(0, PLAN_DIM);
    Array.from(policy.lastPlan).forEach((p, d) => expect(Math.abs(p - want[d])).toBeLessThan(0.01));
    trainer.opt.dispose();
    policy.dispose();
  }, 60_000);
});
