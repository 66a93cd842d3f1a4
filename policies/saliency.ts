// Saliency of a policy's vision backbone on one camera frame (the demo
// overlay and analysis): the mean TokenLearner attention map for RT-1-style
// CNNs (Ryoo et al., arXiv:2106.11297), or the attention each patch receives
// in the last ViT layer.
import * as tf from '@tensorflow/tfjs';
import type { PolicyObservation, VlaPolicy } from './policy.ts';

/**
 * Where the vision backbone looks on one camera frame, as a heat map over its
 * feature grid (sums to 1): the mean TokenLearner map (CNN, RT-1 style), or
 * the attention each patch receives in the last ViT layer (mean over heads
 * and patch queries).
 */
export interface Saliency {
  kind: 'tokenlearner' | 'attention' | 'none';
  camera: string;
  grid: [number, number];
  heat: Float32Array;
}

export function policySaliency(policy: VlaPolicy, obs: PolicyObservation, camera: string): Saliency {
  const frame = obs.images[camera];
  if (!frame) throw new Error(`VlaPolicy: camera '${camera}' missing (have: ${Object.keys(obs.images).join(', ') || 'none'})`);
  const r = tf.tidy(() => {
    const x = policy.inputImage(frame);
    const film = policy.backbone.textDim > 0 ? policy.instructionEmbedding(obs.instruction) : null;
    const out = policy.backbone.forward(x, film, false, { returnAttention: true });
    if (out.tokenMaps) return { kind: 'tokenlearner', heat: out.tokenMaps.mean(1).reshape([-1]) } as never; // [1,S,N] -> [N]
    const last = out.attention?.at(-1);
    if (!last) return { kind: 'none', heat: tf.zeros([1]) } as never;
    const T = last.shape[2];
    const pre = policy.backbone.config.classToken ? 1 : 0; // a class token is not a patch
    const N = T - pre;
    // [1,H,T,T] -> patch queries x patch keys -> mean over heads and queries -> [N]
    const pk = last.slice([0, 0, pre, pre], [1, -1, N, N]).mean([0, 1, 2]);
    return { kind: 'attention', heat: pk.div(pk.sum()) } as never;
  }) as unknown as { kind: Saliency['kind']; heat: tf.Tensor };
  const heat = r.heat.dataSync() as Float32Array;
  r.heat.dispose();
  const n = heat.length;
  const side = Math.round(Math.sqrt(n));
  return { kind: r.kind, camera, grid: r.kind === 'none' ? [0, 0] : [side, n / side] as [number, number], heat: Float32Array.from(heat) };
}
