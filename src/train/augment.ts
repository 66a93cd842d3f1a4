// Image augmentation for behavior cloning, on uint8 RGB frames, written
// straight into the float32 [0,1] batch buffer (one pass per frame, no extra
// tensors). Browser-safe: no Node imports.
//
//   shift:  DrQ-style random translation (arXiv:2004.13649): pad by `shift`
//           pixels with edge replication, crop back to the original size at a
//           random offset. Equivalent to sampling src(x + dx, y + dy) with
//           coordinates clamped to the image.
//   color:  torchvision ColorJitter semantics, in this fixed order:
//           brightness  x *= b
//           contrast    x = (x - m) * c + m,  m = mean gray level of the frame
//           saturation  x = (x - gray(x)) * s + gray(x)
//           then clamp to [0, 1]. b, c, s ~ U(1 - k, 1 + k).
// All randomness comes from the caller's Rng, so a (seed, epoch, batch)
// triple always produces the same augmented batch (resumable training).
import type { Rng } from '../../sim/rng.ts';

export interface AugmentConfig {
  /** Max translation in pixels (of the source frame), each axis. 0 = off. */
  shift: number;
  /** Brightness / contrast / saturation jitter strength k (factor in [1-k, 1+k]). 0 = off. */
  brightness: number;
  contrast: number;
  saturation: number;
}

export const AUGMENT_DEFAULTS: AugmentConfig = { shift: 4, brightness: 0.15, contrast: 0.15, saturation: 0.15 };
export const NO_AUGMENT: AugmentConfig = { shift: 0, brightness: 0, contrast: 0, saturation: 0 };

/** Parameters of one frame's augmentation. */
export interface AugmentParams {
  dx: number;
  dy: number;
  brightness: number;
  contrast: number;
  saturation: number;
}

const IDENTITY: AugmentParams = { dx: 0, dy: 0, brightness: 1, contrast: 1, saturation: 1 };

/** Draw one frame's parameters. Always consumes exactly 5 draws, so streams stay aligned whatever the config. */
export function sampleAugment(rng: Rng, cfg: AugmentConfig): AugmentParams {
  const u = [rng.next(), rng.next(), rng.next(), rng.next(), rng.next()];
  const shift = Math.max(0, Math.floor(cfg.shift));
  const jitter = (k: number, r: number) => 1 + k * (2 * r - 1);
  return {
    dx: shift > 0 ? Math.min(shift, Math.floor(u[0] * (2 * shift + 1)) - shift) : 0,
    dy: shift > 0 ? Math.min(shift, Math.floor(u[1] * (2 * shift + 1)) - shift) : 0,
    brightness: jitter(cfg.brightness, u[2]),
    contrast: jitter(cfg.contrast, u[3]),
    saturation: jitter(cfg.saturation, u[4]),
  };
}

const LR = 0.299, LG = 0.587, LB = 0.114; // ITU-R 601 luma, as torchvision's rgb_to_grayscale

/** Mean gray level in [0,1] of one H x W x 3 frame starting at `off`. */
function meanGray(src: Uint8Array, off: number, pixels: number): number {
  let s = 0;
  for (let p = 0, i = off; p < pixels; p++, i += 3) s += LR * src[i] + LG * src[i + 1] + LB * src[i + 2];
  return s / (pixels * 255);
}

/**
 * Write frame `src[srcOff ..]` (H x W x 3 uint8) into `out[outOff ..]` as float
 * [0,1], applying `p` (null = plain conversion, e.g. validation).
 */
export function augmentFrame(src: Uint8Array, srcOff: number, height: number, width: number, out: Float32Array, outOff: number, p: AugmentParams | null): void {
  const n = height * width * 3;
  if (p === null || isIdentity(p)) {
    for (let i = 0; i < n; i++) out[outOff + i] = src[srcOff + i] / 255;
    return;
  }
  const { dx, dy, brightness: b, contrast: c, saturation: s } = p;
  // Contrast pivots on the mean of the brightness-scaled frame (torchvision
  // uses the jittered image's mean); the unshifted frame's mean differs only by
  // the few replicated edge pixels.
  const m = b * meanGray(src, srcOff, height * width);
  const cm = (1 - c) * m;
  let o = outOff;
  for (let y = 0; y < height; y++) {
    const sy = Math.min(height - 1, Math.max(0, y + dy));
    const row = srcOff + sy * width * 3;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(width - 1, Math.max(0, x + dx));
      const i = row + sx * 3;
      // brightness then contrast: ((v/255) * b - m) * c + m
      const k = (b * c) / 255;
      let r = src[i] * k + cm;
      let g = src[i + 1] * k + cm;
      let bl = src[i + 2] * k + cm;
      const gray = LR * r + LG * g + LB * bl;
      r = (r - gray) * s + gray;
      g = (g - gray) * s + gray;
      bl = (bl - gray) * s + gray;
      out[o++] = r < 0 ? 0 : r > 1 ? 1 : r;
      out[o++] = g < 0 ? 0 : g > 1 ? 1 : g;
      out[o++] = bl < 0 ? 0 : bl > 1 ? 1 : bl;
    }
  }
}

function isIdentity(p: AugmentParams): boolean {
  return p.dx === IDENTITY.dx && p.dy === IDENTITY.dy && p.brightness === 1 && p.contrast === 1 && p.saturation === 1;
}
