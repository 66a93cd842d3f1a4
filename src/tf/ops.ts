// Training-friendly tf ops: matrix products that stay on the fast path of
// tfjs-backend-wasm, and batch norm without tf.batchNorm's slow gradient.
//
// wasm's BatchMatMul is fast (XNNPACK) only for untransposed, batch-1
// operands (measured: 16-25 GFLOP/s vs 0.5-1.7 otherwise). The kernel
// wrapper in ./kernels/batch_matmul.ts fixes single calls; these op-level
// wrappers also fix what a kernel cannot see: a [..., K] x [K, N] product is
// folded into one 2D product, and its gradients (written by hand with
// customGrad) are 2D products too, instead of a batch of per-item products
// followed by a sum. Everything is built from tf ops, so it differentiates
// and runs on every backend.
import {
  add,
  customGrad,
  matMul as tfMatMul,
  moments,
  mul,
  reshape,
  rsqrt,
  sub,
  tidy,
  transpose,
  type GradSaveFunc,
  type Tensor,
} from '@tensorflow/tfjs-core';

function swapLast2(t: Tensor): Tensor {
  const r = t.rank;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return transpose(t, perm);
}

type MatMulFn = (a: Tensor, b: Tensor) => Tensor;

/**
 * 2D product with explicit transposes; the gradients are again plain 2D
 * products (y = A·B with A = op(a), B = op(b): dA = dy·Bᵀ, dB = Aᵀ·dy).
 * customGrad only passes tensors, so each transpose combination gets its
 * own function.
 */
function makeMatMul2d(transA: boolean, transB: boolean): MatMulFn {
  return customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const [a, b, save] = args as [Tensor, Tensor, GradSaveFunc];
    const A = transA ? transpose(a) : a;
    const B = transB ? transpose(b) : b;
    save([A, B]);
    return {
      value: tfMatMul(A, B),
      gradFunc: (g: Tensor, saved: Tensor[]) => {
        const [sA, sB] = saved;
        // d/dA = dy·Bᵀ; for a transposed a, da = (dy·Bᵀ)ᵀ = B·dyᵀ.
        const da = transA ? tfMatMul(sB, transpose(g)) : tfMatMul(g, transpose(sB));
        // d/dB = Aᵀ·dy; for a transposed b, db = (Aᵀ·dy)ᵀ = dyᵀ·A.
        const db = transB ? tfMatMul(transpose(g), sA) : tfMatMul(transpose(sA), g);
        return [da, db];
      },
    };
  }) as MatMulFn;
}

const matMul2dFns: MatMulFn[] = [
  makeMatMul2d(false, false),
  makeMatMul2d(false, true),
  makeMatMul2d(true, false),
  makeMatMul2d(true, true),
];

function matMul2d(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  return matMul2dFns[(transA ? 2 : 0) + (transB ? 1 : 0)](a, b);
}

/**
 * Matrix product a·b (with optional transposes of the last two dims), fast on
 * wasm. Supports: 2D x 2D; [..., M, K] x [K, N] (folded into one 2D product);
 * equal-batch [..., M, K] x [..., K, N]. Other shapes go to tf.matMul.
 */
export function matMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  if (a.rank === 2 && b.rank === 2) return matMul2d(a, b, transposeA, transposeB);
  if (a.rank > 2 && b.rank === 2) {
    // tidy: the transposed/reshaped intermediates must not outlive the call.
    return tidy(() => {
      const A = transposeA ? swapLast2(a) : a;
      const K = A.shape[A.rank - 1];
      const lead = A.shape.slice(0, -1);
      const y = matMul2d(reshape(A, [-1, K]), b, false, transposeB);
      return reshape(y, [...lead, y.shape[1] as number]);
    });
  }
  return batchMatMul(a, b, transposeA, transposeB);
}

/**
 * Batched product over equal leading dims ([..., M, K] x [..., K, N]); a
 * rank-2 right operand is folded as in matMul. On wasm the registered
 * BatchMatMul kernel materializes transposes and splits items of at least
 * ~0.15 MFLOP onto XNNPACK (splitting at op level with tf.unstack/tf.stack
 * measured slower: per-op overhead dominates small items).
 */
export function batchMatMul(a: Tensor, b: Tensor, transposeA = false, transposeB = false): Tensor {
  if (b.rank === 2 && a.rank >= 2) return matMul(a, b, transposeA, transposeB);
  return tfMatMul(a, b, transposeA, transposeB);
}

export interface BatchNormTrainResult {
  y: Tensor;
  /** Batch mean over all axes but the last (shape [C]). */
  mean: Tensor;
  /** Biased batch variance over all axes but the last (shape [C]). */
  variance: Tensor;
}

/**
 * Training-mode batch norm over all axes but the last (channels-last), as
 * y = x·scale + (beta − mean·scale), scale = gamma/√(var+eps). Its gradient
 * is a few broadcasts and reductions; tf.batchNorm's gradient tiles
 * per-channel vectors and measured ~0.5 s per step on wasm. Differentiable
 * through the batch statistics. The caller updates running statistics.
 */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-3): BatchNormTrainResult {
  return tidy(() => {
    const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
    const { mean, variance } = moments(x, axes);
    const scale = mul(gamma, rsqrt(add(variance, eps)));
    const shift = sub(beta, mul(mean, scale));
    return { y: add(mul(x, scale), shift), mean, variance };
  });
}

/** Inference-mode batch norm with given statistics, same affine form as batchNormTrain. */
export function batchNormInfer(x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-3): Tensor {
  return tidy(() => {
    const scale = mul(gamma, rsqrt(add(variance, eps)));
    return add(mul(x, scale), sub(beta, mul(mean, scale)));
  });
}
