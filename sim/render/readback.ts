// The ONE place where GPU readback layout is normalized to the Frame contract
// (RGB, uint8, rows top-down). WebGL2 readPixels (canvas or render target)
// returns RGBA rows bottom-up; WebGPU canvas readback is already top-down.
// Every renderer path calls this, so row order cannot silently diverge.
import type { Frame } from '../types.ts';

/** Column window of a wider readback (several cameras side by side in one canvas). */
export interface ColumnWindow {
  /** Width of the whole RGBA image in pixels. */
  srcWidth: number;
  /** First column of the window. */
  x0: number;
}

/**
 * Converts an RGBA readback buffer into RGB with rows top-down.
 * @param rgba      srcWidth*height*4 bytes (extra trailing bytes are ignored)
 * @param width     output width; equals the source width unless `window` is given
 * @param srcBottomUp true when row 0 of `rgba` is the bottom image row (WebGL)
 * @param out       optional destination of width*height*3 bytes (reused to avoid garbage)
 * @param window    take columns [x0, x0 + width) of a srcWidth-wide image
 */
export function rgbaToRgbTopDown(
  rgba: Uint8Array,
  width: number,
  height: number,
  srcBottomUp: boolean,
  out?: Uint8Array,
  window?: ColumnWindow,
): Uint8Array {
  const srcWidth = window?.srcWidth ?? width;
  const x0 = window?.x0 ?? 0;
  if (x0 < 0 || x0 + width > srcWidth) throw new Error(`readback: columns [${x0}, ${x0 + width}) outside width ${srcWidth}`);
  const need = width * height * 3;
  if (rgba.length < srcWidth * height * 4) {
    throw new Error(`readback: RGBA buffer has ${rgba.length} bytes, need ${srcWidth * height * 4}`);
  }
  const dst = out ?? new Uint8Array(need);
  if (dst.length < need) throw new Error(`readback: output buffer has ${dst.length} bytes, need ${need}`);
  for (let row = 0; row < height; row++) {
    const srcRow = srcBottomUp ? height - 1 - row : row;
    let s = (srcRow * srcWidth + x0) * 4;
    let d = row * width * 3;
    for (let x = 0; x < width; x++) {
      dst[d] = rgba[s];
      dst[d + 1] = rgba[s + 1];
      dst[d + 2] = rgba[s + 2];
      s += 4;
      d += 3;
    }
  }
  return dst;
}

/** Reads pixel (x, y) of a top-down RGB frame; y = 0 is the top row. For tests and debugging. */
export function pixelAt(frame: Frame, x: number, y: number): [number, number, number] {
  const i = (y * frame.width + x) * 3;
  return [frame.data[i], frame.data[i + 1], frame.data[i + 2]];
}
