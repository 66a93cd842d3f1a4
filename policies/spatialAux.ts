// Spatial auxiliary loss (policy config spatialAux / spatialAuxWeight): in
// training, supervise where the policy attends in each camera image with
// where the commanded object and its destination are (targets from
// src/train/spatialTargets.ts). Two forms, one per way a backbone hands its
// image to the decoder:
//   'tokens'  (RT-1 style, TokenLearner): TokenLearner maps 0 and 1 of every
//             camera must point at the object and the destination. FiLM lets
//             the instruction steer the maps, and with coordinate channels
//             the two tokens then carry the positions into the decoder.
//   'pointer' (OpenVLA style, patch tokens): the decoder's last prefix state
//             (which has read the language tokens) queries the final hidden
//             states of each camera's patch positions (Gpt.pointerLogits).
// Both are a cross-entropy between a softmax over the feature grid and soft
// cell targets (bilinear weights of the projected point), masked where a
// target is not visible. Training-only: inference never computes them.
import * as tf from '@tensorflow/tfjs';

export type SpatialAuxKind = 'off' | 'tokens' | 'pointer';

/** Targets per camera: object, destination. */
export const SPATIAL_TARGETS = 2;
/** Values per target and camera in a batch: u, v (in [0, 1], u right, v down), visible (1/0). */
export const SPATIAL_VALUES = 3;

/**
 * Soft cell targets on a gh x gw grid (row-major, top row first) for points
 * in [0, 1]^2: bilinear weights over the four nearest cell centres, so the
 * expected cell centre under the target is the point itself (clamped at the
 * border cells). Returns [n * gh * gw].
 */
export function softCellTargets(uv: ArrayLike<number>, n: number, gh: number, gw: number): Float32Array {
  const out = new Float32Array(n * gh * gw);
  for (let i = 0; i < n; i++) {
    const gx = Math.min(gw - 1, Math.max(0, uv[2 * i] * gw - 0.5));
    const gy = Math.min(gh - 1, Math.max(0, uv[2 * i + 1] * gh - 0.5));
    const x0 = Math.floor(gx), y0 = Math.floor(gy);
    const x1 = Math.min(gw - 1, x0 + 1), y1 = Math.min(gh - 1, y0 + 1);
    const fx = gx - x0, fy = gy - y0;
    const o = i * gh * gw;
    out[o + y0 * gw + x0] += (1 - fx) * (1 - fy);
    out[o + y0 * gw + x1] += fx * (1 - fy);
    out[o + y1 * gw + x0] += (1 - fx) * fy;
    out[o + y1 * gw + x1] += fx * fy;
  }
  return out;
}

/** Targets [B, K, SPATIAL_TARGETS, gh*gw] and mask [B, K, SPATIAL_TARGETS] from raw (u, v, visible) triples. */
export function spatialTensors(raw: Float32Array, B: number, K: number, gh: number, gw: number): { target: tf.Tensor4D; mask: tf.Tensor3D } {
  const n = B * K * SPATIAL_TARGETS;
  if (raw.length !== n * SPATIAL_VALUES) throw new Error(`spatial targets: ${raw.length} values, expected ${n * SPATIAL_VALUES} (batch ${B} x ${K} cameras x ${SPATIAL_TARGETS} targets x ${SPATIAL_VALUES})`);
  const uv = new Float32Array(2 * n);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    uv[2 * i] = raw[i * SPATIAL_VALUES];
    uv[2 * i + 1] = raw[i * SPATIAL_VALUES + 1];
    mask[i] = raw[i * SPATIAL_VALUES + 2] > 0 ? 1 : 0;
  }
  const cells = softCellTargets(uv, n, gh, gw);
  for (let i = 0; i < n; i++) if (!mask[i]) cells.fill(0, i * gh * gw, (i + 1) * gh * gw);
  return { target: tf.tensor4d(cells, [B, K, SPATIAL_TARGETS, gh * gw]), mask: tf.tensor3d(mask, [B, K, SPATIAL_TARGETS]) };
}

/**
 * 'tokens' loss: tokenLogits [K*B, S, N] (camera-major, as the policy batches
 * cameras), maps 0..SPATIAL_TARGETS-1 supervised; masked mean cross-entropy.
 */
export function tokenMapLoss(tokenLogits: tf.Tensor3D, target: tf.Tensor4D, mask: tf.Tensor3D): tf.Scalar {
  return tf.tidy(() => {
    const [B, K, P, N] = target.shape;
    if (tokenLogits.shape[1] < P) throw new Error(`spatialAux 'tokens' needs at least ${P} TokenLearner tokens, the backbone has ${tokenLogits.shape[1]}`);
    const logits = tokenLogits
      .slice([0, 0, 0], [K * B, P, N]) // the first P maps
      .reshape([K, B, P, N]) // [K*B,P,N] -> [K,B,P,N]
      .transpose([1, 0, 2, 3]); // -> [B,K,P,N]
    const ce = tf.logSoftmax(logits, -1).mul(target).sum(-1).neg(); // [B,K,P]
    return ce.mul(mask).sum().div(mask.sum().maximum(1)) as tf.Scalar;
  });
}
