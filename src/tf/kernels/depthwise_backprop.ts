// Gradients of depthwiseConv2d (NHWC).
//
// On wasm the input gradient is a forward depthwise conv with the flipped
// filter (./flip_conv.ts), which runs on XNNPACK: [8,48,48,32] 3x3 s1 takes
// 1.2 ms vs 25 ms for the loops below (s2: 2.1 vs 5.7 ms). The loops remain
// for the cpu backend, channel multipliers > 1 and unusual padding.
//
// Depthwise convs have no channel contraction, so there is no matrix product
// to hand to XNNPACK; what matters is memory order. Both loops walk output
// pixels, and for each filter tap touch one contiguous run of channels in x/dx,
// dy and the filter, so the innermost loop is unit-stride in every array.
// The filter gradient accumulates in float64 because each entry sums over
// every output pixel of the batch (tens of thousands of terms).
import {
  backend_util,
  DepthwiseConv2dNativeBackpropFilter,
  DepthwiseConv2dNativeBackpropInput,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelBackend,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { inputGradViaForwardConv } from './flip_conv.ts';
import { geomFromConvInfo, kernelIO, type ConvGeom } from './util.ts';

/** Valid output-column range [lo, hi) for filter column kw (input column inside the image). */
function colRange(g: ConvGeom, kw: number): [number, number] {
  const off = kw * g.dW - g.padLeft;
  const lo = Math.min(g.outW, Math.max(0, Math.ceil(-off / g.sW)));
  const hi = Math.max(lo, Math.min(g.outW, Math.floor((g.inW - 1 - off) / g.sW) + 1));
  return [lo, hi];
}

/** dx[b,ih,iw,c] = sum dy[b,oh,ow,c*mul+m] * w[kh,kw,c,m]; dx must be zeroed. */
export function depthwiseBackpropInputLoops(dy: Float32Array, w: Float32Array, g: ConvGeom, dx: Float32Array): void {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, padTop, padLeft } = g;
  const mul = outC / inC;
  const ranges = Array.from({ length: kW }, (_, kw) => colRange(g, kw));
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * sH - padTop + kh * dH;
        if (ih < 0 || ih >= inH) continue;
        const dxRow = (b * inH + ih) * inW;
        const dyRow = (b * outH + oh) * outW;
        for (let kw = 0; kw < kW; kw++) {
          const [lo, hi] = ranges[kw];
          const wOff = (kh * kW + kw) * outC;
          for (let ow = lo; ow < hi; ow++) {
            const iw = ow * sW - padLeft + kw * dW;
            const dxOff = (dxRow + iw) * inC;
            const dyOff = (dyRow + ow) * outC;
            if (mul === 1) {
              for (let c = 0; c < inC; c++) dx[dxOff + c] += dy[dyOff + c] * w[wOff + c];
            } else {
              for (let c = 0; c < inC; c++) {
                let s = 0;
                for (let m = 0; m < mul; m++) s += dy[dyOff + c * mul + m] * w[wOff + c * mul + m];
                dx[dxOff + c] += s;
              }
            }
          }
        }
      }
    }
  }
}

/** dW[kh,kw,c,m] = sum x[b,ih,iw,c] * dy[b,oh,ow,c*mul+m]; returns float64 sums. */
export function depthwiseBackpropFilterLoops(x: Float32Array, dy: Float32Array, g: ConvGeom): Float64Array {
  const { batch, inH, inW, inC, outH, outW, outC, kH, kW, sH, sW, dH, dW, padTop, padLeft } = g;
  const mul = outC / inC;
  const acc = new Float64Array(kH * kW * outC);
  const ranges = Array.from({ length: kW }, (_, kw) => colRange(g, kw));
  for (let b = 0; b < batch; b++) {
    for (let oh = 0; oh < outH; oh++) {
      for (let kh = 0; kh < kH; kh++) {
        const ih = oh * sH - padTop + kh * dH;
        if (ih < 0 || ih >= inH) continue;
        const xRow = (b * inH + ih) * inW;
        const dyRow = (b * outH + oh) * outW;
        for (let kw = 0; kw < kW; kw++) {
          const [lo, hi] = ranges[kw];
          const aOff = (kh * kW + kw) * outC;
          for (let ow = lo; ow < hi; ow++) {
            const iw = ow * sW - padLeft + kw * dW;
            const xOff = (xRow + iw) * inC;
            const dyOff = (dyRow + ow) * outC;
            if (mul === 1) {
              for (let c = 0; c < inC; c++) acc[aOff + c] += x[xOff + c] * dy[dyOff + c];
            } else {
              for (let c = 0; c < inC; c++) {
                const xv = x[xOff + c];
                for (let m = 0; m < mul; m++) acc[aOff + c * mul + m] += xv * dy[dyOff + c * mul + m];
              }
            }
          }
        }
      }
    }
  }
  return acc;
}

function geom(
  inShape: number[],
  filterShape: number[],
  a: { strides: [number, number] | number; dilations: [number, number] | number; pad: unknown; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
): ConvGeom {
  const ci = backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    a.strides,
    a.dilations,
    a.pad as 'same' | 'valid' | number | backend_util.ExplicitPadding,
    a.dimRoundingMode,
    true,
  );
  return geomFromConvInfo(ci);
}

type Args = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: unknown };

export function depthwiseBackpropInputConfig(backendName: 'wasm' | 'cpu'): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const { dy, filter } = args.inputs;
    const a = args.attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
    const g = geom(a.inputShape, filter.shape, a);
    const io = kernelIO(args.backend as KernelBackend, backendName);
    if (backendName === 'wasm') {
      const viaConv = inputGradViaForwardConv(io, dy, filter, g, true);
      if (viaConv) return viaConv;
    }
    const dx = io.zeros([g.batch, g.inH, g.inW, g.inC], 'float32');
    depthwiseBackpropInputLoops(
      io.view(dy) as Float32Array,
      io.view(filter) as Float32Array,
      g,
      io.view(dx) as Float32Array,
    );
    return dx;
  };
  return {
    kernelName: DepthwiseConv2dNativeBackpropInput,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'],
  };
}

export function depthwiseBackpropFilterConfig(backendName: 'wasm' | 'cpu'): KernelConfig {
  const kernelFunc = (args: Args): TensorInfo => {
    const { x, dy } = args.inputs;
    const a = args.attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
    const g = geom(x.shape, a.filterShape, a);
    const io = kernelIO(args.backend as KernelBackend, backendName);
    const acc = depthwiseBackpropFilterLoops(io.view(x) as Float32Array, io.view(dy) as Float32Array, g);
    const out = io.alloc(a.filterShape, 'float32');
    (io.view(out) as Float32Array).set(acc);
    return out;
  };
  return {
    kernelName: DepthwiseConv2dNativeBackpropFilter,
    backendName,
    kernelFunc: kernelFunc as unknown as KernelConfig['kernelFunc'],
  };
}
