// Test helpers: run one kernel config directly on a backend (bypassing the
// engine, so the reference and the candidate see identical inputs), seeded
// random data, and a relative-error measure.
import * as tf from '@tensorflow/tfjs';

export interface HostTensor {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

/** Deterministic uniform(-1, 1) values (mulberry32). */
export function randomValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

export function host(shape: number[], seed: number): HostTensor {
  return { shape, values: randomValues(shape.reduce((a, b) => a * b, 1), seed) };
}

/**
 * Run `config` on the named (already initialized) backend with fresh input
 * tensors; returns the output values. Also checks the kernel leaves no
 * tensor data behind on the backend.
 */
export function runKernel(
  config: tf.KernelConfig,
  backendName: string,
  inputs: Record<string, HostTensor>,
  attrs: Record<string, unknown>,
): { shape: number[]; values: Float32Array | Int32Array } {
  const backend = tf.findBackend(backendName);
  if (!backend) throw new Error(`backend ${backendName} is not initialized`);
  const before = backend.numDataIds();
  const infos: Record<string, tf.TensorInfo> = {};
  for (const [k, t] of Object.entries(inputs)) {
    const dtype = t.dtype ?? 'float32';
    infos[k] = { dataId: backend.write(t.values, t.shape, dtype), shape: t.shape, dtype };
  }
  const out = config.kernelFunc({ inputs: infos, backend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const values = backend.readSync(out.dataId) as Float32Array | Int32Array;
  const result = { shape: out.shape.slice(), values: values.slice() };
  backend.disposeData(out.dataId);
  for (const t of Object.values(infos)) backend.disposeData(t.dataId);
  const after = backend.numDataIds();
  if (after !== before) throw new Error(`${config.kernelName}/${backendName} leaked ${after - before} tensors`);
  return result;
}

/** max |a - b| / max |b| (b is the reference). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-12);
}
