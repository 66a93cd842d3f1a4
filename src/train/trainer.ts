// Behavior-cloning loop (browser-safe; file I/O goes through TrainIO, Node's is src/train/node.ts).
//
// Per step: a (seed, epoch, batch)-determined augmented batch -> teacher-forced
// cross-entropy over action tokens (policy.computeLoss) -> gradients of the
// trainable variables -> AdamW with global-norm clipping and a warmup+cosine
// learning rate. After every epoch (and after the last step): validation
// loss, teacher-forced action-token accuracy (overall, per action dimension,
// and within +-1 bin) on the held-out episodes, one metrics record, and a
// checkpoint. Checkpoints also happen every `saveEverySteps` steps, and
// validation records every `valEverySteps` steps (fractional epoch).
//
// Resuming is exact: the state (step, epoch, batch in epoch, running epoch
// loss) plus the weights and AdamW moments determine everything that follows,
// because batches and augmentation are pure functions of (seed, epoch, batch)
// and the schedule is a function of the step. (With microBatches = 1, GPT
// dropout > 0 would draw from tfjs's unseeded RNG; the shipped presets use 0.
// Sharded steps seed it per (seed, step, shard).)
//
// With microBatches > 1 a step is gradient accumulation over equal shards of
// the batch (src/train/shards.ts), computed by training threads in parallel
// (src/train/threads.ts) or one after another here; this thread averages
// and applies AdamW, so the result does not depend on the thread count.
import * as tf from '@tensorflow/tfjs';
import type { PolicyBatch, VlaPolicy } from '../../policies/policy.ts';
import type { DemoDataset, RawBatch, StepRef } from './dataset.ts';
import { AdamW, lrAt } from './optim.ts';
import { SPATIAL_TARGETS } from '../../policies/spatialAux.ts';
import { ROLE_HEADS, roleAccuracy, roleTargetIds } from '../../policies/roleAux.ts';
import { disposeBatch, toPolicyBatch } from './batch.ts';
import { LocalShardRunner, ShardThreadError, type ShardRunner, type WeightLayout, combineShards, readWeights, shardSeed, splitBatch, weightLayout, writeWeights } from './shards.ts';

export { disposeBatch, toPolicyBatch };

export interface TrainConfig {
  epochs: number;
  /** Stop after this many optimizer steps in all (0 = epochs x batches per epoch). */
  maxSteps: number;
  lr: number;
  /** Linear warmup steps (-1 = 5% of the run, at most 500). */
  warmupSteps: number;
  minLrRatio: number;
  weightDecay: number;
  clipNorm: number;
  beta2: number;
  /** Validation samples per evaluation (evenly strided over the held-out steps). */
  valMaxSamples: number;
  /** Extra checkpoint every N steps (0 = only at epoch ends). */
  saveEverySteps: number;
  /**
   * Also validate every N steps and append a metrics record with a fractional
   * epoch (0 = at epoch ends only). Runs of about one pass over a large demo
   * set otherwise leave a one-point training curve.
   */
  valEverySteps: number;
  /**
   * Micro-batches ("shards") per optimizer step: the step is the mean of the
   * shards' gradients, each shard a forward/backward pass over batch /
   * microBatches samples (src/train/shards.ts). Training threads compute the
   * shards in parallel; the result does not depend on how many. 1 = one pass
   * over the whole batch (the step of runs from before this setting).
   */
  microBatches: number;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  epochs: 3, maxSteps: 0, lr: 1e-3, warmupSteps: -1, minLrRatio: 0.05, weightDecay: 0.01, clipNorm: 1, beta2: 0.999,
  valMaxSamples: 1024, saveEverySteps: 200, valEverySteps: 0, microBatches: 1,
};

/** Everything (besides weights and moments) needed to continue a run. */
export interface TrainState {
  step: number;
  epoch: number;
  batchInEpoch: number;
  totalSteps: number;
  warmupSteps: number;
  epochLossSum: number;
  epochSteps: number;
  epochSeconds: number;
  elapsedSeconds: number;
}

export interface ValMetrics {
  valLoss: number;
  valAccuracy: number;
  valAccuracyPerDim: number[];
  valWithin1Bin: number;
  /**
   * Mean absolute error per action dimension, in action units (metres,
   * radians, ...), between the bin centres of the predicted and the target
   * tokens: where the demos are continuous (noise-corrected dx/dy), exact-bin
   * accuracy says little and this says how far off the motion is.
   */
  valMaePerDim: number[];
  /**
   * With spatial supervision: mean distance between where the supervised
   * attention points (its expected cell centre) and where the target is, in
   * fractions of the image width, per camera and target ([camera0 object,
   * camera0 destination, camera1 object, ...]); visible targets only.
   */
  valSpatialError?: number[];
  /** With the role loss (roleAuxWeight > 0): accuracy of each role head (policies/roleAux.ts ROLE_NAMES order). */
  valRoleAccuracy?: number[];
  /** With plan tokens: mean absolute error of each plan value (metres), teacher-forced argmax. */
  valPlanMae?: number[];
  valSamples: number;
}

export interface EpochMetrics extends Partial<ValMetrics> {
  epoch: number;
  step: number;
  trainLoss: number;
  lr: number;
  seconds: number;
  elapsedSeconds: number;
  imagesPerSecond: number;
}

export interface ProgressInfo {
  phase: 'train' | 'val';
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  loss: number;
  lr: number;
  imagesPerSecond: number;
  etaSeconds: number;
}

export interface TrainIO {
  /** Persist a checkpoint; `final` = training finished (no optimizer state needed). */
  save(policy: VlaPolicy, opt: AdamW, state: TrainState, final: boolean): Promise<void>;
  metrics(rec: EpochMetrics): void | Promise<void>;
  progress?(p: ProgressInfo): void;
  /** Polled between steps: true = checkpoint and return (e.g. after SIGINT). */
  shouldStop?(state: Readonly<TrainState>): boolean;
}

export interface TrainResult {
  state: TrainState;
  metrics: EpochMetrics[];
  interrupted: boolean;
}

/** Adds |expected cell centre - target| per (camera, target) of one batch to acc (visible targets only). */
function accumulateSpatialError(policy: VlaPolicy, batch: PolicyBatch, acc: { sum: number[]; n: number[] }): void {
  const probs = policy.spatialProbabilities(batch);
  if (!probs) return;
  const [B, K, P, N] = probs.shape;
  const [gh, gw] = policy.backbone.gridSize(policy.imageSize, policy.imageSize);
  const p = probs.dataSync();
  probs.dispose();
  const raw = batch.spatial!;
  for (let b = 0; b < B; b++) for (let k = 0; k < K; k++) for (let t = 0; t < P; t++) {
    const i = (b * K + k) * P + t;
    if (!(raw[i * 3 + 2] > 0)) continue;
    let eu = 0, ev = 0;
    for (let j = 0; j < N; j++) {
      eu += p[i * N + j] * ((j % gw) + 0.5) / gw;
      ev += p[i * N + j] * (Math.floor(j / gw) + 0.5) / gh;
    }
    const slot = k * P + t;
    acc.sum[slot] += Math.hypot(eu - raw[i * 3], ev - raw[i * 3 + 1]);
    acc.n[slot]++;
  }
}

export class Trainer {
  readonly cfg: TrainConfig;
  readonly opt: AdamW;
  state: TrainState;
  private readonly vars: tf.Variable[];
  private readonly keyOf = new Map<string, string>();
  private readonly recent: { t: number; loss: number }[] = [];
  private readonly layout: WeightLayout | null = null;
  /** Computes the shards of a sharded step (microBatches > 1): threads, or this thread one after another. */
  readonly runner: ShardRunner | null = null;

  /** runner: the training threads (src/train/threads.ts); default: the shards on this thread. */
  constructor(readonly policy: VlaPolicy, readonly data: DemoDataset, cfg: Partial<TrainConfig>, readonly io: TrainIO, runner?: ShardRunner) {
    const c = (this.cfg = { ...TRAIN_DEFAULTS, ...cfg });
    const S = c.microBatches;
    if (!(Number.isInteger(S) && S >= 1)) throw new Error(`microBatches must be a positive integer, got ${S}`);
    if (data.opts.batchSize % S !== 0) throw new Error(`batch size ${data.opts.batchSize} is not divisible by microBatches ${S} (every micro-batch must hold the same number of samples)`);
    if (runner && S === 1) throw new Error('a shard runner (training threads) needs microBatches > 1');
    const named = policy.namedWeights();
    for (const [k, v] of Object.entries(named)) this.keyOf.set(v.name, k);
    this.vars = Object.values(named).filter((v) => v.trainable);
    this.opt = new AdamW(named, { weightDecay: c.weightDecay, clipNorm: c.clipNorm, beta2: c.beta2 });
    if (S > 1) {
      this.layout = weightLayout(named);
      this.runner = runner ?? new LocalShardRunner(policy, this.layout, S);
    }
    const perEpoch = data.batchesPerEpoch;
    const totalSteps = c.maxSteps > 0 ? Math.min(c.maxSteps, c.epochs * perEpoch) : c.epochs * perEpoch;
    const warmupSteps = c.warmupSteps >= 0 ? c.warmupSteps : Math.min(500, Math.round(totalSteps * 0.05));
    this.state = { step: 0, epoch: 0, batchInEpoch: 0, totalSteps, warmupSteps, epochLossSum: 0, epochSteps: 0, epochSeconds: 0, elapsedSeconds: 0 };
  }

  get imagesPerStep(): number {
    return this.data.opts.batchSize * this.policy.config.cameras.length;
  }

  lr(step = this.state.step): number {
    return lrAt(step, { lr: this.cfg.lr, warmupSteps: this.state.warmupSteps, totalSteps: this.state.totalSteps, minLrRatio: this.cfg.minLrRatio });
  }

  /** Continue from a saved state and optimizer moments (weights are already in the policy). */
  resume(state: TrainState, moments: Record<string, { shape: number[]; data: ArrayLike<number> }>): void {
    this.opt.loadState(moments, state.step);
    this.state = { ...state };
  }

  /** One optimizer step on a host batch; returns the loss. */
  trainStep(raw: RawBatch): number {
    const batch = toPolicyBatch(raw, this.policy);
    try {
      const { value, grads } = tf.variableGrads(() => this.policy.computeLoss(batch, true), this.vars);
      try {
        const loss = value.dataSync()[0];
        if (!Number.isFinite(loss)) throw new Error(`training loss is ${loss} at step ${this.state.step}`);
        const keyed: Record<string, tf.Tensor> = {};
        for (const [name, g] of Object.entries(grads)) keyed[this.keyOf.get(name) ?? name] = g;
        this.opt.apply(keyed, this.lr());
        return loss;
      } finally {
        tf.dispose([value, ...Object.values(grads)]);
      }
    } finally {
      disposeBatch(batch);
    }
  }

  /**
   * One optimizer step as microBatches shards (src/train/shards.ts): the
   * runner computes them (threads or one after another), this thread averages
   * and applies AdamW. On a failure nothing is applied and the policy keeps the
   * step's starting weights and statistics.
   */
  async trainStepSharded(raw: RawBatch): Promise<number> {
    const runner = this.runner!, L = this.layout!, S = this.cfg.microBatches;
    const named = this.policy.namedWeights();
    const buf = runner.buffers;
    readWeights(named, L, buf.weights); // r0: what every shard starts from
    const shards = splitBatch(raw, S);
    let losses: number[];
    try {
      losses = await runner.run(this.state.step, shards, shards.map((_, k) => shardSeed(this.data.opts.seed, this.state.step, k)));
    } catch (e) {
      if (L.stateSize > 0) writeWeights(named, L, buf.weights, 'state'); // this thread's own shard moved the statistics
      throw e;
    }
    let loss = 0;
    for (const l of losses) loss += l;
    loss /= S;
    if (!Number.isFinite(loss)) {
      if (L.stateSize > 0) writeWeights(named, L, buf.weights, 'state');
      throw new Error(`training loss is ${loss} at step ${this.state.step} (micro-batch losses ${losses.join(', ')})`);
    }
    const { grads, state } = combineShards(L, buf, S);
    for (const [key, v] of state) tf.tidy(() => named[key].assign(tf.tensor(v, named[key].shape, 'float32')));
    const keyed: Record<string, tf.Tensor> = {};
    for (const [key, g] of grads) keyed[key] = tf.tensor(g, named[key].shape, 'float32');
    try {
      this.opt.apply(keyed, this.lr());
    } finally {
      tf.dispose(Object.values(keyed));
    }
    return loss;
  }

  /** Teacher-forced loss and token accuracy, no augmentation (default: the validation episodes). */
  async validate(batches: StepRef[][] = this.data.valBatchRefs(this.cfg.valMaxSamples)): Promise<ValMetrics | null> {
    if (batches.length === 0) return null;
    const { actionDim: D, planDims: P, bins } = this.policy.config;
    const layout = this.policy.layout; // what each token position holds (plan / action dimension)
    let nll = 0, correct = 0, near = 0, tokens = 0, allTokens = 0, samples = 0;
    const perDim = new Array<number>(D).fill(0);
    const perDimN = new Array<number>(D).fill(0);
    const perDimAbs = new Array<number>(D).fill(0);
    const planAbs = new Array<number>(P).fill(0);
    const planN = new Array<number>(P).fill(0);
    const slots = this.policy.config.cameras.length * SPATIAL_TARGETS;
    const spatial = this.policy.config.spatialAux !== 'off' ? { sum: new Array<number>(slots).fill(0), n: new Array<number>(slots).fill(0) } : null;
    const roleHits = this.policy.config.roleAuxWeight > 0 ? new Array<number>(ROLE_HEADS).fill(0) : null;
    for (const refs of batches) {
      const batch = toPolicyBatch(await this.data.batch(refs, null), this.policy);
      try {
        const targets = this.policy.actionTokens(batch);
        // Token head: summed NLL and the argmax bins. Continuous 'l1' head: summed |value error| (normalized units)
        // and the bin each predicted value falls in, so the accuracy and MAE metrics below read the same.
        const [lossSum, argmax] = this.policy.config.head === 'l1' ? l1Predictions(this.policy, batch, bins) : tf.tidy(() => {
          const logits = this.policy.actionLogits(batch, false); // [B,A,bins]
          const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), bins).reshape(logits.shape);
          return [tf.logSoftmax(logits, -1).mul(onehot).sum().neg(), logits.argMax(-1)];
        });
        nll += lossSum.dataSync()[0];
        const pred = argmax.dataSync();
        tf.dispose([lossSum, argmax]);
        for (let i = 0; i < targets.length; i++) {
          const j = i % layout.total;
          const { kind, dim } = layout.slot(j);
          const err = Math.abs(pred[i] - targets[i]) * layout.binWidth(j);
          if (kind === 'plan') {
            planAbs[dim] += err;
            planN[dim]++;
            continue;
          }
          const ok = pred[i] === targets[i];
          tokens++;
          correct += ok ? 1 : 0;
          near += Math.abs(pred[i] - targets[i]) <= 1 ? 1 : 0;
          perDim[dim] += ok ? 1 : 0;
          perDimAbs[dim] += err;
          perDimN[dim]++;
        }
        allTokens += targets.length;
        samples += refs.length;
        if (spatial && batch.spatial) accumulateSpatialError(this.policy, batch, spatial);
        if (roleHits && batch.roles) {
          const logits = this.policy.roleLogits(batch.instructions);
          (await roleAccuracy(logits, roleTargetIds(this.policy.textTokenizer, batch.roles))).forEach((a, k) => (roleHits[k] += a * refs.length));
          logits.dispose();
        }
      } finally {
        disposeBatch(batch);
      }
      this.io.progress?.({ ...this.progressBase(), phase: 'val' });
    }
    const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
    return {
      valLoss: r4(nll / allTokens), valAccuracy: r4(correct / tokens), valAccuracyPerDim: perDim.map((c, d) => r4(c / perDimN[d])),
      ...(P > 0 ? { valPlanMae: planAbs.map((a, d) => Math.round((a / Math.max(1, planN[d])) * 1e5) / 1e5) } : {}),
      ...(spatial ? { valSpatialError: spatial.sum.map((s, i) => r4(s / Math.max(1, spatial.n[i]))) } : {}),
      ...(roleHits ? { valRoleAccuracy: roleHits.map((h) => r4(h / samples)) } : {}),
      valWithin1Bin: r4(near / tokens), valMaePerDim: perDimAbs.map((a, d) => Math.round((a / perDimN[d]) * 1e6) / 1e6), valSamples: samples,
    };
  }

  private progressBase(): ProgressInfo {
    const s = this.state;
    const r = this.recent;
    const dt = r.length > 1 ? (r[r.length - 1].t - r[0].t) / 1000 / (r.length - 1) : NaN;
    return {
      phase: 'train', step: s.step, totalSteps: s.totalSteps, epoch: s.epoch + 1, epochs: Math.ceil(s.totalSteps / this.data.batchesPerEpoch),
      loss: r.length ? r.reduce((a, x) => a + x.loss, 0) / r.length : NaN, lr: this.lr(Math.max(0, s.step - 1)),
      imagesPerSecond: Number.isFinite(dt) ? this.imagesPerStep / dt : 0, etaSeconds: Number.isFinite(dt) ? dt * (s.totalSteps - s.step) : NaN,
    };
  }

  /** Train until totalSteps (or until io.shouldStop()); checkpoints through io. */
  async run(): Promise<TrainResult> {
    const s = this.state;
    const metrics: EpochMetrics[] = [];
    const perEpoch = this.data.batchesPerEpoch;
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      const dt = (now - last) / 1000;
      last = now;
      s.epochSeconds += dt;
      s.elapsedSeconds += dt;
    };
    let trainSeconds = 0;
    let trainSteps = 0; // steps of this epoch run by this process (img/s after a mid-epoch resume)
    // Validate and append one metrics record; trainLoss is the running mean of the current epoch.
    const record = async (epoch: number) => {
      const val = await this.validate();
      tick();
      const rec: EpochMetrics = {
        epoch, step: s.step, trainLoss: Math.round((s.epochLossSum / Math.max(1, s.epochSteps)) * 1e4) / 1e4, ...(val ?? {}),
        lr: this.lr(s.step - 1), seconds: Math.round(s.epochSeconds * 10) / 10, elapsedSeconds: Math.round(s.elapsedSeconds * 10) / 10,
        imagesPerSecond: trainSeconds > 0 ? Math.round(((trainSteps * this.imagesPerStep) / trainSeconds) * 10) / 10 : 0,
      };
      metrics.push(rec);
      await this.io.metrics(rec);
    };
    while (s.step < s.totalSteps) {
      // Yield to the event loop once per step: a step's awaits resolve as
      // microtasks (cached episodes, synchronous kernels on wasm), so without
      // a macrotask turn a SIGINT handler (Node) or a stop button (browser)
      // would never run while training.
      await new Promise((r) => setTimeout(r, 0));
      if (this.io.shouldStop?.(s)) {
        tick();
        await this.io.save(this.policy, this.opt, s, false);
        return { state: { ...s }, metrics, interrupted: true };
      }
      const t0 = performance.now();
      const raw = await this.data.trainBatch(s.epoch, s.batchInEpoch);
      let loss: number;
      try {
        loss = this.runner ? await this.trainStepSharded(raw) : this.trainStep(raw);
      } catch (e) {
        if (!(e instanceof ShardThreadError)) throw e;
        // The policy still holds the last completed step: keep it, so a resume loses no step.
        tick();
        await this.io.save(this.policy, this.opt, s, false);
        e.message += ` (checkpoint saved at step ${s.step}: rerun with --resume to continue)`;
        throw e;
      }
      trainSeconds += (performance.now() - t0) / 1000;
      trainSteps++;
      s.step++;
      s.batchInEpoch++;
      s.epochLossSum += loss;
      s.epochSteps++;
      this.recent.push({ t: performance.now(), loss });
      if (this.recent.length > 21) this.recent.shift();
      this.io.progress?.(this.progressBase());
      const epochEnd = s.batchInEpoch >= perEpoch || s.step >= s.totalSteps;
      if (epochEnd) {
        await record(s.epoch + 1);
        Object.assign(s, { epoch: s.epoch + 1, batchInEpoch: 0, epochLossSum: 0, epochSteps: 0, epochSeconds: 0 });
        trainSeconds = 0;
        trainSteps = 0;
        await this.io.save(this.policy, this.opt, s, s.step >= s.totalSteps);
      } else {
        if (this.cfg.valEverySteps > 0 && s.step % this.cfg.valEverySteps === 0) {
          await record(Math.round((s.epoch + s.batchInEpoch / perEpoch) * 1e3) / 1e3);
        }
        if (this.cfg.saveEverySteps > 0 && s.step % this.cfg.saveEverySteps === 0) {
          tick();
          await this.io.save(this.policy, this.opt, s, false);
        }
      }
    }
    tick();
    return { state: { ...s }, metrics, interrupted: false };
  }
}

/** Validation of the continuous head: [sum |pred - target| (normalized units), predicted bin per token]. */
function l1Predictions(policy: VlaPolicy, batch: PolicyBatch, bins: number): [tf.Tensor, tf.Tensor] {
  const target = policy.actionValues(batch);
  return tf.tidy(() => {
    const pred = policy.predictedValues(batch, false).clipByValue(-1, 1); // [B,A]
    const err = pred.sub(tf.tensor2d(target, pred.shape as [number, number])).abs().sum();
    const bin = pred.add(1).mul(bins / 2).floor().clipByValue(0, bins - 1).toInt(); // value -> bin index
    return [err, bin];
  });
}
