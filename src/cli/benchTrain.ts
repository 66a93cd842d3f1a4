// Training-throughput benchmark (Node, `vlalab bench --only train`): per
// shipped recipe, images/s of the `vlalab train` step (batch
// assembly + augmentation + forward/backward + AdamW) at 1 and 2 threads
// (src/train/threads.ts) with the same 2 micro-batches, and the one-pass
// step (microBatches 1) for reference. Goal (issue 18): 2 threads >= 1.7x
// 1 thread on this 2-core machine. The data is a synthetic demo set in the
// real on-disk format (random frames), so only speed is meaningful here.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION_HIGH, ACTION_LOW, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { Rng } from '../../sim/rng.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { createPolicy, getRecipe, listPolicies } from '../../policies/registry.ts';
import { TextTokenizer } from '../../policies/textTokenizer.ts';
import { DemoWriter, datasetInfo } from '../data/demoStore.ts';
import { initBackend } from '../tf/backend.ts';
import { dirSource, openDataset } from '../train/node.ts';
import { trainPreset } from '../train/presets.ts';
import { weightLayout } from '../train/shards.ts';
import { ThreadPool } from '../train/threads.ts';
import { Trainer } from '../train/trainer.ts';

const INSTRUCTION = 'put the red cube in the blue bowl';

/** A demo set of random frames (every camera) with a valid layout for the auxiliary targets. */
function syntheticDemos(dir: string, episodes: number, steps: number): void {
  const cameras = ['scene', 'wrist'];
  const res = DEFAULT_RESOLUTION;
  const w = new DemoWriter(dir, datasetInfo({ suite: 'tabletop', suiteVersion: '1.0.0', split: 'train', resolution: res, cameras }));
  const rng = new Rng(7);
  for (let e = 0; e < episodes; e++) {
    const images = Object.fromEntries(cameras.map((c) => [c, Uint8Array.from({ length: steps * res * res * 3 }, () => rng.int(0, 255))]));
    const proprio = Float32Array.from({ length: steps * 6 }, () => rng.uniform(-0.1, 0.1));
    const actions = Float32Array.from({ length: steps * 6 }, (_, i) => rng.uniform(ACTION_LOW[i % 6], ACTION_HIGH[i % 6]));
    const episode = {
      suite: 'tabletop', suiteVersion: '1.0.0', split: 'train', task: 'pick_place', family: 'pick_place', seed: e, instruction: INSTRUCTION,
      template: '', goal: { object: 'red cube', target: 'blue bowl' }, maxSteps: 200,
      layout: { objects: [{ name: 'red cube', color: 'red', shape: 'cube', x: 0.02 * e, y: -0.05, yaw: 0 }], bowls: [{ name: 'blue bowl', color: 'blue', x: 0.12, y: 0.1, yaw: 0 }] },
    } as unknown as EpisodeSpec;
    w.write({ episode, steps, success: true, images, proprio, actions });
  }
}

export async function benchTrainThreads(quick: boolean) {
  await initBackend('wasm');
  const steps = quick ? 2 : 4;
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-bench-train-'));
  const out: Record<string, unknown> = { cores: availableParallelism(), loadAverageBefore: loadavg().map((x) => +x.toFixed(2)), stepsTimed: steps };
  try {
    syntheticDemos(dir, 4, 40);
    const source = dirSource(dir);
    for (const name of listPolicies().filter((n) => getRecipe(n).shipped)) {
      const preset = trainPreset(name);
      const policy = createPolicy(name, { vocab: TextTokenizer.fromCorpus([INSTRUCTION]).vocab, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH], seed: 0 });
      const data = openDataset(source, policy.config, { batchSize: preset.batchSize, seed: 0, valFraction: 0, augment: preset.augment, maxEpisodes: 0 });
      const imagesPerStep = preset.batchSize * policy.config.cameras.length;
      const measure = async (threads: number, microBatches: number) => {
        const pool = threads > 1 ? await ThreadPool.start(policy, weightLayout(policy.namedWeights()), { threads, shards: microBatches, backend: 'wasm' }) : undefined;
        const trainer = new Trainer(policy, data, { microBatches, lr: 1e-4, warmupSteps: 0 }, { save: async () => {}, metrics: () => {} }, pool);
        let ms = 0;
        try {
          for (let i = 0; i <= steps; i++) {
            const t0 = performance.now();
            const raw = await data.trainBatch(0, i % data.batchesPerEpoch);
            if (microBatches === 1) trainer.trainStep(raw);
            else await trainer.trainStepSharded(raw);
            if (i > 0) ms += performance.now() - t0; // the first step sets up kernels: excluded
          }
        } finally {
          await pool?.close();
          trainer.opt.dispose();
        }
        return { threads, microBatches, imagesPerSecond: +((imagesPerStep * steps) / (ms / 1000)).toFixed(1), msPerStep: Math.round(ms / steps) };
      };
      process.stderr.write(`bench train: ${name}...\n`);
      const onePass = await measure(1, 1);
      const t1 = await measure(1, 2);
      const t2 = await measure(2, 2);
      policy.dispose();
      out[name] = { batch: preset.batchSize, cameras: policy.config.cameras, onePass, threads1: t1, threads2: t2, speedup2vs1: +(t2.imagesPerSecond / t1.imagesPerSecond).toFixed(2) };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  out.loadAverageAfter = loadavg().map((x) => +x.toFixed(2));
  return out;
}
