// AdamW (Loshchilov & Hutter, arXiv:1711.05101) with global-norm gradient
// clipping and a linear-warmup + cosine learning-rate schedule.
//
// Written here instead of using tf.train.adam because training must resume
// exactly: the moments are keyed by the policy's STABLE weight names (tfjs
// variable names carry a per-instance prefix, "vlalab/gpt_7/..."), and the
// step count, learning rate and weight decay are explicit. Moments are saved
// as optimizer.safetensors ("m.<key>", "v.<key>", F32).
//
// Update for a parameter p with gradient g (after clipping), step t >= 1:
//   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= lr * ( (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps) + wd * p )
// Weight decay applies only to matrices and kernels (rank >= 2), not to
// biases, norms or FiLM/LayerNorm gains (the usual nanoGPT/timm grouping).
import * as tf from '@tensorflow/tfjs';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Max global gradient norm (0 = no clipping). */
  clipNorm: number;
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1 };

export interface ScheduleConfig {
  lr: number;
  warmupSteps: number;
  totalSteps: number;
  /** Final learning rate as a fraction of lr. */
  minLrRatio: number;
}

/** Learning rate for (0-based) step: linear warmup to lr, then cosine decay to lr * minLrRatio. */
export function lrAt(step: number, s: ScheduleConfig): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps;
  const span = Math.max(1, s.totalSteps - s.warmupSteps);
  const p = Math.min(1, Math.max(0, (step - s.warmupSteps) / span));
  const min = s.lr * s.minLrRatio;
  return min + (s.lr - min) * 0.5 * (1 + Math.cos(Math.PI * p));
}

export class AdamW {
  readonly cfg: AdamWConfig;
  /** Stable keys of the optimized parameters, sorted. */
  readonly keys: string[];
  /** Completed update steps (bias correction uses step + 1). */
  step = 0;
  private readonly params: Record<string, tf.Variable>;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};

  /** params: stable key -> variable; only trainable variables are optimized. */
  constructor(params: Record<string, tf.Variable>, cfg: Partial<AdamWConfig> = {}) {
    this.cfg = { ...ADAMW_DEFAULTS, ...cfg };
    this.keys = Object.keys(params).filter((k) => params[k].trainable).sort();
    this.params = params;
    for (const k of this.keys) {
      this.m[k] = tf.tidy(() => tf.variable(tf.zerosLike(params[k]), false));
      this.v[k] = tf.tidy(() => tf.variable(tf.zerosLike(params[k]), false));
    }
  }

  /** Global L2 norm of the gradients (one host read). */
  static globalNorm(grads: tf.Tensor[]): number {
    const sq = tf.tidy(() => tf.addN(grads.map((g) => g.square().sum())));
    const n = Math.sqrt(sq.dataSync()[0]);
    sq.dispose();
    return n;
  }

  /**
   * One update. grads: stable key -> gradient. Returns
   * the global gradient norm before clipping. Throws (without updating) on a
   * non-finite norm, so a blown-up step never reaches a checkpoint.
   */
  apply(grads: Record<string, tf.Tensor>, lr: number): number {
    // Parameters off the loss path (e.g. a backbone's unused pooling head) get
    // no gradient and are left alone, as PyTorch skips params whose .grad is None.
    const keys = this.keys.filter((k) => grads[k]);
    const unknown = Object.keys(grads).filter((k) => !this.m[k]);
    if (unknown.length) throw new Error(`AdamW: gradients for unknown parameters ${unknown.slice(0, 5).join(', ')}`);
    if (keys.length === 0) throw new Error('AdamW: no gradients');
    const norm = AdamW.globalNorm(keys.map((k) => grads[k]));
    if (!Number.isFinite(norm)) throw new Error(`AdamW: gradient norm is ${norm} at step ${this.step}`);
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, clipNorm } = this.cfg;
    const scale = clipNorm > 0 && norm > clipNorm ? clipNorm / norm : 1;
    const t = this.step + 1;
    const bc1 = 1 - Math.pow(b1, t);
    const bc2 = 1 - Math.pow(b2, t);
    tf.tidy(() => {
      for (const k of keys) {
        const p = this.params[k];
        const g = scale === 1 ? grads[k] : grads[k].mul(scale);
        const m = this.m[k].mul(b1).add(g.mul(1 - b1));
        const v = this.v[k].mul(b2).add(g.square().mul(1 - b2));
        this.m[k].assign(m);
        this.v[k].assign(v);
        let upd = m.div(bc1).div(v.div(bc2).sqrt().add(eps));
        if (wd > 0 && p.rank >= 2) upd = upd.add(p.mul(wd));
        p.assign(p.sub(upd.mul(lr)));
      }
    });
    this.step = t;
    return norm;
  }

  /** Moments under "m.<key>" / "v.<key>" (views of live variables: serialize before the next step). */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const k of this.keys) {
      out[`m.${k}`] = this.m[k];
      out[`v.${k}`] = this.v[k];
    }
    return out;
  }

  /** Restore moments (as saved by stateTensors) and the step count; checks names and shapes. */
  loadState(tensors: Record<string, { shape: number[]; data: ArrayLike<number> }>, step: number): void {
    const expected = this.keys.flatMap((k) => [`m.${k}`, `v.${k}`]);
    const missing = expected.filter((n) => !tensors[n]);
    const unexpected = Object.keys(tensors).filter((n) => !expected.includes(n));
    const bad = expected.filter((n) => tensors[n] && tensors[n].shape.join() !== this.params[n.slice(2)].shape.join());
    if (missing.length || unexpected.length || bad.length) {
      const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? ` (+${xs.length - 8} more)` : '');
      throw new Error(
        `optimizer state does not match the policy: ` +
          [missing.length && `missing ${list(missing)}`, unexpected.length && `unexpected ${list(unexpected)}`, bad.length && `shape mismatch ${list(bad)}`]
            .filter(Boolean).join('; '),
      );
    }
    for (const k of this.keys) {
      for (const [store, n] of [[this.m, `m.${k}`], [this.v, `v.${k}`]] as const) {
        tf.tidy(() => store[k].assign(tf.tensor(Float32Array.from(tensors[n].data), tensors[n].shape, 'float32')));
      }
    }
    this.step = step;
  }

  dispose(): void {
    tf.dispose([...Object.values(this.m), ...Object.values(this.v)]);
  }
}
