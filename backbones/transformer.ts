// Pre-norm transformer block (Vaswani et al. arXiv:1706.03762; pre-LN as in
// ViT arXiv:2010.11929 and GPT-2), shared by the ViT backbone, the text encoder
// and the GPT action decoder:
//   x = x + proj(MHSA(LN1(x)))
//   x = x + fc2(GELU(fc1(LN2(x))))
// Attention supports a causal mask, a key padding mask, a KV cache (for
// autoregressive decoding) and returning the attention probabilities.
// Weight layout: qkv fused [C, 3C] (timm `blocks.i.attn.qkv`), linears [in, out].
import * as tf from '@tensorflow/tfjs';
import { type GeluKind, type ParamStore, bmm, gelu, layerNorm, linear, ones, truncNormal, zeros } from './nn.ts';

export interface BlockParams {
  ln1G: tf.Variable;
  ln1B: tf.Variable;
  qkvW: tf.Variable; // [C, 3C], columns ordered q | k | v, heads contiguous inside each
  qkvB: tf.Variable; // [3C]
  projW: tf.Variable; // [C, C]
  projB: tf.Variable;
  ln2G: tf.Variable;
  ln2B: tf.Variable;
  fc1W: tf.Variable; // [C, H]
  fc1B: tf.Variable;
  fc2W: tf.Variable; // [H, C]
  fc2B: tf.Variable;
}

export interface BlockInit {
  /** Std of the truncated-normal init of the linear weights (timm / GPT-2: 0.02). */
  std: number;
  /** Std for the residual output projections (nanoGPT: 0.02 / sqrt(2 * nLayer)). */
  residStd: number;
}

export function addBlock(store: ParamStore, key: string, dim: number, mlpDim: number, init: BlockInit): BlockParams {
  return {
    ln1G: store.add(`${key}.ln1.g`, [dim], ones),
    ln1B: store.add(`${key}.ln1.b`, [dim], zeros),
    qkvW: store.add(`${key}.attn.qkv.w`, [dim, 3 * dim], truncNormal(init.std)),
    qkvB: store.add(`${key}.attn.qkv.b`, [3 * dim], zeros),
    projW: store.add(`${key}.attn.proj.w`, [dim, dim], truncNormal(init.residStd)),
    projB: store.add(`${key}.attn.proj.b`, [dim], zeros),
    ln2G: store.add(`${key}.ln2.g`, [dim], ones),
    ln2B: store.add(`${key}.ln2.b`, [dim], zeros),
    fc1W: store.add(`${key}.mlp.fc1.w`, [dim, mlpDim], truncNormal(init.std)),
    fc1B: store.add(`${key}.mlp.fc1.b`, [mlpDim], zeros),
    fc2W: store.add(`${key}.mlp.fc2.w`, [mlpDim, dim], truncNormal(init.residStd)),
    fc2B: store.add(`${key}.mlp.fc2.b`, [dim], zeros),
  };
}

export function blockParamCount(dim: number, mlpDim: number): number {
  return 4 * dim + (dim * 3 * dim + 3 * dim) + (dim * dim + dim) + (dim * mlpDim + mlpDim) + (mlpDim * dim + dim);
}

/** 2 x multiply-adds of one block over T tokens attending to Tk keys. */
export function blockFlops(T: number, dim: number, mlpDim: number, Tk = T): number {
  return 2 * (T * dim * 3 * dim + 2 * T * Tk * dim + T * dim * dim + 2 * T * dim * mlpDim);
}

export interface KV {
  k: tf.Tensor4D; // [B,nh,Tpast,hs]
  v: tf.Tensor4D;
}

export interface AttentionOptions {
  nHead: number;
  /** Causal mask: query at absolute position pastLen+i sees keys <= pastLen+i. */
  causal?: boolean;
  /** Key validity [B, Tk] (1 = attend, 0 = padding), Tk = past + current length. */
  keyMask?: tf.Tensor2D | null;
  /**
   * With `causal`: the last `bidirectionalTail` positions of the current
   * sequence also see each other (a causal prefix followed by a block of
   * queries decoded together, as OpenVLA-OFT's parallel action decoding).
   */
  bidirectionalTail?: number;
  /**
   * Split that tail into consecutive blocks of this many positions (default:
   * one block, the whole tail): a position sees everything before its block
   * and its own block, not the blocks after it (block-causal; 'dimwise'
   * action decoding in policies/gpt.ts).
   */
  tailBlock?: number;
  /** Cached keys / values of earlier positions (not disposed here). */
  past?: KV | null;
  /** Return the attention probabilities [B,nh,T,Tk]. */
  returnAttention?: boolean;
}

export interface AttentionResult {
  y: tf.Tensor3D; // [B,T,C]
  /** Keys / values of past + current positions (for the cache). */
  present: KV;
  attention?: tf.Tensor4D;
}

const NEG = -1e9;

/**
 * Additive attention bias [1|B, 1, T, Tk] from the causal rule (with an
 * optional bidirectional tail, in blocks of `tailBlock`) and key mask (or null).
 */
export function attentionBias(T: number, Tk: number, causal: boolean, keyMask: tf.Tensor2D | null | undefined, tail = 0, tailBlock = tail): tf.Tensor | null {
  let bias: tf.Tensor | null = null;
  if (causal) {
    const past = Tk - T;
    const head = T - tail; // positions before the tail
    if (tail > 0 && !(Number.isInteger(tailBlock) && tailBlock > 0 && tail % tailBlock === 0)) throw new Error(`attentionBias: tail ${tail} does not split into blocks of ${tailBlock}`);
    // first key position a query may not see: the next one (causal) or the end of its tail block
    const end = (i: number) => (i >= head ? past + head + (Math.floor((i - head) / tailBlock) + 1) * tailBlock : past + i + 1);
    const m = new Float32Array(T * Tk);
    for (let i = 0; i < T; i++) for (let j = end(i); j < Tk; j++) m[i * Tk + j] = NEG;
    bias = tf.tensor4d(m, [1, 1, T, Tk]);
  }
  if (keyMask) {
    const B = keyMask.shape[0];
    const kb = tf.scalar(1).sub(keyMask).mul(NEG).reshape([B, 1, 1, Tk]); // [B,Tk] -> [B,1,1,Tk]
    bias = bias ? bias.add(kb) : kb;
  }
  return bias;
}

/** Multi-head self-attention on pre-normalized x [B,T,C]. */
export function selfAttention(x: tf.Tensor3D, p: BlockParams, opt: AttentionOptions): AttentionResult {
  const [B, T, C] = x.shape;
  const nh = opt.nHead;
  const hs = C / nh;
  const qkv = linear(x, p.qkvW, p.qkvB); // [B,T,C] -> [B,T,3C]
  const heads = qkv.reshape([B, T, 3, nh, hs]).transpose([2, 0, 3, 1, 4]); // [B,T,3C] -> [3,B,nh,T,hs]
  const [q, kNew, vNew] = tf.unstack(heads, 0) as tf.Tensor4D[]; // each [B,nh,T,hs]
  const k = opt.past ? (tf.concat([opt.past.k, kNew], 2) as tf.Tensor4D) : kNew; // [B,nh,Tk,hs]
  const v = opt.past ? (tf.concat([opt.past.v, vNew], 2) as tf.Tensor4D) : vNew;
  const Tk = k.shape[2];
  let att: tf.Tensor = bmm(q, k, false, true).mul(1 / Math.sqrt(hs)); // [B,nh,T,hs] @ [B,nh,hs,Tk] -> [B,nh,T,Tk]
  const bias = attentionBias(T, Tk, opt.causal ?? false, opt.keyMask, opt.bidirectionalTail ?? 0, opt.tailBlock ?? opt.bidirectionalTail ?? 0);
  if (bias) att = att.add(bias);
  const probs = tf.softmax(att, -1) as tf.Tensor4D;
  const o = bmm(probs, v); // [B,nh,T,Tk] @ [B,nh,Tk,hs] -> [B,nh,T,hs]
  const merged = o.transpose([0, 2, 1, 3]).reshape([B, T, C]); // [B,nh,T,hs] -> [B,T,C]
  const y = linear(merged, p.projW, p.projB) as tf.Tensor3D;
  const res: AttentionResult = { y, present: { k, v } };
  if (opt.returnAttention) res.attention = probs;
  return res;
}

export interface BlockOptions extends AttentionOptions {
  eps: number;
  gelu: GeluKind;
}

export interface BlockResult {
  x: tf.Tensor3D;
  present: KV;
  attention?: tf.Tensor4D;
}

export function block(x: tf.Tensor3D, p: BlockParams, opt: BlockOptions): BlockResult {
  const a = selfAttention(layerNorm(x, p.ln1G, p.ln1B, opt.eps) as tf.Tensor3D, p, opt);
  const h = x.add(a.y);
  const m = linear(gelu(linear(layerNorm(h, p.ln2G, p.ln2B, opt.eps), p.fc1W, p.fc1B), opt.gelu), p.fc2W, p.fc2B);
  const out: BlockResult = { x: h.add(m) as tf.Tensor3D, present: a.present };
  if (a.attention) out.attention = a.attention;
  return out;
}
