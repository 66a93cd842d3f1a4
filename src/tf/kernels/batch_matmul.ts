// A BatchMatMul for wasm that keeps products on XNNPACK's fast path.
//
// tfjs-backend-wasm 4.22 runs a product through XNNPACK (~15-25 GFLOP/s here)
// only when neither operand is transposed and both have batch size 1; every
// other case goes to a blocked C++ loop at ~0.5-1.7 GFLOP/s. Autograd asks for
// transposed products in every matMul gradient, and a [B,T,C] x [C,N] layer is
// a "batched" product, so training mostly lands on the slow loop. This wrapper
// (registered in place of the original, keeping its setupFunc) rewrites calls:
//  - transposed operands are materialized with the Transpose kernel;
//  - a batch-1 right operand folds the left batch into rows ([B*M,K] x [K,N]);
//  - equal-batch products big enough to amortize XNNPACK's per-call weight
//    packing are split into per-item 2D products (attention-shaped ones too);
//  - tiny batched products (a few dozen tokens) stay on the original loop.
import {
  BatchMatMul,
  broadcast_util,
  util,
  type KernelBackend,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { kernelIO, type KernelIO } from './util.ts';

/**
 * Per-item FLOPs (2*M*K*N) from which splitting a batched product beats the
 * C++ loop. Measured on wasm here (kernel calls, ms split / original):
 * 32x[50x32x50]ᵀ (0.16 MFLOP) 0.8 / 3.5; 16x[145x32x145]ᵀ (1.35 MFLOP) 1.4 / 13;
 * 32x[64x64x64] 2.6 / 12; at 96x[37x32x37] (0.09 MFLOP) they are even.
 */
let splitMinItemFlops = 1.5e5;

/** Change the split threshold (benchmarks/tests); returns the previous value. */
export function setSplitMinItemFlops(flops: number): number {
  const old = splitMinItemFlops;
  splitMinItemFlops = flops;
  return old;
}

function swapLast2(io: KernelIO, t: TensorInfo): TensorInfo {
  const r = t.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return io.run('Transpose', { x: t }, { perm });
}

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: unknown };

export function fastBatchMatMulConfig(original: KernelConfig): KernelConfig {
  const orig = original.kernelFunc as unknown as (args: Args) => TensorInfo;
  const kernelFunc = (args: Args): TensorInfo => {
    const { a, b } = args.inputs;
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return orig(args);
    }
    const io = kernelIO(args.backend as KernelBackend, 'wasm');
    const aR = a.shape.length;
    const bR = b.shape.length;
    const M = transposeA ? a.shape[aR - 1] : a.shape[aR - 2];
    const K = transposeA ? a.shape[aR - 2] : a.shape[aR - 1];
    const N = transposeB ? b.shape[bR - 2] : b.shape[bR - 1];
    const batchA = util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = util.sizeFromShape(b.shape.slice(0, -2));
    const outOuter = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const outShape = [...outOuter, M, N];
    const split = batchA === batchB && batchA > 1 && 2 * M * K * N >= splitMinItemFlops;
    if (!(batchB === 1 || split)) {
      // Small or broadcast batched products: the C++ loop handles transposed
      // operands at the same speed as plain ones, so don't copy.
      return orig(args);
    }
    const temps: TensorInfo[] = [];
    const A = transposeA ? swapLast2(io, a) : a;
    const B = transposeB ? swapLast2(io, b) : b;
    if (A !== a) temps.push(A);
    if (B !== b) temps.push(B);
    const plain = { transposeA: false, transposeB: false };
    try {
      if (batchB === 1) {
        const a3 = io.run('Reshape', { x: A }, { shape: [1, batchA * M, K] });
        const b3 = io.run('Reshape', { x: B }, { shape: [1, K, N] });
        temps.push(a3, b3);
        const prod = orig({ inputs: { a: a3, b: b3 }, backend: args.backend, attrs: plain });
        temps.push(prod);
        return io.run('Reshape', { x: prod }, { shape: outShape });
      }
      // Split: copy each item into its own [1,M,K] / [1,K,N] tensor (XNNPACK
      // caches packed weights per tensor id, so each right operand must be a
      // tensor of its own), multiply, copy the result into place.
      const out = io.alloc(outShape, 'float32');
      const ai = io.alloc([1, M, K], 'float32');
      temps.push(ai);
      for (let i = 0; i < batchA; i++) {
        const bi = io.alloc([1, K, N], 'float32');
        (io.view(ai) as Float32Array).set((io.view(A) as Float32Array).subarray(i * M * K, (i + 1) * M * K));
        (io.view(bi) as Float32Array).set((io.view(B) as Float32Array).subarray(i * K * N, (i + 1) * K * N));
        const pi = orig({ inputs: { a: ai, b: bi }, backend: args.backend, attrs: plain });
        (io.view(out) as Float32Array).set(io.view(pi) as Float32Array, i * M * N);
        io.dispose(pi);
        io.dispose(bi);
      }
      return out;
    } finally {
      for (const t of temps) io.dispose(t);
    }
  };
  return {
    kernelName: BatchMatMul,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'],
    // The original binds its C++ entry point in setupFunc: keep it, or the
    // backend fails with "wasmBatchMatMul is not a function".
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  };
}
