// FiLM: Feature-wise Linear Modulation (Perez et al., arXiv:1709.07871).
//
// A linear map from the text embedding gives per-channel (gamma, beta):
//   y = x * (1 + gamma) + beta
// The linear map is zero-initialized so FiLM starts as the identity, which lets
// an ImageNet-pretrained EfficientNet keep its function at the start of
// training (RT-1, arXiv:2212.06817, Sec. 4 "instruction and image tokenization").
import * as tf from '@tensorflow/tfjs';
import { type ParamStore, linear, zeros } from './nn.ts';

export interface FilmParams {
  /** [D, 2C]: columns [0,C) produce gamma, [C,2C) produce beta. */
  w: tf.Variable;
  /** [2C] */
  b: tf.Variable;
  channels: number;
}

export function addFilm(store: ParamStore, key: string, textDim: number, channels: number): FilmParams {
  return {
    w: store.add(`${key}.w`, [textDim, 2 * channels], zeros),
    b: store.add(`${key}.b`, [2 * channels], zeros),
    channels,
  };
}

export function filmParamCount(textDim: number, channels: number): number {
  return textDim * 2 * channels + 2 * channels;
}

/** Throws, naming the backbone, when a FiLM-conditioned backbone (textDim > 0) is given an embedding of another width. */
export function checkTextDim(name: string, textDim: number, textEmb: tf.Tensor2D | null): void {
  if (textEmb && textDim > 0 && textEmb.shape[1] !== textDim) throw new Error(`${name}: text embedding dim ${textEmb.shape[1]} != textDim ${textDim}`);
}

/** x: [B,H,W,C] (or [B,N,C]), textEmb: [B,D]. */
export function film(x: tf.Tensor, textEmb: tf.Tensor2D, p: FilmParams): tf.Tensor {
  const C = p.channels;
  const B = textEmb.shape[0];
  const gb = linear(textEmb, p.w, p.b); // [B,D] -> [B,2C]
  const bcast = [B, ...new Array(x.rank - 2).fill(1), C]; // [B,1,1,C] for NHWC, [B,1,C] for tokens
  const gamma = gb.slice([0, 0], [B, C]).reshape(bcast); // [B,C] -> [B,1,1,C]
  const beta = gb.slice([0, C], [B, C]).reshape(bcast); // [B,C] -> [B,1,1,C]
  return x.mul(gamma.add(1)).add(beta);
}
