// Shared test setup: the pure-JS cpu backend (deterministic, no wasm init).
import * as tf from '@tensorflow/tfjs';

export async function useCpu(): Promise<void> {
  await tf.setBackend('cpu');
  await tf.ready();
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]);
}

/** Deterministic uniform [0,1) images. */
export function randomImages(B: number, H: number, W: number, seed = 1): tf.Tensor4D {
  return tf.randomUniform([B, H, W, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** Overwrite every weight with deterministic random values (variances kept positive). */
export function randomizeWeights(weights: Record<string, tf.Variable>, seed = 11): void {
  let s = seed;
  for (const [k, v] of Object.entries(weights)) {
    tf.tidy(() => {
      const r = tf.randomNormal(v.shape, 0, 0.2, 'float32', s++);
      v.assign(k.endsWith('running_var') ? r.abs().add(0.5) : r);
    });
  }
}

/** Dispose tensors, skipping null / undefined. */
export function disposeAll(ts: (tf.Tensor | null | undefined)[]): void {
  for (const t of ts) t?.dispose();
}
