// Policy checkpoints: save in Node, load in Node (fs) and in the browser (fetch).
//
// A checkpoint is a directory:
//   config.json           {format: "vlalab-checkpoint", formatVersion: 1,
//                          policy: {name, backbone, config (VlaPolicy.toJSON().config: every
//                                   field incl. the text vocabulary and action bounds/bins), params},
//                          tokenizers: {text: {vocab}, action: {bins, low, high}}  (copies, checked on load),
//                          weights: {file, dtype, tensors},
//                          dataset: {...} | null, training: {args, state} | null,
//                          vlalab: {version, gitCommit, tfjs}, createdAt}
//   weights.safetensors   every VlaPolicy.namedWeights() entry (incl. BN running stats) under
//                          its stable key, F32 (or F16 with { f16: true }: half the size)
//   optimizer.safetensors training only, ignored by the loader, deleted from the final
//                          (shipped) checkpoint: AdamW moments "m.<key>" / "v.<key>", a copy
//                          of the weights "w.<key>" (F32) and the trainer state as JSON in
//                          __metadata__.state. Self-contained on purpose: it is one file,
//                          renamed atomically, so a crash while saving can never pair
//                          weights and moments from different steps.
//   metrics.jsonl         one line per epoch (written by the trainer)
//   metrics.init.jsonl    --init-from runs only: the earlier runs' lines, tagged { run }
// Files are written to "<name>.tmp", fsynced and renamed, config.json last.
//
// The loader rebuilds the policy from config.json alone, then requires the
// weights to match it exactly: missing, unexpected and shape-mismatched names
// are listed in one CheckpointError (e.g. config edited to another backbone),
// as are unreadable files (truncated safetensors, bad JSON, HTTP errors).
import * as tf from '@tensorflow/tfjs';
import pkg from '../../package.json';
import { interpolatePosEmbed } from '../../backbones/index.ts';
import { VlaPolicy, type VlaPolicyConfig } from '../../policies/policy.ts';
import { type ParsedSafetensors, parseSafetensors, tensorsToSafetensors } from '../io/safetensors.ts';
import { isNode } from '../tf/backend.ts';

export const CHECKPOINT_FORMAT = 'vlalab-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const METRICS_FILE = 'metrics.jsonl';
/** The curves of the runs this one continued (--init-from), earliest first, each line tagged with its run's directory. */
export const INIT_METRICS_FILE = 'metrics.init.jsonl';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  formatVersion: number;
  policy: { name: string; backbone: string; config: VlaPolicyConfig; params: Record<string, number> };
  tokenizers: { text: { vocab: string[] }; action: { bins: number; low: number[]; high: number[] } };
  weights: { file: string; dtype: 'F32' | 'F16'; tensors: number };
  dataset: Record<string, unknown> | null;
  training: Record<string, unknown> | null;
  vlalab: { version: string; gitCommit: string | null; tfjs: string };
  createdAt: string;
}

export interface SaveExtra {
  /** Registry name (recipe) the policy was trained as (e.g. 'efficientnet-film'); a label: loading rebuilds from the config. */
  policyName?: string;
  dataset?: Record<string, unknown> | null;
  training?: Record<string, unknown> | null;
  gitCommit?: string | null;
  /** Store weights as F16 (half size; not for resuming). */
  f16?: boolean;
  /** Resume state for optimizer.safetensors (omit for a shipped checkpoint: a stale file is removed). */
  optimizer?: { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> };
  /** String metadata for the weights file header (e.g. the step). */
  stamp?: Record<string, string>;
}

/** The files of a checkpoint in memory (file name -> bytes). Browser-safe. */
export async function checkpointFiles(policy: VlaPolicy, extra: SaveExtra = {}): Promise<Record<string, Uint8Array>> {
  const named = policy.namedWeights();
  const dtype = extra.f16 ? 'F16' : 'F32';
  const stamp = { format: CHECKPOINT_FORMAT, ...(extra.stamp ?? {}) };
  const c = policy.config;
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_VERSION,
    policy: { name: extra.policyName ?? c.backbone, backbone: c.backbone, config: policy.toJSON().config, params: policy.paramCount() },
    tokenizers: { text: policy.textTokenizer.toJSON(), action: policy.actionTokenizer.toJSON() },
    weights: { file: WEIGHTS_FILE, dtype, tensors: Object.keys(named).length },
    dataset: extra.dataset ?? null,
    training: extra.training ?? null,
    vlalab: { version: pkg.version, gitCommit: extra.gitCommit ?? null, tfjs: tf.version.tfjs },
    createdAt: new Date().toISOString(),
  };
  const files: Record<string, Uint8Array> = {
    [WEIGHTS_FILE]: await tensorsToSafetensors(named, { floatDtype: dtype, metadata: stamp }),
  };
  if (extra.optimizer) files[OPTIMIZER_FILE] = await tensorsToSafetensors(extra.optimizer.tensors, { metadata: { format: CHECKPOINT_FORMAT, ...extra.optimizer.metadata } });
  files[CONFIG_FILE] = new TextEncoder().encode(JSON.stringify(config, null, 2) + '\n');
  return files;
}

// A variable specifier keeps bundlers from pulling Node builtins into browser builds.
async function nodeFs(): Promise<typeof import('node:fs/promises')> {
  const spec = 'node:fs/promises';
  return (await import(/* @vite-ignore */ spec)) as typeof import('node:fs/promises');
}

const joinPath = (dir: string, name: string) => (dir.endsWith('/') ? dir + name : `${dir}/${name}`);

/** Write a checkpoint directory (Node). Returns the config written. */
export async function saveCheckpoint(dir: string, policy: VlaPolicy, extra: SaveExtra = {}): Promise<CheckpointConfig> {
  if (!isNode()) throw new Error('saveCheckpoint writes files and runs in Node; in the browser use checkpointFiles()');
  const fs = await nodeFs();
  const files = await checkpointFiles(policy, extra);
  await fs.mkdir(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) { // config.json is last
    const tmp = joinPath(dir, `${name}.tmp`);
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, joinPath(dir, name));
  }
  if (!extra.optimizer) await fs.rm(joinPath(dir, OPTIMIZER_FILE), { force: true });
  return JSON.parse(new TextDecoder().decode(files[CONFIG_FILE])) as CheckpointConfig;
}

/** A checkpoint location: a directory (Node), a URL prefix (fetch), or the files themselves. */
export type CheckpointSource = string | { config: string | CheckpointConfig; weights: Uint8Array | ArrayBuffer };

// In the browser every location is fetched; in Node only explicit URLs are.
const useFetch = (s: string) => !isNode() || /^(https?|blob|data):/i.test(s);

/** Read one file of a checkpoint (Node fs or fetch); null when it does not exist and optional. */
export async function readCheckpointFile(src: string, name: string, optional = false): Promise<Uint8Array | null> {
  const where = joinPath(src, name);
  if (useFetch(src)) {
    let res: Response | null = null;
    // One retry on a network-level failure: a keep-alive socket the server closed while idle
    // resets on reuse (ECONNRESET). Browsers retry such idempotent GETs; Node's fetch does not.
    for (let attempt = 0; !res; attempt++) {
      try {
        res = await fetch(where);
      } catch (e) {
        if (attempt === 0) continue;
        // undici hides the socket-level reason (ECONNREFUSED, "other side closed") in `cause`.
        const cause = (e as { cause?: { message?: string } }).cause?.message;
        throw new CheckpointError(`cannot fetch ${where}: ${(e as Error).message}${cause ? ` (${cause})` : ''}`);
      }
    }
    if (res.status === 404 && optional) return null;
    if (!res.ok) throw new CheckpointError(`cannot fetch ${where}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }
  const fs = await nodeFs();
  try {
    return new Uint8Array(await fs.readFile(where));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (optional) return null;
      throw new CheckpointError(`${where} does not exist${name === CONFIG_FILE ? ' (not a vlalab checkpoint directory)' : ''}`);
    }
    throw new CheckpointError(`cannot read ${where}: ${(e as Error).message}`);
  }
}

/** Parse and check config.json. */
export function parseConfig(text: string | CheckpointConfig, where = CONFIG_FILE): CheckpointConfig {
  let c: CheckpointConfig;
  try {
    c = typeof text === 'string' ? (JSON.parse(text) as CheckpointConfig) : text;
  } catch (e) {
    throw new CheckpointError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (c?.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`${where}: format is ${JSON.stringify(c?.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (!(c.formatVersion <= CHECKPOINT_VERSION)) throw new CheckpointError(`${where}: format version ${c.formatVersion} is newer than this vlalab reads (${CHECKPOINT_VERSION})`);
  if (!c.policy?.config || typeof c.policy.config.backbone !== 'string') throw new CheckpointError(`${where}: missing policy.config`);
  const pc = c.policy.config;
  const a = c.tokenizers?.action;
  if (a && (a.bins !== pc.bins || a.low.join() !== pc.actionLow.join() || a.high.join() !== pc.actionHigh.join())) {
    throw new CheckpointError(`${where}: tokenizers.action disagrees with policy.config (bins/actionLow/actionHigh)`);
  }
  if (c.tokenizers?.text && c.tokenizers.text.vocab.join() !== pc.vocab.join()) throw new CheckpointError(`${where}: tokenizers.text.vocab disagrees with policy.config.vocab`);
  return c;
}

const list = (xs: string[]) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, ... (${xs.length} in all)` : '');

/** Copy parsed weights into the policy; nothing is assigned unless every name and shape matches. */
export function applyWeights(policy: VlaPolicy, parsed: ParsedSafetensors, where = WEIGHTS_FILE): void {
  const named = policy.namedWeights();
  const missing = Object.keys(named).filter((k) => !parsed.tensors.has(k));
  const unexpected = [...parsed.tensors.keys()].filter((k) => !(k in named));
  const shape = Object.keys(named).filter((k) => parsed.tensors.has(k) && parsed.tensors.get(k)!.shape.join() !== named[k].shape.join())
    .map((k) => `${k} [${parsed.tensors.get(k)!.shape}] vs [${named[k].shape}]`);
  const dtype = [...parsed.tensors].filter(([k, t]) => k in named && !['F32', 'F16', 'BF16'].includes(t.dtype)).map(([k, t]) => `${k} (${t.dtype})`);
  if (missing.length || unexpected.length || shape.length || dtype.length) {
    const parts = [
      missing.length && `missing ${missing.length}: ${list(missing)}`,
      unexpected.length && `unexpected ${unexpected.length}: ${list(unexpected)}`,
      shape.length && `shape mismatch ${shape.length} (file vs policy): ${list(shape)}`,
      dtype.length && `not float: ${list(dtype)}`,
    ].filter(Boolean);
    throw new CheckpointError(`${where} does not match the policy built from config.json (backbone ${policy.config.backbone}): ${parts.join('; ')}`);
  }
  for (const [k, v] of Object.entries(named)) {
    const t = parsed.tensors.get(k)!;
    tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, t.shape, 'float32')));
  }
}

/**
 * Copy every weight of `from` into the same-named weight of `to` (a policy
 * whose config adds modules, e.g. a role head or slot pooling, to a trained
 * one: timm's load_state_dict(strict=False), but only in the adding
 * direction). Returns the names of `to`'s weights that stay freshly
 * initialized; a weight of `from` with no place in `to`, or of another shape,
 * is an error naming it.
 */
export function transplantWeights(from: VlaPolicy, to: VlaPolicy, where: string): string[] {
  const src = from.namedWeights();
  const dst = to.namedWeights();
  const resampled = resampledDecoderPositions(from, to) ?? relaidActionPositions(from, to);
  // Switching the decoder to parallel decoding or to the continuous head retires the token-input table / the bin head by design;
  // leaving parallel decoding retires its queries.
  const retired = (k: string) =>
    (k === 'gpt.wte_action' && to.config.decoding === 'parallel') || (k === 'gpt.action_query' && to.config.decoding !== 'parallel') || (k.startsWith('gpt.lm_head.') && to.config.head === 'l1');
  const dropped = Object.keys(src).filter((k) => !(k in dst) && !retired(k));
  const shape = Object.keys(src)
    .filter((k) => k in dst && src[k].shape.join() !== dst[k].shape.join() && !(k === WPE && resampled))
    .map((k) => `${k} [${src[k].shape}] vs [${dst[k].shape}]`);
  if (dropped.length || shape.length) {
    resampled?.dispose();
    const parts = [dropped.length && `no place for ${dropped.length}: ${list(dropped)}`, shape.length && `shape mismatch ${shape.length} (checkpoint vs new policy): ${list(shape)}`].filter(Boolean);
    throw new CheckpointError(`${where}: the new config does not extend the checkpoint's policy: ${parts.join('; ')}`);
  }
  for (const [k, v] of Object.entries(src)) if (k in dst) dst[k].assign(k === WPE && resampled ? resampled : v);
  resampled?.dispose();
  return Object.keys(dst).filter((k) => !(k in src));
}

/** Parts of a policy a warm start can take from another checkpoint. */
export const WARM_START_PARTS = ['backbone', 'decoder'] as const;
export type WarmStartPart = (typeof WARM_START_PARTS)[number];

/**
 * Warm start one part of a new policy from another policy (timm's
 * load_pretrained with strict=False): 'backbone' = the vision backbone's
 * weights (backbone.*), 'decoder' = everything else (instruction encoder and
 * GPT). Each tensor of that part whose name and shape the new policy also has
 * is copied; the rest keep their fresh init and are reported (names absent in
 * the new policy, or shape mismatches, e.g. the vision-token projection when
 * the two backbones' token widths differ). Throws when nothing matches, since
 * then the warm start is surely not what was meant.
 */
export function warmStartWeights(from: VlaPolicy, to: VlaPolicy, part: WarmStartPart, where: string): { copied: string[]; skipped: string[] } {
  if (!WARM_START_PARTS.includes(part)) throw new Error(`${where}: warm-start part must be ${WARM_START_PARTS.join(' or ')}, got ${JSON.stringify(part)}`);
  const inPart = (k: string) => (part === 'backbone') === k.startsWith('backbone.');
  const src = from.namedWeights();
  const dst = to.namedWeights();
  const copied: string[] = [];
  const skipped: string[] = [];
  for (const [k, v] of Object.entries(src)) {
    if (!inPart(k)) continue;
    if (!(k in dst)) skipped.push(`${k} (not in the new policy)`);
    else if (v.shape.join() !== dst[k].shape.join()) skipped.push(`${k} [${v.shape}] vs [${dst[k].shape}]`);
    else copied.push(k);
  }
  if (copied.length === 0) throw new CheckpointError(`${where}: no ${part} weight of the checkpoint fits the new policy (${skipped.length} skipped: ${list(skipped)})`);
  for (const k of copied) dst[k].assign(src[k]);
  return { copied, skipped };
}

const WPE = 'gpt.wpe';

/**
 * The decoder's learned positions (gpt.wpe [prefix + action tokens, C]) begin
 * with one row per vision token, camera-major and row-major over each
 * camera's patch grid (policies/policy.ts). When a new input resolution
 * changes a patch-token backbone's grid (a ViT without TokenLearner), those
 * rows are resampled per camera the way the ViT resamples its own position
 * embeddings (bilinear, backbones/vit.ts interpolatePosEmbed; Dosovitskiy et
 * al. 2021, fine-tuning at higher resolution), and the rows after them
 * (language, proprio and action positions) are kept in order. Null when the
 * grids do not change or the two layouts differ in anything else.
 */
export function resampledDecoderPositions(from: VlaPolicy, to: VlaPolicy): tf.Tensor2D | null {
  const a = from.gpt.namedWeights().wpe;
  const b = to.gpt.namedWeights().wpe;
  const K = from.config.cameras.length;
  if (!a || !b || K !== to.config.cameras.length) return null;
  const g0 = from.backbone.gridSize(from.imageSize, from.imageSize);
  const g1 = to.backbone.gridSize(to.imageSize, to.imageSize);
  const n0 = g0[0] * g0[1];
  const n1 = g1[0] * g1[1];
  const patchTokens = from.backbone.outputTokens(from.imageSize, from.imageSize) === n0 && to.backbone.outputTokens(to.imageSize, to.imageSize) === n1;
  const [rowsA, C] = a.shape as [number, number];
  const [rowsB, CB] = b.shape as [number, number];
  if (!patchTokens || n0 === n1 || C !== CB || rowsA - K * n0 !== rowsB - K * n1) return null;
  return tf.tidy(() => {
    const rows = [];
    for (let k = 0; k < K; k++) rows.push(interpolatePosEmbed(a.slice([k * n0, 0], [n0, C]) as tf.Tensor2D, g0, g1)); // [n0,C] -> [n1,C]
    rows.push(a.slice([K * n0, 0], [rowsA - K * n0, C])); // language / proprio / action positions
    return tf.concat(rows, 0) as tf.Tensor2D; // [K*n1 + rest, C]
  });
}

/**
 * gpt.wpe when only the number of action positions changes (a new chunk
 * length, e.g. moving a 1-step decoder to 4-step parallel chunks): the prefix
 * rows are kept and action position j starts from the old row that predicted
 * action token j mod (old action count). In an autoregressive decoder the
 * hidden state at Tp-1+j predicts token j (the last prefix row predicts the
 * first token), so that row, Tp-1+(j mod n), carries "which dimension comes
 * next"; a parallel query at Tp+j predicts token j itself. (The first
 * version took row Tp+(j mod n), one dimension late: results/learning.)
 * Null when the prefixes or widths differ or nothing changes.
 */
export function relaidActionPositions(from: VlaPolicy, to: VlaPolicy): tf.Tensor2D | null {
  const a = from.gpt.namedWeights().wpe;
  const b = to.gpt.namedWeights().wpe;
  const Tp = from.gpt.config.maxPrefix;
  if (!a || !b || Tp !== to.gpt.config.maxPrefix || a.shape[1] !== b.shape[1] || a.shape[0] === b.shape[0]) return null;
  const [rowsA, C] = a.shape as [number, number];
  const nA = rowsA - Tp, nB = b.shape[0] - Tp;
  const idx = Array.from({ length: nB }, (_, j) => Tp - 1 + (j % nA));
  return tf.tidy(() => tf.concat([a.slice([0, 0], [Tp, C]), tf.gather(a, tf.tensor1d(idx, 'int32'))], 0) as tf.Tensor2D); // [Tp + nB, C]
}

/** Parse safetensors bytes, turning format errors into a CheckpointError naming the file. */
export function parseWeights(bytes: Uint8Array, where: string): ParsedSafetensors {
  try {
    return parseSafetensors(bytes);
  } catch (e) {
    throw new CheckpointError(`${where} is corrupt or truncated (${(e as Error).message})`);
  }
}

/** Rebuild a policy from a checkpoint and load its weights. */
export async function loadCheckpoint(src: CheckpointSource): Promise<{ policy: VlaPolicy; config: CheckpointConfig }> {
  const label = typeof src === 'string' ? src : '(in-memory checkpoint)';
  let configText: string | CheckpointConfig;
  let weightBytes: Uint8Array;
  if (typeof src === 'string') {
    configText = new TextDecoder().decode((await readCheckpointFile(src, CONFIG_FILE))!);
  } else {
    configText = src.config;
  }
  const config = parseConfig(configText, typeof src === 'string' ? joinPath(src, CONFIG_FILE) : CONFIG_FILE);
  if (typeof src === 'string') weightBytes = (await readCheckpointFile(src, config.weights?.file ?? WEIGHTS_FILE))!;
  else weightBytes = src.weights instanceof Uint8Array ? src.weights : new Uint8Array(src.weights);
  const where = typeof src === 'string' ? joinPath(src, config.weights?.file ?? WEIGHTS_FILE) : WEIGHTS_FILE;
  const parsed = parseWeights(weightBytes, where);
  let policy: VlaPolicy;
  try {
    policy = VlaPolicy.fromJSON({ config: config.policy.config });
  } catch (e) {
    throw new CheckpointError(`${label}: cannot build the policy described by config.json: ${(e as Error).message}`);
  }
  try {
    applyWeights(policy, parsed, where);
  } catch (e) {
    policy.dispose();
    throw e;
  }
  return { policy, config };
}

/** Rebuild a policy from a checkpoint directory (Node), URL prefix (browser) or in-memory files. */
export async function loadPolicy(src: CheckpointSource): Promise<VlaPolicy> {
  return (await loadCheckpoint(src)).policy;
}
