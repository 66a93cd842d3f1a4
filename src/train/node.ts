// Node side of training (`vlalab train`): dataset directory source, checkpoint
// directory I/O, resume, SIGINT, progress on stderr. The loop itself is in
// trainer.ts (browser-safe).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createPolicy, policyConfig } from '../../policies/registry.ts';
import { DEFAULT_CAMERAS } from '../../sim/config.ts';
import type { CameraSpec } from '../../sim/types.ts';
import { TextTokenizer } from '../../policies/textTokenizer.ts';
import { VlaPolicy, type VlaPolicyConfig } from '../../policies/policy.ts';
import { loadSentenceEncoder } from '../../policies/sentenceEncoderNode.ts';
import { gitCommit } from '../runtime/machine.ts';
import { StatusLine } from '../runtime/progress.ts';
import { type IndexEntry, readDatasetInfo, readEpisode, readIndex } from '../data/demoStore.ts';
import { appendJsonl, readJsonl } from '../io/jsonl.ts';
import { initBackend } from '../tf/backend.ts';
import type { AugmentConfig } from './augment.ts';
import { CONFIG_FILE, type CheckpointConfig, INIT_METRICS_FILE, METRICS_FILE, OPTIMIZER_FILE, applyWeights, loadCheckpoint, parseConfig, parseWeights, saveCheckpoint, transplantWeights, type WarmStartPart, warmStartWeights } from './checkpoint.ts';
import type { ParsedSafetensors } from '../io/safetensors.ts';
import type { AdamW } from './optim.ts';
import { DemoDataset, type EpisodeSource } from './dataset.ts';
import { trainPreset } from './presets.ts';
import { weightLayout } from './shards.ts';
import { type ThreadFault, ThreadPool } from './threads.ts';
import { type EpochMetrics, type ProgressInfo, TRAIN_DEFAULTS, type TrainConfig, type TrainState, Trainer } from './trainer.ts';

/**
 * Camera specs by name. Datasets record camera names only; they are the
 * simulator's default cameras (src/collect/runner.ts), whose poses the spatial
 * targets need.
 */
export function cameraSpecs(names: string[]): CameraSpec[] {
  return names.map((n) => {
    const c = DEFAULT_CAMERAS.find((x) => x.name === n);
    if (!c) throw new Error(`no camera named "${n}" among the simulator's cameras (${DEFAULT_CAMERAS.map((x) => x.name).join(', ')})`);
    return c;
  });
}

/**
 * A demo dataset directory, or several joined with commas (e.g. a nominal
 * and an appearance-randomized collection of other seeds): their episodes
 * are concatenated in the order given. The datasets must agree on what a
 * sample is (suite, split, resolution, cameras, action and proprio layout);
 * the first one's info describes the whole.
 */
export function dirSource(dir: string): EpisodeSource {
  const dirs = dir.split(',').filter((d) => d.length > 0);
  if (dirs.length === 0) throw new Error('--data: no dataset directory given');
  const parts = dirs.map((d) => ({ dir: d, info: readDatasetInfo(d), index: readIndex(d) }));
  const info = parts[0].info;
  for (const p of parts.slice(1)) {
    for (const k of ['suite', 'split', 'resolution', 'cameras', 'actionNames', 'actionLow', 'actionHigh', 'proprioNames'] as const) {
      if (JSON.stringify(p.info[k]) !== JSON.stringify(info[k])) throw new Error(`--data: ${p.dir} has ${k} ${JSON.stringify(p.info[k])}, ${parts[0].dir} has ${JSON.stringify(info[k])}: the datasets cannot be joined`);
    }
  }
  const owner = new Map<IndexEntry, (typeof parts)[number]>();
  const index = parts.flatMap((p) => p.index.map((e) => { owner.set(e, p); return e; }));
  return { info, index, location: dir, load: (e) => { const p = owner.get(e); if (!p) throw new Error(`--data: episode ${e.file} is in none of ${dir}`); return readEpisode(p.dir, e, p.info); } };
}

/** The training dataset a policy config needs (cameras, chunks, aux / spatial / plan targets). */
export function openDataset(source: EpisodeSource, pcfg: VlaPolicyConfig, a: Pick<TrainArgs, 'batchSize' | 'seed' | 'valFraction' | 'augment' | 'maxEpisodes'>): DemoDataset {
  return new DemoDataset(source, {
    cameras: pcfg.cameras, chunkLength: pcfg.chunkLength, batchSize: a.batchSize, seed: a.seed, valFraction: a.valFraction, augment: a.augment, aux: pcfg.auxDim > 0,
    maxEpisodes: a.maxEpisodes ?? 0, spatial: pcfg.spatialAux === 'off' ? null : cameraSpecs(pcfg.cameras), plan: pcfg.planDims > 0,
  });
}

/** Everything that defines a run; stored in config.json (training.args) and reused by --resume. */
export interface TrainArgs {
  policy: string;
  data: string;
  batchSize: number;
  seed: number;
  valFraction: number;
  augment: AugmentConfig;
  policyOverrides: Partial<VlaPolicyConfig>;
  train: TrainConfig;
  backend: 'wasm' | 'cpu';
  f16: boolean;
  /** Train on the first N successful episodes only (0 = all): sample-efficiency runs. */
  maxEpisodes?: number;
  /** Fit proprio normalization on the training demos (default true; absent in older runs = false). */
  normalizeProprio?: boolean;
  /** Start from this checkpoint's config and weights (fine-tuning / a longer schedule) instead of a fresh init. */
  initFrom?: string;
  /** Fresh policy, but these parts copied from other checkpoints (checkpoint.ts warmStartWeights). */
  warmStart?: WarmStart[];
}

export interface WarmStart {
  part: WarmStartPart;
  from: string;
}

export interface RunTrainOptions {
  policy: string;
  data: string;
  out: string;
  resume?: boolean;
  /** Explicit settings; undefined = preset / saved value. */
  batchSize?: number;
  seed?: number;
  valFraction?: number;
  maxEpisodes?: number;
  initFrom?: string;
  warmStart?: WarmStart[];
  backend?: 'wasm' | 'cpu';
  f16?: boolean;
  augment?: Partial<AugmentConfig>;
  policyOverrides?: Partial<VlaPolicyConfig>;
  train?: Partial<TrainConfig>;
  /** Keep optimizer.safetensors in the final checkpoint. */
  keepOptimizer?: boolean;
  /**
   * Training threads (src/train/threads.ts); default: all cores, at most one
   * per micro-batch (train.microBatches). An execution setting: it does not
   * change the result, and a resume may use another count.
   */
  threads?: number;
  /** Test hook: make a training thread fail at a step. */
  threadFault?: ThreadFault;
  /** Polled before every step: true = checkpoint and return (as Ctrl-C does), e.g. a UI's stop button. */
  shouldStop?: (state: TrainState) => boolean;
  quiet?: boolean;
}

export interface TrainSummary {
  out: string;
  policy: string;
  backend: string;
  params: number;
  steps: number;
  totalSteps: number;
  epochs: number;
  seconds: number;
  interrupted: boolean;
  final: EpochMetrics | null;
}

/** Micro-batches per step of a new run (runs saved before the setting existed resume with 1). */
export const DEFAULT_MICRO_BATCHES = 2;

/** Threads for a run with `shards` micro-batches: the explicit request (checked) or all cores, at most one per micro-batch. */
export function resolveThreads(requested: number | undefined, shards: number, batch: number, cores = availableParallelism()): number {
  if (requested === undefined) return Math.max(1, Math.min(cores, shards));
  if (!Number.isInteger(requested) || requested < 1) throw new Error(`--threads must be a positive integer, got ${requested}`);
  if (requested > cores) throw new Error(`--threads ${requested} exceeds the ${cores} cores of this machine (os.availableParallelism())`);
  if (requested > shards) {
    throw new Error(`--threads ${requested} exceeds --micro-batches ${shards}: a step has ${shards} micro-batches and a thread computes whole ones (raise --micro-batches; it must divide --batch ${batch})`);
  }
  return requested;
}

function resolveArgs(o: RunTrainOptions): TrainArgs {
  const p = trainPreset(o.policy);
  // An explicit --epochs replaces the preset's step budget (which is sized to the preset's epochs).
  if (o.train?.epochs !== undefined && o.train.maxSteps === undefined) delete p.train.maxSteps;
  const train = { ...p.train, ...(o.train ?? {}) } as TrainConfig;
  return {
    policy: o.policy, data: o.data, batchSize: o.batchSize ?? p.batchSize, seed: o.seed ?? 0, valFraction: o.valFraction ?? p.valFraction,
    augment: { ...p.augment, ...(o.augment ?? {}) }, policyOverrides: { ...(o.policyOverrides ?? {}) },
    train: { ...TRAIN_DEFAULTS, ...train, microBatches: (train as Partial<TrainConfig>).microBatches ?? DEFAULT_MICRO_BATCHES }, backend: o.backend ?? 'wasm', f16: o.f16 ?? false, maxEpisodes: o.maxEpisodes ?? 0, normalizeProprio: true,
    ...(o.initFrom ? { initFrom: o.initFrom } : {}),
    ...(o.warmStart?.length ? { warmStart: o.warmStart } : {}),
  };
}

/** Explicit options that contradict the run being resumed. */
function conflicts(o: RunTrainOptions, saved: TrainArgs): string[] {
  const out: string[] = [];
  const check = (name: string, given: unknown, have: unknown) => {
    if (given !== undefined && JSON.stringify(given) !== JSON.stringify(have)) out.push(`${name}: ${JSON.stringify(given)} (saved run: ${JSON.stringify(have)})`);
  };
  check('policy', o.policy, saved.policy);
  check('batch', o.batchSize, saved.batchSize);
  check('seed', o.seed, saved.seed);
  check('val-fraction', o.valFraction, saved.valFraction);
  check('max-episodes', o.maxEpisodes, saved.maxEpisodes ?? 0);
  check('init-from', o.initFrom, saved.initFrom);
  check('warm-start', o.warmStart?.length ? o.warmStart : undefined, saved.warmStart ?? []);
  if (o.augment) check('augment', { ...saved.augment, ...o.augment }, saved.augment);
  for (const [k, v] of Object.entries(o.train ?? {})) check(k, v, saved.train[k as keyof TrainConfig]);
  for (const [k, v] of Object.entries(o.policyOverrides ?? {})) check(k, v, saved.policyOverrides[k as keyof VlaPolicyConfig]);
  return out;
}

/** The training step line (the TTY line is ended after the run, below: validation may follow the last step). */
function progressPrinter(label: string, quiet: boolean): (p: ProgressInfo) => void {
  const status = new StatusLine({ tty: 1000, plain: 30000 });
  const fmtEta = (s: number) => (!Number.isFinite(s) ? '?' : s < 90 ? `${Math.round(s)}s` : `${(s / 60).toFixed(1)}m`);
  return (p) => {
    if (quiet) return;
    status.update(
      () => `${label} ${p.phase === 'val' ? 'validating ' : ''}step ${p.step}/${p.totalSteps} epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.imagesPerSecond.toFixed(1)} img/s eta ${fmtEta(p.etaSeconds)}`,
      { force: p.step >= p.totalSteps && p.phase === 'train' },
    );
  };
}

/** `vlalab train`: train (or resume) a policy on a demo directory, checkpointing into `out`. */
export async function runTrain(o: RunTrainOptions): Promise<TrainSummary> {
  const log = (s: string) => { if (!o.quiet) process.stderr.write(s + '\n'); };
  const cfgPath = join(o.out, CONFIG_FILE);
  const optPath = join(o.out, OPTIMIZER_FILE);
  const mPath = join(o.out, METRICS_FILE);
  const readMetrics = () => readJsonl(mPath, (v): v is EpochMetrics => typeof v === 'object' && v !== null && typeof (v as EpochMetrics).epoch === 'number');
  let args: TrainArgs;
  let resumed: { config: CheckpointConfig; file: ParsedSafetensors; state: TrainState } | null = null;
  if (o.resume && existsSync(cfgPath)) {
    const config = parseConfig(readFileSync(cfgPath, 'utf8'), cfgPath);
    const training = config.training as { args?: TrainArgs; state?: TrainState } | null;
    if (!training?.args || !training.state) throw new Error(`${cfgPath} holds no training state to resume`);
    training.args = { ...training.args, train: { ...training.args.train, microBatches: training.args.train.microBatches ?? 1 } }; // saved before micro-batches: one pass per step
    const bad = conflicts(o, training.args);
    if (bad.length) throw new Error(`--resume continues the saved run; these options differ from it: ${bad.join('; ')}`);
    args = { ...training.args, f16: o.f16 ?? training.args.f16 }; // f16 only affects the final save
    if (!existsSync(optPath)) {
      if (training.state.step < training.state.totalSteps) throw new Error(`${optPath} is missing: cannot resume exactly`);
      log(`${o.out}: training already finished (${training.state.step} steps)`);
      return { out: o.out, policy: args.policy, backend: args.backend, params: config.policy.params.total ?? 0, steps: training.state.step, totalSteps: training.state.totalSteps, epochs: readMetrics().length, seconds: Math.round(training.state.elapsedSeconds), interrupted: false, final: readMetrics().at(-1) ?? null };
    }
    const file = parseWeights(new Uint8Array(readFileSync(optPath)), optPath);
    if (!file.metadata.state) throw new Error(`${optPath} has no trainer state in its metadata`);
    resumed = { config, file, state: JSON.parse(file.metadata.state) as TrainState };
  } else {
    if (existsSync(cfgPath)) throw new Error(`${o.out} already holds a checkpoint: pass --resume to continue it, or choose another --out`);
    args = resolveArgs(o);
  }
  policyConfig(args.policy, args.policyOverrides); // unknown policy names / fields fail before any work
  const shards = args.train.microBatches;
  if (!(Number.isInteger(shards) && shards >= 1)) throw new Error(`--micro-batches must be a positive integer, got ${shards}`);
  if (args.batchSize % shards !== 0) throw new Error(`--batch ${args.batchSize} is not divisible by --micro-batches ${shards} (every micro-batch holds the same number of samples)`);
  const threads = resolveThreads(o.threads, shards, args.batchSize);
  if (args.initFrom && args.warmStart?.length) throw new Error('--warm-start and --init-from exclude each other: --init-from already starts from a whole checkpoint');
  const be = await initBackend(args.backend);
  if (be.backend !== args.backend) throw new Error(`backend ${args.backend} did not start (${be.fallbackReason ?? 'unknown reason'})`);
  const source = dirSource(args.data);
  let policy: VlaPolicy | undefined;
  if (resumed) {
    // The resume file carries its own copy of the weights (same step as the moments).
    policy = VlaPolicy.fromJSON({ config: resumed.config.policy.config });
    applyWeights(policy, withPrefix(resumed.file, 'w.'), `${optPath} (w.*)`);
  }
  if (!resumed && args.initFrom) {
    const ckpt = await loadCheckpoint(args.initFrom); // its config (vocab, bins, proprio stats) and weights
    policy = ckpt.policy;
    if (ckpt.config.policy.name !== args.policy) {
      policy.dispose();
      throw new Error(`--init-from ${args.initFrom} holds a ${ckpt.config.policy.name} policy (backbone ${policy.config.backbone}), not ${args.policy}`);
    }
    const extra = o.policyOverrides ?? {};
    if (Object.keys(extra).length > 0) {
      // Explicit --set on top of the checkpoint's config (e.g. add the role loss to a trained policy).
      const base = policy;
      policy = new VlaPolicy({ ...base.config, ...extra });
      try {
        const fresh = transplantWeights(base, policy, `--init-from ${args.initFrom}`);
        log(`--init-from ${args.initFrom} with ${Object.keys(extra).join(', ')} changed: ${fresh.length ? `new weights ${fresh.join(', ')}` : 'no new weights'}`);
      } catch (e) {
        policy.dispose();
        throw e;
      } finally {
        base.dispose();
      }
    }
    carryCurves(args.initFrom, o.out);
  }
  const pcfg = policy ? policy.config : policyConfig(args.policy, args.policyOverrides);
  const data = openDataset(source, pcfg, args);
  policy ??= createPolicy(args.policy, {
    vocab: TextTokenizer.fromCorpus(data.trainInstructions()).vocab,
    actionLow: [...source.info.actionLow], actionHigh: [...source.info.actionHigh], seed: args.seed, ...args.policyOverrides,
  });
  if (!resumed && args.warmStart?.length) {
    try {
      for (const w of args.warmStart) {
        const src = await loadCheckpoint(w.from);
        try {
          const r = warmStartWeights(src.policy, policy, w.part, `--warm-start ${w.part}=${w.from}`);
          log(`--warm-start ${w.part}=${w.from}: copied ${r.copied.length} tensors${r.skipped.length ? `; not copied (fresh init or no place) ${r.skipped.length}: ${r.skipped.join(', ')}` : ''}`);
        } finally {
          src.policy.dispose();
        }
      }
    } catch (e) {
      policy.dispose(); // as for a refused --init-from: a library caller (e.g. a UI) keeps no half-initialized policy
      throw e;
    }
  }
  if (policy.config.textEncoderKind === 'use-lite') {
    // Frozen sentence encoder: embed every distinct instruction once, before training (the set is finite).
    const t0 = Date.now();
    policy.attachSentenceEncoder(await loadSentenceEncoder());
    const instructions = data.allInstructions();
    await policy.prepareInstructions(instructions);
    log(`use-lite: embedded ${instructions.length} distinct instructions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (!resumed && policy.config.proprioDim > 0 && policy.config.proprioMean.length === 0 && (args.normalizeProprio ?? true)) {
    policy.fitProprioStats(await data.proprioSample());
  }
  const datasetMeta = {
    location: args.data, suite: source.info.suite, suiteVersion: source.info.suiteVersion, split: source.info.split, resolution: source.info.resolution,
    episodes: source.index.length, successful: data.episodes.length, trainEpisodes: data.trainEpisodes.length, valEpisodes: data.valEpisodes.length,
    trainSteps: data.trainSteps.length, valSteps: data.valSteps.length, valEpisodeIds: data.valEpisodes.map((e) => `${data.episodes[e].task}-${data.episodes[e].seed}`),
  };
  const commit = gitCommit();
  let stop = false;
  const onSigint = () => { stop = true; log('\ninterrupted: saving a checkpoint (rerun with --resume to continue)'); };
  process.once('SIGINT', onSigint);
  const save = async (p: VlaPolicy, opt: AdamW, state: TrainState, final: boolean) => {
    const keep = !final || o.keepOptimizer;
    const tensors = { ...opt.stateTensors(), ...Object.fromEntries(Object.entries(p.namedWeights()).map(([k, v]) => [`w.${k}`, v])) };
    await saveCheckpoint(o.out, p, {
      policyName: args.policy, dataset: datasetMeta, training: { args, state, backend: be.backend, threads }, gitCommit: commit, f16: final && args.f16,
      optimizer: keep ? { tensors, metadata: { step: String(state.step), state: JSON.stringify(state) } } : undefined, stamp: { step: String(state.step) },
    });
  };
  let pool: ThreadPool | undefined;
  try {
    if (threads > 1) pool = await ThreadPool.start(policy, weightLayout(policy.namedWeights()), { threads, shards, backend: args.backend, fault: o.threadFault });
  } catch (e) {
    policy.dispose();
    throw e;
  }
  const trainer = new Trainer(policy, data, args.train, {
    save,
    metrics: (rec) => appendJsonl(mPath, rec),
    progress: progressPrinter(`train ${args.policy}`, o.quiet ?? false),
    shouldStop: (state) => stop || (o.shouldStop?.(state) ?? false),
  }, pool);
  try {
    if (resumed) {
      const moments = Object.fromEntries([...resumed.file.tensors].filter(([k]) => !k.startsWith('w.')).map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
      trainer.resume(resumed.state, moments);
      // Steps after the checkpoint run again: drop their metrics lines (an epoch-end or --val-every record
      // written just before a crash). By step, not epoch: a mid-epoch record has a fractional epoch above
      // the resumed state's whole one, yet its step is covered by the checkpoint.
      writeFileSync(mPath, readMetrics().filter((r) => r.step <= resumed.state.step).map((r) => JSON.stringify(r) + '\n').join(''));
      log(`resuming ${o.out} at step ${resumed.state.step}/${resumed.state.totalSteps} (epoch ${resumed.state.epoch + 1})`);
      if (resumed.state.step >= resumed.state.totalSteps) await save(policy, trainer.opt, trainer.state, true); // crashed while finishing
    } else {
      log(`training ${args.policy} (${policy.paramCount().total} params, ${be.backend}, ${threads} thread${threads > 1 ? 's' : ''}, ${shards} micro-batch${shards > 1 ? 'es' : ''} per step) on ${data.trainSteps.length} steps from ${data.trainEpisodes.length} episodes ` +
        `(validation: ${data.valEpisodes.length} episodes), ${trainer.state.totalSteps} steps of batch ${args.batchSize}`);
      await save(policy, trainer.opt, trainer.state, false);
    }
    const r = await trainer.run();
    if (!o.quiet && process.stderr.isTTY) process.stderr.write('\n');
    const all = readMetrics();
    return {
      out: o.out, policy: args.policy, backend: be.backend, params: policy.paramCount().total, steps: r.state.step, totalSteps: r.state.totalSteps,
      epochs: all.length, seconds: Math.round(r.state.elapsedSeconds), interrupted: r.interrupted, final: all.at(-1) ?? null,
    };
  } finally {
    process.off('SIGINT', onSigint);
    await pool?.close();
    trainer.opt.dispose();
    policy.dispose();
  }
}

/** Keep the training curve whole across --init-from: the earlier runs' metrics lines, tagged with their run. */
function carryCurves(from: string, out: string): void {
  const isRecord = (v: unknown): v is object => typeof v === 'object' && v !== null;
  const lines = [...readJsonl(join(from, INIT_METRICS_FILE), isRecord), ...readJsonl(join(from, METRICS_FILE), isRecord).map((r) => ({ run: from, ...r }))];
  if (lines.length === 0) return;
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, INIT_METRICS_FILE), lines.map((r) => JSON.stringify(r) + '\n').join(''));
}

/** The tensors named "<prefix>..." with the prefix removed. */
function withPrefix(file: ParsedSafetensors, prefix: string): ParsedSafetensors {
  return { metadata: {}, tensors: new Map([...file.tensors].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t])) };
}
