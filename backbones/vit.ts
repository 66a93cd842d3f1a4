// Vision Transformer (Dosovitskiy et al., arXiv:2010.11929) in the timm layout,
// with the SigLIP (Zhai et al., arXiv:2303.15343) variant: no class token,
// attention-pool ("MAP") head, tanh-GELU — the vision tower OpenVLA
// (arXiv:2406.09246) fuses with DINOv2.
//   patch embedding: non-overlapping p x p patches -> linear (== conv, stride p)
//   + learned position embeddings, resized (posEmbed.ts: bilinear, or bicubic
//     as timm / HF / torchvision) when the input grid differs from the pretraining grid
//   [+ class token]
//   depth x pre-norm transformer blocks, final LayerNorm
//   pooled = class token | mean of patch tokens ('gap') | attention pool ('map')
//   tokens = the patch tokens [B, N, C] (optionally TokenLearner-reduced).
import * as tf from '@tensorflow/tfjs';
import { type FilmParams, addFilm, checkTextDim, film, filmParamCount } from './film.ts';
import { type GeluKind, Module, appendCoords, bmm, gelu, layerNorm, linear, mm, normal, normalizeImages, ones, truncNormal, zeros } from './nn.ts';
import { BILINEAR, type ResizeMethod, interpolatePosEmbed } from './posEmbed.ts';
import { type BackboneOutput, type ForwardOptions, type VisionBackbone, register } from './registry.ts';
import {
  type TokenLearnerConfig,
  type TokenLearnerParams,
  addTokenLearner,
  tokenLearner,
  tokenLearnerFlops,
  tokenLearnerParamCount,
} from './tokenlearner.ts';
import { type BlockParams, addBlock, block, blockFlops, blockParamCount } from './transformer.ts';

export type ViTConfig = {
  /** Pretraining resolution (square); the position-embedding grid is imgSize / patchSize. */
  imgSize: number;
  /** Patch size p (the patch embedding is a p x p conv with stride p). */
  patchSize: number;
  /** Token width C. */
  dim: number;
  /** Number of transformer blocks. */
  depth: number;
  /** Attention heads (dim must be divisible). */
  heads: number;
  /** MLP hidden width = mlpRatio * dim. */
  mlpRatio: number;
  /** Prepend a learned class token (timm ViT); SigLIP has none. */
  classToken: boolean;
  /** Pooled output: class token, global average of patch tokens, or attention pool (SigLIP). */
  pool: 'token' | 'gap' | 'map';
  /** LayerNorm epsilon (timm / SigLIP: 1e-6). */
  lnEps: number;
  /** GELU flavour: exact 'erf' (timm ViT) or 'tanh' (SigLIP). */
  gelu: GeluKind;
  /** Classifier classes on the pooled output (0 = none). */
  numClasses: number;
  /** If > 0: reduce the patch tokens to this many with TokenLearner (pooled is unaffected). */
  tokenLearnerTokens: number;
  /** Hidden width of the TokenLearner MLP. */
  tokenLearnerHidden: number;
  /**
   * FiLM (Perez et al., arXiv:1709.07871) after every transformer block,
   * conditioned on the instruction embedding and zero-initialized (identity
   * at the start), as RT-1 (arXiv:2212.06817) conditions its EfficientNet:
   * the instruction then shapes the patch features, so TokenLearner maps can
   * pick out the commanded object inside the vision tower.
   */
  film: boolean;
  /** Instruction-embedding width the FiLM layers read (set by the policy). */
  textDim: number;
  /**
   * Append each patch's (x, y) centre in [-1, 1] to its final token (C + 2
   * channels), so a TokenLearner token carries the centroid of its attention
   * map (spatial soft-argmax), as the EfficientNet's coordChannels.
   */
  coordChannels: boolean;
  /**
   * Initialization of the (learned) position embeddings: timm's truncated
   * normal (std 0.02), or 2-D sin-cos (MAE, arXiv:2111.06377) so patch tokens
   * carry their grid position from the first step, which speeds up learning
   * where-is-it tasks from few demos.
   */
  posEmbedInit: 'truncNormal' | 'sincos';
  /**
   * How the position embeddings are resized for an input whose patch grid
   * differs from imgSize / patchSize (posEmbed.ts). Presets: bilinear; a
   * checkpoint's library uses bicubic (conventionsFor, weights/conventions.ts).
   */
  posEmbedResize: ResizeMethod;
  /** Per-channel normalization applied to [0,1] RGB inside the backbone. */
  mean: number[];
  std: number[];
  /** Seed for weight initialization. */
  seed: number;
};

/**
 * 2-D sin-cos position embeddings [(cls) + g*g, C] (MAE get_2d_sincos_pos_embed):
 * the first C/2 channels encode the row, the last C/2 the column, each as
 * [sin(p * w_i), cos(p * w_i)] with w_i = 10000^(-i / (C/4)), i < C/4. The
 * class token's row is zero. C must be divisible by 4.
 */
export function sincosPosEmbed(g: number, C: number, classToken: boolean): Float32Array {
  if (C % 4 !== 0) throw new Error(`sincosPosEmbed: dim ${C} not divisible by 4`);
  const q = C / 4;
  const off = classToken ? 1 : 0;
  const out = new Float32Array((g * g + off) * C);
  for (let r = 0; r < g; r++) {
    for (let c = 0; c < g; c++) {
      const row = (off + r * g + c) * C;
      for (let i = 0; i < q; i++) {
        const w = Math.pow(10000, -i / q);
        out[row + i] = Math.sin(r * w);
        out[row + q + i] = Math.cos(r * w);
        out[row + 2 * q + i] = Math.sin(c * w);
        out[row + 3 * q + i] = Math.cos(c * w);
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Parameter accounting.

function mlpDimOf(cfg: ViTConfig): number {
  return Math.round(cfg.dim * cfg.mlpRatio);
}

function gridOf(cfg: ViTConfig): number {
  return Math.floor(cfg.imgSize / cfg.patchSize);
}

/** Width of the tokens handed on: C, + 2 with coordinate channels. */
function tokenDimOf(cfg: ViTConfig): number {
  return cfg.dim + (cfg.coordChannels ? 2 : 0);
}

function mapHeadParamCount(C: number, H: number): number {
  return C + (C * C + C) + (C * 2 * C + 2 * C) + (C * C + C) + 2 * C + (C * H + H) + (H * C + C);
}

function tlConfig(cfg: ViTConfig): TokenLearnerConfig {
  return { numTokens: cfg.tokenLearnerTokens, hidden: cfg.tokenLearnerHidden, attention: 'softmax' };
}

/** Analytic trainable parameter count (matches paramCount() of a built model). */
export function vitParamCount(cfg: ViTConfig): number {
  const C = cfg.dim;
  const H = mlpDimOf(cfg);
  const g = gridOf(cfg);
  const p = cfg.patchSize;
  let n = p * p * 3 * C + C; // patch embedding
  n += (g * g + (cfg.classToken ? 1 : 0)) * C; // position embeddings
  if (cfg.classToken) n += C;
  n += cfg.depth * blockParamCount(C, H);
  n += 2 * C; // final norm
  if (cfg.film) n += cfg.depth * filmParamCount(cfg.textDim, C);
  if (cfg.pool === 'map') n += mapHeadParamCount(C, H);
  if (cfg.tokenLearnerTokens > 0) n += tokenLearnerParamCount(tokenDimOf(cfg), tlConfig(cfg));
  if (cfg.numClasses > 0) n += tokenDimOf(cfg) * cfg.numClasses + cfg.numClasses;
  return n;
}

interface MapHeadParams {
  latent: tf.Variable; // [1, C] learned probe
  qW: tf.Variable; // [C, C]
  qB: tf.Variable;
  kvW: tf.Variable; // [C, 2C], columns k | v
  kvB: tf.Variable;
  projW: tf.Variable; // [C, C]
  projB: tf.Variable;
  normG: tf.Variable;
  normB: tf.Variable;
  fc1W: tf.Variable; // [C, H]
  fc1B: tf.Variable;
  fc2W: tf.Variable; // [H, C]
  fc2B: tf.Variable;
}

export class ViT extends Module implements VisionBackbone {
  readonly name: string;
  readonly config: ViTConfig;
  readonly outputDim: number;
  readonly textDim: number;
  private readonly patchW: tf.Variable; // [p*p*3, C], rows ordered (ph, pw, rgb)
  private readonly patchB: tf.Variable;
  private readonly pos: tf.Variable; // [(1 +) g*g, C]; row 0 is the class token's when classToken
  private readonly cls: tf.Variable | null; // [1, C]
  private readonly blocks: BlockParams[];
  private readonly films: FilmParams[]; // one per block when config.film
  private readonly normG: tf.Variable;
  private readonly normB: tf.Variable;
  private readonly map: MapHeadParams | null;
  private readonly tl: TokenLearnerParams | null;
  private readonly head: { w: tf.Variable; b: tf.Variable } | null;

  constructor(config: ViTConfig, name = 'vit') {
    if (config.dim % config.heads !== 0) throw new Error(`${name}: dim ${config.dim} not divisible by heads ${config.heads}`);
    if (config.pool === 'token' && !config.classToken) throw new Error(`${name}: pool 'token' needs classToken`);
    if (config.coordChannels && config.pool !== 'gap') throw new Error(`${name}: coordChannels needs pool 'gap' (pooled has the tokens' width), got '${config.pool}'`);
    if (config.film && !(config.textDim > 0)) throw new Error(`${name}: film needs textDim > 0, got ${config.textDim}`);
    super('vit', config.seed);
    this.name = name;
    this.config = config;
    this.outputDim = tokenDimOf(config);
    this.textDim = config.film ? config.textDim : 0;
    const C = config.dim;
    const H = mlpDimOf(config);
    const g = gridOf(config);
    const p = config.patchSize;
    const s = this.store;
    this.patchW = s.add('patch_embed.w', [p * p * 3, C], truncNormal(Math.sqrt(1 / (p * p * 3))));
    this.patchB = s.add('patch_embed.b', [C], zeros);
    this.cls = config.classToken ? s.add('cls_token', [1, C], normal(1e-6)) : null;
    const posInit = config.posEmbedInit === 'sincos' ? { kind: 'values' as const, values: sincosPosEmbed(g, C, config.classToken) } : truncNormal(0.02);
    this.pos = s.add('pos_embed', [g * g + (config.classToken ? 1 : 0), C], posInit);
    const init = { std: 0.02, residStd: 0.02 };
    this.blocks = Array.from({ length: config.depth }, (_, i) => addBlock(s, `blocks.${i}`, C, H, init));
    this.films = config.film ? this.blocks.map((_, i) => addFilm(s, `film.${i}`, config.textDim, C)) : [];
    this.normG = s.add('norm.g', [C], ones);
    this.normB = s.add('norm.b', [C], zeros);
    this.map =
      config.pool === 'map'
        ? {
            latent: s.add('map.latent', [1, C], truncNormal(Math.sqrt(1 / C))),
            qW: s.add('map.q.w', [C, C], truncNormal(0.02)),
            qB: s.add('map.q.b', [C], zeros),
            kvW: s.add('map.kv.w', [C, 2 * C], truncNormal(0.02)),
            kvB: s.add('map.kv.b', [2 * C], zeros),
            projW: s.add('map.proj.w', [C, C], truncNormal(0.02)),
            projB: s.add('map.proj.b', [C], zeros),
            normG: s.add('map.norm.g', [C], ones),
            normB: s.add('map.norm.b', [C], zeros),
            fc1W: s.add('map.mlp.fc1.w', [C, H], truncNormal(0.02)),
            fc1B: s.add('map.mlp.fc1.b', [H], zeros),
            fc2W: s.add('map.mlp.fc2.w', [H, C], truncNormal(0.02)),
            fc2B: s.add('map.mlp.fc2.b', [C], zeros),
          }
        : null;
    this.tl = config.tokenLearnerTokens > 0 ? addTokenLearner(s, 'tokenlearner', this.outputDim, tlConfig(config)) : null;
    this.head =
      config.numClasses > 0
        ? { w: s.add('head.w', [this.outputDim, config.numClasses], truncNormal(0.02)), b: s.add('head.b', [config.numClasses], zeros) } // pooled width
        : null;
  }

  /** Patch grid (gh, gw) for an H x W input. */
  grid(H: number, W: number): [number, number] {
    const p = this.config.patchSize;
    return [Math.floor(H / p), Math.floor(W / p)];
  }

  /** Patch position embeddings for an input grid, [gh*gw, C]. */
  patchPosEmbed(grid: [number, number]): tf.Tensor2D {
    return tf.tidy(() => {
      const g = gridOf(this.config);
      const off = this.cls ? 1 : 0;
      const patchPos = this.pos.slice([off, 0], [g * g, this.config.dim]) as tf.Tensor2D;
      return interpolatePosEmbed(patchPos, [g, g], grid, this.config.posEmbedResize);
    });
  }

  private attentionPool(x: tf.Tensor3D): tf.Tensor2D {
    const m = this.map as MapHeadParams;
    const [B, N, C] = x.shape;
    const nh = this.config.heads;
    const hs = C / nh;
    const q = linear(m.latent, m.qW, m.qB) // [1,C] -> [1,C]
      .reshape([1, nh, 1, hs]) // [1,C] -> [1,nh,1,hs]
      .tile([B, 1, 1, 1]) as tf.Tensor4D; // -> [B,nh,1,hs]
    const kv = linear(x, m.kvW, m.kvB).reshape([B, N, 2, nh, hs]).transpose([2, 0, 3, 1, 4]); // [B,N,2C] -> [2,B,nh,N,hs]
    const [k, v] = tf.unstack(kv, 0) as tf.Tensor4D[];
    const att = tf.softmax(bmm(q, k, false, true).mul(1 / Math.sqrt(hs)), -1) as tf.Tensor4D; // [B,nh,1,N]
    const o = bmm(att, v).transpose([0, 2, 1, 3]).reshape([B, 1, C]); // [B,nh,1,hs] -> [B,1,C]
    let h = linear(o, m.projW, m.projB);
    h = h.add(linear(gelu(linear(layerNorm(h, m.normG, m.normB, this.config.lnEps), m.fc1W, m.fc1B), this.config.gelu), m.fc2W, m.fc2B));
    return h.reshape([B, C]) as tf.Tensor2D; // [B,1,C] -> [B,C]
  }

  forward(images: tf.Tensor4D, textEmb: tf.Tensor2D | null, _training: boolean, opts: ForwardOptions = {}): BackboneOutput {
    const cfg = this.config;
    checkTextDim(this.name, this.textDim, textEmb);
    const [B, Himg, Wimg] = images.shape;
    const p = cfg.patchSize;
    if (Himg % p !== 0 || Wimg % p !== 0) throw new Error(`${this.name}: input ${Himg}x${Wimg} not divisible by patch ${p}`);
    return tf.tidy(() => {
      const C = cfg.dim;
      const [gh, gw] = this.grid(Himg, Wimg);
      const N = gh * gw;
      const x0 = normalizeImages(images, cfg.mean, cfg.std);
      const patches = x0
        .reshape([B, gh, p, gw, p, 3]) // [B,H,W,3] -> [B,gh,p,gw,p,3]
        .transpose([0, 1, 3, 2, 4, 5]) // -> [B,gh,gw,p,p,3]
        .reshape([B * N, p * p * 3]) as tf.Tensor2D; // -> [B*N, p*p*3]
      let x = mm(patches, this.patchW as tf.Tensor2D)
        .add(this.patchB)
        .reshape([B, N, C]) // [B*N,C] -> [B,N,C]
        .add(this.patchPosEmbed([gh, gw])) as tf.Tensor3D;
      if (this.cls) {
        const c = this.cls.add(this.pos.slice([0, 0], [1, C])).reshape([1, 1, C]).tile([B, 1, 1]); // [1,C] -> [B,1,C]
        x = tf.concat([c, x], 1) as tf.Tensor3D; // -> [B,1+N,C]
      }
      const attention: tf.Tensor4D[] = [];
      this.blocks.forEach((b, i) => {
        const r = block(x, b, { nHead: cfg.heads, eps: cfg.lnEps, gelu: cfg.gelu, returnAttention: opts.returnAttention });
        x = r.x;
        if (r.attention) attention.push(r.attention);
        const f = this.films[i];
        if (f && textEmb) x = film(x, textEmb, f) as tf.Tensor3D; // [B,N,C] * (1 + gamma[B,1,C]) + beta
      });
      x = layerNorm(x, this.normG, this.normB, cfg.lnEps) as tf.Tensor3D;
      const off = this.cls ? 1 : 0;
      const patchTokens = x.slice([0, off, 0], [B, N, C]) as tf.Tensor3D; // [B,off+N,C] -> [B,N,C]
      const handed = cfg.coordChannels
        ? (appendCoords(patchTokens.reshape([B, gh, gw, C])).reshape([B, N, C + 2]) as tf.Tensor3D) // [B,N,C] -> [B,gh,gw,C+2] -> [B,N,C+2]
        : patchTokens;
      let pooled: tf.Tensor2D;
      if (cfg.pool === 'token') pooled = x.slice([0, 0, 0], [B, 1, C]).reshape([B, C]) as tf.Tensor2D; // [B,1,C] -> [B,C]
      else if (cfg.pool === 'gap') pooled = handed.mean(1) as tf.Tensor2D; // [B,N,outputDim] -> [B,outputDim]
      else pooled = this.attentionPool(patchTokens);
      const tl = this.tl ? tokenLearner(handed, this.tl) : null;
      const tokens = tl ? tl.tokens : handed;
      const out: BackboneOutput = { tokens, pooled };
      if (tl && opts.returnAttention) out.tokenMaps = tl.maps;
      if (tl && opts.returnTokenLogits) out.tokenLogits = tl.logits;
      if (this.head) out.logits = linear(pooled, this.head.w, this.head.b) as tf.Tensor2D;
      if (opts.returnAttention) out.attention = attention;
      return out as unknown as tf.TensorContainer;
    }) as unknown as BackboneOutput;
  }

  gridSize(H: number, W: number): [number, number] {
    return this.grid(H, W);
  }

  get learnedTokens(): number {
    return this.tl ? this.config.tokenLearnerTokens : 0;
  }

  outputTokens(H: number, W: number): number {
    if (this.tl) return this.config.tokenLearnerTokens;
    const [gh, gw] = this.grid(H, W);
    return gh * gw;
  }

  flopsPerFrame(H: number, W: number): number {
    const cfg = this.config;
    const C = cfg.dim;
    const Hm = mlpDimOf(cfg);
    const [gh, gw] = this.grid(H, W);
    const N = gh * gw;
    const T = N + (this.cls ? 1 : 0);
    const p = cfg.patchSize;
    let f = 2 * N * p * p * 3 * C;
    if (N !== gridOf(cfg) ** 2) f += 2 * N * gridOf(cfg) ** 2 * C; // position-embedding resize
    f += cfg.depth * blockFlops(T, C, Hm);
    if (cfg.pool === 'map') f += 2 * (C * C + N * 2 * C * C + 2 * N * C + C * C + 2 * C * Hm);
    if (cfg.film) f += cfg.depth * (2 * cfg.textDim * 2 * C + 2 * N * C);
    if (this.tl) f += tokenLearnerFlops(N, tokenDimOf(cfg), tlConfig(cfg));
    if (cfg.numClasses > 0) f += 2 * tokenDimOf(cfg) * cfg.numClasses;
    return f;
  }
}

// ---------------------------------------------------------------------------
// Presets.

const HALF = [0.5, 0.5, 0.5];

function preset(p: Partial<ViTConfig>): ViTConfig {
  return {
    imgSize: 96,
    patchSize: 8,
    dim: 128,
    depth: 5,
    heads: 4,
    mlpRatio: 4,
    classToken: true,
    pool: 'token',
    lnEps: 1e-6,
    gelu: 'erf',
    numClasses: 0,
    tokenLearnerTokens: 0,
    tokenLearnerHidden: 64,
    film: false,
    textDim: 0,
    coordChannels: false,
    posEmbedInit: 'truncNormal',
    posEmbedResize: BILINEAR,
    mean: HALF,
    std: HALF,
    seed: 0,
    ...p,
  };
}

function registerVit(name: string, cfg: ViTConfig, description: string, tags: string[] = []): void {
  register<ViTConfig>(name, {
    defaults: cfg,
    create: (c, n) => new ViT(c, n),
    countParams: vitParamCount,
    description,
    tags: ['transformer', ...tags],
  });
}

// Small CPU-trainable variants (96 px, 8 px patches -> 12x12 = 144 tokens).
registerVit('vit_tiny_patch8_96', preset({}), 'ViT, 5 blocks, C=128, class token'); // 1.04M params
registerVit(
  'siglip_tiny_patch8_96',
  preset({ depth: 4, classToken: false, pool: 'map', gelu: 'tanh' }),
  'SigLIP-style ViT: no class token, MAP head, tanh GELU',
); // 1.03M params
// The vit-siglip-openvla recipe's backbone (siglip_tiny_patch8_96 with 16 px
// patches and sin-cos position init, as that recipe sets them), as in the
// first shipped ViT (vit-2). The ViT shipped now uses siglip_film_tl8_patch16_96.
registerVit(
  'siglip_tiny_patch16_96',
  preset({ depth: 4, classToken: false, pool: 'map', gelu: 'tanh', patchSize: 16, posEmbedInit: 'sincos' }),
  'SigLIP-style ViT, 16 px patches (36 tokens at 96 px), sin-cos position init',
); // 1.09M params
// RT-1's token path on a ViT: FiLM after every block lets the instruction
// shape the patch features, then TokenLearner (Ryoo et al., arXiv:2106.11297,
// first proposed for ViTs) reduces the 36 patch tokens (+ their x, y) to 8.
// The shipped checkpoints/vit-siglip uses this one (docs/checkpoints.md).
registerVit(
  'siglip_film_tl8_patch16_96',
  preset({ depth: 4, classToken: false, pool: 'gap', gelu: 'tanh', patchSize: 16, posEmbedInit: 'sincos', film: true, textDim: 64, coordChannels: true, tokenLearnerTokens: 8 }),
  'SigLIP-style ViT, 16 px patches, FiLM per block, coordinate channels, TokenLearner 8 tokens',
);
registerVit(
  'vit_tiny_patch16_64_tl8',
  preset({ imgSize: 64, patchSize: 16, dim: 96, depth: 4, heads: 3, pool: 'gap', classToken: false, tokenLearnerTokens: 8, tokenLearnerHidden: 32 }),
  'very cheap ViT at 64 px, 16 patch tokens reduced to 8 by TokenLearner',
); // 0.53M params

// Published shapes.
registerVit(
  'vit_base_patch16_224',
  preset({ imgSize: 224, patchSize: 16, dim: 768, depth: 12, heads: 12, numClasses: 1000 }),
  'timm vit_base_patch16_224',
  ['published'],
); // 86,567,656 params
registerVit(
  'siglip_base_patch16_224',
  preset({ imgSize: 224, patchSize: 16, dim: 768, depth: 12, heads: 12, classToken: false, pool: 'map', gelu: 'tanh' }),
  'HF google/siglip-base-patch16-224 vision tower',
  ['published'],
); // 92,884,224 params
