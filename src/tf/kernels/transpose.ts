// A Transpose for wasm whose rank >= 5 case is not 20-30x slow.
//
// tfjs-backend-wasm's C++ transpose has fast paths up to rank 4; a rank-5
// permutation (a transformer's [B,T,3,H,d] -> [3,B,H,T,d] qkv split) took
// ~23 ms for 220k floats here, ~10% of a ViT training step, while a JS loop
// copying the contiguous innermost run takes ~1 ms. Lower ranks keep the
// original kernel (registered in its place with its setupFunc).
import { Transpose, util, type KernelBackend, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { kernelIO, type FlatArray } from './util.ts';

/**
 * Drop size-1 dims and merge dims that stay adjacent and in order under the
 * permutation: the same data movement, described with the fewest dims.
 */
export function collapsePermutation(shape: number[], perm: number[]): { shape: number[]; perm: number[] } {
  const keep = shape.map((d) => d !== 1);
  const remap = new Map<number, number>();
  const s1: number[] = [];
  shape.forEach((d, i) => {
    if (keep[i]) {
      remap.set(i, s1.length);
      s1.push(d);
    }
  });
  const p1 = perm.filter((p) => keep[p]).map((p) => remap.get(p)!);
  // Group runs p1[j], p1[j]+1, ... into single dims.
  const groups: number[][] = [];
  for (const p of p1) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + 1 === p) last.push(p);
    else groups.push([p]);
  }
  const order = groups.map((g) => g[0]).sort((a, b) => a - b);
  const newIndex = new Map(order.map((first, i) => [first, i]));
  const shapeOut = order.map((first) => {
    const g = groups.find((gr) => gr[0] === first)!;
    return g.reduce((acc, d) => acc * s1[d], 1);
  });
  return { shape: shapeOut, perm: groups.map((g) => newIndex.get(g[0])!) };
}

/** out = x transposed by perm (row-major); runs of the innermost dim are copied whole. */
export function transposeLoops(x: FlatArray, shape: number[], perm: number[], out: FlatArray): void {
  const r = shape.length;
  const inStrides = util.computeStrides(shape).concat([1]);
  const outShape = perm.map((p) => shape[p]);
  const srcStep = perm.map((p) => inStrides[p]);
  // If the last dim stays last, copy it as a run.
  const run = perm[r - 1] === r - 1 ? shape[r - 1] : 1;
  const dims = run > 1 ? r - 1 : r;
  const idx = new Array<number>(dims).fill(0);
  const count = x.length / run;
  let src = 0;
  let o = 0;
  for (let n = 0; n < count; n++) {
    if (run === 1) {
      out[o++] = x[src];
    } else {
      for (let j = 0; j < run; j++) out[o + j] = x[src + j];
      o += run;
    }
    // Odometer over the output dims, moving the source offset incrementally.
    for (let d = dims - 1; d >= 0; d--) {
      idx[d]++;
      src += srcStep[d];
      if (idx[d] < outShape[d]) break;
      src -= srcStep[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: unknown };

export function fastTransposeConfig(original: KernelConfig): KernelConfig {
  const orig = original.kernelFunc as unknown as (args: Args) => TensorInfo;
  const kernelFunc = (args: Args): TensorInfo => {
    const { x } = args.inputs;
    const { perm } = args.attrs as { perm: number[] };
    if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return orig(args);
    const c = collapsePermutation(x.shape, perm);
    if (c.shape.length < 5) return orig(args);
    const io = kernelIO(args.backend as KernelBackend, 'wasm');
    const out = io.alloc(perm.map((p) => x.shape[p]), x.dtype);
    transposeLoops(io.view(x), c.shape, c.perm, io.view(out));
    return out;
  };
  return {
    kernelName: Transpose,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'],
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  };
}
