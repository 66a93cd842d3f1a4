// Weight import / export between our backbones and public checkpoint layouts
// ('torchvision' and 'timm' EfficientNet / ViT, 'hf_siglip' vision tower,
// 'native'; the name maps are in names.ts, the tensor layout conversions in
// layout.ts, the libraries' input conventions in conventions.ts, layout
// guessing for error messages in detect.ts; docs/weights.md).
//
// Checkpoints are handled as name -> {dtype, shape, data} maps (what
// src/io/safetensors.ts parses / serializes); importSafetensors /
// exportSafetensors work on .safetensors bytes.
import * as tf from '@tensorflow/tfjs';
import { SafetensorsError, parseSafetensors, serializeSafetensors, type SafeEntry } from '../../src/io/safetensors.ts';
import { BILINEAR, type ResizeMethod, resizePosRows } from '../posEmbed.ts';
import type { VisionBackbone } from '../registry.ts';
import { libraryPosEmbedResize } from './conventions.ts';
import { type LayoutGuess, guessLayout } from './detect.ts';
import { type Checkpoint, type CheckpointTensor, type RawTensor, fromTheirs, toRaw, toTheirs } from './layout.ts';
import { type MapEntry, type WeightLayout, WEIGHT_LAYOUTS, architectureOf, mappingFor } from './names.ts';

export { permute, toRaw, type Checkpoint, type CheckpointTensor, type RawTensor } from './layout.ts';
export { WEIGHT_LAYOUTS, type WeightLayout, type Architecture } from './names.ts';
export { guessLayout, type LayoutGuess } from './detect.ts';
export { conventionsFor, libraryConventions, libraryPosEmbedResize, type LibraryConventions } from './conventions.ts';

/** Lists at most this many names per kind in the message (the fields keep all). */
const LIST_MAX = 20;

function listNames(names: string[]): string {
  const shown = names.slice(0, LIST_MAX).join(', ');
  return names.length > LIST_MAX ? `${shown}, ... and ${names.length - LIST_MAX} more` : shown;
}

export class WeightImportError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: { name: string; expected: number[]; got: number[] }[],
    readonly context: { file?: string; layout?: WeightLayout; guess?: LayoutGuess | null; hint?: string } = {},
  ) {
    const parts: string[] = [];
    if (context.hint) parts.push(context.hint);
    if (missing.length) parts.push(`missing (${missing.length}): ${listNames(missing)}`);
    if (unexpected.length) parts.push(`unexpected (${unexpected.length}): ${listNames(unexpected)}`);
    if (mismatched.length)
      parts.push(
        `shape mismatch (${mismatched.length}): ${listNames(mismatched.map((m) => `${m.name} expected [${m.expected}] got [${m.got}]`))}`,
      );
    const where = [context.file, context.layout && `layout '${context.layout}'`].filter(Boolean).join(', ');
    super(`weight import failed${where ? ` (${where})` : ''}: ${parts.join('; ')}`);
    this.name = 'WeightImportError';
  }
}

/** What to tell someone whose names fit another layout (or prefix) better than the one passed. */
function layoutHint(model: VisionBackbone, layout: WeightLayout, prefix: string, names: Iterable<string>): { guess: LayoutGuess | null; hint?: string } {
  const guess = guessLayout(names);
  if (!guess) return { guess, hint: `these names match none of the known layouts (${WEIGHT_LAYOUTS.join(', ')})` };
  const arch = architectureOf(model);
  if (guess.layout === layout && guess.prefix === prefix && (!arch || arch === guess.arch)) return { guess };
  const pct = Math.round(guess.share * 100);
  const pass = `pass layout '${guess.layout}'${guess.prefix !== prefix ? ` with prefix '${guess.prefix}'` : ''}`;
  if (arch && arch !== guess.arch) {
    const want = guess.arch === 'vit' ? 'a ViT' : 'an EfficientNet';
    return { guess, hint: `these names look like ${guess.label} (${pct}% of them), but ${model.name} is not ${want}: build ${want} backbone and ${pass}` };
  }
  return { guess, hint: `these names look like ${guess.label} (${pct}% of them); ${pass}` };
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
  /**
   * ViT position embeddings pretrained on another patch grid are resized to
   * the model's grid with this method; default: the layout's library
   * (conventions.ts: timm bicubic + antialias, HF SigLIP bicubic, torchvision
   * bicubic align_corners). 'off' reports them as shape mismatches. 'native'
   * checkpoints default to bilinear.
   */
  posEmbedResize?: ResizeMethod | 'off';
  /** The file the checkpoint came from, named in errors. */
  file?: string;
}

export interface ImportReport {
  /** Our stable keys that were assigned. */
  loaded: string[];
  /** Our stable keys left at their current values (allowed missing). */
  skipped: string[];
  /** Checkpoint names that were ignored. */
  ignored: string[];
  /** Position embeddings resized from the checkpoint's grid to the model's. */
  resized: { name: string; from: [number, number]; to: [number, number]; method: ResizeMethod }[];
}

/**
 * A checkpoint position embedding [(1,) prefix + g'*g', C] for a model grid g:
 * resized rows in the checkpoint's shape convention, or null when it is not
 * a square grid of the same width.
 */
function resizedPosEmbed(t: CheckpointTensor, expected: number[], pe: { prefix: number; grid: number }, m: ResizeMethod): { tensor: RawTensor; from: number } | null {
  const C = expected[expected.length - 1];
  const got = t.shape;
  if (got.length !== expected.length || got[got.length - 1] !== C || (got.length === 3 && got[0] !== 1)) return null;
  const rows = got[got.length - 2] - pe.prefix;
  const g0 = Math.round(Math.sqrt(rows));
  if (rows <= 0 || g0 * g0 !== rows) return null;
  const raw = toRaw(t);
  const out = new Float32Array((pe.prefix + pe.grid * pe.grid) * C);
  out.set(raw.data.subarray(0, pe.prefix * C)); // class token's row unchanged (as timm / torchvision)
  out.set(resizePosRows(raw.data.subarray(pe.prefix * C), C, [g0, g0], [pe.grid, pe.grid], m), pe.prefix * C);
  return { tensor: { shape: expected.slice(), data: out }, from: g0 };
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
  const resized: ImportReport['resized'] = [];
  const replaced = new Map<string, RawTensor>(); // checkpoint name -> resized position embedding
  const resizeWith = opts.posEmbedResize ?? libraryPosEmbedResize(layout) ?? BILINEAR;
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
        const r = e.posEmbed && resizeWith !== 'off' ? resizedPosEmbed(checkpoint.get(n)!, exp, e.posEmbed, resizeWith) : null;
        if (r && resizeWith !== 'off') {
          replaced.set(n, r.tensor);
          resized.push({ name: n, from: [r.from, r.from], to: [e.posEmbed!.grid, e.posEmbed!.grid], method: resizeWith });
          return;
        }
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
  if (missing.length || unexpected.length || mismatched.length) {
    const { guess, hint } = missing.length || unexpected.length ? layoutHint(model, layout, prefix, checkpoint.keys()) : { guess: null, hint: undefined };
    throw new WeightImportError(missing, unexpected, mismatched, { file: opts.file, layout, guess, hint });
  }

  const weights = model.namedWeights();
  const loaded: string[] = [];
  for (const e of toLoad) {
    const raws = e.theirs.map((n) => replaced.get(nameOf(e, n)) ?? toRaw(checkpoint.get(nameOf(e, n))!));
    const ourShapes = e.ours.map((k) => weights[k].shape.slice());
    const ours = fromTheirs(e.kind, raws, ourShapes);
    e.ours.forEach((k, i) => {
      tf.tidy(() => weights[k].assign(tf.tensor(ours[i].data, ourShapes[i], 'float32')));
      loaded.push(k);
    });
  }
  return { loaded, skipped, ignored, resized };
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

/** Parse .safetensors bytes and import them (see importWeights); errors name opts.file. */
export function importSafetensors(model: VisionBackbone, bytes: Uint8Array, layout: WeightLayout, opts: ImportOptions = {}): ImportReport {
  let tensors: Checkpoint;
  try {
    tensors = parseSafetensors(bytes).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError && opts.file) throw new SafetensorsError(`${opts.file}: ${e.message.replace(/^safetensors: /, '')}`);
    throw e;
  }
  return importWeights(model, tensors, layout, opts);
}

export interface ExportSafetensorsOptions extends ExportOptions {
  /** String metadata stored in the header (e.g. {format: 'pt'}). */
  metadata?: Record<string, string>;
  /**
   * torchvision / timm layouts: also write each BN's `num_batches_tracked`
   * (I64 scalar, value 0) so that PyTorch's strict load_state_dict accepts
   * the file. Default true for them.
   */
  numBatchesTracked?: boolean;
}

/** Export a backbone as .safetensors bytes under a public layout. */
export function exportSafetensors(model: VisionBackbone, layout: WeightLayout, opts: ExportSafetensorsOptions = {}): Uint8Array {
  const entries: Record<string, SafeEntry> = {};
  for (const [n, t] of exportWeights(model, layout, opts)) entries[n] = t;
  if ((layout === 'torchvision' || layout === 'timm') && (opts.numBatchesTracked ?? true) && !opts.excludeBuffers) {
    for (const n of Object.keys(entries)) {
      if (n.endsWith('.running_mean')) {
        entries[n.replace(/running_mean$/, 'num_batches_tracked')] = { dtype: 'I64', shape: [], data: new BigInt64Array(1) };
      }
    }
  }
  return serializeSafetensors(entries, opts.metadata);
}
