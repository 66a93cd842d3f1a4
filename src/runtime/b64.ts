// Base64 for moving binary data (frames, arrays) across page.evaluate, which
// only carries JSON-like values. Usable in the browser and in Node: no Node
// imports; Node's global Buffer is used only when present (it is much faster
// than atob there).

const CHUNK = 0x8000; // String.fromCharCode.apply argument limit stays well clear of stack limits

interface BufferLike {
  from(data: string, enc: 'base64'): Uint8Array;
  from(data: ArrayBufferLike, byteOffset: number, length: number): { toString(enc: 'base64'): string };
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer;

/** Encodes bytes (any typed array's bytes) to base64. */
export function bytesToB64(bytes: Uint8Array): string {
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let bin = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  }
  return btoa(bin);
}

/** Decodes base64 to a fresh Uint8Array (own buffer, offset 0). */
export function b64ToBytes(b64: string): Uint8Array {
  if (NodeBuffer) {
    const b = NodeBuffer.from(b64, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
  }
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Float32Array <-> base64 (little-endian, as on every platform we run on). */
export function f32ToB64(a: Float32Array): string {
  return bytesToB64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

export function b64ToF32(b64: string): Float32Array {
  const bytes = b64ToBytes(b64);
  return new Float32Array(bytes.buffer, 0, bytes.byteLength / 4);
}

/** Wire format of a frame crossing page.evaluate. */
export interface WireFrame {
  width: number;
  height: number;
  /** RGB uint8, rows top-down, base64. */
  b64: string;
}

export function frameToWire(f: { width: number; height: number; data: Uint8Array }): WireFrame {
  return { width: f.width, height: f.height, b64: bytesToB64(f.data) };
}

export function wireToFrame(w: WireFrame): { width: number; height: number; data: Uint8Array } {
  const data = b64ToBytes(w.b64);
  if (data.length !== w.width * w.height * 3) {
    throw new Error(`wireToFrame: ${data.length} bytes for ${w.width}x${w.height} RGB`);
  }
  return { width: w.width, height: w.height, data };
}
