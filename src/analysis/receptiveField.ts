// Receptive fields of convolutional stages.
//  - theoretical: r_L = 1 + sum_l (k_l - 1) * prod_{i<l} s_i (for a chain of convs).
//  - effective (Luo et al., "Understanding the Effective Receptive Field in Deep
//    CNNs", NeurIPS 2016): |d out[center] / d input|, summed over channels. It is
//    concentrated well inside the theoretical field (roughly Gaussian).
import * as tf from '@tensorflow/tfjs';

export function theoreticalReceptiveField(layers: { kernel: number; stride: number }[]): number {
  let r = 1, jump = 1;
  for (const l of layers) {
    r += (l.kernel - 1) * jump;
    jump *= l.stride;
  }
  return r;
}

export interface ErfResult {
  /** |gradient| map [H, W] of the centre output w.r.t. the input, normalised to sum 1. */
  map: Float32Array;
  height: number;
  width: number;
  /** Side of the smallest centred square holding `mass` of the map, in input pixels. */
  size: number;
}

/**
 * Effective receptive field of `f` (images [1,H,W,C] -> features [1,h,w,c]) at
 * the centre output location, for a given input (default: constant 0.5 image).
 */
export function effectiveReceptiveField(f: (x: tf.Tensor4D) => tf.Tensor4D, height: number, width: number, channels = 3, mass = 0.95, input?: tf.Tensor4D): ErfResult {
  const x = input ?? tf.fill([1, height, width, channels], 0.5) as tf.Tensor4D;
  const g = tf.tidy(() => {
    const grad = tf.grad((inp: tf.Tensor) => {
      const y = f(inp as tf.Tensor4D);
      const [, h, w] = y.shape;
      return y.slice([0, Math.floor((h - 1) / 2), Math.floor((w - 1) / 2), 0], [1, 1, 1, -1]).sum();
    })(x);
    return grad.abs().sum(3).reshape([height, width]); // [1,H,W,C] -> [H,W]
  });
  const raw = g.dataSync() as Float32Array;
  g.dispose();
  if (!input) x.dispose();
  const sum = raw.reduce((a, b) => a + b, 0);
  const map = Float32Array.from(raw, (v) => (sum > 0 ? v / sum : 0));
  const cy = Math.floor((height - 1) / 2), cx = Math.floor((width - 1) / 2);
  let size = Math.max(height, width);
  for (let r = 0; r <= Math.max(height, width); r++) {
    let m = 0;
    for (let y = Math.max(0, cy - r); y <= Math.min(height - 1, cy + r); y++) for (let xx = Math.max(0, cx - r); xx <= Math.min(width - 1, cx + r); xx++) m += map[y * width + xx];
    if (m >= mass - 1e-6) { size = 2 * r + 1; break; }
  }
  return { map, height, width, size };
}
