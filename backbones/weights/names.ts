// Checkpoint name maps: which of our stable keys (namedWeights()) is which
// tensor of a public checkpoint, and with which layout conversion.
//   'torchvision' EfficientNet: features.0.0.weight, features.1.0.block.0.0.weight, ..., classifier.1.weight
//   'timm' ViT:                 patch_embed.proj.weight, cls_token, pos_embed, blocks.0.attn.qkv.weight, head.weight,
//                               attn_pool.* (MAP head)
//   'hf_siglip' vision tower:   vision_model.embeddings.patch_embedding.weight,
//                               vision_model.encoder.layers.0.self_attn.q_proj.weight, vision_model.head.probe, ...
//   'native':                   our stable keys, identity layout.
// Weights that have no counterpart in the reference architecture (FiLM,
// TokenLearner, token projection, classifier of a headless model, ...) are
// "extras" and keep their native key in every layout.
import type * as tf from '@tensorflow/tfjs';
import { EfficientNet } from '../efficientnet.ts';
import type { VisionBackbone } from '../registry.ts';
import { ViT } from '../vit.ts';
import { type Kind, theirShapeFor } from './layout.ts';

export type WeightLayout = 'torchvision' | 'timm' | 'hf_siglip' | 'native';

export interface MapEntry {
  ours: string[];
  theirs: string[];
  kind: Kind;
  /** Expected checkpoint shapes (filled from our variable shapes). */
  theirShapes: number[][];
  /** Not part of the reference architecture (FiLM, TokenLearner, ...). */
  extra: boolean;
}

class MappingBuilder {
  readonly entries: MapEntry[] = [];
  private readonly used = new Set<string>();
  constructor(private readonly weights: Record<string, tf.Variable>) {}

  shapeOf(key: string): number[] {
    const v = this.weights[key];
    if (!v) throw new Error(`mapping: model has no weight '${key}'`);
    return v.shape.slice();
  }

  has(key: string): boolean {
    return key in this.weights;
  }

  add(ours: string | string[], theirs: string | string[], kind: Kind, opts: { theirShapes?: number[][]; extra?: boolean } = {}): void {
    const o = Array.isArray(ours) ? ours : [ours];
    const t = Array.isArray(theirs) ? theirs : [theirs];
    const ourShapes = o.map((k) => this.shapeOf(k));
    const theirShapes = opts.theirShapes ?? theirShapeFor(kind, ourShapes);
    for (const k of o) this.used.add(k);
    this.entries.push({ ours: o, theirs: t, kind, theirShapes, extra: opts.extra ?? false });
  }

  /** BatchNorm: gamma/beta/running stats -> weight/bias/running_mean/running_var. */
  bn(ours: string, theirs: string): void {
    this.add(`${ours}.gamma`, `${theirs}.weight`, { k: 'same' });
    this.add(`${ours}.beta`, `${theirs}.bias`, { k: 'same' });
    this.add(`${ours}.running_mean`, `${theirs}.running_mean`, { k: 'same' });
    this.add(`${ours}.running_var`, `${theirs}.running_var`, { k: 'same' });
  }

  /** LayerNorm g/b -> weight/bias. */
  ln(ours: string, theirs: string): void {
    this.add(`${ours}.g`, `${theirs}.weight`, { k: 'same' });
    this.add(`${ours}.b`, `${theirs}.bias`, { k: 'same' });
  }

  /** Linear w/b -> weight/bias. */
  lin(ours: string, theirs: string): void {
    this.add(`${ours}.w`, `${theirs}.weight`, { k: 'linear' });
    this.add(`${ours}.b`, `${theirs}.bias`, { k: 'same' });
  }

  /** Every weight not mapped yet becomes an extra under its native key. */
  finishWithExtras(): MapEntry[] {
    for (const key of Object.keys(this.weights)) {
      if (!this.used.has(key)) this.add(key, key, { k: 'same' }, { extra: true });
    }
    return this.entries;
  }
}

function nativeMapping(model: { namedWeights(): Record<string, tf.Variable> }): MapEntry[] {
  const b = new MappingBuilder(model.namedWeights());
  for (const k of Object.keys(model.namedWeights())) b.add(k, k, { k: 'same' });
  return b.entries;
}

function torchvisionEfficientNetMapping(m: EfficientNet): MapEntry[] {
  const b = new MappingBuilder(m.namedWeights());
  b.add('stem.conv', 'features.0.0.weight', { k: 'conv' });
  b.bn('stem.bn', 'features.0.1');
  m.layout.blocks.forEach((spec, i) => {
    const base = `features.${spec.stage}.${spec.layer}.block`;
    let j = 0;
    if (b.has(`blocks.${i}.expand.conv`)) {
      b.add(`blocks.${i}.expand.conv`, `${base}.${j}.0.weight`, { k: 'conv1x1' });
      b.bn(`blocks.${i}.expand.bn`, `${base}.${j}.1`);
      j++;
    }
    b.add(`blocks.${i}.dw.conv`, `${base}.${j}.0.weight`, { k: 'depthwise' });
    b.bn(`blocks.${i}.dw.bn`, `${base}.${j}.1`);
    j++;
    b.add(`blocks.${i}.se.fc1.w`, `${base}.${j}.fc1.weight`, { k: 'conv1x1' });
    b.add(`blocks.${i}.se.fc1.b`, `${base}.${j}.fc1.bias`, { k: 'same' });
    b.add(`blocks.${i}.se.fc2.w`, `${base}.${j}.fc2.weight`, { k: 'conv1x1' });
    b.add(`blocks.${i}.se.fc2.b`, `${base}.${j}.fc2.bias`, { k: 'same' });
    j++;
    b.add(`blocks.${i}.project.conv`, `${base}.${j}.0.weight`, { k: 'conv1x1' });
    b.bn(`blocks.${i}.project.bn`, `${base}.${j}.1`);
  });
  const headIdx = m.config.blocks.length + 1;
  b.add('head.conv', `features.${headIdx}.0.weight`, { k: 'conv1x1' });
  b.bn('head.bn', `features.${headIdx}.1`);
  if (b.has('classifier.w')) {
    b.add('classifier.w', 'classifier.1.weight', { k: 'linear' });
    b.add('classifier.b', 'classifier.1.bias', { k: 'same' });
  }
  return b.finishWithExtras();
}

function timmViTMapping(m: ViT): MapEntry[] {
  const b = new MappingBuilder(m.namedWeights());
  const C = m.config.dim;
  b.add('patch_embed.w', 'patch_embed.proj.weight', { k: 'patch', p: m.config.patchSize });
  b.add('patch_embed.b', 'patch_embed.proj.bias', { k: 'same' });
  if (b.has('cls_token')) b.add('cls_token', 'cls_token', { k: 'same' }, { theirShapes: [[1, 1, C]] });
  b.add('pos_embed', 'pos_embed', { k: 'same' }, { theirShapes: [[1, ...b.shapeOf('pos_embed')]] });
  for (let i = 0; i < m.config.depth; i++) {
    b.ln(`blocks.${i}.ln1`, `blocks.${i}.norm1`);
    b.lin(`blocks.${i}.attn.qkv`, `blocks.${i}.attn.qkv`);
    b.lin(`blocks.${i}.attn.proj`, `blocks.${i}.attn.proj`);
    b.ln(`blocks.${i}.ln2`, `blocks.${i}.norm2`);
    b.lin(`blocks.${i}.mlp.fc1`, `blocks.${i}.mlp.fc1`);
    b.lin(`blocks.${i}.mlp.fc2`, `blocks.${i}.mlp.fc2`);
  }
  b.ln('norm', 'norm');
  if (b.has('map.latent')) {
    b.add('map.latent', 'attn_pool.latent', { k: 'same' }, { theirShapes: [[1, 1, C]] });
    b.lin('map.q', 'attn_pool.q');
    b.lin('map.kv', 'attn_pool.kv');
    b.lin('map.proj', 'attn_pool.proj');
    b.ln('map.norm', 'attn_pool.norm');
    b.lin('map.mlp.fc1', 'attn_pool.mlp.fc1');
    b.lin('map.mlp.fc2', 'attn_pool.mlp.fc2');
  }
  if (b.has('head.w')) b.lin('head', 'head');
  return b.finishWithExtras();
}

function hfSiglipMapping(m: ViT): MapEntry[] {
  if (m.config.classToken) throw new Error('hf_siglip layout: the SigLIP vision tower has no class token');
  const b = new MappingBuilder(m.namedWeights());
  const C = m.config.dim;
  const v = 'vision_model';
  b.add('patch_embed.w', `${v}.embeddings.patch_embedding.weight`, { k: 'patch', p: m.config.patchSize });
  b.add('patch_embed.b', `${v}.embeddings.patch_embedding.bias`, { k: 'same' });
  b.add('pos_embed', `${v}.embeddings.position_embedding.weight`, { k: 'same' });
  for (let i = 0; i < m.config.depth; i++) {
    const L = `${v}.encoder.layers.${i}`;
    b.ln(`blocks.${i}.ln1`, `${L}.layer_norm1`);
    const qkv = ['q', 'k', 'v'].map((n) => `${L}.self_attn.${n}_proj`);
    b.add(`blocks.${i}.attn.qkv.w`, qkv.map((n) => `${n}.weight`), { k: 'catLinear' }, { theirShapes: [[C, C], [C, C], [C, C]] });
    b.add(`blocks.${i}.attn.qkv.b`, qkv.map((n) => `${n}.bias`), { k: 'catBias' }, { theirShapes: [[C], [C], [C]] });
    b.lin(`blocks.${i}.attn.proj`, `${L}.self_attn.out_proj`);
    b.ln(`blocks.${i}.ln2`, `${L}.layer_norm2`);
    b.lin(`blocks.${i}.mlp.fc1`, `${L}.mlp.fc1`);
    b.lin(`blocks.${i}.mlp.fc2`, `${L}.mlp.fc2`);
  }
  b.ln('norm', `${v}.post_layernorm`);
  if (b.has('map.latent')) {
    const h = `${v}.head`;
    b.add('map.latent', `${h}.probe`, { k: 'same' }, { theirShapes: [[1, 1, C]] });
    b.add(['map.q.w', 'map.kv.w'], `${h}.attention.in_proj_weight`, { k: 'catLinear' }, { theirShapes: [[3 * C, C]] });
    b.add(['map.q.b', 'map.kv.b'], `${h}.attention.in_proj_bias`, { k: 'catBias' }, { theirShapes: [[3 * C]] });
    b.lin('map.proj', `${h}.attention.out_proj`);
    b.ln('map.norm', `${h}.layernorm`);
    b.lin('map.mlp.fc1', `${h}.mlp.fc1`);
    b.lin('map.mlp.fc2', `${h}.mlp.fc2`);
  }
  return b.finishWithExtras();
}

/** The name map of a model under a layout (throws when the layout does not fit the model). */
export function mappingFor(model: VisionBackbone, layout: WeightLayout): MapEntry[] {
  if (layout === 'native') return nativeMapping(model);
  if (layout === 'torchvision') {
    if (!(model instanceof EfficientNet)) throw new Error(`layout 'torchvision' needs an EfficientNet, got ${model.name}`);
    return torchvisionEfficientNetMapping(model);
  }
  if (!(model instanceof ViT)) throw new Error(`layout '${layout}' needs a ViT, got ${model.name}`);
  return layout === 'timm' ? timmViTMapping(model) : hfSiglipMapping(model);
}
