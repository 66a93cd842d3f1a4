// UnsortedSegmentSum for wasm (missing in tfjs-backend-wasm 4.22). tf.gather's
// gradient is built on it, so token/position embeddings cannot train without it.
import {
  UnsortedSegmentSum,
  util,
  type KernelBackend,
  type KernelConfig,
  type TensorInfo,
  type UnsortedSegmentSumAttrs,
} from '@tensorflow/tfjs-core';
import { kernelIO } from './util.ts';

/** out[seg[i], j] += x[i, j] for every row i of x (rows = segmentIds.size). */
export function segmentSumLoops(
  x: Float32Array | Int32Array,
  ids: Int32Array | Float32Array,
  numSegments: number,
  inner: number,
  out: Float32Array | Int32Array,
): void {
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    // tf.unsortedSegmentSum drops ids outside [0, numSegments), like TF.
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner;
    const xi = i * inner;
    for (let j = 0; j < inner; j++) out[o + j] += x[xi + j];
  }
}

export function unsortedSegmentSumConfig(backendName: 'wasm' | 'cpu'): KernelConfig {
  const kernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: unknown }): TensorInfo => {
    const { x, segmentIds } = args.inputs;
    const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') {
      throw new Error(`UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
    }
    // segmentIds covers the leading dims of x; the rest is summed as a block.
    const idRank = segmentIds.shape.length;
    util.assert(
      util.arraysEqual(x.shape.slice(0, idRank), segmentIds.shape),
      () => `UnsortedSegmentSum: segmentIds shape ${segmentIds.shape} must prefix x shape ${x.shape}`,
    );
    const innerShape = x.shape.slice(idRank);
    const inner = util.sizeFromShape(innerShape);
    const io = kernelIO(args.backend as KernelBackend, backendName);
    const out = io.zeros([numSegments, ...innerShape], x.dtype);
    segmentSumLoops(
      io.view(x) as Float32Array | Int32Array,
      io.view(segmentIds) as Int32Array,
      numSegments,
      inner,
      io.view(out) as Float32Array | Int32Array,
    );
    return out;
  };
  return {
    kernelName: UnsortedSegmentSum,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'],
  };
}
