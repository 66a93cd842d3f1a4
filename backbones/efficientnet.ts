// EfficientNet (Tan & Le, arXiv:1905.11946) with RT-1 style language
// conditioning (Brohan et al., arXiv:2212.06817):
//   stem 3x3/2 conv + BN + SiLU
//   MBConv stages from the B0 block table, scaled by width / depth multipliers
//   each MBConv block followed by FiLM(text) (arXiv:1709.07871), zero-init = identity
//   head 1x1 conv (4x last stage width) + BN + SiLU
//   optional 1x1 projection to `tokenDim` (+FiLM) as RT-1 does before TokenLearner
//   optional TokenLearner (arXiv:2106.11297) -> `tokenLearnerTokens` tokens
//   optional classifier (GAP -> dropout -> linear) for the published presets.
// Channel rounding, depth rounding, SE width and stochastic-depth schedule follow
// torchvision's implementation so that B0/B3 parameter counts (5,288,548 and
// 12,233,232 with the 1000-class head) and checkpoint names match exactly.
import * as tf from '@tensorflow/tfjs';
import { type FilmParams, addFilm, checkTextDim, film, filmParamCount } from './film.ts';
import {
  type MBConvParams,
  type MBConvSpec,
  addMBConv,
  convOut,
  mbconv,
  mbconvFlops,
  mbconvParamCount,
} from './mbconv.ts';
import {
  type BatchNormOptions,
  type BatchNormParams,
  Module,
  addBatchNorm,
  appendCoords,
  batchNorm,
  dropout,
  linear,
  normal,
  normalizeImages,
  swish,
  uniform,
  zeros,
} from './nn.ts';
import { type BackboneOutput, type ForwardOptions, type VisionBackbone, register } from './registry.ts';
import {
  type TokenLearnerConfig,
  type TokenLearnerParams,
  addTokenLearner,
  tokenLearner,
  tokenLearnerFlops,
  tokenLearnerParamCount,
} from './tokenlearner.ts';

/** One row of the block table: [expandRatio, kernel, stride, inCh, outCh, numLayers] (B0 values). */
export type BlockRow = [number, number, number, number, number, number];

/** EfficientNet-B0 block table (arXiv:1905.11946, Table 1; torchvision `_efficientnet_conf`). */
export const B0_BLOCKS: BlockRow[] = [
  [1, 3, 1, 32, 16, 1],
  [6, 3, 2, 16, 24, 2],
  [6, 5, 2, 24, 40, 2],
  [6, 3, 2, 40, 80, 3],
  [6, 5, 1, 80, 112, 3],
  [6, 5, 2, 112, 192, 4],
  [6, 3, 1, 192, 320, 1],
];

export type EfficientNetConfig = {
  /** Channel multiplier applied to every stage (compound scaling "width"). */
  widthMult: number;
  /** Layer-count multiplier per stage: ceil(numLayers * depthMult). */
  depthMult: number;
  /** Channels are rounded to multiples of this (torchvision `_make_divisible`). */
  divisor: number;
  /** Base block table before multipliers. */
  blocks: BlockRow[];
  /** Head 1x1 conv width; null = 4 x (scaled last stage width), as torchvision. */
  headChannels: number | null;
  /** Max stochastic-depth probability, linearly scaled over blocks (0 = off). */
  dropConnect: number;
  /** BatchNorm epsilon (torchvision EfficientNet v1 uses 1e-5). */
  bnEps: number;
  /** BatchNorm running-stat momentum, PyTorch convention (0.1). */
  bnMomentum: number;
  /** Insert FiLM after every MBConv block (RT-1). */
  film: boolean;
  /** Dimension D of the conditioning text embedding (FiLM input). */
  textDim: number;
  /** If > 0: 1x1 conv (no bias) from the head map to this width before tokens (RT-1: 512). */
  tokenDim: number;
  /** If > 0: TokenLearner output tokens; 0 = every spatial position is a token. */
  tokenLearnerTokens: number;
  /** Hidden width of the TokenLearner MLP. */
  tokenLearnerHidden: number;
  /** Spatial normalization of TokenLearner maps. */
  tokenLearnerAttention: 'softmax' | 'sigmoid';
  /**
   * Append 2 fixed channels (x, y in [-1, 1]) to the token map (CoordConv,
   * Liu et al. arXiv:1807.03247). With softmax TokenLearner maps each token
   * then carries the attention-weighted centroid of what it attends to, the
   * spatial soft-argmax of Levine et al. (arXiv:1504.00702), which end-to-end
   * visuomotor policies use to read object positions off a feature map.
   */
  coordChannels: boolean;
  /** Classifier classes (0 = no head). */
  numClasses: number;
  /** Dropout before the classifier. */
  classifierDropout: number;
  /** Nominal input resolution (square) of the preset. */
  inputSize: number;
  /** Per-channel normalization applied to [0,1] RGB inside the backbone. */
  mean: number[];
  std: number[];
  /** Seed for weight initialization. */
  seed: number;
};

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];

/** torchvision / TF `_make_divisible`: round to a multiple of divisor, never below 90%. */
export function makeDivisible(v: number, divisor: number): number {
  let nv = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

/** Resolved architecture: per-block specs + stem/head widths. */
export interface EfficientNetLayout {
  stemCh: number;
  blocks: MBConvSpec[];
  lastCh: number;
  headCh: number;
  /** Width of the token map (tokenDim or headCh, + 2 with coordChannels). */
  tokenCh: number;
}

export function efficientNetLayout(cfg: EfficientNetConfig): EfficientNetLayout {
  const w = (c: number) => makeDivisible(c * cfg.widthMult, cfg.divisor);
  const rows = cfg.blocks.map(([e, k, s, i, o, n]) => ({ e, k, s, i: w(i), o: w(o), n: Math.ceil(n * cfg.depthMult) }));
  const total = rows.reduce((a, r) => a + r.n, 0);
  const blocks: MBConvSpec[] = [];
  let id = 0;
  rows.forEach((r, stageIdx) => {
    for (let l = 0; l < r.n; l++) {
      const inCh = l === 0 ? r.i : r.o;
      blocks.push({
        inCh,
        outCh: r.o,
        expCh: makeDivisible(inCh * r.e, cfg.divisor),
        kernel: r.k,
        stride: l === 0 ? r.s : 1,
        seCh: Math.max(1, Math.floor(inCh / 4)),
        dropProb: (cfg.dropConnect * id) / total,
        stage: stageIdx + 1,
        layer: l,
      });
      id++;
    }
  });
  const stemCh = rows[0].i;
  const lastCh = rows[rows.length - 1].o;
  const headCh = cfg.headChannels ?? 4 * lastCh;
  return { stemCh, blocks, lastCh, headCh, tokenCh: (cfg.tokenDim > 0 ? cfg.tokenDim : headCh) + (cfg.coordChannels ? 2 : 0) };
}

function tlConfig(cfg: EfficientNetConfig): TokenLearnerConfig {
  return { numTokens: cfg.tokenLearnerTokens, hidden: cfg.tokenLearnerHidden, attention: cfg.tokenLearnerAttention };
}

/** Analytic trainable parameter count (matches paramCount() of a built model). */
export function efficientNetParamCount(cfg: EfficientNetConfig): number {
  const L = efficientNetLayout(cfg);
  let n = 3 * 3 * 3 * L.stemCh + 2 * L.stemCh;
  for (const b of L.blocks) {
    n += mbconvParamCount(b);
    if (cfg.film) n += filmParamCount(cfg.textDim, b.outCh);
  }
  n += L.lastCh * L.headCh + 2 * L.headCh;
  if (cfg.tokenDim > 0) {
    n += L.headCh * cfg.tokenDim;
    if (cfg.film) n += filmParamCount(cfg.textDim, cfg.tokenDim);
  }
  if (cfg.tokenLearnerTokens > 0) n += tokenLearnerParamCount(L.tokenCh, tlConfig(cfg));
  if (cfg.numClasses > 0) n += L.headCh * cfg.numClasses + cfg.numClasses;
  return n;
}

export class EfficientNet extends Module implements VisionBackbone {
  readonly name: string;
  readonly config: EfficientNetConfig;
  readonly layout: EfficientNetLayout;
  readonly outputDim: number;
  readonly textDim: number;
  private readonly bnOpt: BatchNormOptions;
  private readonly stem: { conv: tf.Variable; bn: BatchNormParams };
  private readonly blocks: MBConvParams[];
  private readonly films: (FilmParams | null)[];
  private readonly head: { conv: tf.Variable; bn: BatchNormParams };
  private readonly tokenProj: { conv: tf.Variable; film: FilmParams | null } | null;
  private readonly tl: TokenLearnerParams | null;
  private readonly classifier: { w: tf.Variable; b: tf.Variable } | null;

  constructor(config: EfficientNetConfig, name = 'efficientnet') {
    super('effnet', config.seed);
    this.name = name;
    this.config = config;
    const L = (this.layout = efficientNetLayout(config));
    this.outputDim = L.tokenCh;
    this.textDim = config.film ? config.textDim : 0;
    this.bnOpt = { eps: config.bnEps, momentum: config.bnMomentum };
    const s = this.store;
    this.stem = {
      conv: s.add('stem.conv', [3, 3, 3, L.stemCh], normal(Math.sqrt(2 / (L.stemCh * 9)))), // HWIO
      bn: addBatchNorm(s, 'stem.bn', L.stemCh),
    };
    this.blocks = L.blocks.map((b, i) => addMBConv(s, `blocks.${i}`, b));
    this.films = L.blocks.map((b, i) => (config.film ? addFilm(s, `blocks.${i}.film`, config.textDim, b.outCh) : null));
    this.head = {
      conv: s.add('head.conv', [L.lastCh, L.headCh], normal(Math.sqrt(2 / L.headCh))),
      bn: addBatchNorm(s, 'head.bn', L.headCh),
    };
    this.tokenProj =
      config.tokenDim > 0
        ? {
            conv: s.add('tokens.proj', [L.headCh, config.tokenDim], normal(Math.sqrt(2 / config.tokenDim))),
            film: config.film ? addFilm(s, 'tokens.film', config.textDim, config.tokenDim) : null,
          }
        : null;
    this.tl = config.tokenLearnerTokens > 0 ? addTokenLearner(s, 'tokenlearner', L.tokenCh, tlConfig(config)) : null;
    this.classifier =
      config.numClasses > 0
        ? {
            // torchvision: U(-1/sqrt(out), 1/sqrt(out)), bias 0
            w: s.add('classifier.w', [L.headCh, config.numClasses], uniform(1 / Math.sqrt(config.numClasses))),
            b: s.add('classifier.b', [config.numClasses], zeros),
          }
        : null;
  }

  forward(images: tf.Tensor4D, textEmb: tf.Tensor2D | null, training: boolean, opts: ForwardOptions = {}): BackboneOutput {
    checkTextDim(this.name, this.textDim, textEmb);
    return tf.tidy(() => {
      const cfg = this.config;
      let x = this.trunk(images, textEmb, training, this.blocks.length);
      x = swish(batchNorm(linear(x, this.head.conv, null), this.head.bn, training, this.bnOpt)) as tf.Tensor4D; // [B,h,w,last] -> [B,h,w,head]
      let logits: tf.Tensor2D | undefined;
      if (this.classifier) {
        const feat = dropout(x.mean([1, 2]), cfg.classifierDropout, training); // [B,h,w,head] -> [B,head]
        logits = linear(feat, this.classifier.w, this.classifier.b) as tf.Tensor2D;
      }
      let map: tf.Tensor4D = x;
      if (this.tokenProj) {
        map = linear(map, this.tokenProj.conv, null) as tf.Tensor4D; // [B,h,w,head] -> [B,h,w,tokenDim]
        if (this.tokenProj.film && textEmb) map = film(map, textEmb, this.tokenProj.film) as tf.Tensor4D;
      }
      if (cfg.coordChannels) map = appendCoords(map); // [B,h,w,C] -> [B,h,w,C+2]
      const [B, h, w, C] = map.shape;
      const pooled = map.mean([1, 2]) as tf.Tensor2D; // [B,h,w,C] -> [B,C]
      const tl = this.tl ? tokenLearner(map, this.tl) : null; // [B,h,w,C] -> tokens [B,S,C], maps [B,S,h*w]
      const tokens = tl ? tl.tokens : (map.reshape([B, h * w, C]) as tf.Tensor3D); // [B,h,w,C] -> [B,h*w,C]
      const out: BackboneOutput = { tokens, pooled };
      if (tl && opts.returnAttention) out.tokenMaps = tl.maps;
      if (tl && opts.returnTokenLogits) out.tokenLogits = tl.logits;
      if (logits) out.logits = logits;
      return out as unknown as tf.TensorContainer;
    }) as unknown as BackboneOutput;
  }

  /** Stem + the first `blocks` MBConv blocks (with their FiLM): [B,H,W,3] -> [B,h,w,C]. */
  private trunk(images: tf.Tensor4D, textEmb: tf.Tensor2D | null, training: boolean, blocks: number): tf.Tensor4D {
    const x0 = normalizeImages(images, this.config.mean, this.config.std);
    let x = tf.conv2d(x0, this.stem.conv as tf.Tensor4D, 2, 1); // [B,H,W,3] -> [B,H/2,W/2,stem]
    x = swish(batchNorm(x, this.stem.bn, training, this.bnOpt)) as tf.Tensor4D;
    this.blocks.slice(0, blocks).forEach((b, i) => {
      x = mbconv(x, b, training, this.bnOpt);
      const f = this.films[i];
      if (f && textEmb) x = film(x, textEmb, f) as tf.Tensor4D;
    });
    return x;
  }

  /**
   * Feature map at the end of stage `stage` (1-based, as in the block table),
   * inference mode: for receptive-field analysis (src/analysis/looksAt.ts).
   */
  stageFeatures(images: tf.Tensor4D, textEmb: tf.Tensor2D | null, stage: number): tf.Tensor4D {
    const stages = this.numStages;
    if (!Number.isInteger(stage) || stage < 1 || stage > stages) throw new Error(`${this.name}: stage must be 1..${stages}, got ${stage}`);
    const upTo = this.layout.blocks.filter((b) => b.stage <= stage).length;
    return tf.tidy(() => this.trunk(images, textEmb, false, upTo));
  }

  get numStages(): number {
    return Math.max(...this.layout.blocks.map((b) => b.stage));
  }

  /** Kernel/stride chain up to the end of a stage (stem included), for the theoretical receptive field. */
  convChain(stage: number): { kernel: number; stride: number }[] {
    return [{ kernel: 3, stride: 2 }, ...this.layout.blocks.filter((b) => b.stage <= stage).map((b) => ({ kernel: b.kernel, stride: b.stride }))];
  }

  /** Final feature-map size (h, w) for an H x W input. */
  featureSize(H: number, W: number): [number, number] {
    let h = convOut(H, 3, 2);
    let w = convOut(W, 3, 2);
    for (const b of this.layout.blocks) {
      h = convOut(h, b.kernel, b.stride);
      w = convOut(w, b.kernel, b.stride);
    }
    return [h, w];
  }

  outputTokens(H: number, W: number): number {
    if (this.tl) return this.config.tokenLearnerTokens;
    const [h, w] = this.featureSize(H, W);
    return h * w;
  }

  gridSize(H: number, W: number): [number, number] {
    return this.featureSize(H, W);
  }

  get learnedTokens(): number {
    return this.tl ? this.config.tokenLearnerTokens : 0;
  }

  flopsPerFrame(H: number, W: number): number {
    const L = this.layout;
    const cfg = this.config;
    let h = convOut(H, 3, 2);
    let w = convOut(W, 3, 2);
    let flops = 2 * h * w * 27 * L.stemCh;
    for (const b of L.blocks) {
      const [f, ho, wo] = mbconvFlops(b, h, w);
      flops += f;
      h = ho;
      w = wo;
      if (cfg.film) flops += 2 * cfg.textDim * 2 * b.outCh;
    }
    flops += 2 * h * w * L.lastCh * L.headCh;
    if (cfg.tokenDim > 0) {
      flops += 2 * h * w * L.headCh * cfg.tokenDim;
      if (cfg.film) flops += 2 * cfg.textDim * 2 * cfg.tokenDim;
    }
    if (cfg.tokenLearnerTokens > 0) flops += tokenLearnerFlops(h * w, L.tokenCh, tlConfig(cfg));
    if (cfg.numClasses > 0) flops += 2 * L.headCh * cfg.numClasses;
    return flops;
  }
}

// ---------------------------------------------------------------------------
// Presets.

function preset(p: Partial<EfficientNetConfig>): EfficientNetConfig {
  return {
    widthMult: 1,
    depthMult: 1,
    divisor: 8,
    blocks: B0_BLOCKS,
    headChannels: null,
    dropConnect: 0,
    bnEps: 1e-5,
    bnMomentum: 0.1,
    film: true,
    textDim: 64,
    tokenDim: 0,
    tokenLearnerTokens: 8,
    tokenLearnerHidden: 64,
    tokenLearnerAttention: 'softmax',
    coordChannels: false,
    numClasses: 0,
    classifierDropout: 0,
    inputSize: 96,
    mean: IMAGENET_MEAN,
    std: IMAGENET_STD,
    seed: 0,
    ...p,
  };
}

function registerEffnet(name: string, cfg: EfficientNetConfig, description: string, tags: string[] = []): void {
  register<EfficientNetConfig>(name, {
    defaults: cfg,
    create: (c, n) => new EfficientNet(c, n),
    countParams: efficientNetParamCount,
    description,
    tags: ['cnn', ...tags],
  });
}

// Small CPU-trainable RT-1-style variants (FiLM + TokenLearner 8 tokens, text D=64).
registerEffnet('efficientnet_film_xs_64', preset({ widthMult: 0.35, depthMult: 0.35, inputSize: 64 }), 'width 0.35, depth 0.35, 64 px'); // 0.42M params
registerEffnet('efficientnet_film_s_96', preset({ widthMult: 0.5, depthMult: 0.5, inputSize: 96 }), 'width 0.5, depth 0.5, 96 px'); // 0.78M params
// Output stride 16 (stage 6 keeps its resolution) + coordinate channels: a
// 6x6 token map at 96 px instead of 3x3, so TokenLearner can localize small
// objects; the shipped RT-1-style policy uses this one.
registerEffnet(
  'efficientnet_film_s_os16_96',
  preset({ widthMult: 0.5, depthMult: 0.5, inputSize: 96, blocks: B0_BLOCKS.map((r, i) => (i === 5 ? [r[0], r[1], 1, r[3], r[4], r[5]] : r)), coordChannels: true }),
  'width 0.5, depth 0.5, output stride 16, coordinate channels, 96 px',
); // 0.78M params
registerEffnet('efficientnet_film_m_96', preset({ widthMult: 0.75, depthMult: 0.5, inputSize: 96 }), 'width 0.75, depth 0.5, 96 px'); // 1.65M params

// Published torchvision shapes (no FiLM / TokenLearner, 1000-class head).
registerEffnet(
  'efficientnet_b0',
  preset({ film: false, tokenLearnerTokens: 0, numClasses: 1000, classifierDropout: 0.2, dropConnect: 0.2, inputSize: 224 }),
  'torchvision efficientnet_b0',
  ['published'],
); // 5,288,548 params
registerEffnet(
  'efficientnet_b3',
  preset({ widthMult: 1.2, depthMult: 1.4, film: false, tokenLearnerTokens: 0, numClasses: 1000, classifierDropout: 0.3, dropConnect: 0.2, inputSize: 300 }),
  'torchvision efficientnet_b3',
  ['published'],
); // 12,233,232 params
// RT-1 image tokenizer: B3 + FiLM (512-d USE embedding) + 1x1 to 512 + TokenLearner 8 tokens, 300 px.
registerEffnet(
  'efficientnet_b3_film_rt1',
  preset({ widthMult: 1.2, depthMult: 1.4, textDim: 512, tokenDim: 512, dropConnect: 0.2, inputSize: 300 }),
  'RT-1 FiLM-EfficientNet-B3 + TokenLearner',
  ['published'],
); // 15,744,160 params
