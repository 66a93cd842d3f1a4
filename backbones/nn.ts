// Small functional building blocks shared by the backbones and policies.
//
// Style: nanoGPT-like. Weights are explicit tf.Variables held in a ParamStore;
// forward passes are plain functions over those variables. Nothing here uses
// tf.layers.
//
// tfjs variable names are global ("Variable with name ... was already
// registered"), so every ParamStore gets a unique per-instance prefix for the
// tf name, while the weights are exposed under STABLE keys (independent of the
// prefix) for saving / loading.
//
// All matrix products go through `mm` / `bmm` so they can be routed to the
// project's fast wrappers (src/tf/ops.ts) in one place.
import * as tf from '@tensorflow/tfjs';
import { batchMatMul as fastBatchMatMul, batchNormInfer, batchNormTrain, matMul as fastMatMul } from '../src/tf/ops.ts';

let instanceCounter = 0;

/** A process-wide unique variable-name prefix, e.g. "vlalab/effnet_3/". */
export function uniquePrefix(kind: string): string {
  instanceCounter += 1;
  return `vlalab/${kind}_${instanceCounter}/`;
}

/** Parameter initializers. Random ones are seeded (deterministic per store). */
export type Init =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'const'; value: number }
  | { kind: 'normal'; std: number }
  | { kind: 'truncNormal'; std: number } // truncated at 2 std (timm trunc_normal_)
  | { kind: 'uniform'; limit: number } // U(-limit, limit)
  | { kind: 'values'; values: Float32Array };

export const zeros: Init = { kind: 'zeros' };
export const ones: Init = { kind: 'ones' };
export const normal = (std: number): Init => ({ kind: 'normal', std });
export const truncNormal = (std: number): Init => ({ kind: 'truncNormal', std });
export const uniform = (limit: number): Init => ({ kind: 'uniform', limit });

/**
 * Owns the tf.Variables of one model instance.
 * `add(key, ...)` creates variable `${prefix}${key}`; `named` maps key -> variable.
 */
export class ParamStore {
  readonly prefix: string;
  private readonly vars: Record<string, tf.Variable> = {};
  private seed: number;
  private disposed = false;

  constructor(kind: string, seed = 0) {
    this.prefix = uniquePrefix(kind);
    this.seed = seed * 7919 + 1;
  }

  add(key: string, shape: number[], init: Init, trainable = true): tf.Variable {
    if (this.vars[key]) throw new Error(`ParamStore: duplicate key ${key}`);
    const s = this.seed++;
    const value = tf.tidy(() => {
      switch (init.kind) {
        case 'zeros':
          return tf.zeros(shape);
        case 'ones':
          return tf.ones(shape);
        case 'const':
          return tf.fill(shape, init.value);
        case 'normal':
          return tf.randomNormal(shape, 0, init.std, 'float32', s);
        case 'truncNormal':
          return tf.truncatedNormal(shape, 0, init.std, 'float32', s);
        case 'uniform':
          return tf.randomUniform(shape, -init.limit, init.limit, 'float32', s);
        case 'values':
          return tf.tensor(init.values, shape, 'float32');
      }
    });
    const v = tf.variable(value, trainable, this.prefix + key, 'float32');
    value.dispose();
    this.vars[key] = v;
    return v;
  }

  /** Stable key -> variable (includes non-trainable buffers such as BN running stats). */
  get named(): Record<string, tf.Variable> {
    return { ...this.vars };
  }

  trainable(): tf.Variable[] {
    return Object.values(this.vars).filter((v) => v.trainable);
  }

  /** Number of trainable scalars (like torch `sum(p.numel() for p in model.parameters())`). */
  paramCount(): number {
    let n = 0;
    for (const v of Object.values(this.vars)) if (v.trainable) n += v.size;
    return n;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const v of Object.values(this.vars)) v.dispose();
  }
}

/**
 * Base of every model with parameters: one ParamStore behind the accessors
 * the trainer, checkpoints and tests use (timm's nn.Module surface, minus
 * what tfjs already provides).
 */
export abstract class Module {
  protected readonly store: ParamStore;

  constructor(kind: string, seed = 0) {
    this.store = new ParamStore(kind, seed);
  }

  /** Stable key -> variable, BN running statistics included (what checkpoints store). */
  namedWeights(): Record<string, tf.Variable> {
    return this.store.named;
  }

  trainableVariables(): tf.Variable[] {
    return this.store.trainable();
  }

  /** Number of trainable scalars. */
  paramCount(): number {
    return this.store.paramCount();
  }

  dispose(): void {
    this.store.dispose();
  }
}

// ---------------------------------------------------------------------------
// Matrix products: routed through src/tf/ops.ts, whose wrappers keep
// tfjs-backend-wasm on its fast (untransposed, 2-D) path, forward and backward.

/** 2-D matrix product a @ b (optionally transposed operands). */
export function mm(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  return fastMatMul(a, b, transposeA, transposeB) as tf.Tensor2D;
}

/** Batched matrix product over leading dims (rank >= 3, same batch dims). */
export function bmm<T extends tf.Tensor>(a: T, b: T, transposeA = false, transposeB = false): T {
  return fastBatchMatMul(a, b, transposeA, transposeB) as T;
}

/** Affine map over the last axis: x [..., in] @ w [in, out] + b [out] -> [..., out]. */
export function linear(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor | null): tf.Tensor {
  const inDim = w.shape[0] as number;
  const outDim = w.shape[1] as number;
  const lead = x.shape.slice(0, -1) as number[];
  const x2 = x.reshape([-1, inDim]) as tf.Tensor2D; // [..., in] -> [M, in]
  let y: tf.Tensor = mm(x2, w as tf.Tensor2D);
  if (b) y = y.add(b);
  return y.reshape([...lead, outDim]); // [M, out] -> [..., out]
}

// ---------------------------------------------------------------------------
// Normalization.

/** LayerNorm over the last axis (arXiv:1607.06450). */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(g).add(b);
}

/** Batch-norm parameters: affine gamma/beta (trainable) + running stats (buffers). */
export interface BatchNormParams {
  gamma: tf.Variable;
  beta: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

export function addBatchNorm(store: ParamStore, key: string, channels: number): BatchNormParams {
  return {
    gamma: store.add(`${key}.gamma`, [channels], ones),
    beta: store.add(`${key}.beta`, [channels], zeros),
    runningMean: store.add(`${key}.running_mean`, [channels], zeros, false),
    runningVar: store.add(`${key}.running_var`, [channels], ones, false),
  };
}

export interface BatchNormOptions {
  eps: number;
  /** PyTorch convention: running = (1 - momentum) * running + momentum * batch. */
  momentum: number;
}

/**
 * BatchNorm over NHWC channels (arXiv:1502.03167).
 * Training: batch statistics, written as x*scale + (beta - mean*scale) because
 * tf.batchNorm's gradient tiles per-channel vectors and is very slow; running
 * stats are updated by assignment (no gradient flows into them; PyTorch uses
 * the unbiased variance for the running estimate, so do we).
 * Inference: running statistics.
 */
export function batchNorm(x: tf.Tensor, p: BatchNormParams, training: boolean, opt: BatchNormOptions): tf.Tensor {
  if (!training) return batchNormInfer(x, p.runningMean, p.runningVar, p.gamma, p.beta, opt.eps);
  const { y, mean, variance } = batchNormTrain(x, p.gamma, p.beta, opt.eps);
  const n = x.size / (x.shape[x.shape.length - 1] as number);
  tf.tidy(() => {
    const m = opt.momentum;
    const unbiased = n > 1 ? variance.mul(n / (n - 1)) : variance;
    p.runningMean.assign(p.runningMean.mul(1 - m).add(mean.mul(m)));
    p.runningVar.assign(p.runningVar.mul(1 - m).add(unbiased.mul(m)));
  });
  tf.dispose([mean, variance]);
  return y;
}

// ---------------------------------------------------------------------------
// Activations.

/** SiLU / swish: x * sigmoid(x) (arXiv:1710.05941). */
export function swish(x: tf.Tensor): tf.Tensor {
  return x.mul(tf.sigmoid(x));
}

export type GeluKind = 'erf' | 'tanh';

/** GELU (arXiv:1606.08415): exact erf form (timm ViT) or tanh approximation (SigLIP). */
export function gelu(x: tf.Tensor, kind: GeluKind = 'erf'): tf.Tensor {
  if (kind === 'erf') return x.mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)).mul(0.5);
  const c = Math.sqrt(2 / Math.PI);
  return x.mul(tf.tanh(x.add(x.pow(3).mul(0.044715)).mul(c)).add(1)).mul(0.5);
}

/** Inverted dropout; identity when rate == 0 or not training. */
export function dropout(x: tf.Tensor, rate: number, training: boolean): tf.Tensor {
  if (!training || rate <= 0) return x;
  return tf.dropout(x, rate);
}

/** Normalize NHWC images in [0,1]: (x - mean) / std per channel. */
export function normalizeImages(images: tf.Tensor4D, mean: number[], std: number[]): tf.Tensor4D {
  return images.sub(tf.tensor1d(mean)).div(tf.tensor1d(std)) as tf.Tensor4D;
}

// ---------------------------------------------------------------------------
// Misc.

/** Deterministic PRNG (mulberry32) for sampling / shuffles in JS. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Embedding lookup table [V, D] at integer ids [...] -> [..., D], written as
 * one-hot(ids) @ table: its gradient is a plain matrix product (the gather
 * gradient needs UnsortedSegmentSum, which tfjs-backend-wasm lacks).
 */
export function embed(table: tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const V = table.shape[0] as number;
  const D = table.shape[1] as number;
  const flat = ids.reshape([-1]).cast('int32') as tf.Tensor1D; // [...] -> [M]
  const onehot = tf.oneHot(flat, V).cast('float32') as tf.Tensor2D; // [M] -> [M,V]
  return mm(onehot, table as tf.Tensor2D).reshape([...(ids.shape as number[]), D]); // [M,D] -> [...,D]
}

/** [B,h,w,C] -> [B,h,w,C+2]: x (column) and y (row) cell centres in [-1, 1]. */
export function appendCoords(map: tf.Tensor4D): tf.Tensor4D {
  const [B, h, w] = map.shape;
  const coords = new Float32Array(h * w * 2);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      coords[(r * w + c) * 2] = ((c + 0.5) / w) * 2 - 1;
      coords[(r * w + c) * 2 + 1] = ((r + 0.5) / h) * 2 - 1;
    }
  }
  const grid = tf.tensor4d(coords, [1, h, w, 2]).tile([B, 1, 1, 1]); // [1,h,w,2] -> [B,h,w,2]
  return tf.concat([map, grid], 3) as tf.Tensor4D;
}
