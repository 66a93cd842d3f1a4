// Tensor layout ops between PyTorch checkpoints and our backbones, on plain
// Float32Arrays (no tf tensors). PyTorch -> ours: conv OIHW -> HWIO,
// depthwise [C,1,k,k] -> [k,k,C,1], 1x1 conv [O,I,1,1] -> [I,O],
// linear [out,in] -> [in,out], patch conv [C,3,p,p] -> [p*p*3, C],
// q/k/v (HF) -> fused qkv, MHA in_proj (HF SigLIP head) -> q + kv.
// Which of our weights takes which conversion is decided in names.ts.
import { decodeBf16, decodeHalf } from '../../src/io/float16.ts';
import { product } from '../nn.ts';

/** One checkpoint tensor. `data` may be any numeric typed array; F16/BF16 may be raw Uint16Array bits. */
export interface CheckpointTensor {
  dtype: string;
  shape: number[];
  data: ArrayLike<number> | ArrayBufferView;
}

export type Checkpoint = Map<string, CheckpointTensor>;

/** Float32 tensor in plain memory (row-major). */
export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

/** Generic N-d transpose: out.shape[i] = in.shape[perm[i]]. */
export function permute(t: RawTensor, perm: number[]): RawTensor {
  const inShape = t.shape;
  const r = inShape.length;
  const outShape = perm.map((p) => inShape[p]);
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= inShape[i];
  }
  const strideForOut = perm.map((p) => inStrides[p]);
  const out = new Float32Array(t.data.length);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < r; i++) src += idx[i] * strideForOut[i];
    out[o] = t.data[src];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function reshape(t: RawTensor, shape: number[]): RawTensor {
  if (product(shape) !== t.data.length) throw new Error(`reshape [${t.shape}] -> [${shape}]: size mismatch`);
  return { shape, data: t.data };
}

/** Concatenate along axis 0. */
function concat0(ts: RawTensor[]): RawTensor {
  const rows = ts.reduce((a, t) => a + t.shape[0], 0);
  const out = new Float32Array(ts.reduce((a, t) => a + t.data.length, 0));
  let off = 0;
  for (const t of ts) {
    out.set(t.data, off);
    off += t.data.length;
  }
  return { shape: [rows, ...ts[0].shape.slice(1)], data: out };
}

/** Split along axis 0 into chunks of the given row counts. */
function split0(t: RawTensor, rows: number[]): RawTensor[] {
  const inner = t.data.length / t.shape[0];
  const out: RawTensor[] = [];
  let off = 0;
  for (const r of rows) {
    out.push({ shape: [r, ...t.shape.slice(1)], data: t.data.slice(off * inner, (off + r) * inner) });
    off += r;
  }
  return out;
}

/** Checkpoint tensor -> float32 RawTensor (F32/F64/F16/BF16/ints). */
export function toRaw(t: CheckpointTensor): RawTensor {
  const d = t.data as ArrayLike<number> & { buffer?: ArrayBuffer };
  const dtype = t.dtype.toUpperCase();
  const n = product(t.shape);
  let data: Float32Array;
  if (d instanceof Float32Array) data = d;
  else if ((dtype === 'F16' || dtype === 'BF16') && d instanceof Uint16Array) {
    data = dtype === 'F16' ? decodeHalf(d) : decodeBf16(d); // raw bits
  } else if (typeof BigInt64Array !== 'undefined' && (d instanceof BigInt64Array || d instanceof BigUint64Array)) {
    data = Float32Array.from(d as unknown as bigint[], (v) => Number(v));
  } else data = Float32Array.from(d as ArrayLike<number>);
  if (data.length !== n) throw new Error(`checkpoint tensor: shape [${t.shape}] but ${data.length} values`);
  return { shape: t.shape.slice(), data };
}

// ---------------------------------------------------------------------------
// Conversion kinds.

export type Kind =
  | { k: 'same' } // identical data, possibly different shape (e.g. [N,C] <-> [1,N,C])
  | { k: 'linear' } // ours [in,out] <-> theirs [out,in]
  | { k: 'conv1x1' } // ours [in,out] <-> theirs [out,in,1,1]
  | { k: 'conv' } // ours [k,k,i,o] <-> theirs [o,i,k,k]
  | { k: 'depthwise' } // ours [k,k,C,1] <-> theirs [C,1,k,k]
  | { k: 'patch'; p: number } // ours [p*p*3,C] <-> theirs [C,3,p,p]
  | { k: 'catLinear' } // ours [in,out_i]... concatenated on out <-> theirs [out_j,in]... concatenated on rows
  | { k: 'catBias' }; // 1-D concatenation on both sides

/** Checkpoint shapes for our variable shapes (concatenations give theirs explicitly). */
export function theirShapeFor(kind: Kind, ourShapes: number[][], theirsShape?: number[]): number[][] {
  const s = ourShapes[0];
  switch (kind.k) {
    case 'same':
      return [theirsShape ?? s];
    case 'linear':
      return [[s[1], s[0]]];
    case 'conv1x1':
      return [[s[1], s[0], 1, 1]];
    case 'conv':
      return [[s[3], s[2], s[0], s[1]]];
    case 'depthwise':
      return [[s[2], 1, s[0], s[1]]];
    case 'patch':
      return [[s[1], 3, kind.p, kind.p]];
    default:
      throw new Error('theirShapeFor: use explicit shapes for concatenations');
  }
}

/** Ours -> checkpoint layout. */
export function toTheirs(kind: Kind, ours: RawTensor[], theirShapes: number[][]): RawTensor[] {
  const t = ours[0];
  switch (kind.k) {
    case 'same':
      return [reshape(t, theirShapes[0])]; // e.g. [N,C] -> [1,N,C]
    case 'linear':
      return [permute(t, [1, 0])];
    case 'conv1x1':
      return [reshape(permute(t, [1, 0]), theirShapes[0])]; // [I,O] -> [O,I] -> [O,I,1,1]
    case 'conv':
      return [permute(t, [3, 2, 0, 1])];
    case 'depthwise':
      return [permute(t, [2, 3, 0, 1])];
    case 'patch': {
      const C = t.shape[1];
      return [permute(reshape(t, [kind.p, kind.p, 3, C]), [3, 2, 0, 1])]; // [p*p*3,C] -> [p,p,3,C] -> [C,3,p,p]
    }
    case 'catLinear': {
      const rows = concat0(ours.map((o) => permute(o, [1, 0]))); // [sum out, in]
      return split0(rows, theirShapes.map((s) => s[0]));
    }
    case 'catBias':
      return split0(concat0(ours), theirShapes.map((s) => s[0]));
  }
}

/** Checkpoint -> our layout. */
export function fromTheirs(kind: Kind, theirs: RawTensor[], ourShapes: number[][]): RawTensor[] {
  const t = theirs[0];
  switch (kind.k) {
    case 'same':
      return [reshape(t, ourShapes[0])]; // e.g. [1,N,C] -> [N,C]
    case 'linear':
      return [permute(t, [1, 0])];
    case 'conv1x1':
      return [permute(reshape(t, [t.shape[0], t.shape[1]]), [1, 0])]; // [O,I,1,1] -> [O,I] -> [I,O]
    case 'conv':
      return [permute(t, [2, 3, 1, 0])];
    case 'depthwise':
      return [permute(t, [2, 3, 0, 1])];
    case 'patch': {
      const C = t.shape[0];
      return [reshape(permute(t, [2, 3, 1, 0]), [kind.p * kind.p * 3, C])]; // [C,3,p,p] -> [p,p,3,C] -> [p*p*3,C]
    }
    case 'catLinear': {
      const rows = concat0(theirs); // [sum out, in]
      return split0(rows, ourShapes.map((s) => s[1])).map((r) => permute(r, [1, 0]));
    }
    case 'catBias':
      return split0(concat0(theirs), ourShapes.map((s) => s[0]));
  }
}
