// Weight import / export between our backbones and public checkpoint layouts
// ('torchvision' EfficientNet, 'timm' ViT, 'hf_siglip' vision tower, 'native';
// the name maps are in names.ts, the tensor layout conversions in layout.ts).
//
// Checkpoints are handled as name -> {dtype, shape, data} maps (what
// src/io/safetensors.ts parses / serializes); importSafetensors /
// exportSafetensors work on .safetensors bytes.
import * as tf from '@tensorflow/tfjs';
import { parseSafetensors, serializeSafetensors, type SafeEntry } from '../../src/io/safetensors.ts';
import type { VisionBackbone } from '../registry.ts';
import { type Checkpoint, fromTheirs, toRaw, toTheirs } from './layout.ts';
import { type MapEntry, type WeightLayout, mappingFor } from './names.ts';

export { permute, toRaw, type Checkpoint, type CheckpointTensor, type RawTensor } from './layout.ts';
export type { WeightLayout } from './names.ts';

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
