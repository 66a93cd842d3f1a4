// Conv2DBackpropFilter (dW of a NHWC conv2d) as a matrix product.
//
// dW[(kh,kw,ci), co] = sum_m P[m, (kh,kw,ci)] * dy[m, co], m = (b, oh, ow),
// where P is the im2col patch matrix of x. The wasm BatchMatMul is fast
// (XNNPACK, ~20 GFLOP/s) only with no transposed operand and batch 1, so we
// build P already transposed (PT, [KKC, M]) and compute PT · dy directly.
// A 1x1/stride-1/unpadded conv needs no im2col: PT is x^T, made by the
// backend's Transpose kernel. Large batches are processed a few images at a
// time to bound the temporary (wasm heap: 4 GB cap, never shrinks).
import {
  backend_util,
  Conv2DBackpropFilter,
  type Conv2DBackpropFilterAttrs,
  type KernelBackend,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { geomFromConvInfo, imagesPerChunk, kernelIO, type ConvGeom, type KernelIO } from './util.ts';

/** Fill pt[(kh,kw,ci) * M + m] for images b0 .. b0+nb-1 (M = nb*outH*outW). */
export function im2colT(x: Float32Array, g: ConvGeom, b0: number, nb: number, pt: Float32Array): void {
  const { inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, padTop, padLeft } = g;
  const M = nb * outH * outW;
  for (let kh = 0; kh < kH; kh++) {
    for (let kw = 0; kw < kW; kw++) {
      // Output columns whose input column is inside the image, for this kw.
      const off = kw * dW - padLeft;
      const owLo = Math.min(outW, Math.max(0, Math.ceil(-off / sW)));
      const owHi = Math.max(owLo, Math.min(outW, Math.floor((inW - 1 - off) / sW) + 1));
      for (let ci = 0; ci < inC; ci++) {
        let m = ((kh * kW + kw) * inC + ci) * M;
        for (let b = b0; b < b0 + nb; b++) {
          for (let oh = 0; oh < outH; oh++) {
            const ih = oh * sH - padTop + kh * dH;
            if (ih < 0 || ih >= inH) {
              pt.fill(0, m, m + outW);
              m += outW;
              continue;
            }
            const rowBase = (b * inH + ih) * inW * inC + ci;
            for (let ow = 0; ow < owLo; ow++) pt[m++] = 0;
            let xi = rowBase + (owLo * sW + off) * inC;
            const step = sW * inC;
            for (let ow = owLo; ow < owHi; ow++, xi += step) pt[m++] = x[xi];
            for (let ow = owHi; ow < outW; ow++) pt[m++] = 0;
          }
        }
      }
    }
  }
}

function isPlainPointwise(g: ConvGeom): boolean {
  return g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padTop === 0 && g.padLeft === 0;
}

/** dW for NHWC x/dy; shared by the wasm and cpu registrations. */
export function conv2dBackpropFilterImpl(io: KernelIO, x: TensorInfo, dy: TensorInfo, g: ConvGeom): TensorInfo {
  const KKC = g.kH * g.kW * g.inC;
  const perImage = g.outH * g.outW;
  const nbChunk = imagesPerChunk(KKC * perImage, g.batch);
  const pointwise = isPlainPointwise(g) && g.inH === g.outH && g.inW === g.outW;
  let acc: Float32Array | null = null;
  let result: TensorInfo | null = null;
  for (let b0 = 0; b0 < g.batch; b0 += nbChunk) {
    const nb = Math.min(nbChunk, g.batch - b0);
    const M = nb * perImage;
    const whole = nb === g.batch;
    // dy rows for these images. A fresh copy when chunking (the matmul's
    // right operand must be a tensor of its own shape).
    let dyc: TensorInfo;
    if (whole) {
      dyc = io.run('Reshape', { x: dy }, { shape: [1, M, g.outC] });
    } else {
      dyc = io.alloc([1, M, g.outC], 'float32');
      const src = io.view(dy) as Float32Array;
      (io.view(dyc) as Float32Array).set(src.subarray(b0 * perImage * g.outC, (b0 + nb) * perImage * g.outC));
    }
    let pt: TensorInfo;
    if (pointwise) {
      // x rows are already the patches: PT = x^T via the backend's Transpose.
      let xc: TensorInfo;
      if (whole) {
        xc = io.run('Reshape', { x }, { shape: [M, g.inC] });
      } else {
        xc = io.alloc([M, g.inC], 'float32');
        const src = io.view(x) as Float32Array;
        (io.view(xc) as Float32Array).set(src.subarray(b0 * perImage * g.inC, (b0 + nb) * perImage * g.inC));
      }
      const t = io.run('Transpose', { x: xc }, { perm: [1, 0] });
      io.dispose(xc);
      pt = io.run('Reshape', { x: t }, { shape: [1, g.inC, M] });
      io.dispose(t);
    } else {
      pt = io.alloc([1, KKC, M], 'float32');
      im2colT(io.view(x) as Float32Array, g, b0, nb, io.view(pt) as Float32Array);
    }
    const prod = io.run('BatchMatMul', { a: pt, b: dyc }, { transposeA: false, transposeB: false });
    io.dispose(pt);
    io.dispose(dyc);
    if (whole) {
      result = io.run('Reshape', { x: prod }, { shape: [g.kH, g.kW, g.inC, g.outC] });
      io.dispose(prod);
      break;
    }
    // Sum the chunks in JS: dW is small next to the products.
    const pv = io.view(prod) as Float32Array;
    if (acc === null) acc = Float32Array.from(pv);
    else for (let i = 0; i < acc.length; i++) acc[i] += pv[i];
    io.dispose(prod);
  }
  if (result !== null) return result;
  const out = io.alloc([g.kH, g.kW, g.inC, g.outC], 'float32');
  (io.view(out) as Float32Array).set(acc!);
  return out;
}

function makeKernelFunc(backendName: 'wasm' | 'cpu', fallback?: KernelConfig) {
  return (args: { inputs: { x?: TensorInfo; dy?: TensorInfo }; backend: unknown; attrs?: unknown }): TensorInfo => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const a = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    const dataFormat = backend_util.convertConv2DDataFormat(a.dataFormat);
    if (dataFormat !== 'channelsLast' && fallback) {
      // NCHW is not used in this project; keep the backend's own kernel for it.
      return fallback.kernelFunc(args as Parameters<KernelConfig['kernelFunc']>[0]) as TensorInfo;
    }
    const convInfo = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      dataFormat,
    );
    const io = kernelIO(args.backend as KernelBackend, backendName);
    return conv2dBackpropFilterImpl(io, x, dy, geomFromConvInfo(convInfo));
  };
}

export function conv2dBackpropFilterConfig(backendName: 'wasm' | 'cpu', fallback?: KernelConfig): KernelConfig {
  return {
    kernelName: Conv2DBackpropFilter,
    backendName,
    kernelFunc: makeKernelFunc(backendName, fallback) as unknown as KernelConfig['kernelFunc'],
  };
}
