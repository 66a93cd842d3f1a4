// timm-style backbone registry.
//
// Each model file registers its variants right next to the model code:
//   register('efficientnet_film_s_96', { defaults: {...}, create: (cfg) => new EfficientNet(cfg) });
// `defaults` is a plain-data preset (JSON-serializable); `create(name, overrides)`
// shallow-merges overrides into a copy of it.
//
// This module deliberately imports no model files (that would be an import
// cycle). Import `backbones/index.ts` to get the registry with every model
// registered.
import type * as tf from '@tensorflow/tfjs';

/** Output of a vision backbone. Every tensor is owned by the caller. */
export interface BackboneOutput {
  /** Visual tokens for the policy, [B, N, C]. */
  tokens: tf.Tensor3D;
  /** Pooled image embedding, [B, C] (same C as tokens). */
  pooled: tf.Tensor2D;
  /** Classifier logits [B, numClasses] when the config has a classification head. */
  logits?: tf.Tensor2D;
  /** Per-layer attention probabilities [B, heads, T, T] (transformers, on request). */
  attention?: tf.Tensor4D[];
  /** TokenLearner attention maps [B, S, h*w] over the final feature grid (on request). */
  tokenMaps?: tf.Tensor3D;
  /** TokenLearner attention logits [B, S, h*w] before the spatial normalization (on request). */
  tokenLogits?: tf.Tensor3D;
}

export interface ForwardOptions {
  /** Also return attention maps: per-layer attention (ViT), TokenLearner maps (CNN with TokenLearner). */
  returnAttention?: boolean;
  /** Also return the TokenLearner logits (backbones with a TokenLearner; spatial supervision in training). */
  returnTokenLogits?: boolean;
}

/** Common interface of all vision backbones. */
export interface VisionBackbone {
  readonly name: string;
  /** Resolved plain-data config (preset + overrides). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Channel width C of `tokens` / `pooled`. */
  readonly outputDim: number;
  /** Dimension of the text embedding accepted for conditioning (0 = ignores text). */
  readonly textDim: number;
  /**
   * images: NHWC float32 in [0,1], [B,H,W,3] (normalized inside with config mean/std).
   * textEmb: [B,D] conditioning (FiLM) or null (no conditioning).
   * training: batch-norm batch statistics / stochastic depth / dropout.
   */
  forward(images: tf.Tensor4D, textEmb: tf.Tensor2D | null, training: boolean, opts?: ForwardOptions): BackboneOutput;
  /** Number of tokens N produced for an H x W input. */
  outputTokens(H: number, W: number): number;
  /** Rows and columns of the final spatial feature grid for an H x W input (row-major, top row first). */
  gridSize(H: number, W: number): [number, number];
  /** TokenLearner tokens per image (0 = the grid positions themselves are the tokens). */
  readonly learnedTokens: number;
  /** Trainable parameter count (BN running statistics not counted). */
  paramCount(): number;
  /**
   * Analytic compute for one H x W frame: 2 x (multiply-adds of every conv,
   * linear and attention matrix product). Normalization, activations, softmax
   * and elementwise ops are not counted (they are O(activations), negligible).
   */
  flopsPerFrame(H: number, W: number): number;
  /** Stable key -> variable, including non-trainable buffers (BN running stats). */
  namedWeights(): Record<string, tf.Variable>;
  /** Trainable variables only. */
  trainableVariables(): tf.Variable[];
  dispose(): void;
}

export type Preset = Record<string, unknown>;

export interface RegistryEntry<C extends Preset = Preset> {
  /** Plain-data preset. */
  defaults: C;
  /** Build a model from a fully resolved config. */
  create: (config: C, name: string) => VisionBackbone;
  /** Analytic trainable-parameter count for a config, without allocating weights. */
  countParams?: (config: C) => number;
  /** 'published' presets reproduce a paper/library shape (large; not trained on CPU). */
  tags?: string[];
  /** One-line description. */
  description?: string;
}

const entries = new Map<string, RegistryEntry>();

export function register<C extends Preset>(name: string, entry: RegistryEntry<C>): void {
  if (entries.has(name)) throw new Error(`backbone '${name}' is already registered`);
  entries.set(name, entry as unknown as RegistryEntry);
}

function entryOf(name: string): RegistryEntry {
  const e = entries.get(name);
  if (!e) {
    throw new Error(
      `unknown backbone '${name}'. Registered: ${list().join(', ') || '(none: import backbones/index.ts)'}`,
    );
  }
  return e;
}

/** Deep copy of plain data (presets contain only JSON values). */
function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Resolved config = preset with overrides shallow-merged (unknown keys rejected). */
export function resolveConfig(name: string, overrides: Preset = {}): Preset {
  const e = entryOf(name);
  const cfg = clone(e.defaults);
  for (const [k, v] of Object.entries(overrides)) {
    if (!(k in cfg)) throw new Error(`backbone '${name}': unknown config field '${k}'`);
    if (v !== undefined) cfg[k] = clone(v);
  }
  return cfg;
}

export function create(name: string, overrides: Preset = {}): VisionBackbone {
  return entryOf(name).create(resolveConfig(name, overrides), name);
}

/** Registered names, optionally only those with (or without) a tag. */
export function list(filter?: { tag?: string; excludeTag?: string }): string[] {
  const out: string[] = [];
  for (const [n, e] of entries) {
    const tags = e.tags ?? [];
    if (filter?.tag && !tags.includes(filter.tag)) continue;
    if (filter?.excludeTag && tags.includes(filter.excludeTag)) continue;
    out.push(n);
  }
  return out.sort();
}

/** Copy of the plain-data preset. */
export function getPreset(name: string): Preset {
  return clone(entryOf(name).defaults);
}

export function getEntry(name: string): Readonly<RegistryEntry> {
  return entryOf(name);
}

/** Analytic parameter count for a registered preset (+ overrides) without building it. */
export function countParams(name: string, overrides: Preset = {}): number {
  const e = entryOf(name);
  if (!e.countParams) throw new Error(`backbone '${name}' has no analytic parameter counter`);
  return e.countParams(resolveConfig(name, overrides));
}
