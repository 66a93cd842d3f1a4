// Registration of the project's custom kernels.
//
// wasm (tfjs-backend-wasm 4.22) lacks Conv2DBackpropFilter, both depthwise
// gradients and UnsortedSegmentSum, so conv nets and embeddings cannot train on
// it at all; its Conv2DBackpropInput and transposed/batched BatchMatMul run at
// ~1.5 GFLOP/s. The cpu backend's conv-filter and depthwise gradients use
// per-element TensorBuffer access; the flat-loop versions here are faster.
//
// Call after the backend modules are imported (their import registers the
// originals we wrap) and preferably before the backend initializes: tfjs runs
// a kernel's setupFunc at backend init, and replaced wasm kernels keep the
// original's setupFunc so both orders work.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { fastBatchMatMulConfig } from './batch_matmul.ts';
import { conv2dBackpropFilterConfig } from './conv2d_backprop_filter.ts';
import { conv2dBackpropInputConfig } from './conv2d_backprop_input.ts';
import { depthwiseBackpropFilterConfig, depthwiseBackpropInputConfig } from './depthwise_backprop.ts';
import { fastTransposeConfig } from './transpose.ts';
import { unsortedSegmentSumConfig } from './unsorted_segment_sum.ts';

export type CustomKernelBackend = 'wasm' | 'cpu';

/** Kernels we replaced, keyed "backend/kernel": null means there was none. */
const replaced = new Map<string, KernelConfig | null>();

const key = (backend: string, kernel: string) => `${backend}/${kernel}`;

function install(config: KernelConfig): void {
  const k = key(config.backendName, config.kernelName);
  const existing = getKernel(config.kernelName, config.backendName) ?? null;
  if (!replaced.has(k)) replaced.set(k, existing);
  if (existing) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
}

function configsFor(backend: CustomKernelBackend): KernelConfig[] {
  // Originals to wrap: those we saved on an earlier call, else the live ones.
  const original = (name: string) => {
    const k = key(backend, name);
    return replaced.has(k) ? (replaced.get(k) ?? undefined) : getKernel(name, backend);
  };
  if (backend === 'wasm') {
    const bmm = original('BatchMatMul');
    if (!bmm) return []; // wasm backend module not imported: nothing to wrap
    const tr = original('Transpose');
    return [
      fastBatchMatMulConfig(bmm),
      ...(tr ? [fastTransposeConfig(tr)] : []),
      conv2dBackpropFilterConfig('wasm'),
      conv2dBackpropInputConfig('wasm', original('Conv2DBackpropInput')),
      depthwiseBackpropFilterConfig('wasm'),
      depthwiseBackpropInputConfig('wasm'),
      unsortedSegmentSumConfig('wasm'),
    ];
  }
  if (!original('Conv2D')) return []; // cpu backend module not imported
  // cpu: its own Conv2DBackpropInput already uses flat loops and its
  // BatchMatMul is JS, so only the TensorBuffer-bound kernels are replaced.
  return [
    conv2dBackpropFilterConfig('cpu', original('Conv2DBackpropFilter')),
    depthwiseBackpropFilterConfig('cpu'),
    depthwiseBackpropInputConfig('cpu'),
  ];
}

/**
 * Register the custom kernels for the given backends (default: both).
 * Idempotent. Returns the "backend/kernel" names now served by our kernels.
 */
export function registerCustomKernels(backends: CustomKernelBackend[] = ['wasm', 'cpu']): string[] {
  const done: string[] = [];
  for (const b of backends) {
    for (const c of configsFor(b)) {
      install(c);
      done.push(key(c.backendName, c.kernelName));
    }
  }
  return done;
}

/** Put back what registerCustomKernels replaced (tests use it to get tfjs's reference kernels). */
export function unregisterCustomKernels(backends: CustomKernelBackend[] = ['wasm', 'cpu']): void {
  for (const [k, orig] of replaced) {
    const [backend, kernel] = k.split('/');
    if (!backends.includes(backend as CustomKernelBackend)) continue;
    if (getKernel(kernel, backend)) unregisterKernel(kernel, backend);
    if (orig) registerKernel(orig);
    replaced.delete(k);
  }
}

/** The kernel tfjs itself registered for (kernel, backend), even while ours is installed. */
export function originalKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  const k = key(backendName, kernelName);
  if (replaced.has(k)) return replaced.get(k) ?? undefined;
  return getKernel(kernelName, backendName);
}

export { setSplitMinItemFlops } from './batch_matmul.ts';
