// Data-parallel training (src/train/shards.ts, threads.ts): with the same seed
// and micro-batches, 2 threads give the weights, batch-norm statistics and
// metrics of 1 thread; a sharded step equals the one-pass step where the math
// allows it (no batch norm); resume and thread failures lose no step; bad
// --threads / --micro-batches values are refused by name.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { type RunTrainOptions, resolveThreads, runTrain, dirSource } from '../../src/train/node.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { NO_AUGMENT } from '../../src/train/augment.ts';
import { splitBatch } from '../../src/train/shards.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { TINY_POLICY, TINY_VIT, synthDataset, tempDir } from './helpers.ts';
import { VlaPolicy } from '../../policies/policy.ts';

const data = synthDataset({ episodes: 6, steps: 10 });
// GPT dropout on: in-model randomness must not depend on the thread either.
const base: Omit<RunTrainOptions, 'out'> = {
  policy: 'efficientnet-film-64', data, batchSize: 8, seed: 3, valFraction: 0.2, policyOverrides: { ...TINY_POLICY, dropout: 0.2 },
  train: { epochs: 1, lr: 2e-3, saveEverySteps: 0, microBatches: 2 }, quiet: true,
};

function weights(dir: string): Map<string, Float32Array> {
  const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'weights.safetensors'))));
  return new Map([...st.tensors].map(([k, t]) => [k, t.data as Float32Array]));
}

function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  let d = 0;
  for (const [k, v] of a) v.forEach((x, i) => (d = Math.max(d, Math.abs(x - b.get(k)![i]))));
  return d;
}

function metrics(dir: string) {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, elapsedSeconds: _e, imagesPerSecond: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}

let ref: { dir: string; w: Map<string, Float32Array> } | null = null; // the 2-thread run of the first test

describe('data-parallel training threads', () => {
  it('2 threads == 1 thread (weights, BN statistics, metrics); a resume with threads continues exactly', async () => {
    const one = tempDir();
    const r1 = await runTrain({ ...base, out: one, threads: 1 });
    const two = tempDir();
    const r2 = await runTrain({ ...base, out: two, threads: 2 });
    expect(r2.steps).toBe(6);
    const w1 = weights(one), w2 = weights(two);
    expect(maxDiff(w1, w2)).toBeLessThanOrEqual(1e-6); // bit-equal in practice: same shard math, same summation order
    expect(metrics(two)).toEqual(metrics(one));
    expect(r2.final?.trainLoss).toBe(r1.final?.trainLoss);
    const cfg = JSON.parse(readFileSync(join(two, 'config.json'), 'utf8'));
    expect(cfg.training.threads).toBe(2);
    expect(cfg.training.args.train.microBatches).toBe(2);
    // The BN running statistics moved from their init (mean 0, var 1): the shard statistics were merged, not dropped.
    const means = [...w2.keys()].filter((k) => k.endsWith('running_mean'));
    expect(means.length).toBeGreaterThan(0);
    expect(means.filter((k) => w2.get(k)!.some((x) => Math.abs(x) > 1e-4)).length).toBeGreaterThan(means.length / 2);
    ref = { dir: two, w: w2 };

    // Interrupted mid-epoch with 2 threads, resumed with 2: the uninterrupted run's weights.
    const b = tempDir();
    const first = await runTrain({ ...base, out: b, threads: 2, shouldStop: (s) => s.step >= 4 });
    expect(first.interrupted).toBe(true);
    const rest = await runTrain({ ...base, out: b, threads: 2, resume: true });
    expect(rest.steps).toBe(6);
    expect(maxDiff(w2, weights(b))).toBe(0);
    expect(metrics(b)).toEqual(metrics(two));
  }, 120_000);

  it('a sharded step equals the one-pass step where no batch norm is involved (ViT, no dropout)', async () => {
    await initBackend('wasm');
    const source = dirSource(synthDataset({ episodes: 3, steps: 8 }));
    const run = async (microBatches: number) => {
      const d = new DemoDataset(source, { cameras: ['scene'], batchSize: 8, seed: 1, valFraction: 0, augment: NO_AUGMENT });
      const policy = new VlaPolicy({ ...TINY_VIT, cameras: ['scene'], vocab: ['put', 'the', 'red', 'cube', 'in', 'blue', 'bowl'], actionLow: [...source.info.actionLow], actionHigh: [...source.info.actionHigh], seed: 5 });
      const t = new Trainer(policy, d, { microBatches, warmupSteps: 0, lr: 1e-3 }, { save: async () => {}, metrics: () => {} });
      const raw = await d.trainBatch(0, 0);
      const loss = microBatches === 1 ? t.trainStep(raw) : await t.trainStepSharded(raw);
      const w = new Map(Object.entries(policy.namedWeights()).map(([k, v]) => [k, v.dataSync() as Float32Array]));
      t.opt.dispose();
      policy.dispose();
      return { loss, w };
    };
    const a = await run(1), b = await run(2), c = await run(4);
    expect(Math.abs(a.loss - b.loss)).toBeLessThan(1e-5);
    expect(Math.abs(a.loss - c.loss)).toBeLessThan(1e-5);
    // One AdamW step moves each weight by about lr; float rounding of the gradients moves it by far less.
    expect(maxDiff(a.w, b.w)).toBeLessThan(1e-5);
    expect(maxDiff(a.w, c.w)).toBeLessThan(1e-5);
    expect(maxDiff(a.w, b.w)).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('splits every per-sample field of a batch into equal shards', async () => {
    const d = new DemoDataset(dirSource(data), { cameras: ['scene', 'wrist'], batchSize: 6, seed: 0, valFraction: 0, augment: NO_AUGMENT, aux: true, plan: true });
    const raw = await d.trainBatch(0, 1);
    const parts = splitBatch(raw, 3);
    expect(parts.map((p) => p.instructions.length)).toEqual([2, 2, 2]);
    expect(parts.flatMap((p) => p.refs)).toEqual(raw.refs);
    expect(Float32Array.from(parts.flatMap((p) => [...p.images.wrist]))).toEqual(raw.images.wrist);
    expect(Float32Array.from(parts.flatMap((p) => [...p.aux!.target]))).toEqual(raw.aux!.target);
    expect(parts[1].aux!.dim).toBe(raw.aux!.dim);
    expect(parts.flatMap((p) => p.plan!)).toEqual(raw.plan);
    expect(parts[2].height).toBe(raw.height);
    expect(() => splitBatch(raw, 4)).toThrow(/batch of 6 does not split into 4 equal micro-batches/);
  });

  it('refuses bad --threads and --micro-batches by name', async () => {
    expect(resolveThreads(undefined, 2, 8, 16)).toBe(2);
    expect(resolveThreads(undefined, 4, 8, 2)).toBe(2);
    expect(resolveThreads(undefined, 1, 8, 2)).toBe(1);
    expect(() => resolveThreads(0, 2, 8, 2)).toThrow(/--threads must be a positive integer, got 0/);
    expect(() => resolveThreads(1.5, 2, 8, 2)).toThrow(/--threads must be a positive integer, got 1.5/);
    expect(() => resolveThreads(3, 4, 8, 2)).toThrow(/--threads 3 exceeds the 2 cores of this machine/);
    expect(() => resolveThreads(2, 1, 8, 2)).toThrow(/--threads 2 exceeds --micro-batches 1/);
    const cores = (await import('node:os')).availableParallelism();
    await expect(runTrain({ ...base, out: tempDir(), threads: cores + 1 })).rejects.toThrow(new RegExp(`--threads ${cores + 1} exceeds the ${cores} cores`));
    await expect(runTrain({ ...base, out: tempDir(), batchSize: 7 })).rejects.toThrow(/--batch 7 is not divisible by --micro-batches 2/);
    await expect(runTrain({ ...base, out: tempDir(), train: { ...base.train, microBatches: 0 } })).rejects.toThrow(/--micro-batches must be a positive integer, got 0/);
  });

  it('a thread that dies mid-step is named with its cause; the run resumes with no lost or repeated step', async () => {
    if (!ref) {
      const dir = tempDir();
      await runTrain({ ...base, out: dir, threads: 2 });
      ref = { dir, w: weights(dir) };
    }
    for (const kind of ['exit', 'throw'] as const) {
      const out = tempDir();
      const cause = kind === 'exit' ? /the thread exited \(code 3\)/ : /Error: injected fault \(test\) in step 4/;
      const err = await runTrain({ ...base, out, threads: 2, threadFault: { thread: 1, step: 3, kind } }).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^training thread 1 died during step 4: /);
      expect(err?.message).toMatch(cause);
      expect(err?.message).toMatch(/checkpoint saved at step 3: rerun with --resume/);
      expect(readdirSync(out)).toContain('optimizer.safetensors');
      const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(cfg.training.state.step).toBe(3);
      const rest = await runTrain({ ...base, out, threads: 1, resume: true }); // any thread count continues the same run
      expect(rest.steps).toBe(6);
      expect(maxDiff(ref.w, weights(out))).toBeLessThanOrEqual(1e-6);
      expect(metrics(out)).toEqual(metrics(ref.dir));
    }
  }, 120_000);
});
