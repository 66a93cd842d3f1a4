// Micro benchmark of the custom kernels against what tfjs offers without them.
// Returns plain numbers (JSON-able); not wired into any CLI.
//
// Baselines: for kernels wasm lacks, tfjs's cpu kernel run on the cpu backend
// (what a "delegate to cpu" kernel would cost, before copying); for kernels
// we wrap on wasm, the original wasm kernel.
import {
  findBackend,
  getBackend,
  getKernel,
  setBackend,
  type KernelBackend,
  type KernelConfig,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { initBackend } from './backend.ts';
import { originalKernel } from './kernels/index.ts';

export interface KernelBenchEntry {
  kernel: string;
  /** Input shapes and attributes, human readable. */
  shape: string;
  /** Our kernel on wasm, mean ms per call over repetitions. */
  oursWasmMs: number;
  baselineMs: number;
  baseline: 'tfjs cpu kernel' | 'tfjs wasm kernel';
  speedup: number;
  /** Our kernel on the cpu backend, where we replace tfjs's. */
  oursCpuMs?: number;
}

export interface KernelBenchResult {
  backend: string;
  entries: KernelBenchEntry[];
}

export interface BenchOptions {
  /** Keep timing an op until this many ms have passed (default 200). */
  minMs?: number;
  /** Batch size of the conv shapes (default 8). */
  batch?: number;
}

type Inputs = Record<string, { shape: number[]; dtype?: 'float32' }>;

function fill(n: number, seed: number): Float32Array {
  // Cheap deterministic values in [-1, 1); the data does not affect timing.
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out[i] = s / 0x40000000 - 1;
  }
  return out;
}

/** Mean ms per call of `config` on `backendName`, inputs written once. */
function timeKernel(config: KernelConfig, backendName: string, inputs: Inputs, attrs: NamedAttrMap, minMs: number): number {
  const backend = findBackend(backendName) as KernelBackend;
  const infos: Record<string, TensorInfo> = {};
  let seed = 1;
  for (const [k, t] of Object.entries(inputs)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    infos[k] = { dataId: backend.write(fill(n, seed++), t.shape, 'float32'), shape: t.shape, dtype: 'float32' };
  }
  const once = () => {
    const out = config.kernelFunc({ inputs: infos, backend, attrs }) as TensorInfo;
    backend.disposeData(out.dataId);
  };
  let t0 = performance.now();
  once(); // warm-up (JIT, XNNPACK operator creation)
  let ms = performance.now() - t0;
  // A single slow call (the tfjs cpu baselines) is measurement enough; fast
  // ones get a few more warm-up calls so V8 has optimized the JS loops.
  if (ms <= minMs) {
    for (let i = 0; i < 3 && ms * (i + 2) < minMs; i++) once();
    let reps = 0;
    t0 = performance.now();
    while (reps === 0 || performance.now() - t0 < minMs) {
      once();
      reps++;
    }
    ms = (performance.now() - t0) / reps;
  }
  for (const t of Object.values(infos)) backend.disposeData(t.dataId);
  return ms;
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Time conv-gradient, depthwise-gradient and matmul kernels at ~96 px shapes.
 * Initializes cpu and wasm (with the custom kernels) and restores the backend
 * that was active before.
 */
export async function benchKernels(opts: BenchOptions = {}): Promise<KernelBenchResult> {
  const minMs = opts.minMs ?? 200;
  const B = opts.batch ?? 8;
  const previous = getBackend();
  await initBackend('cpu');
  const wasm = await initBackend('wasm');
  const entries: KernelBenchEntry[] = [];

  const add = (kernel: string, shape: string, inputs: Inputs, attrs: NamedAttrMap, cpuToo: boolean) => {
    const ours = getKernel(kernel, 'wasm');
    const wasmOrig = originalKernel(kernel, 'wasm');
    const wasmHasOwn = wasmOrig != null && wasmOrig !== ours;
    const oursWasmMs = timeKernel(ours, 'wasm', inputs, attrs, minMs);
    const baselineMs = wasmHasOwn
      ? timeKernel(wasmOrig, 'wasm', inputs, attrs, minMs)
      : timeKernel(originalKernel(kernel, 'cpu')!, 'cpu', inputs, attrs, minMs);
    const e: KernelBenchEntry = {
      kernel,
      shape,
      oursWasmMs: round(oursWasmMs),
      baselineMs: round(baselineMs),
      baseline: wasmHasOwn ? 'tfjs wasm kernel' : 'tfjs cpu kernel',
      speedup: round(baselineMs / oursWasmMs),
    };
    if (cpuToo) e.oursCpuMs = round(timeKernel(getKernel(kernel, 'cpu'), 'cpu', inputs, attrs, minMs));
    entries.push(e);
  };

  const convCases: [number, number, number, number, number][] = [
    // [H, Cin, Cout, k, stride]: stem, a 3x3 block conv, a 1x1 conv, a 5x5.
    [96, 3, 32, 3, 2],
    [48, 16, 24, 3, 1],
    [24, 64, 128, 1, 1],
    [24, 32, 32, 5, 2],
  ];
  for (const [H, ci, co, k, s] of convCases) {
    const o = Math.ceil(H / s);
    const attrs = { strides: [s, s], pad: 'same', dataFormat: 'NHWC' } as unknown as NamedAttrMap;
    const shape = `x[${B},${H},${H},${ci}] k${k} s${s} -> ${co}`;
    add('Conv2DBackpropFilter', shape, { x: { shape: [B, H, H, ci] }, dy: { shape: [B, o, o, co] } },
      { ...attrs, filterShape: [k, k, ci, co] } as unknown as NamedAttrMap, true);
    add('Conv2DBackpropInput', shape, { dy: { shape: [B, o, o, co] }, filter: { shape: [k, k, ci, co] } },
      { ...attrs, inputShape: [B, H, H, ci] } as unknown as NamedAttrMap, false);
  }
  const dwCases: [number, number, number, number][] = [
    [48, 32, 3, 1],
    [48, 32, 3, 2],
    [24, 96, 5, 2],
  ];
  for (const [H, c, k, s] of dwCases) {
    const o = Math.ceil(H / s);
    const attrs = { strides: [s, s], dilations: [1, 1], pad: 'same' } as unknown as NamedAttrMap;
    const shape = `x[${B},${H},${H},${c}] k${k} s${s}`;
    add('DepthwiseConv2dNativeBackpropFilter', shape, { x: { shape: [B, H, H, c] }, dy: { shape: [B, o, o, c] } },
      { ...attrs, filterShape: [k, k, c, 1] } as unknown as NamedAttrMap, true);
    add('DepthwiseConv2dNativeBackpropInput', shape, { dy: { shape: [B, o, o, c] }, filter: { shape: [k, k, c, 1] } },
      { ...attrs, inputShape: [B, H, H, c] } as unknown as NamedAttrMap, true);
  }
  const mmCases: [number[], number[], boolean, boolean, string][] = [
    [[1, 1024, 512], [1, 512, 512], false, false, 'untransposed'],
    [[1, 512, 1024], [1, 512, 512], true, false, 'transposeA (x^T·dy)'],
    [[1, 1024, 512], [1, 512, 512], false, true, 'transposeB (dy·W^T)'],
    [[32, 37, 192], [1, 192, 576], false, false, 'batched x shared weights'],
    [[8, 128, 64], [8, 128, 64], false, true, 'attention q·k^T, 8x128 tokens'],
    [[96, 37, 32], [96, 37, 32], false, true, 'attention q·k^T, 96x37 tokens'],
  ];
  for (const [a, b, ta, tb, what] of mmCases) {
    add('BatchMatMul', `${what}: [${a}]${ta ? 'ᵀ' : ''} x [${b}]${tb ? 'ᵀ' : ''}`, { a: { shape: a }, b: { shape: b } },
      { transposeA: ta, transposeB: tb }, false);
  }
  // A transformer's qkv head split: rank 5, where wasm's C++ transpose is slow.
  add('Transpose', 'x[8,145,3,4,32] perm [2,0,3,1,4]', { x: { shape: [8, 145, 3, 4, 32] } },
    { perm: [2, 0, 3, 1, 4] } as unknown as NamedAttrMap, false);
  if (previous && previous !== getBackend()) await setBackend(previous);
  return { backend: wasm.backend, entries };
}
