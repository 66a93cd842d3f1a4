// Sharded training steps: one optimizer step = gradient accumulation over a
// fixed number of equal micro-batches ("shards", TrainConfig.microBatches).
// Browser-safe; the threads that compute shards in parallel are in
// src/train/threads.ts (Node worker_threads).
//
// Why shards rather than "the global batch split over the threads": batch
// norm in training mode normalizes with the statistics of the batch it sees,
// so splitting a batch over N threads would make the math depend on N. With
// S shards fixed in the run config, --threads 1 computes the S shards one
// after another and --threads S in parallel, and the update is the same
// function of (weights, batch) either way (as PyTorch DDP without SyncBN,
// Goyal et al. arXiv:1706.02677 "per-worker BN"):
//   loss  = mean over shards of the shard's loss
//   grad  = mean over shards of the shard's gradient (summed in shard order)
//   state = r0 + mean_k (r_k - r0) for every non-trainable weight (batch-norm
//           running statistics): r_k is what shard k's forward pass left,
//           starting from r0, the step's starting value. So the running
//           statistics move once per step, by the shard-averaged batch
//           statistics; weights a forward pass does not touch stay bit-equal.
// Every shard starts from the same weights and statistics r0. In-model
// randomness (dropout, stochastic depth: tfjs draws from Math.random when no
// seed is passed) is seeded per (run seed, step, shard) while the shard runs,
// so it does not depend on the thread either. Augmentation stays as it is:
// the global batch is built (and augmented) once, from (seed, epoch, batch).
// microBatches = 1 keeps the original single-pass step (Trainer.trainStep).
import * as tf from '@tensorflow/tfjs';
import type { VlaPolicy } from '../../policies/policy.ts';
import { Rng } from '../../sim/rng.ts';
import { disposeBatch, toPolicyBatch } from './batch.ts';
import { type RawBatch, mixSeed } from './dataset.ts';

/** Where one named weight lives in the flat buffers. */
export interface WeightSlot {
  key: string;
  shape: number[];
  size: number;
  trainable: boolean;
  /** Offset in the weights buffer (all weights). */
  offset: number;
  /** Offset in a shard's gradient buffer (trainable) or state buffer (non-trainable). */
  part: number;
}

/** Flat layout of a policy's named weights (stable keys, sorted): the same on every replica. */
export interface WeightLayout {
  slots: WeightSlot[];
  total: number;
  gradSize: number;
  stateSize: number;
  trainableCount: number;
}

export function weightLayout(named: Record<string, tf.Variable>): WeightLayout {
  let total = 0, gradSize = 0, stateSize = 0, trainableCount = 0;
  const slots = Object.keys(named).sort().map((key): WeightSlot => {
    const v = named[key];
    const slot = { key, shape: [...v.shape], size: v.size, trainable: v.trainable, offset: total, part: v.trainable ? gradSize : stateSize };
    total += v.size;
    if (v.trainable) (gradSize += v.size), trainableCount++;
    else stateSize += v.size;
    return slot;
  });
  return { slots, total, gradSize, stateSize, trainableCount };
}

/** A readable difference between two layouts (replica check), or null when equal. */
export function layoutMismatch(a: WeightLayout, b: WeightLayout): string | null {
  const sig = (l: WeightLayout) => new Map(l.slots.map((s) => [s.key, `${s.shape.join('x')}${s.trainable ? '' : ' (non-trainable)'}`]));
  const sa = sig(a), sb = sig(b);
  const diff = [...new Set([...sa.keys(), ...sb.keys()])].filter((k) => sa.get(k) !== sb.get(k));
  return diff.length ? diff.slice(0, 5).map((k) => `${k}: ${sa.get(k) ?? 'missing'} vs ${sb.get(k) ?? 'missing'}`).join('; ') : null;
}

/** Flat buffers a step works in (SharedArrayBuffer-backed when threads share them). */
export interface ShardBuffers {
  /** All weights at the start of the step (layout.total). */
  weights: Float32Array;
  /** Per shard: gradient (layout.gradSize), non-trainable state after its pass (layout.stateSize), and which trainable slots got a gradient. */
  grads: Float32Array[];
  states: Float32Array[];
  has: Uint8Array[];
}

export function allocBuffers(layout: WeightLayout, shards: number, shared: boolean): ShardBuffers {
  const f32 = (n: number) => new Float32Array(shared ? new SharedArrayBuffer(4 * n) : new ArrayBuffer(4 * n));
  const u8 = (n: number) => new Uint8Array(shared ? new SharedArrayBuffer(n) : new ArrayBuffer(n));
  return {
    weights: f32(layout.total),
    grads: Array.from({ length: shards }, () => f32(layout.gradSize)),
    states: Array.from({ length: shards }, () => f32(layout.stateSize)),
    has: Array.from({ length: shards }, () => u8(layout.trainableCount)),
  };
}

/** Copy every named weight into `out` (layout order). */
export function readWeights(named: Record<string, tf.Variable>, layout: WeightLayout, out: Float32Array): void {
  for (const s of layout.slots) out.set(named[s.key].dataSync() as Float32Array, s.offset);
}

/** Assign weights from `src`: all of them, or only the non-trainable state (a shard's starting statistics). */
export function writeWeights(named: Record<string, tf.Variable>, layout: WeightLayout, src: Float32Array, which: 'all' | 'state'): void {
  for (const s of layout.slots) {
    if (which === 'state' && s.trainable) continue;
    tf.tidy(() => named[s.key].assign(tf.tensor(src.slice(s.offset, s.offset + s.size), s.shape, 'float32')));
  }
}

/** Shard k of S of a host batch: every per-sample field cut to samples [k B/S, (k+1) B/S). */
export function splitBatch(raw: RawBatch, shards: number): RawBatch[] {
  const B = raw.instructions.length;
  if (!(Number.isInteger(shards) && shards >= 1) || B % shards !== 0) throw new Error(`a batch of ${B} does not split into ${shards} equal micro-batches`);
  const n = B / shards;
  // Generic over the fields, so fields added to RawBatch later are split too:
  // arrays of B items and typed arrays of B rows are per-sample; numbers are not.
  const cut = (v: unknown, lo: number, name: string): unknown => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as unknown as Float32Array;
      if (a.length % B !== 0) throw new Error(`RawBatch.${name}: ${a.length} values are not ${B} equal rows`);
      const row = a.length / B;
      return a.slice(lo * row, (lo + n) * row);
    }
    if (Array.isArray(v)) {
      if (v.length !== B) throw new Error(`RawBatch.${name}: ${v.length} items for a batch of ${B}`);
      return v.slice(lo, lo + n);
    }
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x, lo, `${name}.${k}`)]));
    return v;
  };
  return Array.from({ length: shards }, (_, k) => {
    const out = {} as Record<string, unknown>;
    for (const [key, v] of Object.entries(raw)) out[key] = cut(v, k * n, key);
    return out as unknown as RawBatch;
  });
}

const DROPOUT_SALT = 0xd50;

/** Seed of shard k's in-model randomness at a step. */
export function shardSeed(runSeed: number, step: number, shard: number): number {
  return mixSeed(runSeed, DROPOUT_SALT, step, shard);
}

/** Run fn with Math.random replaced by a seeded stream (tfjs's unseeded random ops draw their seed from it). */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const orig = Math.random;
  const rng = new Rng(seed >>> 0);
  Math.random = () => rng.next();
  try {
    return fn();
  } finally {
    Math.random = orig;
  }
}

/**
 * Loss and gradients of one shard from the weights now in `policy`; writes the
 * gradient, the non-trainable state the pass left and the has-gradient flags
 * into shard k's buffers. Returns the loss.
 */
export function computeShard(policy: VlaPolicy, layout: WeightLayout, raw: RawBatch, seed: number, buf: ShardBuffers, k: number): number {
  const named = policy.namedWeights();
  const keyOf = new Map(Object.entries(named).map(([key, v]) => [v.name, key]));
  const slotOf = new Map(layout.slots.map((s) => [s.key, s]));
  const trainIndex = new Map(layout.slots.filter((s) => s.trainable).map((s, i) => [s.key, i]));
  const vars = layout.slots.filter((s) => s.trainable).map((s) => named[s.key]);
  const batch = toPolicyBatch(raw, policy);
  try {
    const { value, grads } = withSeededRandom(seed, () => tf.variableGrads(() => policy.computeLoss(batch, true), vars));
    try {
      const loss = value.dataSync()[0];
      const g = buf.grads[k], has = buf.has[k];
      g.fill(0);
      has.fill(0);
      for (const [name, t] of Object.entries(grads)) {
        const key = keyOf.get(name) ?? name;
        const s = slotOf.get(key);
        if (!s?.trainable) throw new Error(`gradient for a weight outside the layout: ${key}`);
        g.set(t.dataSync() as Float32Array, s.part);
        has[trainIndex.get(key)!] = 1;
      }
      for (const s of layout.slots) if (!s.trainable) buf.states[k].set(named[s.key].dataSync() as Float32Array, s.part);
      return loss;
    } finally {
      tf.dispose([value, ...Object.values(grads)]);
    }
  } finally {
    disposeBatch(batch);
  }
}

/**
 * Combine S computed shards (see the header): the mean gradient per trainable
 * key (only keys some shard has a gradient for) and the new non-trainable state
 * per key, from r0 = buf.weights.
 */
export function combineShards(layout: WeightLayout, buf: ShardBuffers, S: number): { grads: Map<string, Float32Array>; state: Map<string, Float32Array> } {
  const grads = new Map<string, Float32Array>();
  const state = new Map<string, Float32Array>();
  let ti = 0;
  for (const s of layout.slots) {
    if (s.trainable) {
      const i = ti++;
      if (!buf.has.some((h) => h[i])) continue;
      const acc = new Float32Array(s.size);
      for (let k = 0; k < S; k++) {
        const g = buf.grads[k];
        for (let j = 0; j < s.size; j++) acc[j] += g[s.part + j];
      }
      for (let j = 0; j < s.size; j++) acc[j] /= S;
      grads.set(s.key, acc);
    } else {
      const out = new Float32Array(s.size);
      for (let j = 0; j < s.size; j++) {
        const r0 = buf.weights[s.offset + j];
        let d = 0;
        for (let k = 0; k < S; k++) d += buf.states[k][s.part + j] - r0;
        out[j] = r0 + d / S;
      }
      state.set(s.key, out);
    }
  }
  return { grads, state };
}

/** Computes the shards of a step into `buffers` (buffers.weights already holds the step's starting weights). */
export interface ShardRunner {
  readonly threads: number;
  readonly buffers: ShardBuffers;
  run(step: number, shards: RawBatch[], seeds: number[]): Promise<number[]>;
  close(): Promise<void>;
}

/** Shards one after another on this thread's policy (--threads 1). */
export class LocalShardRunner implements ShardRunner {
  readonly threads = 1;
  readonly buffers: ShardBuffers;

  constructor(readonly policy: VlaPolicy, readonly layout: WeightLayout, shards: number) {
    this.buffers = allocBuffers(layout, shards, false);
  }

  async run(_step: number, shards: RawBatch[], seeds: number[]): Promise<number[]> {
    return runShardsHere(this.policy, this.layout, this.buffers, shards.map((raw, k) => ({ k, raw, seed: seeds[k] })));
  }

  async close(): Promise<void> {}
}

/** Compute the given shards on this thread, each from buffers.weights' state (trainable weights must already be in the policy). */
export function runShardsHere(policy: VlaPolicy, layout: WeightLayout, buf: ShardBuffers, work: { k: number; raw: RawBatch; seed: number }[]): number[] {
  const named = policy.namedWeights();
  return work.map(({ k, raw, seed }, i) => {
    if (i > 0 && layout.stateSize > 0) writeWeights(named, layout, buf.weights, 'state'); // the previous shard moved the statistics
    return computeShard(policy, layout, raw, seed, buf, k);
  });
}

/** A training thread failed; the step it was part of was not applied. */
export class ShardThreadError extends Error {
  constructor(readonly thread: number, readonly step: number, cause: string) {
    super(`training thread ${thread} died during step ${step + 1}: ${cause}`);
    this.name = 'ShardThreadError';
  }
}
