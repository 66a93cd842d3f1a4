// MBConv: mobile inverted bottleneck with squeeze-and-excitation
// (MobileNetV2 arXiv:1801.04381, SE arXiv:1709.01507, as used by EfficientNet
// arXiv:1905.11946). Layout follows torchvision's `MBConv` exactly so that
// torchvision checkpoints import 1:1:
//   expand 1x1 conv + BN + SiLU          (skipped when expandRatio == 1)
//   depthwise kxk conv (stride s) + BN + SiLU
//   squeeze-excite: GAP -> 1x1 conv (bias) -> SiLU -> 1x1 conv (bias) -> sigmoid -> scale,
//                   squeeze width = max(1, inCh // 4) (of the block INPUT channels)
//   project 1x1 conv + BN (linear bottleneck, no activation)
//   residual when stride == 1 and inCh == outCh, with stochastic depth
//   ("drop connect", arXiv:1603.09382) on the residual branch in training.
// Convs have no bias (BN follows). 1x1 convs are stored as [in, out] matrices.
import * as tf from '@tensorflow/tfjs';
import {
  type BatchNormOptions,
  type BatchNormParams,
  type ParamStore,
  addBatchNorm,
  batchNorm,
  linear,
  normal,
  swish,
  zeros,
} from './nn.ts';

export interface MBConvSpec {
  inCh: number;
  outCh: number;
  /** Expanded (hidden) channels = makeDivisible(inCh * expandRatio). */
  expCh: number;
  kernel: number;
  stride: number;
  /** SE bottleneck width. */
  seCh: number;
  /** Stochastic-depth drop probability for this block. */
  dropProb: number;
  /** torchvision position: features.{stage}.{layer} (stage is 1-based). */
  stage: number;
  layer: number;
}

export interface MBConvParams {
  spec: MBConvSpec;
  expand: { conv: tf.Variable; bn: BatchNormParams } | null; // conv [in, exp]
  dw: { conv: tf.Variable; bn: BatchNormParams }; // conv [k, k, exp, 1]
  se: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable }; // [exp,se],[se],[se,exp],[exp]
  project: { conv: tf.Variable; bn: BatchNormParams }; // conv [exp, out]
}

/** kaiming_normal_(mode='fan_out') as torchvision initializes EfficientNet convs. */
function kaimingFanOut(outCh: number, k: number): ReturnType<typeof normal> {
  return normal(Math.sqrt(2 / (outCh * k * k)));
}

export function addMBConv(store: ParamStore, key: string, s: MBConvSpec): MBConvParams {
  const expand =
    s.expCh !== s.inCh
      ? { conv: store.add(`${key}.expand.conv`, [s.inCh, s.expCh], kaimingFanOut(s.expCh, 1)), bn: addBatchNorm(store, `${key}.expand.bn`, s.expCh) }
      : null;
  return {
    spec: s,
    expand,
    dw: {
      conv: store.add(`${key}.dw.conv`, [s.kernel, s.kernel, s.expCh, 1], kaimingFanOut(s.expCh, s.kernel)),
      bn: addBatchNorm(store, `${key}.dw.bn`, s.expCh),
    },
    se: {
      w1: store.add(`${key}.se.fc1.w`, [s.expCh, s.seCh], kaimingFanOut(s.seCh, 1)),
      b1: store.add(`${key}.se.fc1.b`, [s.seCh], zeros),
      w2: store.add(`${key}.se.fc2.w`, [s.seCh, s.expCh], kaimingFanOut(s.expCh, 1)),
      b2: store.add(`${key}.se.fc2.b`, [s.expCh], zeros),
    },
    project: {
      conv: store.add(`${key}.project.conv`, [s.expCh, s.outCh], kaimingFanOut(s.outCh, 1)),
      bn: addBatchNorm(store, `${key}.project.bn`, s.outCh),
    },
  };
}

export function hasExpand(s: MBConvSpec): boolean {
  return s.expCh !== s.inCh;
}

export function mbconvParamCount(s: MBConvSpec): number {
  let n = 0;
  if (hasExpand(s)) n += s.inCh * s.expCh + 2 * s.expCh;
  n += s.kernel * s.kernel * s.expCh + 2 * s.expCh;
  n += s.expCh * s.seCh + s.seCh + s.seCh * s.expCh + s.expCh;
  n += s.expCh * s.outCh + 2 * s.outCh;
  return n;
}

/** Spatial output size with torchvision's symmetric padding (k-1)/2. */
export function convOut(size: number, kernel: number, stride: number): number {
  const pad = Math.floor((kernel - 1) / 2);
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

/** 2 x multiply-adds for an H x W input; returns [flops, Hout, Wout]. */
export function mbconvFlops(s: MBConvSpec, H: number, W: number): [number, number, number] {
  const Ho = convOut(H, s.kernel, s.stride);
  const Wo = convOut(W, s.kernel, s.stride);
  let macs = 0;
  if (hasExpand(s)) macs += H * W * s.inCh * s.expCh;
  macs += Ho * Wo * s.kernel * s.kernel * s.expCh;
  macs += 2 * s.expCh * s.seCh;
  macs += Ho * Wo * s.expCh * s.outCh;
  return [2 * macs, Ho, Wo];
}

/**
 * Stochastic depth, torchvision mode 'row': each sample's residual branch is
 * kept with probability 1-p and rescaled by 1/(1-p).
 */
export function stochasticDepth(x: tf.Tensor4D, p: number, training: boolean): tf.Tensor4D {
  if (!training || p <= 0) return x;
  const B = x.shape[0];
  const keep = tf.randomUniform([B, 1, 1, 1]).less(1 - p).cast('float32'); // [B,1,1,1]
  return x.mul(keep).div(1 - p);
}

export function mbconv(x: tf.Tensor4D, p: MBConvParams, training: boolean, bn: BatchNormOptions): tf.Tensor4D {
  const s = p.spec;
  let h: tf.Tensor = x;
  if (p.expand) h = swish(batchNorm(linear(h, p.expand.conv, null), p.expand.bn, training, bn)); // [B,H,W,in] -> [B,H,W,exp]
  const pad = Math.floor((s.kernel - 1) / 2);
  h = tf.depthwiseConv2d(h as tf.Tensor4D, p.dw.conv as tf.Tensor4D, s.stride, pad); // [B,H,W,exp] -> [B,Ho,Wo,exp]
  h = swish(batchNorm(h, p.dw.bn, training, bn));
  // Squeeze-excite: [B,Ho,Wo,exp] -> [B,1,1,exp] gate
  const squeezed = h.mean([1, 2], true);
  const gate = tf.sigmoid(linear(swish(linear(squeezed, p.se.w1, p.se.b1)), p.se.w2, p.se.b2));
  h = h.mul(gate);
  h = batchNorm(linear(h, p.project.conv, null), p.project.bn, training, bn); // [B,Ho,Wo,exp] -> [B,Ho,Wo,out]
  if (s.stride === 1 && s.inCh === s.outCh) {
    h = stochasticDepth(h as tf.Tensor4D, s.dropProb, training).add(x);
  }
  return h as tf.Tensor4D;
}
