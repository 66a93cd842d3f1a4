// GPT-style causal transformer decoder over action tokens (nanoGPT layout;
// RT-1 arXiv:2212.06817 decodes discretized actions from image+text tokens with
// a decoder-only transformer; OpenVLA arXiv:2406.09246 predicts action bins as
// tokens of a causal LM after the visual and language prefix).
//
// Sequence (length Tp + A):
//   prefix:  vision tokens (linear Cv -> C) | language tokens (linear Dt -> C) | proprio token (linear P -> C)
//   actions: a_0 .. a_{A-1}, A = chunk * actionDim, token j is for dimension d = j % actionDim,
//            embedded with that dimension's own rows of one table [actionDim * bins, C]
// every position adds a learned position embedding wpe[t] and a segment
// (type) embedding (vision / language / proprio / action).
// Attention is causal over the whole sequence; padded language tokens are
// masked as keys. The hidden state at position Tp-1+j predicts a_j (logits
// over `bins`); teacher forcing feeds a_0..a_{A-2}.
// Decoding: greedy or temperature sampling, with a KV cache (each new token
// attends to cached keys/values of all earlier positions).
//
// decoding: 'parallel' (OpenVLA-OFT, Kim et al. 2025, arXiv:2502.19645)
// replaces the fed-back action tokens by A learned query embeddings: the
// sequence is prefix | q_0 .. q_{A-1}, the prefix stays causal, the queries
// see the whole prefix and each other, and the hidden state at q_j predicts
// a_j, so one forward pass yields the whole chunk (chunk * actionDim tokens).
// head: 'l1' (needs 'parallel') swaps the bin logits for one continuous value
// per token in [-1, 1] (the value normalized by its bounds) from a small MLP,
// trained with L1 as in OFT; 'tokens' keeps the 256-bin cross-entropy head.
//
// decoding: 'dimwise' is parallel across the chunk's K steps and
// autoregressive across the D dimensions of a step. A parallel decoder
// predicts every dimension independently, so where "descend" and "hold" are
// both likely near alignment, dz cannot follow dx, dy and the point estimate
// freezes the policy short of the object (results/learning, Session 12); the
// autoregressive decoder decodes dz after dx, dy and does not. The tail is D
// groups of K slots, group-major: slot (k, d) is fed the token of dimension
// d-1 at step k (group 0: nothing) and predicts token (k, d); attention is
// block-causal, so group d sees the prefix, the groups before it and itself,
// i.e. dimensions < d of every step. One teacher-forced pass in training, D
// KV-cached passes of K positions each at inference (vs K*D autoregressive).
import * as tf from '@tensorflow/tfjs';
import { Module, bmm, embed, gelu, layerNorm, linear, mulberry32, normal, ones, zeros } from '../backbones/nn.ts';
import { type BlockParams, type KV, addBlock, block, blockFlops, blockParamCount } from '../backbones/transformer.ts';

export type GptConfig = {
  /** Transformer blocks. */
  nLayer: number;
  /** Attention heads. */
  nHead: number;
  /** Model width C. */
  nEmbd: number;
  /** MLP hidden = mlpRatio * C (nanoGPT: 4). */
  mlpRatio: number;
  /** Bins per action dimension (output vocabulary). */
  bins: number;
  /** Action dimensions per step. */
  actionDim: number;
  /** Action steps predicted per call (A = chunk * actionDim tokens). */
  chunk: number;
  /** Maximum prefix length (vision + language + proprio tokens). */
  maxPrefix: number;
  /** Width of incoming vision tokens (0 = no vision input). */
  visionDim: number;
  /** Width of incoming language tokens (0 = no language input). */
  textDim: number;
  /** Proprioceptive state size (0 = no proprio token). */
  proprioDim: number;
  /** Residual / attention dropout rate in training. */
  dropout: number;
  /**
   * Width of an auxiliary regression head on the last prefix position (0 =
   * none). Training-only: it lets behavior cloning add a supervised target
   * read from the whole prefix (policies/policy.ts auxDim).
   */
  auxDim: number;
  /**
   * Pointer targets (0 = no pointer head). With P > 0, training can add a
   * pointer loss: P queries from the last prefix state attend over each
   * camera's vision positions, and their softmax is matched to where the
   * targets are (policies/spatialAux.ts; training only, like auxDim).
   */
  pointerTargets: number;
  /**
   * Initialization of the token embeddings ('normal' = N(0, 0.02) per row;
   * 'sincos' = a sinusoidal code of the bin index, RMS 0.02). With 'sincos'
   * neighbouring bins start with similar embeddings and the value is
   * linearly readable from the first step: a decoder that conditions on
   * tokens it emitted (plan tokens, earlier action dimensions) does not have
   * to learn the order of 256 bins one embedding row at a time.
   */
  valueEmbedInit: 'normal' | 'sincos';
  /**
   * 'autoregressive' (one token per pass, KV-cached), 'parallel' (all A
   * tokens in one pass from learned queries) or 'dimwise' (the K steps in
   * parallel, their D dimensions one after another: D passes).
   */
  decoding: GptDecoding;
  /** 'tokens' (bin logits, cross-entropy) or 'l1' (continuous value per token, L1 loss; needs decoding 'parallel'). */
  head: GptHead;
  /** Seed for weight initialization. */
  seed: number;
};

export const GPT_DEFAULTS: GptConfig = {
  nLayer: 2,
  nHead: 4,
  nEmbd: 128,
  mlpRatio: 4,
  bins: 256,
  actionDim: 6,
  chunk: 1,
  maxPrefix: 64,
  visionDim: 0,
  textDim: 0,
  proprioDim: 0,
  dropout: 0,
  auxDim: 0,
  pointerTargets: 0,
  valueEmbedInit: 'normal',
  decoding: 'autoregressive',
  head: 'tokens',
  seed: 0,
};

export const GPT_DECODINGS = ['autoregressive', 'parallel', 'dimwise'] as const;
export type GptDecoding = (typeof GPT_DECODINGS)[number];
export const GPT_HEADS = ['tokens', 'l1'] as const;
export type GptHead = (typeof GPT_HEADS)[number];

/**
 * [dims * bins, C] sinusoidal codes of the bin index i (the same for every
 * dimension; the position embedding tells dimensions apart):
 * [sin(i w_k), cos(i w_k)] with w_k = bins^(-k / (C/2)), from one radian per
 * bin (tells neighbours apart) down to ~1/bins (a smooth, near-monotone code
 * of the value), scaled to RMS `rms` like the other embeddings.
 */
export function sincosValueEmbed(dims: number, bins: number, C: number, rms: number): Float32Array {
  if (C % 2 !== 0) throw new Error(`sincosValueEmbed: width ${C} is odd`);
  const h = C / 2;
  const out = new Float32Array(dims * bins * C);
  const amp = rms * Math.SQRT2;
  for (let i = 0; i < bins; i++) {
    for (let k = 0; k < h; k++) {
      const w = Math.pow(bins, -k / h);
      out[i * C + k] = amp * Math.sin(i * w);
      out[i * C + h + k] = amp * Math.cos(i * w);
    }
  }
  for (let d = 1; d < dims; d++) out.copyWithin(d * bins * C, 0, bins * C);
  return out;
}

const SEG_VISION = 0;
const SEG_TEXT = 1;
const SEG_PROPRIO = 2;
const SEG_ACTION = 3;

/** Conditioning inputs (all owned by the caller). */
export interface GptPrefixInputs {
  vision?: tf.Tensor3D | null; // [B,Nv,Cv]
  text?: tf.Tensor3D | null; // [B,L,Dt]
  textMask?: tf.Tensor2D | null; // [B,L], 1 = token
  proprio?: tf.Tensor2D | null; // [B,P]
}

export interface Prefix {
  x: tf.Tensor3D; // [B,Tp,C] embedded prefix (positions / segments added)
  keyMask: tf.Tensor2D; // [B,Tp]
}

/** Auxiliary regression target for Gpt.loss (tensors owned by the caller). */
export interface AuxTarget {
  target: tf.Tensor2D; // [B,auxDim]
  mask: tf.Tensor2D; // [B,auxDim], 1 = supervised
  weight: number;
}

/** Pointer target for Gpt.loss (tensors owned by the caller). */
export interface PointerTarget {
  /** [B, K, P, N] distributions over each camera's N vision positions (cameras in prefix order). */
  target: tf.Tensor4D;
  /** [B, K, P], 1 = supervised. */
  mask: tf.Tensor3D;
  weight: number;
}

/** Greedy decoding's point estimates (DecodeOptions.point). */
export const POINT_ESTIMATES = ['argmax', 'median', 'mean'] as const;
export type PointEstimate = (typeof POINT_ESTIMATES)[number];

export function isPointEstimate(v: unknown): v is PointEstimate {
  return (POINT_ESTIMATES as readonly unknown[]).includes(v);
}

export interface DecodeOptions {
  /** 0 = greedy (a point estimate, see `point`); > 0 samples from softmax(logits / temperature). */
  temperature?: number;
  /**
   * Point estimate of a greedy decode: the most likely bin ('argmax'), or the
   * bin holding the distribution's median ('median'). They differ where the
   * distribution is wide and skewed, e.g. a spike at a clipped bound next to a
   * spread of smaller values: argmax takes the spike (full speed), the median
   * the middle of the mass. 'mean' takes the bin nearest the distribution's
   * expected value: where a parallel decoder is unsure between two modes
   * (e.g. "descend" vs "hold" when it cannot tell it is aligned), the median
   * picks the heavier mode and can freeze the policy at a fixed point, the
   * mean moves part of the way (results/learning).
   */
  point?: PointEstimate;
  /** Seed for sampling. */
  seed?: number;
  /** Use the KV cache (default true); false recomputes the full sequence each step. */
  useCache?: boolean;
}

export interface DecodeResult {
  /** Tokens [B][A] (head 'tokens'; empty rows for head 'l1'). */
  tokens: number[][];
  /** Head 'l1': the values [B][A] in [-1, 1] (clipped); null for head 'tokens'. */
  values: number[][] | null;
  /** Logits of every step, [B,A,bins] (head 'l1': the raw values [B,A,1]; owned by the caller). */
  logits: tf.Tensor3D;
}

/**
 * One token from a step's logits over `bins` bins: the argmax or median bin
 * when temperature is 0, else a sample from softmax(logits / temperature).
 */
export function pickBin(logits: ArrayLike<number>, bins: number, temperature: number, point: PointEstimate, rng: () => number): number {
  if (temperature <= 0 && point === 'argmax') {
    let best = 0;
    for (let i = 1; i < bins; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  const t = temperature > 0 ? temperature : 1;
  let m = -Infinity;
  for (let i = 0; i < bins; i++) m = Math.max(m, logits[i] / t);
  const p = new Float64Array(bins);
  let z = 0;
  for (let i = 0; i < bins; i++) z += p[i] = Math.exp(logits[i] / t - m);
  if (temperature <= 0 && point === 'mean') {
    let s = 0;
    for (let i = 0; i < bins; i++) s += p[i] * i;
    return Math.min(bins - 1, Math.max(0, Math.round(s / z)));
  }
  // Sampling draws r uniformly in [0, z); the median is the draw r = z / 2.
  let r = temperature > 0 ? rng() * z : z / 2;
  for (let i = 0; i < bins; i++) if ((r -= p[i]) <= 0) return i;
  return bins - 1;
}

export class Gpt extends Module {
  readonly config: GptConfig;
  private readonly visW: tf.Variable | null;
  private readonly visB: tf.Variable | null;
  private readonly txtW: tf.Variable | null;
  private readonly txtB: tf.Variable | null;
  private readonly propW: tf.Variable | null;
  private readonly propB: tf.Variable | null;
  private readonly wteAction: tf.Variable | null; // [actionDim * bins, C] (autoregressive, dimwise)
  private readonly actionQuery: tf.Variable | null; // [A, C] (parallel)
  private readonly wpe: tf.Variable; // [maxPrefix + A, C]
  private readonly wseg: tf.Variable; // [4, C]
  private readonly blocks: BlockParams[];
  private readonly lnG: tf.Variable;
  private readonly lnB: tf.Variable;
  private readonly headW: tf.Variable | null; // [C, bins] (head 'tokens')
  private readonly headB: tf.Variable | null; // [bins]
  private readonly l1: { w1: tf.Variable; b1: tf.Variable; w2: tf.Variable; b2: tf.Variable } | null; // head 'l1': C -> C -> 1
  private readonly auxW: tf.Variable | null; // [C, auxDim]
  private readonly auxB: tf.Variable | null;
  private readonly ptrW: tf.Variable | null; // [C, P * C]
  private readonly ptrB: tf.Variable | null;

  constructor(config: Partial<GptConfig> = {}) {
    const c = { ...GPT_DEFAULTS, ...config };
    super('gpt', c.seed);
    this.config = c;
    if (c.nEmbd % c.nHead !== 0) throw new Error(`Gpt: nEmbd ${c.nEmbd} not divisible by nHead ${c.nHead}`);
    if (!GPT_DECODINGS.includes(c.decoding)) throw new Error(`Gpt: decoding must be ${GPT_DECODINGS.join(' or ')}, got ${JSON.stringify(c.decoding)}`);
    if (!GPT_HEADS.includes(c.head)) throw new Error(`Gpt: head must be ${GPT_HEADS.join(' or ')}, got ${JSON.stringify(c.head)}`);
    if (c.head === 'l1' && c.decoding !== 'parallel') throw new Error(`Gpt: head 'l1' needs decoding 'parallel' (continuous values cannot be fed back as tokens)`);
    if (!(Number.isInteger(c.chunk) && c.chunk >= 1)) throw new Error(`Gpt: chunk must be an integer >= 1, got ${JSON.stringify(c.chunk)}`);
    const s = this.store;
    const C = c.nEmbd;
    const H = Math.round(C * c.mlpRatio);
    const std = 0.02;
    const lin = (key: string, inDim: number) =>
      inDim > 0 ? [s.add(`${key}.w`, [inDim, C], normal(std)), s.add(`${key}.b`, [C], zeros)] : [null, null];
    [this.visW, this.visB] = lin('vision_proj', c.visionDim);
    [this.txtW, this.txtB] = lin('text_proj', c.textDim);
    [this.propW, this.propB] = lin('proprio_proj', c.proprioDim);
    const parallel = c.decoding === 'parallel';
    this.wteAction = parallel ? null : s.add('wte_action', [c.actionDim * c.bins, C], c.valueEmbedInit === 'sincos' ? { kind: 'values', values: sincosValueEmbed(c.actionDim, c.bins, C, std) } : normal(std));
    this.actionQuery = parallel ? s.add('action_query', [c.chunk * c.actionDim, C], normal(std)) : null;
    this.wpe = s.add('wpe', [c.maxPrefix + this.numActionTokens, C], normal(std));
    this.wseg = s.add('wseg', [4, C], normal(std));
    // nanoGPT: residual projections get std 0.02 / sqrt(2 * nLayer)
    const init = { std, residStd: std / Math.sqrt(2 * c.nLayer) };
    this.blocks = Array.from({ length: c.nLayer }, (_, i) => addBlock(s, `h.${i}`, C, H, init));
    this.lnG = s.add('ln_f.g', [C], ones);
    this.lnB = s.add('ln_f.b', [C], zeros);
    const l1 = c.head === 'l1';
    this.headW = l1 ? null : s.add('lm_head.w', [C, c.bins], normal(std));
    this.headB = l1 ? null : s.add('lm_head.b', [c.bins], zeros);
    this.l1 = l1 ? { w1: s.add('l1_head.fc1.w', [C, C], normal(std)), b1: s.add('l1_head.fc1.b', [C], zeros), w2: s.add('l1_head.fc2.w', [C, 1], normal(std)), b2: s.add('l1_head.fc2.b', [1], zeros) } : null;
    this.auxW = c.auxDim > 0 ? s.add('aux_head.w', [C, c.auxDim], normal(std)) : null;
    this.auxB = c.auxDim > 0 ? s.add('aux_head.b', [c.auxDim], zeros) : null;
    this.ptrW = c.pointerTargets > 0 ? s.add('pointer_head.w', [C, c.pointerTargets * C], normal(std)) : null;
    this.ptrB = c.pointerTargets > 0 ? s.add('pointer_head.b', [c.pointerTargets * C], zeros) : null;
  }

  /** A = chunk * actionDim. */
  get numActionTokens(): number {
    return this.config.chunk * this.config.actionDim;
  }

  static countParams(config: Partial<GptConfig> = {}): number {
    const c = { ...GPT_DEFAULTS, ...config };
    const C = c.nEmbd;
    const H = Math.round(C * c.mlpRatio);
    const lin = (d: number) => (d > 0 ? d * C + C : 0);
    const A = c.chunk * c.actionDim;
    const input = c.decoding === 'parallel' ? A * C : c.actionDim * c.bins * C; // queries or the token table
    const head = c.head === 'l1' ? C * C + C + C + 1 : C * c.bins + c.bins;
    return (
      lin(c.visionDim) + lin(c.textDim) + lin(c.proprioDim) +
      input + (c.maxPrefix + A) * C + 4 * C +
      c.nLayer * blockParamCount(C, H) + 2 * C + head + (c.auxDim > 0 ? C * c.auxDim + c.auxDim : 0) +
      (c.pointerTargets > 0 ? (C + 1) * c.pointerTargets * C : 0)
    );
  }

  /** 2 x multiply-adds of a teacher-forced forward with a Tp-token prefix (input projections included). */
  flops(prefixLen: number, inputs: { vision?: [number, number]; textLen?: number } = {}): number {
    const c = this.config;
    const C = c.nEmbd;
    const T = prefixLen + this.numActionTokens - (c.decoding === 'autoregressive' ? 1 : 0);
    let f = c.nLayer * blockFlops(T, C, Math.round(C * c.mlpRatio));
    f += c.head === 'l1' ? 2 * this.numActionTokens * (C * C + C) : 2 * this.numActionTokens * C * c.bins;
    if (inputs.vision) f += 2 * inputs.vision[0] * inputs.vision[1] * C;
    if (inputs.textLen) f += 2 * inputs.textLen * c.textDim * C;
    if (c.proprioDim) f += 2 * c.proprioDim * C;
    return f;
  }

  private segment(i: number): tf.Tensor {
    return this.wseg.slice([i, 0], [1, this.config.nEmbd]); // [4,C] -> [1,C]
  }

  /** Embed the conditioning prefix: [B,Tp,C] with positions 0..Tp-1, and its key mask. */
  embedPrefix(inp: GptPrefixInputs): Prefix {
    return tf.tidy(() => {
      const c = this.config;
      const parts: tf.Tensor3D[] = [];
      const masks: tf.Tensor2D[] = [];
      let B = -1;
      if (inp.vision) {
        if (!this.visW) throw new Error('Gpt: vision tokens given but visionDim = 0');
        B = inp.vision.shape[0];
        parts.push(linear(inp.vision, this.visW, this.visB).add(this.segment(SEG_VISION)) as tf.Tensor3D); // [B,Nv,Cv] -> [B,Nv,C]
        masks.push(tf.ones([B, inp.vision.shape[1]]));
      }
      if (inp.text) {
        if (!this.txtW) throw new Error('Gpt: text tokens given but textDim = 0');
        B = inp.text.shape[0];
        parts.push(linear(inp.text, this.txtW, this.txtB).add(this.segment(SEG_TEXT)) as tf.Tensor3D); // [B,L,Dt] -> [B,L,C]
        masks.push(inp.textMask ? inp.textMask.toFloat() : tf.ones([B, inp.text.shape[1]]));
      }
      if (inp.proprio) {
        if (!this.propW) throw new Error('Gpt: proprio given but proprioDim = 0');
        B = inp.proprio.shape[0];
        const p = linear(inp.proprio, this.propW, this.propB).add(this.segment(SEG_PROPRIO)); // [B,P] -> [B,C]
        parts.push(p.reshape([B, 1, c.nEmbd]) as tf.Tensor3D); // [B,C] -> [B,1,C]
        masks.push(tf.ones([B, 1]));
      }
      if (parts.length === 0) throw new Error('Gpt: empty prefix');
      const x = tf.concat(parts, 1) as tf.Tensor3D; // -> [B,Tp,C]
      const Tp = x.shape[1];
      if (Tp > c.maxPrefix) throw new Error(`Gpt: prefix length ${Tp} > maxPrefix ${c.maxPrefix}`);
      return {
        x: x.add(this.wpe.slice([0, 0], [Tp, c.nEmbd])) as tf.Tensor3D,
        keyMask: tf.concat(masks, 1) as tf.Tensor2D,
      } as unknown as tf.TensorContainer;
    }) as unknown as Prefix;
  }

  /** Embed action tokens tokens[:, j] placed at action index start+j (sequence position Tp+start+j). */
  embedActions(tokens: tf.Tensor2D, start: number, Tp: number): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const [B, n] = tokens.shape;
      const offs = tf.tensor2d(
        Array.from({ length: n }, (_, j) => ((start + j) % c.actionDim) * c.bins),
        [1, n],
        'int32',
      );
      if (!this.wteAction) throw new Error('Gpt: parallel decoding feeds no action tokens');
      const ids = tokens.toInt().add(offs); // row of dimension d: d * bins + token
      const e = embed(this.wteAction, ids); // [B,n] -> [B,n,C]
      const pos = this.wpe.slice([Tp + start, 0], [n, c.nEmbd]);
      return e.add(pos).add(this.segment(SEG_ACTION)).reshape([B, n, c.nEmbd]) as tf.Tensor3D; // [B,n,C] (static rank)
    });
  }

  /** Run the blocks on x [B,T,C]; returns final-normed hidden states and the new caches. */
  private run(x: tf.Tensor3D, keyMask: tf.Tensor2D, past: KV[] | null, training: boolean, bidirectionalTail = 0, tailBlock = bidirectionalTail): { h: tf.Tensor3D; present: KV[] } {
    const c = this.config;
    const present: KV[] = [];
    let h = x;
    this.blocks.forEach((b, i) => {
      const r = block(h, b, { nHead: c.nHead, eps: 1e-5, gelu: 'tanh', causal: true, bidirectionalTail, tailBlock, keyMask, past: past ? past[i] : null });
      h = training && c.dropout > 0 ? (tf.dropout(r.x, c.dropout) as tf.Tensor3D) : r.x;
      present.push(r.present);
    });
    return { h: layerNorm(h, this.lnG, this.lnB, 1e-5) as tf.Tensor3D, present };
  }

  private logitsOf(h: tf.Tensor3D): tf.Tensor3D {
    if (!this.headW) throw new Error(`Gpt: head '${this.config.head}' has no bin logits`);
    return linear(h, this.headW, this.headB) as tf.Tensor3D; // [B,n,C] -> [B,n,bins]
  }

  /** Head 'l1': continuous values [B,n] (unclipped) from the hidden states [B,n,C]. */
  private valuesOf(h: tf.Tensor3D): tf.Tensor2D {
    if (!this.l1) throw new Error(`Gpt: head '${this.config.head}' has no continuous output`);
    const [B, n] = h.shape;
    const z = gelu(linear(h, this.l1.w1, this.l1.b1), 'tanh'); // [B,n,C] -> [B,n,C]
    return linear(z, this.l1.w2, this.l1.b2).reshape([B, n]) as tf.Tensor2D; // [B,n,1] -> [B,n]
  }

  /** Parallel decoding: the A query positions [B,A,C] placed after a Tp-token prefix. */
  private queries(B: number, Tp: number): tf.Tensor3D {
    const c = this.config;
    const A = this.numActionTokens;
    const q = this.actionQuery!.add(this.wpe.slice([Tp, 0], [A, c.nEmbd])).add(this.segment(SEG_ACTION)); // [A,C]
    return tf.tile(q.reshape([1, A, c.nEmbd]), [B, 1, 1]) as tf.Tensor3D; // [A,C] -> [1,A,C] -> [B,A,C]
  }

  /** Parallel decoding: hidden states of one pass over prefix | queries; the queries see each other. */
  private parallelPass(inp: GptPrefixInputs, training: boolean): { hA: tf.Tensor3D; hLast: tf.Tensor2D; hVision: tf.Tensor3D | null } {
    const A = this.numActionTokens;
    const C = this.config.nEmbd;
    const pre = this.embedPrefix(inp);
    const [B, Tp] = pre.x.shape;
    const x = tf.concat([pre.x, this.queries(B, Tp)], 1) as tf.Tensor3D; // [B,Tp+A,C]
    const mask = tf.concat([pre.keyMask, tf.ones([B, A])], 1) as tf.Tensor2D;
    const { h } = this.run(x, mask, null, training, A);
    const Nv = inp.vision ? inp.vision.shape[1] : 0;
    return {
      hA: h.slice([0, Tp, 0], [B, A, C]) as tf.Tensor3D, // the query positions
      hLast: h.slice([0, Tp - 1, 0], [B, 1, C]).reshape([B, C]) as tf.Tensor2D, // [B,1,C] -> [B,C]
      hVision: Nv > 0 ? (h.slice([0, 0, 0], [B, Nv, C]) as tf.Tensor3D) : null,
    };
  }

  /**
   * Teacher-forced hidden states at the A predicting positions [B,A,C], at
   * the last prefix position [B,C], and at the vision positions [B,Nv,C].
   */
  private teacherForced(inp: GptPrefixInputs, actionTokens: tf.Tensor2D, training: boolean): { hA: tf.Tensor3D; hLast: tf.Tensor2D; hVision: tf.Tensor3D | null } {
    const A = this.numActionTokens;
    const [B, n] = actionTokens.shape;
    if (n !== A) throw new Error(`Gpt: expected ${A} action tokens, got ${n}`);
    if (this.config.decoding === 'parallel') return this.parallelPass(inp, training); // nothing is fed back
    if (this.config.decoding === 'dimwise') return this.dimwiseTeacherForced(inp, actionTokens, training);
    const C = this.config.nEmbd;
    const pre = this.embedPrefix(inp);
    const Tp = pre.x.shape[1];
    let x = pre.x;
    let mask = pre.keyMask;
    if (A > 1) {
      const fed = actionTokens.slice([0, 0], [B, A - 1]) as tf.Tensor2D; // a_0 .. a_{A-2}
      x = tf.concat([x, this.embedActions(fed, 0, Tp)], 1) as tf.Tensor3D; // [B,Tp+A-1,C]
      mask = tf.concat([mask, tf.ones([B, A - 1])], 1) as tf.Tensor2D;
    }
    const { h } = this.run(x, mask, null, training);
    const hA = h.slice([0, Tp - 1, 0], [B, A, C]) as tf.Tensor3D; // positions Tp-1 .. Tp+A-2
    const hLast = h.slice([0, Tp - 1, 0], [B, 1, C]).reshape([B, C]) as tf.Tensor2D; // [B,1,C] -> [B,C]
    const Nv = inp.vision ? inp.vision.shape[1] : 0;
    const hVision = Nv > 0 ? (h.slice([0, 0, 0], [B, Nv, C]) as tf.Tensor3D) : null; // vision tokens come first in the prefix
    return { hA, hLast, hVision };
  }

  /**
   * Teacher-forced logits for every action token: [B, A, bins].
   * actionTokens [B, A] int; the last token is not fed (nothing to predict after it).
   */
  forward(inp: GptPrefixInputs, actionTokens: tf.Tensor2D, training = false): tf.Tensor3D {
    return tf.tidy(() => this.logitsOf(this.teacherForced(inp, actionTokens, training).hA));
  }

  /** Head 'l1': the predicted values [B, A] (unclipped; parallel pass, owned by the caller). */
  forwardValues(inp: GptPrefixInputs, training = false): tf.Tensor2D {
    return tf.tidy(() => this.valuesOf(this.parallelPass(inp, training).hA));
  }

  /**
   * Head 'tokens': mean cross-entropy over the action-token positions
   * (`target` = tokens [B, A] int). Head 'l1': mean |value - target| over
   * them (`target` = values [B, A] in [-1, 1], float). With `aux`
   * (needs auxDim > 0) plus aux.weight x the masked mean squared error of the
   * auxiliary head against aux.target ([B, auxDim], mask 0 = no target).
   */
  loss(inp: GptPrefixInputs, target: tf.Tensor2D, training = true, aux: AuxTarget | null = null, pointer: PointerTarget | null = null): tf.Scalar {
    return tf.tidy(() => {
      const { hA, hLast, hVision } = this.teacherForced(inp, target, training);
      let total: tf.Scalar;
      if (this.config.head === 'l1') {
        total = this.valuesOf(hA).sub(target.toFloat()).abs().mean() as tf.Scalar; // [B,A]
      } else {
        const logp = tf.logSoftmax(this.logitsOf(hA), -1); // [B,A,bins]
        const onehot = tf.oneHot(target.toInt(), this.config.bins).toFloat(); // [B,A] -> [B,A,bins]
        total = logp.mul(onehot).sum(-1).mean().neg() as tf.Scalar;
      }
      if (aux && aux.weight !== 0) {
        if (!this.auxW) throw new Error('Gpt: auxiliary target given but auxDim = 0');
        const pred = linear(hLast, this.auxW, this.auxB); // [B,C] -> [B,auxDim]
        const se = pred.sub(aux.target).square().mul(aux.mask).sum();
        total = total.add(se.div(aux.mask.sum().maximum(1)).mul(aux.weight));
      }
      if (pointer && pointer.weight !== 0) {
        if (!hVision) throw new Error('Gpt: pointer target given but the prefix has no vision tokens');
        const logits = this.pointerLogits(hLast, hVision, pointer.target.shape[1]); // [B,K,P,N]
        const ce = tf.logSoftmax(logits, -1).mul(pointer.target).sum(-1).neg(); // [B,K,P]
        total = total.add(ce.mul(pointer.mask).sum().div(pointer.mask.sum().maximum(1)).mul(pointer.weight));
      }
      return total as tf.Scalar;
    });
  }

  /**
   * Pointer logits [B,K,P,N]: P queries from the last prefix state against
   * the final hidden states of each camera's N vision positions (scaled dot
   * product; the vision prefix is K cameras x N tokens, camera-major).
   */
  pointerLogits(hLast: tf.Tensor2D, hVision: tf.Tensor3D, cameras: number): tf.Tensor4D {
    if (!this.ptrW) throw new Error('Gpt: no pointer head (pointerTargets = 0)');
    const [B, Nv, C] = hVision.shape;
    const P = this.config.pointerTargets;
    if (Nv % cameras !== 0) throw new Error(`Gpt: ${Nv} vision tokens do not split into ${cameras} cameras`);
    const N = Nv / cameras;
    const q = linear(hLast, this.ptrW, this.ptrB).reshape([B, P, C]); // [B,C] -> [B,P*C] -> [B,P,C]
    const logits = bmm(q, hVision, false, true).div(Math.sqrt(C)); // [B,P,C] @ [B,C,Nv] -> [B,P,Nv]
    return logits.reshape([B, P, cameras, N]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B,P,K,N] -> [B,K,P,N]
  }

  /** Pointer logits [B,K,P,N] for a prefix alone (validation / analysis; owned by the caller). */
  prefixPointerLogits(inp: GptPrefixInputs, cameras: number): tf.Tensor4D {
    return tf.tidy(() => {
      const pre = this.embedPrefix(inp);
      const { h } = this.run(pre.x, pre.keyMask, null, false);
      const [B, T, C] = h.shape;
      const Nv = inp.vision ? inp.vision.shape[1] : 0;
      if (Nv === 0) throw new Error('Gpt: pointer logits need vision tokens in the prefix');
      const hLast = h.slice([0, T - 1, 0], [B, 1, C]).reshape([B, C]) as tf.Tensor2D; // [B,1,C] -> [B,C]
      return this.pointerLogits(hLast, h.slice([0, 0, 0], [B, Nv, C]) as tf.Tensor3D, cameras);
    });
  }

  /** Auxiliary head output [B, auxDim] for a prefix (analysis / tests; owned by the caller). */
  predictAux(inp: GptPrefixInputs): tf.Tensor2D {
    if (!this.auxW) throw new Error('Gpt: no auxiliary head (auxDim = 0)');
    return tf.tidy(() => {
      const pre = this.embedPrefix(inp);
      const { h } = this.run(pre.x, pre.keyMask, null, false);
      const [B, T, C] = h.shape;
      return linear(h.slice([0, T - 1, 0], [B, 1, C]).reshape([B, C]), this.auxW!, this.auxB) as tf.Tensor2D; // [B,1,C] -> [B,auxDim]
    });
  }

  /**
   * Dimwise: the K slots of dimension group d [B,K,C]: slot k sits at the
   * position row of step-major token k*D + d and is fed `prev` [B,K] (the
   * tokens of dimension d-1; null for group 0).
   */
  private dimGroup(prev: tf.Tensor2D | null, d: number, B: number, Tp: number): tf.Tensor3D {
    return tf.tidy(() => {
      const c = this.config;
      const K = c.chunk;
      const rows = tf.tensor1d(Array.from({ length: K }, (_, k) => Tp + k * c.actionDim + d), 'int32');
      let x = tf.gather(this.wpe, rows).add(this.segment(SEG_ACTION)).reshape([1, K, c.nEmbd]); // [K,C] -> [1,K,C]
      if (prev) x = x.add(embed(this.wteAction!, prev.toInt().add((d - 1) * c.bins))); // + [B,K] -> [B,K,C]
      return tf.tile(x, [prev ? 1 : B, 1, 1]) as tf.Tensor3D; // -> [B,K,C]
    });
  }

  /** Dimwise, teacher forced: one block-causal pass over prefix | D groups of K slots; hidden states step-major. */
  private dimwiseTeacherForced(inp: GptPrefixInputs, actionTokens: tf.Tensor2D, training: boolean): { hA: tf.Tensor3D; hLast: tf.Tensor2D; hVision: tf.Tensor3D | null } {
    const c = this.config;
    const [K, D, C, A] = [c.chunk, c.actionDim, c.nEmbd, this.numActionTokens];
    const pre = this.embedPrefix(inp);
    const [B, Tp] = pre.x.shape;
    const byDim = actionTokens.reshape([B, K, D]).transpose([2, 0, 1]); // [B,A] -> [B,K,D] -> [D,B,K]
    const groups = Array.from({ length: D }, (_, d) => this.dimGroup(d > 0 ? (byDim.slice([d - 1, 0, 0], [1, B, K]).reshape([B, K]) as tf.Tensor2D) : null, d, B, Tp)); // D x [B,K,C]
    const x = tf.concat([pre.x, ...groups], 1) as tf.Tensor3D; // [B,Tp+A,C]
    const mask = tf.concat([pre.keyMask, tf.ones([B, A])], 1) as tf.Tensor2D;
    const { h } = this.run(x, mask, null, training, A, K);
    const tail = h.slice([0, Tp, 0], [B, A, C]).reshape([B, D, K, C]).transpose([0, 2, 1, 3]).reshape([B, A, C]); // group-major [B,D*K,C] -> [B,D,K,C] -> [B,K,D,C] -> step-major [B,A,C]
    const Nv = inp.vision ? inp.vision.shape[1] : 0;
    return {
      hA: tail as tf.Tensor3D,
      hLast: h.slice([0, Tp - 1, 0], [B, 1, C]).reshape([B, C]) as tf.Tensor2D, // [B,1,C] -> [B,C]
      hVision: Nv > 0 ? (h.slice([0, 0, 0], [B, Nv, C]) as tf.Tensor3D) : null,
    };
  }

  /** Dimwise decoding: D KV-cached passes, pass d decodes dimension d of all K steps at once. */
  private decodeDimwise(inp: GptPrefixInputs, temperature: number, point: PointEstimate, rng: () => number): DecodeResult {
    const c = this.config;
    const [K, D] = [c.chunk, c.actionDim];
    const pre = this.embedPrefix(inp);
    const [B, Tp] = pre.x.shape;
    const tokens: number[][] = Array.from({ length: B }, () => new Array<number>(K * D).fill(0));
    const groupLogits: tf.Tensor3D[] = []; // D x [B,K,bins]
    let cache: KV[] | null = null;
    try {
      for (let d = 0; d < D; d++) {
        const res = tf.tidy(() => {
          const prev = d > 0 ? tf.tensor2d(tokens.map((t) => Array.from({ length: K }, (_, k) => t[k * D + d - 1])), [B, K], 'int32') : null;
          const g = this.dimGroup(prev, d, B, Tp);
          const x = d === 0 ? (tf.concat([pre.x, g], 1) as tf.Tensor3D) : g; // [B,Tp+K,C] | [B,K,C]
          const mask = tf.concat([pre.keyMask, tf.ones([B, (d + 1) * K])], 1) as tf.Tensor2D;
          const { h, present } = this.run(x, mask, cache, false, K);
          const T = h.shape[1];
          return { logits: this.logitsOf(h.slice([0, T - K, 0], [B, K, c.nEmbd]) as tf.Tensor3D), present } as unknown as tf.TensorContainer; // [B,K,bins]
        }) as unknown as { logits: tf.Tensor3D; present: KV[] };
        if (cache) for (const kv of cache) tf.dispose([kv.k, kv.v]);
        cache = res.present;
        groupLogits.push(res.logits);
        const data = res.logits.dataSync() as Float32Array;
        for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) tokens[b][k * D + d] = pickBin(data.subarray((b * K + k) * c.bins, (b * K + k + 1) * c.bins), c.bins, temperature, point, rng);
      }
      const logits = tf.tidy(() => tf.stack(groupLogits, 2).reshape([B, K * D, c.bins]) as tf.Tensor3D); // D x [B,K,bins] -> [B,K,D,bins] -> [B,A,bins]
      return { tokens, values: null, logits };
    } finally {
      if (cache) for (const kv of cache as KV[]) tf.dispose([kv.k, kv.v]);
      tf.dispose(groupLogits);
      tf.dispose([pre.x, pre.keyMask]);
    }
  }

  /** Parallel decoding: the whole chunk from one forward pass. */
  private decodeParallel(inp: GptPrefixInputs, temperature: number, point: PointEstimate, rng: () => number): DecodeResult {
    const c = this.config;
    const A = this.numActionTokens;
    if (c.head === 'l1') {
      const out = tf.tidy(() => this.forwardValues(inp, false).expandDims(2) as tf.Tensor3D); // [B,A] -> [B,A,1]
      const v = out.dataSync();
      const B = out.shape[0];
      const values = Array.from({ length: B }, (_, b) => Array.from(v.subarray(b * A, (b + 1) * A), (x) => Math.max(-1, Math.min(1, x))));
      return { tokens: Array.from({ length: B }, () => []), values, logits: out };
    }
    const logits = tf.tidy(() => this.logitsOf(this.parallelPass(inp, false).hA)); // [B,A,bins]
    const data = logits.dataSync() as Float32Array;
    const B = logits.shape[0];
    const tokens = Array.from({ length: B }, (_, b) => Array.from({ length: A }, (_, j) => pickBin(data.subarray((b * A + j) * c.bins, (b * A + j + 1) * c.bins), c.bins, temperature, point, rng)));
    return { tokens, values: null, logits };
  }

  /** Decoding of the A action tokens: autoregressive (KV-cached), in one pass ('parallel') or in D passes ('dimwise'). */
  decode(inp: GptPrefixInputs, opts: DecodeOptions = {}): DecodeResult {
    const c = this.config;
    const A = this.numActionTokens;
    const temperature = opts.temperature ?? 0;
    const point = opts.point ?? 'argmax';
    const rng = mulberry32(opts.seed ?? 0);
    if (c.decoding === 'parallel') return this.decodeParallel(inp, temperature, point, rng);
    if (c.decoding === 'dimwise') return this.decodeDimwise(inp, temperature, point, rng);
    const useCache = opts.useCache ?? true;
    const pre = this.embedPrefix(inp);
    const B = pre.x.shape[0];
    const Tp = pre.x.shape[1];
    const tokens: number[][] = Array.from({ length: B }, () => []);
    const stepLogits: tf.Tensor2D[] = [];
    let cache: KV[] | null = null;
    const choose = (last: tf.Tensor2D) => {
      const data = last.dataSync() as Float32Array;
      for (let b = 0; b < B; b++) tokens[b].push(pickBin(data.subarray(b * c.bins, (b + 1) * c.bins), c.bins, temperature, point, rng));
    };
    try {
      for (let j = 0; j < A; j++) {
        const res = tf.tidy(() => {
          let x: tf.Tensor3D;
          let mask: tf.Tensor2D;
          let past: KV[] | null = null;
          if (j === 0) {
            x = pre.x;
            mask = pre.keyMask;
          } else if (useCache) {
            const prev = tf.tensor2d(tokens.map((t) => [t[j - 1]]), [B, 1], 'int32');
            x = this.embedActions(prev, j - 1, Tp); // [B,1,C]
            mask = tf.concat([pre.keyMask, tf.ones([B, j])], 1) as tf.Tensor2D;
            past = cache;
          } else {
            const fed = tf.tensor2d(tokens.map((t) => t.slice(0, j)), [B, j], 'int32');
            x = tf.concat([pre.x, this.embedActions(fed, 0, Tp)], 1) as tf.Tensor3D;
            mask = tf.concat([pre.keyMask, tf.ones([B, j])], 1) as tf.Tensor2D;
          }
          const { h, present } = this.run(x, mask, past, false);
          const T = h.shape[1];
          const last = this.logitsOf(h.slice([0, T - 1, 0], [B, 1, c.nEmbd]) as tf.Tensor3D).reshape([B, c.bins]) as tf.Tensor2D; // [B,1,bins] -> [B,bins]
          return { last, present: useCache ? present : [] } as unknown as tf.TensorContainer;
        }) as unknown as { last: tf.Tensor2D; present: KV[] };
        if (cache) for (const kv of cache) tf.dispose([kv.k, kv.v]);
        cache = useCache ? res.present : null;
        if (!useCache) for (const kv of res.present) tf.dispose([kv.k, kv.v]);
        stepLogits.push(res.last);
        choose(res.last);
      }
      const logits = tf.tidy(() => tf.stack(stepLogits, 1) as tf.Tensor3D); // A x [B,bins] -> [B,A,bins]
      return { tokens, values: null, logits };
    } finally {
      if (cache) for (const kv of cache as KV[]) tf.dispose([kv.k, kv.v]);
      tf.dispose(stepLogits);
      tf.dispose([pre.x, pre.keyMask]);
    }
  }
}
