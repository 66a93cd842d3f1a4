// Host batch (dataset.ts RawBatch) -> policy batch tensors, shared by the
// single-thread training step (trainer.ts), the sharded step (shards.ts) and
// the training threads (trainWorker.ts).
import * as tf from '@tensorflow/tfjs';
import type { PolicyBatch, VlaPolicy } from '../../policies/policy.ts';
import type { RawBatch } from './dataset.ts';

/** Host batch -> policy batch tensors (owned by the caller; free with disposeBatch). */
export function toPolicyBatch(raw: RawBatch, policy: VlaPolicy): PolicyBatch {
  const B = raw.instructions.length;
  const P = policy.config.proprioDim;
  const A = policy.config.auxDim;
  // validate before allocating tensors
  if (P > raw.proprioDim) throw new Error(`policy wants ${P} proprio dims, the dataset has ${raw.proprioDim}`);
  if (A > 0 && raw.aux && raw.aux.dim !== A) throw new Error(`policy wants ${A} auxiliary targets, the dataset gives ${raw.aux.dim}`);
  if (policy.config.planDims > 0 && !raw.plan) throw new Error(`policy wants ${policy.config.planDims} plan targets per step; the dataset delivers none`);
  const images: Record<string, tf.Tensor4D> = {};
  for (const cam of policy.config.cameras) images[cam] = tf.tensor4d(raw.images[cam], [B, raw.height, raw.width, 3]);
  let proprio: tf.Tensor2D | null = null;
  if (P > 0) {
    const data = P === raw.proprioDim ? raw.proprio : Float32Array.from({ length: B * P }, (_, i) => raw.proprio[Math.floor(i / P) * raw.proprioDim + (i % P)]);
    proprio = tf.tensor2d(data, [B, P]);
  }
  const aux = A > 0 && raw.aux ? { target: tf.tensor2d(raw.aux.target, [B, A]), mask: tf.tensor2d(raw.aux.mask, [B, A]) } : null;
  return { images, proprio, instructions: raw.instructions, actions: raw.actions, aux, spatial: raw.spatial ?? null, plan: raw.plan ?? null, roles: raw.roles ?? null };
}

export function disposeBatch(b: PolicyBatch): void {
  tf.dispose([...Object.values(b.images), ...(b.proprio ? [b.proprio] : []), ...(b.aux ? [b.aux.target, b.aux.mask] : [])]);
}
