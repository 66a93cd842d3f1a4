// Resizing learned ViT position embeddings when an input's patch grid differs
// from the pretraining grid (Dosovitskiy et al., arXiv:2010.11929, sec. 3.2:
// "2D interpolation of the pre-trained position embeddings").
//
// Each method is the 1-D resampling matrix PyTorch's F.interpolate uses, so a
// checkpoint resized here matches the library it came from:
//   timm resample_abs_pos_embed:     bicubic, antialias, align_corners=False
//   HF SigLIP interpolate_pos_encoding: bicubic, align_corners=False
//   torchvision interpolate_embeddings: bicubic, align_corners=True
//   vlalab before these (and its checkpoints' grid changes): bilinear.
// The 2-D resize is separable: M = Ry (x) Rx, applied as one [out, in] matmul.
import * as tf from '@tensorflow/tfjs';
import { mm } from './nn.ts';

export interface ResizeMethod {
  mode: 'bilinear' | 'bicubic';
  /** PyTorch antialias=True (a low-pass filter when shrinking; bicubic uses a = -0.5 as PIL). */
  antialias: boolean;
  /** PyTorch align_corners: corner centres map onto corner centres. */
  alignCorners: boolean;
}

export const BILINEAR: ResizeMethod = { mode: 'bilinear', antialias: false, alignCorners: false };

/** Keys' cubic convolution kernel with parameter a (PyTorch: -0.75, its antialiased path and PIL: -0.5). */
function cubic(x: number, a: number): number {
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** PyTorch area_pixel_compute_scale (output size given, no scale factor). */
function scaleOf(inSize: number, outSize: number, alignCorners: boolean): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return inSize / outSize;
}

/** Without antialias: PyTorch upsample_{bilinear,bicubic}2d weights (edge pixels replicated). */
function plainWeights(R: Float64Array, inSize: number, outSize: number, m: ResizeMethod): void {
  const scale = scaleOf(inSize, outSize, m.alignCorners);
  const clampIdx = (i: number) => Math.min(Math.max(i, 0), inSize - 1);
  for (let d = 0; d < outSize; d++) {
    const row = d * inSize;
    if (m.mode === 'bilinear') {
      const src = m.alignCorners ? scale * d : Math.max(scale * (d + 0.5) - 0.5, 0);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const l = src - i0;
      R[row + i0] += 1 - l;
      R[row + i1] += l;
    } else {
      const src = m.alignCorners ? scale * d : scale * (d + 0.5) - 0.5; // bicubic: not clamped at 0
      const i = Math.floor(src);
      const t = src - i;
      const w = [cubic(t + 1, -0.75), cubic(t, -0.75), cubic(1 - t, -0.75), cubic(2 - t, -0.75)];
      for (let j = 0; j < 4; j++) R[row + clampIdx(i - 1 + j)] += w[j];
    }
  }
}

/**
 * With antialias: PyTorch's _upsample_{bilinear,bicubic}2d_aa (PIL's
 * resampling): the filter is stretched by the scale when shrinking, cut at
 * the borders and renormalized to sum 1.
 */
function antialiasWeights(R: Float64Array, inSize: number, outSize: number, m: ResizeMethod): void {
  const scale = inSize / outSize;
  const interp = m.mode === 'bilinear' ? 2 : 4;
  const filter = m.mode === 'bilinear' ? (x: number) => Math.max(0, 1 - Math.abs(x)) : (x: number) => cubic(x, -0.5);
  const support = scale >= 1 ? interp * 0.5 * scale : interp * 0.5;
  const invScale = scale >= 1 ? 1 / scale : 1;
  for (let d = 0; d < outSize; d++) {
    const center = scale * (d + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    const w: number[] = [];
    for (let j = xmin; j < xmax; j++) {
      w.push(filter((j - center + 0.5) * invScale));
      total += w[w.length - 1];
    }
    w.forEach((v, k) => (R[d * inSize + xmin + k] = total !== 0 ? v / total : v));
  }
}

/** 1-D resampling matrix R [out, in] (row d: the weights of output d). in == out gives the identity. */
export function resizeMatrix1d(inSize: number, outSize: number, m: ResizeMethod = BILINEAR): Float64Array {
  if (m.antialias && m.alignCorners) throw new Error('resize: antialias with alignCorners is not supported (no library resizes position embeddings that way)');
  const R = new Float64Array(outSize * inSize);
  if (m.antialias) antialiasWeights(R, inSize, outSize, m);
  else plainWeights(R, inSize, outSize, m);
  return R;
}

/** 2-D resampling matrix M [oh*ow, ih*iw] = Ry (x) Rx (row-major grids). */
export function resizeMatrix2d(inGrid: [number, number], outGrid: [number, number], m: ResizeMethod = BILINEAR): Float32Array {
  const [ih, iw] = inGrid;
  const [oh, ow] = outGrid;
  const Ry = resizeMatrix1d(ih, oh, m);
  const Rx = resizeMatrix1d(iw, ow, m);
  const M = new Float32Array(oh * ow * ih * iw);
  for (let y = 0; y < oh; y++)
    for (let x = 0; x < ow; x++)
      for (let yy = 0; yy < ih; yy++) {
        const wy = Ry[y * ih + yy];
        if (wy === 0) continue;
        for (let xx = 0; xx < iw; xx++) M[(y * ow + x) * ih * iw + yy * iw + xx] = wy * Rx[x * iw + xx];
      }
  return M;
}

/** 1-D linear resampling matrix (bilinear, align_corners=False), kept for existing callers. */
export function linearResizeMatrix(inSize: number, outSize: number): Float32Array {
  return Float32Array.from(resizeMatrix1d(inSize, outSize, BILINEAR));
}

/** 2-D bilinear resampling matrix (align_corners=False, no antialias). */
export function bilinearResizeMatrix(inGrid: [number, number], outGrid: [number, number]): Float32Array {
  return resizeMatrix2d(inGrid, outGrid, BILINEAR);
}

/** Resize patch position embeddings [ih*iw, C] -> [oh*ow, C] (identity if the grid is unchanged). */
export function interpolatePosEmbed(pos: tf.Tensor2D, inGrid: [number, number], outGrid: [number, number], m: ResizeMethod = BILINEAR): tf.Tensor2D {
  if (inGrid[0] === outGrid[0] && inGrid[1] === outGrid[1]) return pos.clone();
  return tf.tidy(() => {
    const M = tf.tensor2d(resizeMatrix2d(inGrid, outGrid, m), [outGrid[0] * outGrid[1], inGrid[0] * inGrid[1]]);
    return mm(M, pos); // [oh*ow, ih*iw] @ [ih*iw, C] -> [oh*ow, C]
  });
}

/** The same on plain memory (checkpoint import, no tf): rows [ih*iw, C] -> [oh*ow, C], accumulated in float64. */
export function resizePosRows(rows: Float32Array, C: number, inGrid: [number, number], outGrid: [number, number], m: ResizeMethod): Float32Array {
  const nIn = inGrid[0] * inGrid[1];
  const nOut = outGrid[0] * outGrid[1];
  if (rows.length !== nIn * C) throw new Error(`resizePosRows: ${rows.length} values, expected ${nIn} x ${C}`);
  const M = resizeMatrix2d(inGrid, outGrid, m);
  const out = new Float32Array(nOut * C);
  const acc = new Float64Array(C);
  for (let o = 0; o < nOut; o++) {
    acc.fill(0);
    for (let i = 0; i < nIn; i++) {
      const w = M[o * nIn + i];
      if (w === 0) continue;
      for (let c = 0; c < C; c++) acc[c] += w * rows[i * C + c];
    }
    out.set(acc, o * C);
  }
  return out;
}
