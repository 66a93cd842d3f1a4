// safetensors reader/writer (https://github.com/huggingface/safetensors).
//
// Layout: u64 little-endian header length N, N bytes of JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {..}},
// then the byte buffer; offsets are relative to the buffer start. Like the
// reference writer we pad the header with spaces to a multiple of 8, put
// __metadata__ first (keys sorted here, for determinism) and lay tensors out
// by descending dtype (its enum order), then name: every tensor is aligned to
// its element size and the bytes match the reference for the same input.
//
// Reading checks what makes a file unusable (lengths, JSON, dtypes, shapes,
// offsets in range, sizes, overlaps); unlike the reference it tolerates gaps
// between tensors and trailing bytes.
//
// Decoding: F16/BF16 become Float32Array. I64 becomes Int32Array by default
// (tfjs has no int64; values outside int32 throw) or BigInt64Array with
// { int64: 'bigint' }. U64 always becomes BigUint64Array.
import { tensor, type Tensor } from '@tensorflow/tfjs-core';
import {
  decode,
  DTYPE_BYTES,
  DTYPE_RANK,
  encode,
  isDtype,
  isShape,
  numel,
  SafetensorsError,
  type SafeData,
  type SafeDtype,
  type SafeEntry,
  type SafeTensor,
} from './safetensors_codec.ts';

export { DTYPE_BYTES, SafetensorsError };
export type { SafeData, SafeDtype, SafeEntry, SafeTensor };

export interface ParsedSafetensors {
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses headers above 100 MB. */
const MAX_HEADER = 100_000_000;

export interface ParseOptions {
  /** How to return I64 tensors (default 'int32'). */
  int64?: 'int32' | 'bigint';
}

/** End of the furthest tensor the header describes (bytes of data it expects). */
function dataBytesNeeded(header: Record<string, unknown>): number {
  let need = 0;
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__' || info === null || typeof info !== 'object') continue;
    const o = (info as { data_offsets?: unknown }).data_offsets;
    if (Array.isArray(o) && o.length === 2 && Number.isSafeInteger(o[1])) need = Math.max(need, o[1] as number);
  }
  return need;
}

/** Parse a whole .safetensors file. Throws SafetensorsError on any inconsistency. */
export function parseSafetensors(bytes: Uint8Array, opts: ParseOptions = {}): ParsedSafetensors {
  if (bytes.length < 8) throw new SafetensorsError(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    throw new SafetensorsError(`header length ${n64} exceeds the ${bytes.length - 8} bytes after the length prefix: the file is truncated (or not safetensors)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER) throw new SafetensorsError(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new SafetensorsError('header is not a JSON object');
  }
  const buffer = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, SafeTensor>();
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) {
        throw new SafetensorsError('__metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(info)) {
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__ value for "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (info === null || typeof info !== 'object') throw new SafetensorsError('entry is not an object', name);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isDtype(dtype)) throw new SafetensorsError(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!isShape(shape)) throw new SafetensorsError(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(`data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`, name);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) {
      throw new SafetensorsError(`data_offsets [${begin}, ${end}] out of range (data buffer is ${buffer.length} bytes)`, name);
    }
    if (end > buffer.length) {
      const need = dataBytesNeeded(header as Record<string, unknown>);
      throw new SafetensorsError(
        `data_offsets [${begin}, ${end}] out of range (data buffer is ${buffer.length} bytes): the file is truncated ` +
          `(${bytes.length} bytes; its header describes ${8 + n + need})`,
        name,
      );
    }
    const need = numel(shape) * DTYPE_BYTES[dtype];
    if (end - begin !== need) {
      throw new SafetensorsError(
        `data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${JSON.stringify(shape)} needs ${need}`,
        name,
      );
    }
    spans.push({ name, begin, end });
    tensors.set(name, { dtype, shape, data: decode(dtype, buffer.subarray(begin, end), opts.int64 ?? 'int32', name) });
  }
  // Overlap check (the reference writer never leaves gaps; we tolerate them).
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let reach: (typeof spans)[number] | null = null; // the span ending furthest so far
  for (const cur of spans) {
    if (cur.end === cur.begin) continue; // empty tensors occupy no bytes
    if (reach && cur.begin < reach.end) {
      throw new SafetensorsError(
        `data_offsets [${cur.begin}, ${cur.end}] overlap tensor "${reach.name}" [${reach.begin}, ${reach.end}]`,
        cur.name,
      );
    }
    if (!reach || cur.end > reach.end) reach = cur;
  }
  return { tensors, metadata };
}

/**
 * Serialize tensors (and optional string metadata) to safetensors bytes.
 * Deterministic: same entries in any insertion order give the same bytes.
 */
export function serializeSafetensors(entries: Record<string, SafeEntry>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(entries);
  for (const name of names) {
    if (name === '__metadata__') throw new SafetensorsError('"__metadata__" is reserved', name);
    const { dtype, shape } = entries[name];
    if (!isDtype(dtype)) throw new SafetensorsError(`unknown dtype ${JSON.stringify(dtype)}`, name);
    if (!isShape(shape)) throw new SafetensorsError(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`, name);
  }
  // Reference order: descending dtype rank (so descending element size, which
  // keeps every tensor aligned), then name by code unit (Rust's byte order for ASCII).
  names.sort((a, b) => DTYPE_RANK[entries[b].dtype] - DTYPE_RANK[entries[a].dtype] || (a < b ? -1 : a > b ? 1 : 0));
  const blobs = names.map((name) => encode(entries[name], name));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    const sorted: Record<string, string> = {};
    for (const k of Object.keys(metadata).sort()) {
      if (typeof metadata[k] !== 'string') throw new SafetensorsError(`__metadata__ value for "${k}" is not a string`);
      sorted[k] = metadata[k];
    }
    header.__metadata__ = sorted;
  }
  let offset = 0;
  names.forEach((name, i) => {
    const { dtype, shape } = entries[name];
    header[name] = { dtype, shape, data_offsets: [offset, offset + blobs[i].length] };
    offset += blobs[i].length;
  });
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// tfjs helpers.

export interface ToSafetensorsOptions {
  /** Storage dtype of float32 tensors (default F32; F16/BF16 halve the file). */
  floatDtype?: 'F32' | 'F16' | 'BF16';
  metadata?: Record<string, string>;
}

function entryFor(name: string, t: Tensor, values: ArrayLike<number>, floatDtype: 'F32' | 'F16' | 'BF16'): SafeEntry {
  const shape = t.shape.slice();
  if (t.dtype === 'float32') return { dtype: floatDtype, shape, data: values };
  if (t.dtype === 'int32') return { dtype: 'I32', shape, data: values };
  if (t.dtype === 'bool') return { dtype: 'BOOL', shape, data: values };
  throw new SafetensorsError(`tfjs dtype ${t.dtype} cannot be stored`, name);
}

/**
 * Serialize tf tensors (e.g. a model's variables under stable keys). Reads
 * with `await t.data()`, which also works on backends without dataSync
 * (WebGPU in Node).
 */
export async function tensorsToSafetensors(vars: Record<string, Tensor>, opts: ToSafetensorsOptions = {}): Promise<Uint8Array> {
  const entries: Record<string, SafeEntry> = {};
  for (const [name, t] of Object.entries(vars)) {
    entries[name] = entryFor(name, t, (await t.data()) as ArrayLike<number>, opts.floatDtype ?? 'F32');
  }
  return serializeSafetensors(entries, opts.metadata);
}

/** Synchronous variant of tensorsToSafetensors (needs a backend with dataSync). */
export function tensorsToSafetensorsSync(vars: Record<string, Tensor>, opts: ToSafetensorsOptions = {}): Uint8Array {
  const entries: Record<string, SafeEntry> = {};
  for (const [name, t] of Object.entries(vars)) {
    entries[name] = entryFor(name, t, t.dataSync() as ArrayLike<number>, opts.floatDtype ?? 'F32');
  }
  return serializeSafetensors(entries, opts.metadata);
}

function toInt32(name: string, data: SafeData): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (v > 2147483647 || v < -2147483648) throw new SafetensorsError(`value ${v} does not fit in int32`, name);
    out[i] = v;
  }
  return out;
}

/**
 * Create tf tensors from safetensors bytes (or an already parsed file):
 * F64/F32/F16/BF16 -> float32, integer dtypes -> int32 (range-checked),
 * BOOL -> bool. The caller owns (and disposes) the returned tensors.
 */
export function safetensorsToTensors(src: Uint8Array | ParsedSafetensors): Record<string, Tensor> {
  const parsed = src instanceof Uint8Array ? parseSafetensors(src) : src;
  const out: Record<string, Tensor> = {};
  for (const [name, { dtype, shape, data }] of parsed.tensors) {
    if (dtype === 'F32' || dtype === 'F16' || dtype === 'BF16') out[name] = tensor(data as Float32Array, shape, 'float32');
    else if (dtype === 'F64') out[name] = tensor(Float32Array.from(data as Float64Array), shape, 'float32');
    else if (dtype === 'BOOL') out[name] = tensor(data as Uint8Array, shape, 'bool');
    else out[name] = tensor(data instanceof Int32Array ? data : toInt32(name, data), shape, 'int32');
  }
  return out;
}
