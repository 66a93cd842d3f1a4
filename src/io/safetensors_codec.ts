// Element codecs for safetensors: dtype table, bytes -> typed arrays and back.
// Split from safetensors.ts to keep the format logic readable.
import { decodeBf16, decodeHalf, encodeBf16, encodeHalf } from './float16.ts';

export type SafeDtype =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export type SafeData =
  | Float32Array | Float64Array | Int32Array | Int16Array | Int8Array
  | Uint32Array | Uint16Array | Uint8Array | BigInt64Array | BigUint64Array;

export interface SafeTensor {
  dtype: SafeDtype;
  shape: number[];
  data: SafeData;
}

export interface SafeEntry {
  dtype: SafeDtype;
  shape: number[];
  /** Values (F16/BF16: float values, or a Uint16Array of raw bits). */
  data: ArrayLike<number> | BigInt64Array | BigUint64Array;
}

export class SafetensorsError extends Error {
  constructor(message: string, readonly tensor?: string) {
    super(tensor === undefined ? `safetensors: ${message}` : `safetensors: tensor "${tensor}": ${message}`);
    this.name = 'SafetensorsError';
  }
}

export const DTYPE_BYTES: Record<SafeDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

/**
 * The reference implementation's dtype order (its Dtype enum, increasing
 * alignment); its writer lays tensors out by descending rank, then name.
 */
export const DTYPE_RANK: Record<SafeDtype, number> = {
  BOOL: 0, U8: 1, I8: 2, I16: 5, U16: 6, F16: 7, BF16: 8, I32: 9, U32: 10, F32: 11, F64: 12, I64: 13, U64: 14,
};

export const isDtype = (d: unknown): d is SafeDtype => typeof d === 'string' && Object.hasOwn(DTYPE_BYTES, d);

export const isShape = (s: unknown): s is number[] =>
  Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);

export const numel = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Typed-array views assume a little-endian host, as do all tfjs platforms. */
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('safetensors: big-endian hosts are not supported');
}

export function decode(dtype: SafeDtype, raw: Uint8Array, int64: 'int32' | 'bigint', name: string): SafeData {
  // Copy into a fresh, aligned buffer: the file's view may start anywhere. Uint8Array's own slice
  // always copies; a Node Buffer's .slice() would return a view into the whole file instead.
  const buf = Uint8Array.prototype.slice.call(raw).buffer;
  switch (dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'F16': return decodeHalf(new Uint16Array(buf));
    case 'BF16': return decodeBf16(new Uint16Array(buf));
    case 'I32': return new Int32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U32': return new Uint32Array(buf);
    case 'U16': return new Uint16Array(buf);
    case 'U8': case 'BOOL': return new Uint8Array(buf);
    case 'U64': return new BigUint64Array(buf);
    case 'I64': {
      const big = new BigInt64Array(buf);
      if (int64 === 'bigint') return big;
      const out = new Int32Array(big.length);
      for (let i = 0; i < big.length; i++) {
        const v = big[i];
        if (v > 2147483647n || v < -2147483648n) {
          throw new SafetensorsError(`I64 value ${v} at index ${i} does not fit in int32 (use { int64: 'bigint' })`, name);
        }
        out[i] = Number(v);
      }
      return out;
    }
  }
}

export function encode(e: SafeEntry, name: string): Uint8Array {
  const { dtype, data } = e;
  const count = numel(e.shape);
  if (data.length !== count) {
    throw new SafetensorsError(`has ${data.length} values but shape ${JSON.stringify(e.shape)} needs ${count}`, name);
  }
  const nums = data as ArrayLike<number>;
  let out: ArrayBufferView;
  switch (dtype) {
    case 'F64': out = Float64Array.from(nums); break;
    case 'F32': out = Float32Array.from(nums); break;
    case 'F16': out = data instanceof Uint16Array ? data : encodeHalf(nums); break;
    case 'BF16': out = data instanceof Uint16Array ? data : encodeBf16(nums); break;
    case 'I32': out = Int32Array.from(nums); break;
    case 'I16': out = Int16Array.from(nums); break;
    case 'I8': out = Int8Array.from(nums); break;
    case 'U32': out = Uint32Array.from(nums); break;
    case 'U16': out = Uint16Array.from(nums); break;
    case 'U8': out = Uint8Array.from(nums); break;
    case 'BOOL': out = Uint8Array.from(nums, (v) => (v ? 1 : 0)); break;
    case 'I64':
      out = data instanceof BigInt64Array ? data : BigInt64Array.from(nums as ArrayLike<number>, (v) => BigInt(Math.trunc(v)));
      break;
    case 'U64':
      out = data instanceof BigUint64Array ? data : BigUint64Array.from(nums as ArrayLike<number>, (v) => BigInt(Math.trunc(v)));
      break;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

