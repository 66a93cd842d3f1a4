import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { bf16BitsToFloat, floatToBf16Bits, floatToHalfBits, halfBitsToFloat } from '../../src/io/float16.ts';
import {
  parseSafetensors,
  safetensorsToTensors,
  SafetensorsError,
  serializeSafetensors,
  tensorsToSafetensors,
  tensorsToSafetensorsSync,
  type SafeDtype,
  type SafeEntry,
} from '../../src/io/safetensors.ts';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** A file from a header string and raw buffer bytes, with a correct length prefix. */
function file(headerJson: string, data: number[] = [], lengthOverride?: number): Uint8Array {
  const h = ascii(headerJson);
  const n = lengthOverride ?? h.length;
  const prefix = [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff, 0, 0, 0, 0];
  return new Uint8Array([...prefix, ...h, ...data]);
}

function expectError(bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try {
    parseSafetensors(bytes);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(pattern);
}

describe('byte-exact layout', () => {
  it('writes a tiny F32 tensor exactly as the format prescribes', () => {
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64); // already a multiple of 8: no padding
    // 0, 1, 2, 3, 4, 5 as little-endian float32, worked out by hand:
    // 1.0 = 0x3F800000, 2.0 = 0x40000000, 3.0 = 0x40400000, 4.0 = 0x40800000, 5.0 = 0x40A00000.
    const floats = [0, 0, 0, 0, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40, 0, 0, 0xa0, 0x40];
    const expected = new Uint8Array([64, 0, 0, 0, 0, 0, 0, 0, ...ascii(header), ...floats]);
    const out = serializeSafetensors({ 'attn.0': { dtype: 'F32', shape: [1, 2, 3], data: [0, 1, 2, 3, 4, 5] } });
    expect(Array.from(out)).toEqual(Array.from(expected));
    const back = parseSafetensors(expected).tensors.get('attn.0')!;
    expect(back.dtype).toBe('F32');
    expect(back.shape).toEqual([1, 2, 3]);
    expect(Array.from(back.data as Float32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('pads the header with spaces to a multiple of 8 and orders by dtype then name', () => {
    const out = serializeSafetensors(
      { b: { dtype: 'U8', shape: [1], data: [7] }, a: { dtype: 'I32', shape: [], data: [-2] } },
      { fmt: 'pt' },
    );
    const n = Number(new DataView(out.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = new TextDecoder().decode(out.subarray(8, 8 + n));
    const json = '{"__metadata__":{"fmt":"pt"},"a":{"dtype":"I32","shape":[],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]}}';
    expect(header).toBe(json + ' '.repeat(n - json.length));
    // -2 as int32 LE, then 7.
    expect(Array.from(out.subarray(8 + n))).toEqual([0xfe, 0xff, 0xff, 0xff, 7]);
    expect(parseSafetensors(out).metadata).toEqual({ fmt: 'pt' });
  });

  it('an empty file is "{}" plus padding', () => {
    expect(Array.from(serializeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
  });

  it('is deterministic regardless of insertion order', () => {
    const x: SafeEntry = { dtype: 'F32', shape: [2], data: [1, 2] };
    const y: SafeEntry = { dtype: 'F16', shape: [1], data: [3] };
    expect(serializeSafetensors({ x, y }, { k: 'v', a: 'b' })).toEqual(serializeSafetensors({ y, x }, { a: 'b', k: 'v' }));
  });
});

describe('F16 / BF16', () => {
  it('decodes hand-worked half values', () => {
    expect(halfBitsToFloat(0x3c00)).toBe(1);
    expect(halfBitsToFloat(0xc000)).toBe(-2);
    expect(halfBitsToFloat(0x3555)).toBeCloseTo(0.333251953125, 12); // 1/3 rounded
    expect(halfBitsToFloat(0x7bff)).toBe(65504); // largest finite
    expect(halfBitsToFloat(0x0001)).toBe(2 ** -24); // smallest subnormal
    expect(halfBitsToFloat(0x7c00)).toBe(Infinity);
    expect(halfBitsToFloat(0x8000)).toBe(-0);
    expect(Number.isNaN(halfBitsToFloat(0x7e00))).toBe(true);
  });
  it('encodes with round-to-nearest-even', () => {
    expect(floatToHalfBits(1)).toBe(0x3c00);
    expect(floatToHalfBits(-2)).toBe(0xc000);
    expect(floatToHalfBits(65504)).toBe(0x7bff);
    expect(floatToHalfBits(65520)).toBe(0x7c00); // halfway to the next: rounds to even = Inf
    expect(floatToHalfBits(1e6)).toBe(0x7c00);
    expect(floatToHalfBits(2 ** -24)).toBe(0x0001);
    expect(floatToHalfBits(2 ** -25)).toBe(0x0000); // tie to even (zero)
    expect(floatToHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie: stays even
    expect(floatToHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie: rounds up to even
    expect(floatToHalfBits(NaN) & 0x7c00).toBe(0x7c00);
  });
  it('decodes and encodes bf16', () => {
    expect(bf16BitsToFloat(0x3f80)).toBe(1);
    expect(bf16BitsToFloat(0xc000)).toBe(-2);
    expect(bf16BitsToFloat(0x4049)).toBe(3.140625);
    expect(floatToBf16Bits(1)).toBe(0x3f80);
    expect(floatToBf16Bits(Math.PI)).toBe(0x4049);
    expect(floatToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie to even
  });
  it('parses F16 and BF16 tensors to Float32Array', () => {
    const bytes = file(
      '{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[4,6]}}',
      [0x00, 0x3c, 0x00, 0xc0, 0x80, 0x3f],
    );
    const t = parseSafetensors(bytes).tensors;
    expect(t.get('h')!.data).toEqual(new Float32Array([1, -2]));
    expect(t.get('b')!.data).toEqual(new Float32Array([1]));
  });
});

describe('round trip of every dtype', () => {
  const cases: [SafeDtype, number[]][] = [
    ['F64', [1.5, -1e300, Math.PI]],
    ['F32', [1.5, -3.25, Math.fround(1e-20)]],
    ['F16', [1, -2, 0.5, 65504, 2 ** -24]],
    ['BF16', [1, -2, 3.140625, 256]],
    ['I64', [0, -1, 2147483647, -2147483648]],
    ['I32', [0, -1, 2147483647, -2147483648]],
    ['I16', [0, -1, 32767, -32768]],
    ['I8', [0, -1, 127, -128]],
    ['U32', [0, 4294967295]],
    ['U16', [0, 65535]],
    ['U8', [0, 255, 7]],
    ['BOOL', [1, 0, 1]],
  ];
  for (const [dtype, values] of cases) {
    it(dtype, () => {
      const bytes = serializeSafetensors({ t: { dtype, shape: [values.length], data: values } });
      const back = parseSafetensors(bytes).tensors.get('t')!;
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([values.length]);
      expect(Array.from(back.data as ArrayLike<number>)).toEqual(values);
      // Byte-stable: writing what we read gives the same file.
      expect(serializeSafetensors({ t: { dtype, shape: back.shape, data: back.data } })).toEqual(bytes);
    });
  }
  it('I64 and U64 as BigInt', () => {
    const big = BigInt64Array.from([2n ** 40n, -(2n ** 62n)]);
    const bytes = serializeSafetensors({ i: { dtype: 'I64', shape: [2], data: big }, u: { dtype: 'U64', shape: [1], data: BigUint64Array.from([2n ** 64n - 1n]) } });
    const t = parseSafetensors(bytes, { int64: 'bigint' }).tensors;
    expect(t.get('i')!.data).toEqual(big);
    expect(t.get('u')!.data).toEqual(BigUint64Array.from([2n ** 64n - 1n]));
    expect(() => parseSafetensors(bytes)).toThrow(/tensor "i": I64 value 1099511627776 .*int32/);
  });
});

describe('corrupt files', () => {
  const good = serializeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] } });
  it('too short for the length prefix', () => expectError(new Uint8Array([1, 0, 0]), /3 bytes, too short/));
  it('truncated: header length beyond the file', () => expectError(good.subarray(0, 20), /header length \d+ exceeds the 12 bytes/));
  it('header length near 2^64', () => expectError(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 123, 125]), /exceeds/));
  it('bad JSON', () => expectError(file('{"w": {"dtype": "F32",'), /not valid UTF-8 JSON/));
  it('header is not an object', () => expectError(file('[1, 2, 3]'), /not a JSON object/));
  it('unknown dtype', () => expectError(file('{"w":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', [0]), /tensor "w": unknown dtype "Q4"/));
  it('bad shape', () => expectError(file('{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', [0]), /tensor "w": shape \[-1\]/));
  it('offsets out of range', () =>
    expectError(file('{"w":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', [1, 2]), /tensor "w": data_offsets \[0, 4\] out of range \(data buffer is 2 bytes\)/));
  it('offsets reversed', () =>
    expectError(file('{"w":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}}', [1, 2]), /tensor "w": data_offsets \[2, 1\] out of range/));
  it('offsets not matching dtype x shape', () =>
    expectError(file('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor "w": .*hold 4 bytes but F32 \[2\] needs 8/));
  it('overlapping tensors', () =>
    expectError(
      file('{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]},"b":{"dtype":"U8","shape":[2],"data_offsets":[2,4]}}', [1, 2, 3, 4]),
      /tensor "b": data_offsets \[2, 4\] overlap tensor "a"/,
    ));
  it('bad __metadata__', () => expectError(file('{"__metadata__":{"k":1}}'), /__metadata__ value for "k" is not a string/));
  it('accepts a header padded with spaces', () => {
    const t = parseSafetensors(file('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}   ', [9])).tensors;
    expect(Array.from(t.get('w')!.data as Uint8Array)).toEqual([9]);
  });
  it('writer rejects wrong value counts', () => {
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [3], data: [1] } })).toThrow(/tensor "w": has 1 values but shape \[3\] needs 3/);
  });
});

describe('tf tensor helpers', () => {
  it('round-trips float32 / int32 / bool tensors and leaves no tensors behind', async () => {
    await tf.setBackend('cpu');
    const vars = {
      'enc/w': tf.tensor2d([[1, 2.5], [-3, 4]]),
      'enc/ids': tf.tensor1d([3, -7], 'int32'),
      'enc/mask': tf.tensor1d([true, false], 'bool'),
    };
    const before = tf.memory().numTensors;
    const bytes = await tensorsToSafetensors(vars, { metadata: { model: 'test' } });
    expect(tensorsToSafetensorsSync(vars, { metadata: { model: 'test' } })).toEqual(bytes);
    expect(tf.memory().numTensors).toBe(before);
    const back = safetensorsToTensors(bytes);
    expect(back['enc/w'].dtype).toBe('float32');
    expect(back['enc/w'].arraySync()).toEqual([[1, 2.5], [-3, 4]]);
    expect(back['enc/ids'].dtype).toBe('int32');
    expect(back['enc/ids'].arraySync()).toEqual([3, -7]);
    expect(back['enc/mask'].dtype).toBe('bool');
    expect(back['enc/mask'].arraySync()).toEqual([1, 0]);
    const half = await tensorsToSafetensors({ w: vars['enc/w'] }, { floatDtype: 'F16' });
    expect(parseSafetensors(half).tensors.get('w')!.dtype).toBe('F16');
    tf.dispose([...Object.values(vars), ...Object.values(back)]);
  });
});

describe('Node Buffers as input', () => {
  it('parses a Buffer that is a view into a larger allocation (e.g. readFileSync output)', async () => {
    const { serializeSafetensors, parseSafetensors } = await import('../../src/io/safetensors.ts');
    const bytes = serializeSafetensors({ a: { dtype: 'F32', shape: [2], data: Float32Array.from([1.5, -2]) }, b: { dtype: 'U8', shape: [3], data: Uint8Array.from([7, 8, 9]) } });
    // A Buffer over a bigger pool at an odd offset, as Node hands out small files.
    const pool = Buffer.alloc(bytes.length + 11);
    pool.set(bytes, 5);
    const view = pool.subarray(5, 5 + bytes.length);
    const st = parseSafetensors(view);
    expect(Array.from(st.tensors.get('a')!.data as Float32Array)).toEqual([1.5, -2]);
    expect(Array.from(st.tensors.get('b')!.data as Uint8Array)).toEqual([7, 8, 9]);
  });
});
