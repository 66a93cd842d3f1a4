// Streaming behavior-cloning dataset over a demo directory (src/data/demoStore.ts format).
//
// - Step index: every (episode, t) of the *successful* episodes (and of every
//   relabelled DAgger episode, src/app/api/dagger.ts); step t pairs
//   observation t with the action chunk a_t .. a_{t+chunk-1} (padded with the
//   episode's last action, i.e. "terminate" repeated).
// - Train/validation split by episode (never by step: neighbouring frames are
//   near-duplicates, a step split would leak), from a seeded permutation.
// - Epoch order: a windowed shuffle (a shuffle buffer, as tf.data / WebDataset
//   do): the train episodes are permuted, cut into windows of `windowEpisodes`,
//   and the steps inside each window are permuted. Only the episodes of the
//   current window need to be in memory, so a small LRU cache of decoded
//   episodes suffices (the full 600-episode set is ~1.4 GB of frames).
// - Randomness is a pure function of (seed, epoch, batch index): a resumed run
//   reproduces the same batches and augmentations without saving RNG state.
//
// Browser-safe: episodes come from an EpisodeSource (Node: src/train/node.ts reads the
// directory; a browser can fetch). Only types are imported from demoStore.
import { Rng } from '../../sim/rng.ts';
import type { DatasetInfo, EpisodeData, IndexEntry } from '../data/demoStore.ts';
import { AUGMENT_DEFAULTS, type AugmentConfig, augmentFrame, sampleAugment } from './augment.ts';
import { AUX_DIM, PLAN_DIM, auxTargets, planTargets } from './auxTargets.ts';
import { roleWords } from '../../policies/roleAux.ts';
import type { CameraSpec } from '../../sim/types.ts';
import { shiftedCameras } from '../../sim/render/cameraMath.ts';
import { SPATIAL_TARGETS, SPATIAL_VALUES, spatialTargets } from './spatialTargets.ts';

export interface EpisodeSource {
  readonly info: DatasetInfo;
  readonly index: IndexEntry[];
  /** A path or URL, recorded in checkpoints. */
  readonly location: string;
  load(entry: IndexEntry): EpisodeData | Promise<EpisodeData>;
}

export interface DatasetOptions {
  /** Cameras to deliver, in policy order. */
  cameras: string[];
  batchSize: number;
  seed: number;
  /** Fraction of successful episodes held out for validation (at least one when > 0). */
  valFraction: number;
  /** Actions per target chunk (policy chunkLength). */
  chunkLength: number;
  augment: AugmentConfig;
  /** Episodes per shuffle window. */
  windowEpisodes: number;
  /** Decoded episodes kept in memory (LRU); should exceed windowEpisodes. */
  cacheEpisodes: number;
  /** Deliver auxiliary targets (src/train/auxTargets.ts) with every batch. */
  aux: boolean;
  /** Use only the first N successful episodes in index (collection) order; 0 = all. */
  maxEpisodes: number;
  /**
   * Deliver spatial targets (src/train/spatialTargets.ts) for these camera
   * specs, one per entry of `cameras` in the same order; null = none.
   */
  spatial: CameraSpec[] | null;
  /** Deliver plan targets (src/train/auxTargets.ts planTargets), chunked like the actions. */
  plan: boolean;
}

export const DATASET_DEFAULTS: Omit<DatasetOptions, 'cameras'> = {
  batchSize: 32, seed: 0, valFraction: 0.1, chunkLength: 1, augment: AUGMENT_DEFAULTS, windowEpisodes: 96, cacheEpisodes: 128, aux: false, maxEpisodes: 0, spatial: null, plan: false,
};

/** A step: index into DemoDataset.episodes and the time step. */
export interface StepRef {
  episode: number;
  t: number;
}

/** Host-side batch; images are float32 [B,H,W,3] in [0,1]. */
export interface RawBatch {
  height: number;
  width: number;
  images: Record<string, Float32Array>;
  proprio: Float32Array;
  proprioDim: number;
  actions: Float32Array[];
  instructions: string[];
  /** Per sample the goal's role words (policies/roleAux.ts roleWords). */
  roles: string[][];
  refs: StepRef[];
  /** [B * AUX_DIM] targets and mask when DatasetOptions.aux. */
  aux?: { target: Float32Array; mask: Float32Array; dim: number };
  /**
   * With DatasetOptions.spatial: [B * cameras * SPATIAL_TARGETS * SPATIAL_VALUES]
   * (u, v, visible) per camera and target, moved with the augmentation shift.
   */
  spatial?: Float32Array;
  /** With DatasetOptions.plan: B chunks of chunkLength * PLAN_DIM values (metres). */
  plan?: Float32Array[];
}

interface Cached {
  steps: number;
  instruction: string;
  roles: string[];
  images: Record<string, Uint8Array>;
  proprio: Float32Array;
  actions: Float32Array;
  aux: { target: Float32Array; mask: Float32Array } | null;
  spatial: Float32Array | null;
  plan: Float32Array | null;
}

/** Rows t .. t+K-1 of a [steps, width] array, the last row repeated past the episode's end. */
function chunkAt(rows: Float32Array, width: number, t: number, steps: number, K: number): Float32Array {
  const out = new Float32Array(K * width);
  for (let k = 0; k < K; k++) {
    const tt = Math.min(t + k, steps - 1);
    out.set(rows.subarray(tt * width, (tt + 1) * width), k * width);
  }
  return out;
}

/** Hash integers into one uint32 seed (splitmix32-style mixing). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = (h ^ (p >>> 0)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

const SPLIT_SALT = 0x5b1; // different streams for split, order and augmentation
const ORDER_SALT = 0x0de;
const AUG_SALT = 0xa06;

export class DemoDataset {
  readonly opts: DatasetOptions;
  readonly info: DatasetInfo;
  /** Successful episodes (index order); StepRef.episode indexes this. */
  readonly episodes: IndexEntry[];
  readonly trainEpisodes: number[];
  readonly valEpisodes: number[];
  readonly trainSteps: StepRef[];
  readonly valSteps: StepRef[];
  private readonly cache = new Map<number, Cached>();
  private orderCache: { epoch: number; order: StepRef[] } | null = null;
  stats = { loads: 0, hits: 0 };

  constructor(readonly source: EpisodeSource, opts: Partial<DatasetOptions> & { cameras: string[] }) {
    const o = (this.opts = { ...DATASET_DEFAULTS, ...opts });
    this.info = source.info;
    for (const cam of o.cameras) {
      if (!this.info.cameras.includes(cam)) throw new Error(`dataset ${source.location} has no camera '${cam}' (cameras: ${this.info.cameras.join(', ')})`);
    }
    if (!(o.valFraction >= 0 && o.valFraction < 1)) throw new Error(`valFraction must be in [0, 1), got ${o.valFraction}`);
    if (!(o.batchSize >= 1)) throw new Error(`batchSize must be >= 1, got ${o.batchSize}`);
    if (o.spatial && o.spatial.map((c) => c.name).join() !== o.cameras.join()) throw new Error(`spatial camera specs (${o.spatial.map((c) => c.name).join(', ')}) must match cameras (${o.cameras.join(', ')})`);
    if (!(Number.isInteger(o.maxEpisodes) && o.maxEpisodes >= 0)) throw new Error(`maxEpisodes must be an integer >= 0, got ${o.maxEpisodes}`);
    const ok = source.index.filter((e) => (e.success || e.relabelled) && e.steps > 0); // DAgger labels count whatever the outcome
    if (o.maxEpisodes > ok.length) throw new Error(`dataset ${source.location}: ${ok.length} successful episodes, fewer than the ${o.maxEpisodes} asked for`);
    this.episodes = o.maxEpisodes > 0 ? ok.slice(0, o.maxEpisodes) : ok;
    const n = this.episodes.length;
    const nVal = o.valFraction > 0 ? Math.max(1, Math.round(n * o.valFraction)) : 0;
    if (n - nVal < 1) throw new Error(`dataset ${source.location}: ${n} successful episodes, too few for a validation fraction of ${o.valFraction}`);
    const perm = new Rng(mixSeed(o.seed, SPLIT_SALT)).shuffle(this.episodes.map((_, i) => i));
    this.valEpisodes = perm.slice(0, nVal).sort((a, b) => a - b);
    this.trainEpisodes = perm.slice(nVal).sort((a, b) => a - b);
    this.trainSteps = this.trainEpisodes.flatMap((e) => this.stepsOf(e));
    this.valSteps = this.valEpisodes.flatMap((e) => this.stepsOf(e));
    if (this.trainSteps.length < o.batchSize) throw new Error(`dataset ${source.location}: ${this.trainSteps.length} training steps, fewer than one batch of ${o.batchSize}`);
  }

  private stepsOf(e: number): StepRef[] {
    return Array.from({ length: this.episodes[e].steps }, (_, t) => ({ episode: e, t }));
  }

  /** Full batches per epoch (the remainder is dropped so every step has the same shapes). */
  get batchesPerEpoch(): number {
    return Math.floor(this.trainSteps.length / this.opts.batchSize);
  }

  /** Proprio rows of up to `maxEpisodes` training episodes, evenly spaced (normalization statistics). */
  async proprioSample(maxEpisodes = 64): Promise<Float32Array[]> {
    const eps = this.trainEpisodes;
    const pick = eps.length <= maxEpisodes ? eps : Array.from({ length: maxEpisodes }, (_, k) => eps[Math.floor((k * eps.length) / maxEpisodes)]);
    const P = this.info.proprioNames.length;
    const rows: Float32Array[] = [];
    for (const e of pick) {
      const ep = await this.source.load(this.episodes[e]); // not cached: only the proprio is kept
      for (let t = 0; t < ep.steps; t++) rows.push(ep.proprio.slice(t * P, (t + 1) * P));
    }
    return rows;
  }

  /** Distinct instructions of all episodes, train and validation (a frozen text encoder embeds them once). */
  allInstructions(): string[] {
    return [...new Set(this.episodes.map((e) => e.instruction))];
  }

  /** Instructions of the training episodes (for the text vocabulary). */
  trainInstructions(): string[] {
    return this.trainEpisodes.map((e) => this.episodes[e].instruction);
  }

  /** The epoch's step order (windowed shuffle). */
  epochOrder(epoch: number): StepRef[] {
    if (this.orderCache?.epoch === epoch) return this.orderCache.order;
    const rng = new Rng(mixSeed(this.opts.seed, ORDER_SALT, epoch));
    const eps = rng.shuffle(this.trainEpisodes);
    const order: StepRef[] = [];
    for (let w = 0; w < eps.length; w += this.opts.windowEpisodes) {
      order.push(...rng.shuffle(eps.slice(w, w + this.opts.windowEpisodes).flatMap((e) => this.stepsOf(e))));
    }
    this.orderCache = { epoch, order };
    return order;
  }

  /** Training batch `i` of `epoch`, augmented. */
  async trainBatch(epoch: number, i: number): Promise<RawBatch> {
    if (i < 0 || i >= this.batchesPerEpoch) throw new Error(`batch ${i} out of range [0, ${this.batchesPerEpoch})`);
    const B = this.opts.batchSize;
    const refs = this.epochOrder(epoch).slice(i * B, (i + 1) * B);
    return this.batch(refs, new Rng(mixSeed(this.opts.seed, AUG_SALT, epoch, i)));
  }

  /** Validation batches in fixed order, no augmentation; at most maxSamples steps (evenly strided). */
  valBatchRefs(maxSamples = Infinity): StepRef[][] {
    let steps = this.valSteps;
    if (steps.length > maxSamples) {
      const stride = steps.length / maxSamples;
      steps = Array.from({ length: maxSamples }, (_, k) => this.valSteps[Math.floor(k * stride)]);
    }
    const out: StepRef[][] = [];
    for (let i = 0; i < steps.length; i += this.opts.batchSize) out.push(steps.slice(i, i + this.opts.batchSize));
    return out;
  }

  /** Assemble a batch; rng = null disables augmentation. */
  async batch(refs: StepRef[], rng: Rng | null): Promise<RawBatch> {
    const { cameras, chunkLength, augment } = this.opts;
    const H = this.info.resolution;
    const W = this.info.resolution;
    const frame = H * W * 3;
    const P = this.info.proprioNames.length;
    const A = this.info.actionNames.length;
    const B = refs.length;
    const images: Record<string, Float32Array> = {};
    for (const cam of cameras) images[cam] = new Float32Array(B * frame);
    const proprio = new Float32Array(B * P);
    const actions: Float32Array[] = [];
    const plans: Float32Array[] = [];
    const instructions: string[] = [];
    const roles: string[][] = [];
    const aux = this.opts.aux ? { target: new Float32Array(B * AUX_DIM), mask: new Float32Array(B * AUX_DIM), dim: AUX_DIM } : undefined;
    const S = cameras.length * SPATIAL_TARGETS * SPATIAL_VALUES;
    const spatial = this.opts.spatial ? new Float32Array(B * S) : undefined;
    for (let b = 0; b < B; b++) {
      const { episode, t } = refs[b];
      const ep = await this.episode(episode);
      cameras.forEach((cam, c) => {
        const a = rng ? sampleAugment(rng, augment) : null;
        augmentFrame(ep.images[cam], t * frame, H, W, images[cam], b * frame, a);
        if (!spatial || !ep.spatial) return;
        for (let k = 0; k < SPATIAL_TARGETS; k++) {
          const o = (c * SPATIAL_TARGETS + k) * SPATIAL_VALUES;
          const [u, v, vis] = ep.spatial.subarray(t * S + o, t * S + o + SPATIAL_VALUES);
          // The shift samples src(x + dx, y + dy): content moves by -dx, -dy.
          const su = u - (a?.dx ?? 0) / W, sv = v - (a?.dy ?? 0) / H;
          if (vis > 0 && su >= 0 && su <= 1 && sv >= 0 && sv <= 1) spatial.set([su, sv, 1], b * S + o);
        }
      });
      proprio.set(ep.proprio.subarray(t * P, (t + 1) * P), b * P);
      actions.push(chunkAt(ep.actions, A, t, ep.steps, chunkLength));
      if (ep.plan) plans.push(chunkAt(ep.plan, PLAN_DIM, t, ep.steps, chunkLength));
      instructions.push(ep.instruction);
      roles.push(ep.roles);
      if (aux && ep.aux) {
        aux.target.set(ep.aux.target.subarray(t * AUX_DIM, (t + 1) * AUX_DIM), b * AUX_DIM);
        aux.mask.set(ep.aux.mask.subarray(t * AUX_DIM, (t + 1) * AUX_DIM), b * AUX_DIM);
      }
    }
    return { height: H, width: W, images, proprio, proprioDim: P, actions, instructions, roles, refs, ...(aux ? { aux } : {}), ...(spatial ? { spatial } : {}), ...(this.opts.plan ? { plan: plans } : {}) };
  }

  /** Decoded episode through the LRU cache (only the requested cameras are kept). */
  async episode(e: number): Promise<Cached> {
    const hit = this.cache.get(e);
    if (hit) {
      this.stats.hits++;
      this.cache.delete(e); // re-insert: Map iteration order is the LRU order
      this.cache.set(e, hit);
      return hit;
    }
    const entry = this.episodes[e];
    const data = await this.source.load(entry);
    const images: Record<string, Uint8Array> = {};
    for (const cam of this.opts.cameras) images[cam] = data.images[cam];
    const gripper = this.info.actionNames.indexOf('gripper');
    if (this.opts.aux && gripper < 0) throw new Error(`${this.source.location}: auxiliary targets need a 'gripper' action (actions: ${this.info.actionNames.join(', ')})`);
    const aux = this.opts.aux ? auxTargets(data.episode, data.actions, data.steps, this.info.actionNames.length, gripper) : null;
    const A = this.info.actionNames.length, P = this.info.proprioNames.length;
    if (this.opts.spatial && gripper < 0) throw new Error(`${this.source.location}: spatial targets need a 'gripper' action (actions: ${this.info.actionNames.join(', ')})`);
    // A randomized episode's fixed cameras were shifted (sim/render/randomization.ts): project with the cameras it was rendered with.
    const spatial = this.opts.spatial ? spatialTargets(data.episode, shiftedCameras(this.opts.spatial, data.appearance?.cameraShift), data.proprio, P, data.actions, A, gripper, data.steps) : null;
    if (this.opts.plan && gripper < 0) throw new Error(`${this.source.location}: plan targets need a 'gripper' action (actions: ${this.info.actionNames.join(', ')})`);
    const plan = this.opts.plan ? planTargets(data.episode, data.proprio, P, data.actions, A, gripper, data.steps) : null;
    const roles = roleWords(data.episode.goal.object, data.episode.goal.target);
    const c: Cached = { steps: data.steps, instruction: entry.instruction, roles, images, proprio: data.proprio, actions: data.actions, aux, spatial, plan };
    if (data.steps !== entry.steps) throw new Error(`${this.source.location}/${entry.file}: ${data.steps} steps in the file, ${entry.steps} in the index`);
    const expect = data.steps * this.info.resolution * this.info.resolution * 3;
    for (const cam of this.opts.cameras) {
      if (images[cam]?.length !== expect) throw new Error(`${this.source.location}/${entry.file}: camera '${cam}' has ${images[cam]?.length ?? 0} bytes, expected ${expect}`);
    }
    this.stats.loads++;
    this.cache.set(e, c);
    while (this.cache.size > Math.max(1, this.opts.cacheEpisodes)) this.cache.delete(this.cache.keys().next().value as number);
    return c;
  }
}
