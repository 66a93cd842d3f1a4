// The custom gradient kernels against tfjs's own cpu kernels (the reference),
// for strides 1/2, 'same'/'valid'/explicit padding and 1x1/3x3/5x5 filters,
// on both backends we register them for; plus end-to-end tf.grad on wasm.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/tf/backend.ts';
import { originalKernel, registerCustomKernels, unregisterCustomKernels } from '../../src/tf/kernels/index.ts';
import { collapsePermutation } from '../../src/tf/kernels/transpose.ts';
import { setChunkElems } from '../../src/tf/kernels/util.ts';
import { host, relError, runKernel, type HostTensor } from './helpers.ts';

const TOL = 1e-4;
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

beforeAll(async () => {
  await initBackend('cpu');
  const info = await initBackend('wasm');
  expect(info.backend).toBe('wasm');
});

function ours(kernel: string, backend: string): tf.KernelConfig {
  const k = tf.getKernel(kernel, backend);
  expect(k, `${kernel} registered for ${backend}`).toBeDefined();
  return k!;
}

function reference(kernel: string): tf.KernelConfig {
  const k = originalKernel(kernel, 'cpu');
  expect(k).toBeDefined();
  return k!;
}

function check(kernel: string, inputs: Record<string, HostTensor>, attrs: Record<string, unknown>): void {
  const ref = runKernel(reference(kernel), 'cpu', inputs, attrs);
  for (const backend of ['wasm', 'cpu']) {
    const got = runKernel(ours(kernel, backend), backend, inputs, attrs);
    expect(got.shape, `${kernel}/${backend} shape`).toEqual(ref.shape);
    const err = relError(got.values, ref.values);
    expect(err, `${kernel}/${backend} ${JSON.stringify(attrs)} rel err ${err}`).toBeLessThanOrEqual(TOL);
  }
}

function outSize(inSize: number, k: number, s: number, pad: Pad): number {
  if (pad === 'same') return Math.ceil(inSize / s);
  if (pad === 'valid') return Math.ceil((inSize - k + 1) / s);
  if (typeof pad === 'number') return Math.floor((inSize - k + 2 * pad) / s) + 1;
  return Math.floor((inSize - k + pad[1][0] + pad[1][1]) / s) + 1; // rows (H == W here)
}

const CASES: { k: number; s: number; pad: Pad }[] = [];
for (const k of [1, 3, 5]) for (const s of [1, 2]) for (const pad of ['same', 'valid'] as const) CASES.push({ k, s, pad });
CASES.push({ k: 3, s: 1, pad: 1 }, { k: 3, s: 2, pad: 2 }, { k: 3, s: 2, pad: [[0, 0], [1, 2], [2, 1], [0, 0]] });

const B = 2;
const H = 9;
const CIN = 3;
const COUT = 4;

describe('Conv2D gradients vs tfjs cpu reference', () => {
  for (const { k, s, pad } of CASES) {
    const name = `k${k} s${s} pad ${JSON.stringify(pad)}`;
    const o = outSize(H, k, s, pad);
    const dy = host([B, o, o, COUT], 11 + k + s);
    const common = { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    it(`Conv2DBackpropFilter ${name}`, () => {
      check('Conv2DBackpropFilter', { x: host([B, H, H, CIN], 1 + k), dy }, { ...common, filterShape: [k, k, CIN, COUT] });
    });
    it(`Conv2DBackpropInput ${name} (wasm only; cpu keeps tfjs's)`, () => {
      const inputs = { dy, filter: host([k, k, CIN, COUT], 5 + k) };
      const attrs = { ...common, inputShape: [B, H, H, CIN] };
      const ref = runKernel(reference('Conv2DBackpropInput'), 'cpu', inputs, attrs);
      const got = runKernel(ours('Conv2DBackpropInput', 'wasm'), 'wasm', inputs, attrs);
      expect(got.shape).toEqual(ref.shape);
      expect(relError(got.values, ref.values)).toBeLessThanOrEqual(TOL);
    });
  }
  it('chunked im2col / col2im paths (tiny chunk bound) match too', () => {
    const old = setChunkElems(100); // one image per chunk
    try {
      for (const { k, s, pad } of [{ k: 3, s: 1, pad: 'same' as Pad }, { k: 1, s: 1, pad: 'valid' as Pad }, { k: 5, s: 2, pad: 'same' as Pad }]) {
        const o = outSize(H, k, s, pad);
        const common = { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
        const x = host([3, H, H, CIN], 3);
        const dy = host([3, o, o, COUT], 4);
        check('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: [k, k, CIN, COUT] });
        const inputs = { dy, filter: host([k, k, CIN, COUT], 6) };
        const attrs = { ...common, inputShape: [3, H, H, CIN] };
        const ref = runKernel(reference('Conv2DBackpropInput'), 'cpu', inputs, attrs);
        const got = runKernel(ours('Conv2DBackpropInput', 'wasm'), 'wasm', inputs, attrs);
        expect(relError(got.values, ref.values)).toBeLessThanOrEqual(TOL);
      }
    } finally {
      setChunkElems(old);
    }
  });
});

describe('DepthwiseConv2dNative gradients vs tfjs cpu reference', () => {
  for (const mul of [1, 2]) {
    for (const { k, s, pad } of CASES) {
      const name = `k${k} s${s} pad ${JSON.stringify(pad)} mul${mul}`;
      const o = outSize(H, k, s, pad);
      const dy = host([B, o, o, CIN * mul], 21 + k + s);
      const common = { strides: [s, s], dilations: [1, 1], pad, dimRoundingMode: undefined };
      it(`DepthwiseConv2dNativeBackpropFilter ${name}`, () => {
        check('DepthwiseConv2dNativeBackpropFilter', { x: host([B, H, H, CIN], 2 + k), dy }, { ...common, filterShape: [k, k, CIN, mul] });
      });
      it(`DepthwiseConv2dNativeBackpropInput ${name}`, () => {
        check('DepthwiseConv2dNativeBackpropInput', { dy, filter: host([k, k, CIN, mul], 7 + k) }, { ...common, inputShape: [B, H, H, CIN] });
      });
    }
  }
});

describe('numeric gradient of the conv filter (finite differences)', () => {
  it('matches d/dW sum(conv2d(x, W) * dy) on wasm', () => {
    tf.setBackend('wasm');
    const x = tf.tensor4d(host([1, 6, 6, 2], 31).values, [1, 6, 6, 2]);
    const w = host([3, 3, 2, 3], 32);
    const dy = tf.tensor4d(host([1, 3, 3, 3], 33).values, [1, 3, 3, 3]);
    const loss = (wv: Float32Array) =>
      tf.tidy(() => tf.sum(tf.mul(tf.conv2d(x, tf.tensor4d(wv, [3, 3, 2, 3]), 2, 'same'), dy)).dataSync()[0]);
    const analytic = tf.tidy(() => tf.grad((wt: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, wt as tf.Tensor4D, 2, 'same'), dy)))(tf.tensor4d(w.values, [3, 3, 2, 3])).dataSync());
    // The loss is linear in W, so a central difference with a unit step is
    // exact up to float32 rounding of the loss itself.
    const numeric = new Float32Array(w.values.length);
    for (let i = 0; i < numeric.length; i++) {
      const p = w.values.slice() as Float32Array;
      const m = w.values.slice() as Float32Array;
      p[i] += 1;
      m[i] -= 1;
      numeric[i] = (loss(p) - loss(m)) / 2;
    }
    expect(relError(analytic, numeric)).toBeLessThanOrEqual(1e-4);
    tf.dispose([x, dy]);
  });
});

describe('UnsortedSegmentSum', () => {
  it('matches the cpu reference (float32 and int32, out-of-range ids dropped)', () => {
    const ids = { shape: [6], values: new Int32Array([2, 0, 2, 5, -1, 1]), dtype: 'int32' as const };
    const x = host([6, 3, 2], 41);
    const ref = runKernel(reference('UnsortedSegmentSum'), 'cpu', { x, segmentIds: ids }, { numSegments: 4 });
    const got = runKernel(ours('UnsortedSegmentSum', 'wasm'), 'wasm', { x, segmentIds: ids }, { numSegments: 4 });
    expect(got.shape).toEqual([4, 3, 2]);
    expect(relError(got.values, ref.values)).toBeLessThanOrEqual(TOL);
    const xi = { shape: [6], values: new Int32Array([1, 2, 3, 4, 5, 6]), dtype: 'int32' as const };
    const gi = runKernel(ours('UnsortedSegmentSum', 'wasm'), 'wasm', { x: xi, segmentIds: ids }, { numSegments: 4 });
    expect(Array.from(gi.values)).toEqual([2, 6, 4, 0]);
  });
});

describe('BatchMatMul wrapper on wasm', () => {
  const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean; what: string }[] = [
    { a: [5, 7], b: [7, 6], ta: false, tb: false, what: '2D plain' },
    { a: [7, 5], b: [7, 6], ta: true, tb: false, what: '2D transposeA' },
    { a: [5, 7], b: [6, 7], ta: false, tb: true, what: '2D transposeB' },
    { a: [7, 5], b: [6, 7], ta: true, tb: true, what: '2D both transposed' },
    { a: [3, 4, 5, 7], b: [7, 6], ta: false, tb: false, what: 'batched x shared right operand' },
    { a: [3, 7, 5], b: [1, 6, 7], ta: true, tb: true, what: 'batched x batch-1, transposed' },
    { a: [4, 5, 7], b: [4, 7, 6], ta: false, tb: false, what: 'small batched (C++ loop)' },
    { a: [4, 5, 7], b: [4, 6, 7], ta: false, tb: true, what: 'small batched transposeB' },
    { a: [3, 96, 80], b: [3, 96, 100], ta: true, tb: false, what: 'large batched (split path)' },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const inputs = { a: host(c.a, 51), b: host(c.b, 52) };
      const attrs = { transposeA: c.ta, transposeB: c.tb };
      const ref = runKernel(reference('BatchMatMul'), 'cpu', inputs, attrs);
      const got = runKernel(ours('BatchMatMul', 'wasm'), 'wasm', inputs, attrs);
      expect(got.shape).toEqual(ref.shape);
      expect(relError(got.values, ref.values)).toBeLessThanOrEqual(TOL);
    });
  }
});

describe('Transpose wrapper on wasm (JS path for rank >= 5)', () => {
  it('collapses size-1 dims and dims that stay adjacent', () => {
    expect(collapsePermutation([4, 145, 3, 4, 32], [2, 0, 3, 1, 4])).toEqual({ shape: [4, 145, 3, 4, 32], perm: [2, 0, 3, 1, 4] });
    expect(collapsePermutation([2, 3, 4, 5], [0, 2, 3, 1])).toEqual({ shape: [2, 3, 20], perm: [0, 2, 1] });
    expect(collapsePermutation([2, 1, 3, 1, 4], [4, 3, 0, 1, 2])).toEqual({ shape: [6, 4], perm: [1, 0] });
  });
  const cases: [number[], number[], 'float32' | 'int32'][] = [
    [[2, 5, 3, 4, 6], [2, 0, 3, 1, 4], 'float32'], // innermost dim kept: run copies
    [[3, 2, 2, 5, 4], [1, 3, 0, 2, 4], 'float32'],
    [[2, 3, 4, 2, 3], [4, 3, 2, 1, 0], 'float32'], // full reversal: element copies
    [[2, 3, 2, 2, 3, 2], [5, 0, 4, 1, 3, 2], 'int32'],
    [[2, 1, 3, 4], [3, 2, 1, 0], 'float32'], // low rank: original kernel
  ];
  for (const [shape, perm, dtype] of cases) {
    it(`${dtype} [${shape}] perm [${perm}]`, () => {
      const h = host(shape, 71);
      const x: HostTensor = dtype === 'int32' ? { shape, values: Int32Array.from(h.values, (v) => Math.round(v * 1000)), dtype } : h;
      const ref = runKernel(reference('Transpose'), 'cpu', { x }, { perm });
      const got = runKernel(ours('Transpose', 'wasm'), 'wasm', { x }, { perm });
      expect(got.shape).toEqual(ref.shape);
      expect(Array.from(got.values)).toEqual(Array.from(ref.values));
    });
  }
});

describe('end to end on wasm', () => {
  const build = () => ({
    x: tf.tensor4d(host([2, 12, 12, 3], 61).values, [2, 12, 12, 3]),
    stem: tf.tensor4d(host([3, 3, 3, 8], 62).values, [3, 3, 3, 8]),
    dw: tf.tensor4d(host([3, 3, 8, 1], 63).values, [3, 3, 8, 1]),
    dw5: tf.tensor4d(host([5, 5, 8, 1], 64).values, [5, 5, 8, 1]),
    pw: tf.tensor4d(host([1, 1, 8, 6], 65).values, [1, 1, 8, 6]),
    emb: tf.tensor2d(host([10, 6], 66).values, [10, 6]),
  });
  const lossFn = (ids: tf.Tensor1D) => (x: tf.Tensor, stem: tf.Tensor, dw: tf.Tensor, dw5: tf.Tensor, pw: tf.Tensor, emb: tf.Tensor) => {
    let h = tf.relu(tf.conv2d(x as tf.Tensor4D, stem as tf.Tensor4D, 2, 'same'));
    h = tf.relu(tf.depthwiseConv2d(h, dw as tf.Tensor4D, 1, 'same'));
    h = tf.depthwiseConv2d(h, dw5 as tf.Tensor4D, 2, 'valid');
    h = tf.conv2d(h, pw as tf.Tensor4D, 1, 'valid'); // [2,1,1,6]
    const feat = tf.reshape(h, [2, 6]);
    const tok = tf.gather(emb, ids); // [2,6]
    return tf.sum(tf.square(tf.add(feat, tf.matMul(tok, tf.transpose(tok)).slice([0, 0], [2, 1]))));
  };

  async function gradsOn(backend: string): Promise<Float32Array[]> {
    await tf.setBackend(backend);
    const t = build();
    const ids = tf.tensor1d([3, 7], 'int32');
    const before = tf.memory().numTensors;
    const g = tf.grads(lossFn(ids))([t.x, t.stem, t.dw, t.dw5, t.pw, t.emb]);
    const vals = g.map((gi) => gi.dataSync().slice() as Float32Array);
    tf.dispose(g);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(t), ids]);
    return vals;
  }

  it('tf.grads through conv + depthwise + gather matches the cpu reference kernels', async () => {
    const got = await gradsOn('wasm');
    unregisterCustomKernels(['cpu']);
    try {
      const ref = await gradsOn('cpu');
      for (let i = 0; i < ref.length; i++) expect(relError(got[i], ref[i]), `grad ${i}`).toBeLessThanOrEqual(TOL);
    } finally {
      registerCustomKernels(['cpu']);
      await tf.setBackend('wasm');
    }
  });
});
