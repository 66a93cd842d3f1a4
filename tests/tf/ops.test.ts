// ops.ts wrappers against tf.matMul / tf.batchNorm: values on wasm, and
// gradients against tfjs's own ops evaluated on the cpu backend.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tf/backend.ts';
import { batchMatMul, batchNormInfer, batchNormTrain, matMul } from '../../src/tf/ops.ts';
import { randomValues, relError } from './helpers.ts';

const TOL = 1e-4;

beforeAll(async () => {
  await initBackend('cpu');
  expect((await initBackend('wasm')).backend).toBe('wasm');
});

const rnd = (shape: number[], seed: number) => tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), seed), shape);

/** Run f on a backend with fresh inputs; returns the values of its outputs. */
async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const vals = outs.map((t) => t.dataSync().slice() as Float32Array);
  tf.dispose(outs);
  return vals;
}

const MM_CASES: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { a: [6, 5], b: [5, 7], ta: false, tb: false },
  { a: [5, 6], b: [5, 7], ta: true, tb: false },
  { a: [6, 5], b: [7, 5], ta: false, tb: true },
  { a: [5, 6], b: [7, 5], ta: true, tb: true },
  { a: [2, 3, 6, 5], b: [5, 7], ta: false, tb: false },
  { a: [2, 3, 5, 6], b: [7, 5], ta: true, tb: true },
  { a: [4, 6, 5], b: [4, 5, 7], ta: false, tb: false },
  { a: [2, 2, 5, 6], b: [2, 2, 7, 5], ta: true, tb: true },
];

/**
 * tf.matMul, except that a rank-2 right operand is applied to a folded 2D
 * left operand: tfjs 4.22's own BatchMatMul gradient fails for that broadcast
 * ("gradient of input 'b' has shape 2,3,5,7 ... input 5,7").
 */
function referenceMatMul(a: tf.Tensor, b: tf.Tensor, ta = false, tb = false): tf.Tensor {
  if (a.rank <= 2 || b.rank !== 2) return tf.matMul(a, b, ta, tb);
  const perm = a.shape.map((_, i) => i);
  if (ta) [perm[a.rank - 2], perm[a.rank - 1]] = [perm[a.rank - 1], perm[a.rank - 2]];
  const A = ta ? tf.transpose(a, perm) : a;
  const lead = A.shape.slice(0, -1);
  const y = tf.matMul(tf.reshape(A, [-1, A.shape[A.rank - 1]]), b, false, tb);
  return tf.reshape(y, [...lead, y.shape[1] as number]);
}

describe('matMul / batchMatMul', () => {
  for (const c of MM_CASES) {
    const name = `${JSON.stringify(c.a)}${c.ta ? 'ᵀ' : ''} x ${JSON.stringify(c.b)}${c.tb ? 'ᵀ' : ''}`;
    it(`values and gradients match tf.matMul: ${name}`, async () => {
      const loss = (mm: typeof matMul) => (a: tf.Tensor, b: tf.Tensor) => {
        const y = mm(a, b, c.ta, c.tb);
        // A weighted sum, so every output element gets a distinct upstream gradient.
        return tf.sum(tf.mul(y, rnd(y.shape, 9)));
      };
      const run = (mm: typeof matMul) => () => {
        const a = rnd(c.a, 1);
        const b = rnd(c.b, 2);
        const { value, grads } = tf.valueAndGrads(loss(mm))([a, b]);
        return [mm(a, b, c.ta, c.tb), value, ...grads];
      };
      const ref = await on('cpu', run(referenceMatMul));
      for (const backend of ['wasm', 'cpu']) {
        for (const fn of [matMul, batchMatMul]) {
          const got = await on(backend, run(fn));
          expect(got.length).toBe(ref.length);
          for (let i = 0; i < ref.length; i++) {
            expect(relError(got[i], ref[i]), `${backend} ${fn.name} output ${i}`).toBeLessThanOrEqual(TOL);
          }
        }
      }
    });
  }

  it('leaves no tensors behind (forward and gradient)', async () => {
    await tf.setBackend('wasm');
    const a = rnd([3, 6, 5], 3);
    const b = rnd([7, 5], 4);
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(() => matMul(a, b, false, true)));
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(matMul(x, y, false, true)))([a, b]);
    tf.dispose(g);
    expect(tf.memory().numTensors).toBe(before);
    const y = matMul(a, b, false, true);
    expect(tf.memory().numTensors).toBe(before + 1);
    const a2 = rnd([5, 6], 5);
    const y2 = matMul(a2, b, true, true); // 2D with both transposes
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([y, y2, a, a2, b]);
  });
});

describe('batchNormTrain / batchNormInfer', () => {
  const eps = 1e-3;
  const shape = [4, 5, 5, 6];

  it('matches tf.moments + tf.batchNorm (values, statistics, gradients)', async () => {
    const run = (ours: boolean) => () => {
      const x = tf.add(tf.mul(rnd(shape, 11), 3), 0.5);
      const gamma = tf.add(rnd([6], 12), 1.5);
      const beta = rnd([6], 13);
      const w = rnd(shape, 14);
      const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        if (ours) return tf.sum(tf.mul(batchNormTrain(xx, g, b, eps).y, w));
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        return tf.sum(tf.mul(tf.batchNorm(xx, mean, variance, b, g, eps), w));
      };
      const grads = tf.grads(f)([x, gamma, beta]);
      const stats = ours ? batchNormTrain(x, gamma, beta, eps) : { ...tf.moments(x, [0, 1, 2]), y: tf.scalar(0) };
      const y = ours
        ? stats.y
        : tf.batchNorm(x, stats.mean, stats.variance, beta, gamma, eps);
      return [y, stats.mean, stats.variance, ...grads];
    };
    const ref = await on('cpu', run(false));
    for (const backend of ['wasm', 'cpu']) {
      const got = await on(backend, run(true));
      for (let i = 0; i < ref.length; i++) {
        expect(relError(got[i], ref[i]), `${backend} output ${i}`).toBeLessThanOrEqual(TOL);
      }
    }
  });

  it('batchNormInfer matches tf.batchNorm', async () => {
    const run = (ours: boolean) => () => {
      const x = rnd(shape, 21);
      const mean = rnd([6], 22);
      const variance = tf.add(tf.abs(rnd([6], 23)), 0.2);
      const gamma = rnd([6], 24);
      const beta = rnd([6], 25);
      return [ours ? batchNormInfer(x, mean, variance, gamma, beta, eps) : tf.batchNorm(x, mean, variance, beta, gamma, eps)];
    };
    const ref = await on('cpu', run(false));
    const got = await on('wasm', run(true));
    expect(relError(got[0], ref[0])).toBeLessThanOrEqual(TOL);
  });

  it('is tidy-safe: only y, mean and variance survive', async () => {
    await tf.setBackend('wasm');
    const x = rnd(shape, 31);
    const gamma = tf.ones([6]);
    const beta = tf.zeros([6]);
    const before = tf.memory().numTensors;
    const r = batchNormTrain(x, gamma, beta);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(r.mean.shape).toEqual([6]);
    expect(r.variance.shape).toEqual([6]);
    tf.dispose([r.y, r.mean, r.variance]);
    const y = batchNormInfer(x, beta, gamma, gamma, beta);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose(y);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, gamma, beta]);
  });
});
