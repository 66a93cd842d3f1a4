// Model benchmarks (Node): per registered policy — parameters, FLOPs per
// frame, single-observation inference latency p50/p95 on wasm and cpu
// (warm-up excluded), and behaviour-cloning training throughput (images/s) on
// wasm. Each name is built as its recipe (policies/recipes/) with the
// vocabulary of the recipe's demos and the simulator's action bounds, so a
// shipped name's row is the shipped model's shapes exactly (untrained
// weights: latency does not depend on training); the variants appear under
// their own names.
import * as tf from '@tensorflow/tfjs';
import { ACTION_HIGH, ACTION_LOW, DEFAULT_RESOLUTION, PROPRIO_DIM } from '../../sim/config.ts';
import { createPolicy, listPolicies } from '../../policies/registry.ts';
import type { PolicyObservation, VlaPolicy } from '../../policies/policy.ts';
import { recipeVocabulary } from '../train/presets.ts';
import { Rng } from '../../sim/rng.ts';
import { initBackend, type BackendName } from '../tf/backend.ts';
import { summarizeLatency } from '../eval/stats.ts';

function randomObs(rng: Rng, cameras: string[], res = DEFAULT_RESOLUTION): PolicyObservation {
  const images: PolicyObservation['images'] = {};
  for (const c of cameras) images[c] = { width: res, height: res, data: Uint8Array.from({ length: res * res * 3 }, () => rng.int(0, 255)) };
  return { images, proprio: Float32Array.from({ length: PROPRIO_DIM }, () => rng.uniform(-0.2, 0.2)), instruction: 'put the red cube in the blue bowl' };
}

/** The policy a bench row measures: the recipe `name`, with its demos' vocabulary and the simulator's action bounds. */
export function benchPolicy(name: string): VlaPolicy {
  return createPolicy(name, { vocab: recipeVocabulary(name), actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH] });
}

/** The shape columns of a bench row (no timing). */
export function benchModelInfo(name: string) {
  const p = benchPolicy(name);
  try {
    const res = p.imageSize;
    return { backbone: p.config.backbone, imageSize: res, cameras: p.config.cameras, params: p.paramCount(), flopsPerFrame: p.backbone.flopsPerFrame(res, res) };
  } finally {
    p.dispose();
  }
}

export async function benchInference(name: string, backend: BackendName, iters: number, warmup = 3) {
  await initBackend(backend);
  const policy = benchPolicy(name);
  const rng = new Rng(1);
  const obs = randomObs(rng, policy.config.cameras);
  const times: number[] = [];
  for (let i = 0; i < warmup + iters; i++) {
    policy.reset();
    const t0 = performance.now();
    policy.selectAction(obs);
    if (i >= warmup) times.push(performance.now() - t0);
  }
  const s = summarizeLatency(times);
  policy.dispose();
  return { p50Ms: +s.p50.toFixed(2), p95Ms: +s.p95.toFixed(2), n: s.n };
}

export async function benchTraining(name: string, batch: number, steps: number) {
  await initBackend('wasm');
  const policy = benchPolicy(name);
  const rng = new Rng(2);
  const obs = Array.from({ length: batch }, () => randomObs(rng, policy.config.cameras));
  const actions = obs.map(() => Float32Array.from(ACTION_LOW, (lo, i) => rng.uniform(lo, ACTION_HIGH[i])));
  // Plan tokens are teacher-forced targets like the actions (the other training signals need simulator state and are left out).
  const { planDims, planLow, planHigh, chunkLength } = policy.config;
  const plan = planDims > 0 ? obs.map(() => Float32Array.from({ length: chunkLength * planDims }, (_, i) => rng.uniform(planLow[i % planDims], planHigh[i % planDims]))) : null;
  const opt = tf.train.adam(1e-4);
  const vars = policy.trainableVariables();
  let ms = 0;
  for (let i = 0; i < steps + 1; i++) {
    const b = { ...policy.collate(obs, actions), plan };
    const t0 = performance.now();
    const cost = opt.minimize(() => policy.computeLoss(b, true), true, vars);
    await cost?.data();
    if (i > 0) ms += performance.now() - t0; // first step: kernel setup, excluded
    cost?.dispose();
    tf.dispose([...Object.values(b.images), b.proprio ?? []]);
  }
  opt.dispose();
  const imagesPerStep = batch * policy.config.cameras.length;
  policy.dispose();
  return { batch, imagesPerSecond: +((imagesPerStep * steps) / (ms / 1000)).toFixed(1), msPerStep: +(ms / steps).toFixed(0) };
}

export async function benchModels(quick: boolean) {
  const out: Record<string, unknown> = {};
  for (const name of listPolicies()) {
    await initBackend('wasm');
    const info = benchModelInfo(name);
    out[name] = {
      ...info,
      inference: {
        wasm: await benchInference(name, 'wasm', quick ? 5 : 30),
        cpu: await benchInference(name, 'cpu', quick ? 2 : 8, 1),
      },
      training: await benchTraining(name, quick ? 4 : 16, quick ? 1 : 3),
    };
  }
  return out;
}
