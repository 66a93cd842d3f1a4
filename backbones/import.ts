// Weight import / export between our backbones and public checkpoint layouts:
//   'torchvision' EfficientNet: features.0.0.weight, features.1.0.block.0.0.weight, ..., classifier.1.weight
//   'timm' ViT:                 patch_embed.proj.weight, cls_token, pos_embed, blocks.0.attn.qkv.weight, head.weight,
//                               attn_pool.* (MAP head)
//   'hf_siglip' vision tower:   vision_model.embeddings.patch_embedding.weight,
//                               vision_model.encoder.layers.0.self_attn.q_proj.weight, vision_model.head.probe, ...
//   'native':                   our stable keys (namedWeights()), identity layout.
// Layout conversions (PyTorch -> ours): conv OIHW -> HWIO, depthwise [C,1,k,k] -> [k,k,C,1],
// 1x1 conv [O,I,1,1] -> [I,O], linear [out,in] -> [in,out], patch conv [C,3,p,p] -> [p*p*3, C],
// q/k/v (HF) -> fused qkv, MHA in_proj (HF SigLIP head) -> q + kv.
// Weights that have no counterpart in the reference architecture (FiLM,
// TokenLearner, token projection, classifier of a headless model, ...) are
// "extras" and keep their native key in every layout.
//
// Checkpoints are handled as name -> {dtype, shape, data} maps (what
// src/io/safetensors.ts parses / serializes); importSafetensors /
// exportSafetensors work on .safetensors bytes.
import * as tf from '@tensorflow/tfjs';
import { decodeBf16, decodeHalf } from '../src/io/float16.ts';
import { parseSafetensors, serializeSafetensors, type SafeEntry } from '../src/io/safetensors.ts';
import { EfficientNet } from './efficientnet.ts';
import { product } from './nn.ts';
import type { VisionBackbone } from './registry.ts';
import { ViT } from './vit.ts';

export type WeightLayout = 'torchvision' | 'timm' | 'hf_siglip' | 'native';

/** One checkpoint tensor. `data` may be any numeric typed array; F16/BF16 may be raw Uint16Array bits. */
export interface CheckpointTensor {
  dtype: string;
  shape: number[];
  data: ArrayLike<number> | ArrayBufferView;
}

export type Checkpoint = Map<string, CheckpointTensor>;

/** Float32 tensor in plain memory (row-major). */
export interface RawTensor {
  shape: number[];
  data: Float32Array;
}

export class WeightImportError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: { name: string; expected: number[]; got: number[] }[],
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected (${unexpected.length}): ${unexpected.join(', ')}`);
    if (mismatched.length)
      parts.push(
        `shape mismatch (${mismatched.length}): ${mismatched.map((m) => `${m.name} expected [${m.expected}] got [${m.got}]`).join(', ')}`,
      );
    super(`weight import failed: ${parts.join('; ')}`);
    this.name = 'WeightImportError';
  }
}

// ---------------------------------------------------------------------------
// Raw tensor helpers (pure JS, no tf tensors).

/** Generic N-d transpose: out.shape[i] = in.shape[perm[i]]. */
export function permute(t: RawTensor, perm: number[]): RawTensor {
  const inShape = t.shape;
  const r = inShape.length;
  const outShape = perm.map((p) => inShape[p]);
  const inStrides = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= inShape[i];
  }
  const strideForOut = perm.map((p) => inStrides[p]);
  const out = new Float32Array(t.data.length);
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < r; i++) src += idx[i] * strideForOut[i];
    out[o] = t.data[src];
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < outShape[i]) break;
      idx[i] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function reshape(t: RawTensor, shape: number[]): RawTensor {
  if (product(shape) !== t.data.length) throw new Error(`reshape [${t.shape}] -> [${shape}]: size mismatch`);
  return { shape, data: t.data };
}

/** Concatenate along axis 0. */
function concat0(ts: RawTensor[]): RawTensor {
  const rows = ts.reduce((a, t) => a + t.shape[0], 0);
  const out = new Float32Array(ts.reduce((a, t) => a + t.data.length, 0));
  let off = 0;
  for (const t of ts) {
    out.set(t.data, off);
    off += t.data.length;
  }
  return { shape: [rows, ...ts[0].shape.slice(1)], data: out };
}

/** Split along axis 0 into chunks of the given row counts. */
function split0(t: RawTensor, rows: number[]): RawTensor[] {
  const inner = t.data.length / t.shape[0];
  const out: RawTensor[] = [];
  let off = 0;
  for (const r of rows) {
    out.push({ shape: [r, ...t.shape.slice(1)], data: t.data.slice(off * inner, (off + r) * inner) });
    off += r;
  }
  return out;
}

/** Checkpoint tensor -> float32 RawTensor (F32/F64/F16/BF16/ints). */
export function toRaw(t: CheckpointTensor): RawTensor {
  const d = t.data as ArrayLike<number> & { buffer?: ArrayBuffer };
  const dtype = t.dtype.toUpperCase();
  const n = product(t.shape);
  let data: Float32Array;
  if (d instanceof Float32Array) data = d;
  else if ((dtype === 'F16' || dtype === 'BF16') && d instanceof Uint16Array) {
    data = dtype === 'F16' ? decodeHalf(d) : decodeBf16(d); // raw bits
  } else if (typeof BigInt64Array !== 'undefined' && (d instanceof BigInt64Array || d instanceof BigUint64Array)) {
    data = Float32Array.from(d as unknown as bigint[], (v) => Number(v));
  } else data = Float32Array.from(d as ArrayLike<number>);
  if (data.length !== n) throw new Error(`checkpoint tensor: shape [${t.shape}] but ${data.length} values`);
  return { shape: t.shape.slice(), data };
}

// ---------------------------------------------------------------------------
// Mapping entries.

type Kind =
  | { k: 'same' } // identical data, possibly different shape (e.g. [N,C] <-> [1,N,C])
  | { k: 'linear' } // ours [in,out] <-> theirs [out,in]
  | { k: 'conv1x1' } // ours [in,out] <-> theirs [out,in,1,1]
  | { k: 'conv' } // ours [k,k,i,o] <-> theirs [o,i,k,k]
  | { k: 'depthwise' } // ours [k,k,C,1] <-> theirs [C,1,k,k]
  | { k: 'patch'; p: number } // ours [p*p*3,C] <-> theirs [C,3,p,p]
  | { k: 'catLinear' } // ours [in,out_i]... concatenated on out <-> theirs [out_j,in]... concatenated on rows
  | { k: 'catBias' }; // 1-D concatenation on both sides

interface MapEntry {
  ours: string[];
  theirs: string[];
  kind: Kind;
  /** Expected checkpoint shapes (filled from our variable shapes). */
  theirShapes: number[][];
  /** Not part of the reference architecture (FiLM, TokenLearner, ...). */
  extra: boolean;
}

function theirShapeFor(kind: Kind, ourShapes: number[][], theirsShape?: number[]): number[][] {
  const s = ourShapes[0];
  switch (kind.k) {
    case 'same':
      return [theirsShape ?? s];
    case 'linear':
      return [[s[1], s[0]]];
    case 'conv1x1':
      return [[s[1], s[0], 1, 1]];
    case 'conv':
      return [[s[3], s[2], s[0], s[1]]];
    case 'depthwise':
      return [[s[2], 1, s[0], s[1]]];
    case 'patch':
      return [[s[1], 3, kind.p, kind.p]];
    default:
      throw new Error('theirShapeFor: use explicit shapes for concatenations');
  }
}

function toTheirs(kind: Kind, ours: RawTensor[], theirShapes: number[][]): RawTensor[] {
  const t = ours[0];
  switch (kind.k) {
    case 'same':
      return [reshape(t, theirShapes[0])]; // e.g. [N,C] -> [1,N,C]
    case 'linear':
      return [permute(t, [1, 0])];
    case 'conv1x1':
      return [reshape(permute(t, [1, 0]), theirShapes[0])]; // [I,O] -> [O,I] -> [O,I,1,1]
    case 'conv':
      return [permute(t, [3, 2, 0, 1])];
    case 'depthwise':
      return [permute(t, [2, 3, 0, 1])];
    case 'patch': {
      const C = t.shape[1];
      return [permute(reshape(t, [kind.p, kind.p, 3, C]), [3, 2, 0, 1])]; // [p*p*3,C] -> [p,p,3,C] -> [C,3,p,p]
    }
    case 'catLinear': {
      const rows = concat0(ours.map((o) => permute(o, [1, 0]))); // [sum out, in]
      return split0(rows, theirShapes.map((s) => s[0]));
    }
    case 'catBias':
      return split0(concat0(ours), theirShapes.map((s) => s[0]));
  }
}

function fromTheirs(kind: Kind, theirs: RawTensor[], ourShapes: number[][]): RawTensor[] {
  const t = theirs[0];
  switch (kind.k) {
    case 'same':
      return [reshape(t, ourShapes[0])]; // e.g. [1,N,C] -> [N,C]
    case 'linear':
      return [permute(t, [1, 0])];
    case 'conv1x1':
      return [permute(reshape(t, [t.shape[0], t.shape[1]]), [1, 0])]; // [O,I,1,1] -> [O,I] -> [I,O]
    case 'conv':
      return [permute(t, [2, 3, 1, 0])];
    case 'depthwise':
      return [permute(t, [2, 3, 0, 1])];
    case 'patch': {
      const C = t.shape[0];
      return [reshape(permute(t, [2, 3, 1, 0]), [kind.p * kind.p * 3, C])]; // [C,3,p,p] -> [p,p,3,C] -> [p*p*3,C]
    }
    case 'catLinear': {
      const rows = concat0(theirs); // [sum out, in]
      return split0(rows, ourShapes.map((s) => s[1])).map((r) => permute(r, [1, 0]));
    }
    case 'catBias':
      return split0(concat0(theirs), ourShapes.map((s) => s[0]));
  }
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

function mappingFor(model: VisionBackbone, layout: WeightLayout): MapEntry[] {
  if (layout === 'native') return nativeMapping(model);
  if (layout === 'torchvision') {
    if (!(model instanceof EfficientNet)) throw new Error(`layout 'torchvision' needs an EfficientNet, got ${model.name}`);
    return torchvisionEfficientNetMapping(model);
  }
  if (!(model instanceof ViT)) throw new Error(`layout '${layout}' needs a ViT, got ${model.name}`);
  return layout === 'timm' ? timmViTMapping(model) : hfSiglipMapping(model);
}

// ---------------------------------------------------------------------------
// Public API.

export interface ImportOptions {
  /** Prepended to every checkpoint name (e.g. 'vision_backbone.featurizer.'). Not applied to extras. */
  prefix?: string;
  /** Do not report extras (FiLM, TokenLearner, ...) as missing; they keep their current values. */
  ignoreMissingExtras?: boolean;
  /** Our stable keys that may be missing from the checkpoint. */
  allowMissing?: (ourKey: string) => boolean;
  /** Checkpoint names that may be left unused (default: BN num_batches_tracked). */
  ignoreUnexpected?: (name: string) => boolean;
}

export interface ImportReport {
  /** Our stable keys that were assigned. */
  loaded: string[];
  /** Our stable keys left at their current values (allowed missing). */
  skipped: string[];
  /** Checkpoint names that were ignored. */
  ignored: string[];
}

const defaultIgnoreUnexpected = (n: string) => n.endsWith('num_batches_tracked');

/**
 * Load a checkpoint into a backbone. All problems are collected first and
 * reported in one WeightImportError (missing, unexpected, shape-mismatched
 * names); nothing is assigned unless the whole checkpoint matches.
 */
export function importWeights(
  model: VisionBackbone,
  checkpoint: Checkpoint,
  layout: WeightLayout,
  opts: ImportOptions = {},
): ImportReport {
  const entries = mappingFor(model, layout);
  const prefix = opts.prefix ?? '';
  const ignoreUnexpected = opts.ignoreUnexpected ?? defaultIgnoreUnexpected;
  const nameOf = (e: MapEntry, n: string) => (e.extra ? n : prefix + n);
  const missing: string[] = [];
  const mismatched: { name: string; expected: number[]; got: number[] }[] = [];
  const consumed = new Set<string>();
  const toLoad: MapEntry[] = [];
  const skipped: string[] = [];
  for (const e of entries) {
    const names = e.theirs.map((n) => nameOf(e, n));
    names.forEach((n) => checkpoint.has(n) && consumed.add(n));
    const absent = names.filter((n) => !checkpoint.has(n));
    if (absent.length) {
      const allowed = (e.extra && opts.ignoreMissingExtras) || e.ours.every((k) => opts.allowMissing?.(k));
      if (allowed && absent.length === names.length) skipped.push(...e.ours);
      else missing.push(...absent);
      continue;
    }
    let ok = true;
    names.forEach((n, i) => {
      const got = checkpoint.get(n)!.shape;
      const exp = e.theirShapes[i];
      if (got.length !== exp.length || got.some((d, j) => d !== exp[j])) {
        mismatched.push({ name: n, expected: exp, got: got.slice() });
        ok = false;
      }
    });
    if (ok) toLoad.push(e);
  }
  const unexpected: string[] = [];
  const ignored: string[] = [];
  for (const n of checkpoint.keys()) {
    if (consumed.has(n)) continue;
    if (ignoreUnexpected(n)) ignored.push(n);
    else unexpected.push(n);
  }
  if (missing.length || unexpected.length || mismatched.length) throw new WeightImportError(missing, unexpected, mismatched);

  const weights = model.namedWeights();
  const loaded: string[] = [];
  for (const e of toLoad) {
    const raws = e.theirs.map((n) => toRaw(checkpoint.get(nameOf(e, n))!));
    const ourShapes = e.ours.map((k) => weights[k].shape.slice());
    const ours = fromTheirs(e.kind, raws, ourShapes);
    e.ours.forEach((k, i) => {
      tf.tidy(() => weights[k].assign(tf.tensor(ours[i].data, ourShapes[i], 'float32')));
      loaded.push(k);
    });
  }
  return { loaded, skipped, ignored };
}

export interface ExportOptions {
  /** Prepended to every exported (non-extra) name. */
  prefix?: string;
  /** Leave out the extras (FiLM, TokenLearner, ...). */
  excludeExtras?: boolean;
  /** Leave out BN running statistics. */
  excludeBuffers?: boolean;
}

/** Export a backbone's weights under a public layout: name -> {dtype 'F32', shape, data}. */
export function exportWeights(model: VisionBackbone, layout: WeightLayout, opts: ExportOptions = {}): Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }> {
  const entries = mappingFor(model, layout);
  const weights = model.namedWeights();
  const out = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
  for (const e of entries) {
    if (e.extra && opts.excludeExtras) continue;
    if (opts.excludeBuffers && e.ours.some((k) => !weights[k].trainable)) continue;
    const ours = e.ours.map((k) => ({ shape: weights[k].shape.slice(), data: weights[k].dataSync() as Float32Array }));
    const theirs = toTheirs(e.kind, ours, e.theirShapes);
    e.theirs.forEach((n, i) => {
      const name = e.extra ? n : (opts.prefix ?? '') + n;
      out.set(name, { dtype: 'F32', shape: theirs[i].shape, data: Float32Array.from(theirs[i].data) });
    });
  }
  return out;
}

/** Checkpoint names (and expected shapes) a model expects under a layout. */
export function expectedNames(model: VisionBackbone, layout: WeightLayout): { name: string; shape: number[]; extra: boolean }[] {
  return mappingFor(model, layout).flatMap((e) => e.theirs.map((n, i) => ({ name: n, shape: e.theirShapes[i], extra: e.extra })));
}

/** Parse .safetensors bytes and import them (see importWeights). */
export function importSafetensors(model: VisionBackbone, bytes: Uint8Array, layout: WeightLayout, opts: ImportOptions = {}): ImportReport {
  return importWeights(model, parseSafetensors(bytes).tensors, layout, opts);
}

export interface ExportSafetensorsOptions extends ExportOptions {
  /** String metadata stored in the header (e.g. {format: 'pt'}). */
  metadata?: Record<string, string>;
  /**
   * torchvision layout: also write each BN's `num_batches_tracked` (I64
   * scalar, value 0) so that PyTorch's strict load_state_dict accepts the file.
   * Default true for 'torchvision'.
   */
  numBatchesTracked?: boolean;
}

/** Export a backbone as .safetensors bytes under a public layout. */
export function exportSafetensors(model: VisionBackbone, layout: WeightLayout, opts: ExportSafetensorsOptions = {}): Uint8Array {
  const entries: Record<string, SafeEntry> = {};
  for (const [n, t] of exportWeights(model, layout, opts)) entries[n] = t;
  if (layout === 'torchvision' && (opts.numBatchesTracked ?? true) && !opts.excludeBuffers) {
    for (const n of Object.keys(entries)) {
      if (n.endsWith('.running_mean')) {
        entries[n.replace(/running_mean$/, 'num_batches_tracked')] = { dtype: 'I64', shape: [], data: new BigInt64Array(1) };
      }
    }
  }
  return serializeSafetensors(entries, opts.metadata);
}
