import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { SigLipLoss } from '../../backbones/index.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

describe('SigLIP sigmoid loss', () => {
  it('initializes t = log 10, b = -10; hand-worked value for orthonormal pairs', () => {
    const s = new SigLipLoss();
    expect(s.bias.dataSync()[0]).toBe(-10);
    expect(s.logTemperature.dataSync()[0]).toBeCloseTo(Math.log(10), 6);
    // img = txt = I_2: cosines diag 1, off-diag 0 -> logits = 10 * cos - 10: diag 0, off-diag -10
    // loss = -(1/2) [2 log s(0) + 2 log s(+10)] = ln 2 + ln(1 + e^-10)
    const e = tf.eye(2) as tf.Tensor2D;
    const l = s.loss(e, e);
    expect(l.dataSync()[0]).toBeCloseTo(Math.log(2) + Math.log1p(Math.exp(-10)), 5);
    const logits = s.logits(e, e);
    expect(Array.from(logits.dataSync()).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0, -10, -10, 0]);
    tf.dispose([e, l, logits]);
    s.dispose();
  });

  it('loss decreases over a few Adam steps on a tiny batch (projections + t + b trained)', () => {
    const s = new SigLipLoss();
    const img = tf.randomNormal([4, 8], 0, 1, 'float32', 1) as tf.Tensor2D;
    const txt = tf.randomNormal([4, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
    const wi = tf.variable(tf.randomNormal([8, 6], 0, 0.3, 'float32', 3), true, 'siglip_test_wi');
    const wt = tf.variable(tf.randomNormal([8, 6], 0, 0.3, 'float32', 4), true, 'siglip_test_wt');
    const f = () => s.loss(img.matMul(wi as tf.Tensor2D) as tf.Tensor2D, txt.matMul(wt as tf.Tensor2D) as tf.Tensor2D);
    const opt = tf.train.adam(0.05);
    const l0 = tf.tidy(() => f().dataSync()[0]);
    let l = l0;
    for (let i = 0; i < 20; i++) {
      const v = opt.minimize(f, true, [wi, wt, ...s.trainableVariables()])!;
      l = v.dataSync()[0];
      v.dispose();
    }
    expect(l).toBeLessThan(0.7 * l0);
    expect(s.bias.dataSync()[0]).not.toBe(-10); // the bias is learned
    opt.dispose();
    tf.dispose([img, txt, wi, wt]);
    s.dispose();
  });
});
