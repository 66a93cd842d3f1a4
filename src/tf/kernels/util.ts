// Shared plumbing for the project's custom kernels: backend-neutral access to
// tensor memory, and calling other kernels of the same backend from inside a
// kernel (kernels receive TensorInfos, not Tensors, so tf.* ops are off limits).
import {
  backend_util,
  getKernel,
  util,
  type DataType,
  type KernelBackend,
  type NamedAttrMap,
  type NamedTensorInfoMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

export type FlatArray = Float32Array | Int32Array | Uint8Array;

/**
 * Memory access for one kernel call. The cpu backend keeps JS typed arrays;
 * the wasm backend keeps tensors on its heap and hands out views onto it.
 * A wasm heap view is detached when the heap grows, which any allocation can
 * trigger: always call `view` again after `alloc` or `run`.
 */
export interface KernelIO {
  readonly backendName: 'wasm' | 'cpu';
  view(t: TensorInfo): FlatArray;
  /** A new tensor of the given shape; contents are unspecified (wasm: malloc). */
  alloc(shape: number[], dtype: DataType): TensorInfo;
  /** A new tensor filled with zeros. */
  zeros(shape: number[], dtype: DataType): TensorInfo;
  dispose(t: TensorInfo): void;
  /** Run another kernel registered for this backend. */
  run(kernelName: string, inputs: NamedTensorInfoMap, attrs?: NamedAttrMap): TensorInfo;
}

// Structural views of the two backends; importing their classes would pull
// backend modules into every bundle that touches kernels.
interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): backend_util.TypedArray;
}
interface CpuLike extends KernelBackend {
  data: { get(dataId: object): { values: backend_util.BackendValues } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: backend_util.BackendValues): TensorInfo;
}

function arrayFor(dtype: DataType, size: number): FlatArray {
  if (dtype === 'float32') return new Float32Array(size);
  if (dtype === 'int32') return new Int32Array(size);
  if (dtype === 'bool') return new Uint8Array(size);
  throw new Error(`custom kernels: unsupported dtype ${dtype}`);
}

export function kernelIO(backend: KernelBackend, backendName: 'wasm' | 'cpu'): KernelIO {
  const run = (kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo => {
    const k = getKernel(kernelName, backendName);
    if (k == null) throw new Error(`custom kernels: ${kernelName} is not registered for ${backendName}`);
    const out = k.kernelFunc({ inputs, backend, attrs });
    if (Array.isArray(out)) throw new Error(`custom kernels: ${kernelName} returned several outputs`);
    return out;
  };
  if (backendName === 'wasm') {
    const b = backend as WasmLike;
    const io: KernelIO = {
      backendName,
      view: (t) => b.typedArrayFromHeap(t) as FlatArray,
      alloc: (shape, dtype) => b.makeOutput(shape, dtype),
      zeros: (shape, dtype) => {
        const t = b.makeOutput(shape, dtype);
        io.view(t).fill(0);
        return t;
      },
      dispose: (t) => {
        b.disposeData(t.dataId);
      },
      run,
    };
    return io;
  }
  const b = backend as CpuLike;
  const alloc = (shape: number[], dtype: DataType): TensorInfo =>
    b.makeTensorInfo(shape, dtype, arrayFor(dtype, util.sizeFromShape(shape)));
  return {
    backendName,
    view: (t) => b.data.get(t.dataId).values as FlatArray,
    alloc,
    zeros: alloc, // fresh JS typed arrays start zeroed
    dispose: (t) => {
      b.disposeData(t.dataId);
    },
    run,
  };
}

/** Reinterpret a tensor with a new shape, sharing its data (like the Reshape kernel). */
export function reshapeInfo(io: KernelIO, t: TensorInfo, shape: number[]): TensorInfo {
  return io.run('Reshape', { x: t }, { shape });
}

/**
 * Elements of an im2col/col2im temporary allowed per chunk (16 M floats = 64 MB).
 * The wasm heap is capped at 4 GB and never shrinks, so large temporaries are
 * processed a few images at a time.
 */
let chunkElems = 1 << 24;

/** Change the chunk bound (tests use a tiny one to exercise the chunked paths); returns the old one. */
export function setChunkElems(n: number): number {
  const old = chunkElems;
  chunkElems = n;
  return old;
}

export function imagesPerChunk(perImage: number, batch: number): number {
  return Math.max(1, Math.min(batch, Math.floor(chunkElems / Math.max(1, perImage))));
}

/** The NHWC geometry shared by the conv gradient kernels. */
export interface ConvGeom {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  padTop: number;
  padLeft: number;
}

export function geomFromConvInfo(ci: backend_util.Conv2DInfo): ConvGeom {
  if (ci.dataFormat !== 'channelsLast') {
    throw new Error('custom conv kernels support NHWC (channelsLast) only');
  }
  return {
    batch: ci.batchSize,
    inH: ci.inHeight,
    inW: ci.inWidth,
    inC: ci.inChannels,
    outH: ci.outHeight,
    outW: ci.outWidth,
    outC: ci.outChannels,
    kH: ci.filterHeight,
    kW: ci.filterWidth,
    sH: ci.strideHeight,
    sW: ci.strideWidth,
    dH: ci.dilationHeight,
    dW: ci.dilationWidth,
    padTop: ci.padInfo.top,
    padLeft: ci.padInfo.left,
  };
}
