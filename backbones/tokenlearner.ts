// TokenLearner (Ryoo et al., arXiv:2106.11297), as used by RT-1 (arXiv:2212.06817):
// a small MLP over each spatial position produces S attention logits; the
// maps are normalized over space (softmax, RT-1's TokenLearnerModuleV11; or
// sigmoid + spatial mean, the paper's v1) and each output token is the
// attention-weighted sum of the feature map:
//   a = MLP(LN(x))            [B,HW,S]
//   tokens = norm_space(a)^T x  [B,S,C]
import * as tf from '@tensorflow/tfjs';
import { type ParamStore, bmm, gelu, layerNorm, linear, ones, truncNormal, zeros } from './nn.ts';

export interface TokenLearnerConfig {
  /** Number of output tokens S (RT-1: 8). */
  numTokens: number;
  /** Hidden width of the attention MLP (RT-1: 64). */
  hidden: number;
  /** Normalization of each map over space. */
  attention: 'softmax' | 'sigmoid';
}

export interface TokenLearnerParams {
  lnG: tf.Variable;
  lnB: tf.Variable;
  fc1W: tf.Variable; // [C, hidden]
  fc1B: tf.Variable;
  fc2W: tf.Variable; // [hidden, S]
  fc2B: tf.Variable;
  cfg: TokenLearnerConfig;
}

export function addTokenLearner(store: ParamStore, key: string, channels: number, cfg: TokenLearnerConfig): TokenLearnerParams {
  return {
    lnG: store.add(`${key}.ln.g`, [channels], ones),
    lnB: store.add(`${key}.ln.b`, [channels], zeros),
    fc1W: store.add(`${key}.fc1.w`, [channels, cfg.hidden], truncNormal(0.02)),
    fc1B: store.add(`${key}.fc1.b`, [cfg.hidden], zeros),
    fc2W: store.add(`${key}.fc2.w`, [cfg.hidden, cfg.numTokens], truncNormal(0.02)),
    fc2B: store.add(`${key}.fc2.b`, [cfg.numTokens], zeros),
    cfg,
  };
}

export function tokenLearnerParamCount(channels: number, cfg: TokenLearnerConfig): number {
  return 2 * channels + channels * cfg.hidden + cfg.hidden + cfg.hidden * cfg.numTokens + cfg.numTokens;
}

/** 2 x multiply-adds for an N-position map with C channels. */
export function tokenLearnerFlops(positions: number, channels: number, cfg: TokenLearnerConfig): number {
  return 2 * positions * (channels * cfg.hidden + cfg.hidden * cfg.numTokens + cfg.numTokens * channels);
}

/** x: [B,H,W,C] or [B,N,C] -> tokens [B,S,C] (and the maps [B,S,N] with their logits). */
export function tokenLearner(x: tf.Tensor, p: TokenLearnerParams): { tokens: tf.Tensor3D; maps: tf.Tensor3D; logits: tf.Tensor3D } {
  const B = x.shape[0];
  const C = x.shape[x.rank - 1];
  const xs = x.reshape([B, -1, C]) as tf.Tensor3D; // [B,H,W,C] -> [B,N,C]
  const N = xs.shape[1];
  const h = gelu(linear(layerNorm(xs, p.lnG, p.lnB, 1e-6), p.fc1W, p.fc1B)); // [B,N,hidden]
  const logits = linear(h, p.fc2W, p.fc2B).transpose([0, 2, 1]) as tf.Tensor3D; // [B,N,S] -> [B,S,N]
  const maps =
    p.cfg.attention === 'softmax'
      ? (tf.softmax(logits, -1) as tf.Tensor3D)
      : (tf.sigmoid(logits).div(N) as tf.Tensor3D); // sigmoid + mean over space
  const tokens = bmm(maps, xs); // [B,S,N] @ [B,N,C] -> [B,S,C]
  return { tokens, maps, logits };
}
