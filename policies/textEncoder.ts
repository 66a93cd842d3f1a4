// Small instruction encoder (stand-in for RT-1's Universal Sentence Encoder /
// OpenVLA's Llama tokens, trained from scratch here):
//   x = wte[ids] + wpe[0..L)                                     [B,L,D]
//   depth > 0: pre-norm transformer blocks (bidirectional, padding keys masked)
//   tokens = LN(x)                                               [B,L,D]
//   pool 'mean':  embedding = masked mean of tokens over valid positions  [B,D]
//   pool 'slots': R learned queries attend over the tokens (masked softmax),
//                 one slot per role; concat -> linear                     [B,D]
//   depth == 0: embedding additionally goes through a 2-layer GELU MLP (residual)
//   roleHeads > 0: roleLogits(embedding) classifies, per head, a word of the
//                 instruction by its role (policies/roleAux.ts) [B,R,V]
// Why slots: a mean pool keeps "red" and "blue" but loses which is the object
// and which the destination unless the block has written the role into each
// token; the mean-pool CNN then shipped (cnn-4) picked the destination-coloured
// object in half its wrong-object episodes (results/language-roles/README.md).
// Separate queries read the two roles out separately, as
// Perceiver/Slot-Attention-style learned queries do (arXiv:2103.03206), and
// the concatenation keeps them apart in the FiLM input.
// The class is InstructionEncoder (not TextEncoder, which is a DOM/Node global).
import * as tf from '@tensorflow/tfjs';
import { Module, embed, gelu, layerNorm, linear, normal, ones, truncNormal, zeros } from '../backbones/nn.ts';
import { type BlockParams, addBlock, attentionBias, block, blockFlops, blockParamCount } from '../backbones/transformer.ts';

export type TextEncoderConfig = {
  /** Vocabulary size (tokenizer.vocabSize). */
  vocabSize: number;
  /** Maximum sequence length (position table size). */
  maxLen: number;
  /** Width D of tokens and of the sentence embedding. */
  dim: number;
  /** Transformer blocks (0 = embeddings + mean-pool MLP). */
  depth: number;
  /** Attention heads (dim divisible). */
  heads: number;
  /** MLP hidden width = mlpRatio * dim. */
  mlpRatio: number;
  /** How tokens become the sentence embedding: masked 'mean', or one learned-query attention 'slots' per role. */
  pool: 'mean' | 'slots';
  /** Learned queries when pool = 'slots' (2: the object and the destination). */
  slots: number;
  /** Role classification heads over the vocabulary on the embedding (0 = none; training-only signal). */
  roleHeads: number;
  /** Seed for weight initialization. */
  seed: number;
};

export const TEXT_ENCODER_DEFAULTS: TextEncoderConfig = { vocabSize: 64, maxLen: 16, dim: 64, depth: 1, heads: 4, mlpRatio: 2, pool: 'mean', slots: 2, roleHeads: 0, seed: 0 };

export interface TextEncoding {
  /** Sentence embedding [B,D]. */
  embedding: tf.Tensor2D;
  /** Per-token features [B,L,D]. */
  tokens: tf.Tensor3D;
  /** Valid-token mask [B,L] (1 = token, 0 = padding). */
  mask: tf.Tensor2D;
}

export class InstructionEncoder extends Module {
  readonly config: TextEncoderConfig;
  private readonly wte: tf.Variable;
  private readonly wpe: tf.Variable;
  private readonly blocks: BlockParams[];
  private readonly lnG: tf.Variable;
  private readonly lnB: tf.Variable;
  private readonly mlp: { fc1W: tf.Variable; fc1B: tf.Variable; fc2W: tf.Variable; fc2B: tf.Variable } | null;
  private readonly slotPool: { queries: tf.Variable; projW: tf.Variable; projB: tf.Variable } | null;
  private readonly roleHead: { w: tf.Variable; b: tf.Variable } | null;

  constructor(config: Partial<TextEncoderConfig> = {}) {
    const c = { ...TEXT_ENCODER_DEFAULTS, ...config };
    super('text', c.seed);
    this.config = c;
    if (c.dim % c.heads !== 0) throw new Error(`InstructionEncoder: dim ${c.dim} not divisible by heads ${c.heads}`);
    if (c.pool !== 'mean' && c.pool !== 'slots') throw new Error(`InstructionEncoder: pool must be 'mean' or 'slots', got ${JSON.stringify(c.pool)}`);
    if (c.pool === 'slots' && !(Number.isInteger(c.slots) && c.slots >= 1)) throw new Error(`InstructionEncoder: slots must be a positive integer, got ${c.slots}`);
    if (!(Number.isInteger(c.roleHeads) && c.roleHeads >= 0)) throw new Error(`InstructionEncoder: roleHeads must be a non-negative integer, got ${c.roleHeads}`);
    const s = this.store;
    const H = Math.round(c.dim * c.mlpRatio);
    this.wte = s.add('wte', [c.vocabSize, c.dim], normal(0.02));
    this.wpe = s.add('wpe', [c.maxLen, c.dim], normal(0.02));
    const init = { std: 0.02, residStd: 0.02 / Math.sqrt(2 * Math.max(1, c.depth)) };
    this.blocks = Array.from({ length: c.depth }, (_, i) => addBlock(s, `blocks.${i}`, c.dim, H, init));
    this.lnG = s.add('ln_f.g', [c.dim], ones);
    this.lnB = s.add('ln_f.b', [c.dim], zeros);
    this.mlp =
      c.depth === 0
        ? {
            fc1W: s.add('pool_mlp.fc1.w', [c.dim, H], truncNormal(0.02)),
            fc1B: s.add('pool_mlp.fc1.b', [H], zeros),
            fc2W: s.add('pool_mlp.fc2.w', [H, c.dim], truncNormal(0.02)),
            fc2B: s.add('pool_mlp.fc2.b', [c.dim], zeros),
          }
        : null;
    this.slotPool =
      c.pool === 'slots'
        ? {
            queries: s.add('slots.queries', [c.slots, c.dim], normal(0.02)),
            projW: s.add('slots.proj.w', [c.slots * c.dim, c.dim], truncNormal(0.02)),
            projB: s.add('slots.proj.b', [c.dim], zeros),
          }
        : null;
    this.roleHead = c.roleHeads > 0 ? { w: s.add('role_head.w', [c.dim, c.roleHeads * c.vocabSize], truncNormal(0.02)), b: s.add('role_head.b', [c.roleHeads * c.vocabSize], zeros) } : null;
  }

  get dim(): number {
    return this.config.dim;
  }

  /** ids: int32 [B,L] (L <= maxLen), mask: float [B,L]. */
  forward(ids: tf.Tensor2D, mask: tf.Tensor2D): TextEncoding {
    const c = this.config;
    const [B, L] = ids.shape;
    if (L > c.maxLen) throw new Error(`InstructionEncoder: sequence length ${L} > maxLen ${c.maxLen}`);
    return tf.tidy(() => {
      let x = embed(this.wte, ids).add(this.wpe.slice([0, 0], [L, c.dim])) as tf.Tensor3D; // [B,L] -> [B,L,D]
      for (const b of this.blocks) x = block(x, b, { nHead: c.heads, eps: 1e-5, gelu: 'tanh', keyMask: mask }).x;
      const tokens = layerNorm(x, this.lnG, this.lnB, 1e-5) as tf.Tensor3D;
      let embedding = this.slotPool ? this.poolSlots(tokens, mask) : this.poolMean(tokens, mask);
      if (this.mlp) {
        const h = linear(gelu(linear(embedding, this.mlp.fc1W, this.mlp.fc1B), 'tanh'), this.mlp.fc2W, this.mlp.fc2B);
        embedding = embedding.add(h) as tf.Tensor2D;
      }
      return { embedding, tokens, mask: mask.clone() } as unknown as tf.TensorContainer;
    }) as unknown as TextEncoding;
  }

  private poolMean(tokens: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
    const [B, L] = mask.shape;
    const m3 = mask.reshape([B, L, 1]); // [B,L] -> [B,L,1]
    return tokens.mul(m3).sum(1).div(m3.sum(1).maximum(1)) as tf.Tensor2D; // masked mean -> [B,D]
  }

  private poolSlots(tokens: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor2D {
    const { queries, projW, projB } = this.slotPool!;
    const [B, L, D] = tokens.shape;
    const R = this.config.slots;
    const q = queries.expandDims(0).tile([B, 1, 1]) as tf.Tensor3D; // [R,D] -> [B,R,D]
    const scores = tf.matMul(q, tokens, false, true).div(Math.sqrt(D)); // [B,R,D] x [B,L,D]^T -> [B,R,L]
    const pad = attentionBias(R, L, false, mask)!.reshape([B, 1, L]); // padding keys -> -inf, [B,1,1,L] -> [B,1,L]
    const att = tf.softmax(scores.add(pad), -1) as tf.Tensor3D; // [B,R,L]
    const slots = tf.matMul(att, tokens); // [B,R,L] x [B,L,D] -> [B,R,D]
    return linear(slots.reshape([B, R * D]), projW, projB) as tf.Tensor2D; // [B,R*D] -> [B,D]
  }

  /** Role logits [B, roleHeads, vocabSize] from a sentence embedding [B,D] (roleHeads > 0). */
  roleLogits(embedding: tf.Tensor2D): tf.Tensor3D {
    if (!this.roleHead) throw new Error('InstructionEncoder: roleLogits needs roleHeads > 0');
    const c = this.config;
    return tf.tidy(() => linear(embedding, this.roleHead!.w, this.roleHead!.b).reshape([embedding.shape[0], c.roleHeads, c.vocabSize])); // [B,R*V] -> [B,R,V]
  }

  static countParams(config: Partial<TextEncoderConfig> = {}): number {
    const c = { ...TEXT_ENCODER_DEFAULTS, ...config };
    const H = Math.round(c.dim * c.mlpRatio);
    let n = c.vocabSize * c.dim + c.maxLen * c.dim + c.depth * blockParamCount(c.dim, H) + 2 * c.dim;
    if (c.depth === 0) n += c.dim * H + H + H * c.dim + c.dim;
    if (c.pool === 'slots') n += c.slots * c.dim + c.slots * c.dim * c.dim + c.dim;
    if (c.roleHeads > 0) n += (c.dim + 1) * c.roleHeads * c.vocabSize;
    return n;
  }

  /** 2 x multiply-adds for one sequence of length L (embedding lookups not counted). */
  flops(L: number): number {
    const c = this.config;
    const H = Math.round(c.dim * c.mlpRatio);
    const slots = c.pool === 'slots' ? 2 * (2 * c.slots * L * c.dim) + 2 * c.slots * c.dim * c.dim : 0;
    return c.depth * blockFlops(L, c.dim, H) + (c.depth === 0 ? 4 * c.dim * H : 0) + slots;
  }
}
