// SigLIP pairwise sigmoid loss (Zhai et al., "Sigmoid Loss for Language Image
// Pre-Training", arXiv:2303.15343, Algorithm 1):
//   zimg = normalize(img_emb), ztxt = normalize(txt_emb)
//   logits = zimg @ ztxt^T * exp(t') + b          [n, n]
//   labels = 2 * eye(n) - 1                       (+1 matching pairs, -1 others)
//   loss   = -sum(log_sigmoid(labels * logits)) / n
// t' (log temperature) is initialized to log(10) and b to -10, which keeps the
// initial loss small despite the heavy imbalance of negatives.
import * as tf from '@tensorflow/tfjs';
import { Module } from './nn.ts';

export interface SigLipLossConfig {
  /** Initial log-temperature t' (paper: log 10). */
  initLogTemperature: number;
  /** Initial bias b (paper: -10). */
  initBias: number;
  /** L2-normalize the embeddings before the dot product (paper: yes). */
  normalize: boolean;
}

export const SIGLIP_LOSS_DEFAULTS: SigLipLossConfig = { initLogTemperature: Math.log(10), initBias: -10, normalize: true };

export class SigLipLoss extends Module {
  readonly config: SigLipLossConfig;
  /** Learnable log-temperature t' (scalar stored as [1]). */
  readonly logTemperature: tf.Variable;
  /** Learnable bias b ([1]). */
  readonly bias: tf.Variable;

  constructor(config: Partial<SigLipLossConfig> = {}) {
    super('siglip_loss');
    this.config = { ...SIGLIP_LOSS_DEFAULTS, ...config };
    this.logTemperature = this.store.add('logit_scale', [1], { kind: 'const', value: this.config.initLogTemperature });
    this.bias = this.store.add('logit_bias', [1], { kind: 'const', value: this.config.initBias });
  }

  /** Pairwise logits [n, n] for image / text embeddings [n, d]. */
  logits(img: tf.Tensor2D, txt: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const zi = this.config.normalize ? img.div(img.norm('euclidean', -1, true).add(1e-12)) : img;
      const zt = this.config.normalize ? txt.div(txt.norm('euclidean', -1, true).add(1e-12)) : txt;
      return tf.matMul(zi, zt, false, true).mul(tf.exp(this.logTemperature)).add(this.bias) as tf.Tensor2D; // [n,d] @ [d,n] -> [n,n]
    });
  }

  /** Scalar loss: -(1/n) * sum_ij log sigmoid(label_ij * logit_ij). */
  loss(img: tf.Tensor2D, txt: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const n = img.shape[0];
      const labels = tf.eye(n).mul(2).sub(1); // +1 diagonal, -1 elsewhere
      const z = labels.mul(this.logits(img, txt));
      const logSig = tf.neg(tf.softplus(tf.neg(z))); // log sigmoid(z) = -softplus(-z)
      return logSig.sum().neg().div(n) as tf.Scalar;
    });
  }
}
