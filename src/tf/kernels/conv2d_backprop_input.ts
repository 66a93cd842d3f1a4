// Conv2DBackpropInput (dx of a NHWC conv2d) as a matrix product plus col2im.
//
// tfjs-backend-wasm ships this kernel, but as plain C++ loops (~1.5 GFLOP/s
// measured here). Instead, on wasm:
//  - stride 1: a forward conv of dy with the flipped filter (./flip_conv.ts),
//    i.e. XNNPACK's conv ([8,48,48,16] 3x3 -> 24: 5.8 ms vs 64 ms original);
//  - stride > 1: G = dy · W^T ([M, Cout] x [Cout, kh*kw*Cin]) on the fast
//    BatchMatMul, then scatter-add each row of G into the input pixels it came
//    from (measured faster than the flipped conv on a zero-spread dy here:
//    [8,48,48,32] 3x3 s2: 10 ms vs 18 ms; original 56 ms).
// A 1x1/stride-1/unpadded conv needs no scatter: dx = G.
import {
  backend_util,
  Conv2DBackpropInput,
  type Conv2DBackpropInputAttrs,
  type KernelBackend,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { inputGradViaForwardConv } from './flip_conv.ts';
import { geomFromConvInfo, imagesPerChunk, kernelIO, type ConvGeom, type KernelIO } from './util.ts';

/** dx[b0+..] += scatter of g rows ([nb*outH*outW, kH*kW*inC]); dx rows for these images must be zeroed. */
export function col2imAdd(gm: Float32Array, gd: ConvGeom, b0: number, nb: number, dx: Float32Array): void {
  const { inH, inW, inC, outH, outW, kH, kW, sH, sW, dH, dW, padTop, padLeft } = gd;
  const KKC = kH * kW * inC;
  let m = 0;
  for (let b = b0; b < b0 + nb; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, m++) {
        const gRow = m * KKC;
        for (let kh = 0; kh < kH; kh++) {
          const ih = oh * sH - padTop + kh * dH;
          if (ih < 0 || ih >= inH) continue;
          const dxRow = (b * inH + ih) * inW;
          for (let kw = 0; kw < kW; kw++) {
            const iw = ow * sW - padLeft + kw * dW;
            if (iw < 0 || iw >= inW) continue;
            const dxOff = (dxRow + iw) * inC;
            const gOff = gRow + (kh * kW + kw) * inC;
            for (let c = 0; c < inC; c++) dx[dxOff + c] += gm[gOff + c];
          }
        }
      }
    }
  }
}

export function conv2dBackpropInputImpl(io: KernelIO, dy: TensorInfo, filter: TensorInfo, g: ConvGeom): TensorInfo {
  const KKC = g.kH * g.kW * g.inC;
  const perImage = g.outH * g.outW;
  // W^T as a fresh [1, Cout, KKC] tensor: the fast matmul path wants no
  // transpose flags, and a filter-sized copy is cheap.
  const f2 = io.run('Reshape', { x: filter }, { shape: [KKC, g.outC] });
  const ft = io.run('Transpose', { x: f2 }, { perm: [1, 0] });
  io.dispose(f2);
  const wt = io.run('Reshape', { x: ft }, { shape: [1, g.outC, KKC] });
  io.dispose(ft);
  const pointwise =
    g.kH === 1 && g.kW === 1 && g.sH === 1 && g.sW === 1 && g.padTop === 0 && g.padLeft === 0 &&
    g.inH === g.outH && g.inW === g.outW;
  if (pointwise) {
    const a = io.run('Reshape', { x: dy }, { shape: [1, g.batch * perImage, g.outC] });
    const prod = io.run('BatchMatMul', { a, b: wt }, { transposeA: false, transposeB: false });
    io.dispose(a);
    io.dispose(wt);
    const dx = io.run('Reshape', { x: prod }, { shape: [g.batch, g.inH, g.inW, g.inC] });
    io.dispose(prod);
    return dx;
  }
  const dx = io.zeros([g.batch, g.inH, g.inW, g.inC], 'float32');
  const nbChunk = imagesPerChunk(KKC * perImage, g.batch);
  for (let b0 = 0; b0 < g.batch; b0 += nbChunk) {
    const nb = Math.min(nbChunk, g.batch - b0);
    const M = nb * perImage;
    let a: TensorInfo;
    if (nb === g.batch) {
      a = io.run('Reshape', { x: dy }, { shape: [1, M, g.outC] });
    } else {
      a = io.alloc([1, M, g.outC], 'float32');
      const src = io.view(dy) as Float32Array;
      (io.view(a) as Float32Array).set(src.subarray(b0 * perImage * g.outC, (b0 + nb) * perImage * g.outC));
    }
    const prod = io.run('BatchMatMul', { a, b: wt }, { transposeA: false, transposeB: false });
    io.dispose(a);
    col2imAdd(io.view(prod) as Float32Array, g, b0, nb, io.view(dx) as Float32Array);
    io.dispose(prod);
  }
  io.dispose(wt);
  return dx;
}

export function conv2dBackpropInputConfig(
  backendName: 'wasm' | 'cpu',
  fallback?: KernelConfig,
): KernelConfig {
  const kernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: unknown }) => {
    const { dy, filter } = args.inputs;
    const a = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const dataFormat = backend_util.convertConv2DDataFormat(a.dataFormat);
    if (dataFormat !== 'channelsLast' && fallback) {
      // NCHW is not used in this project; keep the backend's own kernel for it.
      return fallback.kernelFunc(args as Parameters<KernelConfig['kernelFunc']>[0]);
    }
    const convInfo = backend_util.computeConv2DInfo(
      a.inputShape,
      filter.shape as [number, number, number, number],
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
      false,
      dataFormat,
    );
    const io = kernelIO(args.backend as KernelBackend, backendName);
    const g = geomFromConvInfo(convInfo);
    if (backendName === 'wasm' && g.sH === 1 && g.sW === 1) {
      const viaConv = inputGradViaForwardConv(io, dy, filter, g, false);
      if (viaConv) return viaConv;
    }
    return conv2dBackpropInputImpl(io, dy, filter, g);
  };
  return {
    kernelName: Conv2DBackpropInput,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'],
    // Keep the original's setup (the wasm one binds its C++ function there),
    // so the fallback still works when we register before the backend starts.
    setupFunc: fallback?.setupFunc,
    disposeFunc: fallback?.disposeFunc,
  };
}
