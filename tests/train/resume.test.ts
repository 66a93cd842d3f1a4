// Resumable training through the `vlalab train` code path: stopping after
// epoch 1, or in the middle of an epoch, and resuming gives exactly the
// weights and metrics of an uninterrupted run; resume refuses changed options.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { type RunTrainOptions, runTrain } from '../../src/train/node.ts';
import { TINY_POLICY, synthDataset, tempDir } from './helpers.ts';

const data = synthDataset({ episodes: 6, steps: 10 });
const base: Omit<RunTrainOptions, 'out'> = {
  policy: 'efficientnet-film-64', data, batchSize: 8, seed: 3, valFraction: 0.2, policyOverrides: TINY_POLICY,
  train: { epochs: 2, lr: 2e-3, saveEverySteps: 0 }, quiet: true, threads: 1, // threads: tests/train/threads.test.ts
};
const out = tempDir;

function weights(dir: string): Map<string, number[]> {
  const st = parseSafetensors(new Uint8Array(readFileSync(join(dir, 'weights.safetensors'))));
  return new Map([...st.tensors].map(([k, t]) => [k, Array.from(t.data as Float32Array)]));
}

function metrics(dir: string) {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { seconds: _s, elapsedSeconds: _e, imagesPerSecond: _i, ...rest } = JSON.parse(l);
    return rest;
  });
}

describe('resumable training', () => {
  it('interrupt + resume == uninterrupted (after an epoch and mid-epoch), exactly', async () => {
    const a = out();
    const full = await runTrain({ ...base, out: a });
    expect(full.interrupted).toBe(false);
    expect(full.steps).toBe(12); // 2 epochs x floor(50 / 8)
    expect(full.epochs).toBe(2);
    expect(readdirSync(a).sort()).toEqual(['config.json', 'metrics.jsonl', 'weights.safetensors']); // shipped: no optimizer state
    const ref = weights(a);

    for (const stopAt of [6, 3]) {
      const b = out();
      const first = await runTrain({ ...base, out: b, shouldStop: (s) => s.step >= stopAt });
      expect(first.interrupted).toBe(true);
      expect(first.steps).toBe(stopAt);
      expect(readdirSync(b)).toContain('optimizer.safetensors');
      const rest = await runTrain({ ...base, out: b, resume: true });
      expect(rest.interrupted).toBe(false);
      expect(rest.steps).toBe(12);
      const got = weights(b);
      expect([...got.keys()].sort()).toEqual([...ref.keys()].sort());
      let maxDiff = 0;
      for (const [k, v] of ref) v.forEach((x, i) => (maxDiff = Math.max(maxDiff, Math.abs(x - got.get(k)![i]))));
      expect(maxDiff).toBe(0); // bit-exact on wasm: same batches, augmentation, schedule, moments and BN statistics
      expect(metrics(b)).toEqual(metrics(a));
    }
  }, 90_000);

  it('valEverySteps adds mid-epoch validation records with fractional epochs, without changing the weights', async () => {
    const a = out();
    await runTrain({ ...base, out: a });
    const b = out();
    await runTrain({ ...base, out: b, train: { ...base.train, valEverySteps: 4 } });
    const m = metrics(b);
    // 6 batches per epoch: validation at steps 4 (epoch 0 + 4/6), 6 (end of epoch 1), 8 (1 + 2/6), 12 (end of epoch 2).
    expect(m.map((r) => [r.step, r.epoch])).toEqual([[4, 0.667], [6, 1], [8, 1.333], [12, 2]]);
    for (const r of m) expect(Number.isFinite(r.valLoss)).toBe(true);
    expect(m.filter((r) => Number.isInteger(r.epoch))).toEqual(metrics(a)); // the epoch-end records are unchanged
    const wa = weights(a), wb = weights(b);
    for (const [k, v] of wa) expect(wb.get(k)).toEqual(v); // validation has no side effect on training (BN in eval mode)
  }, 90_000);

  it('a resume keeps the mid-epoch validation records the checkpoint covers', async () => {
    const train = { ...base.train, valEverySteps: 2 };
    const a = out();
    await runTrain({ ...base, out: a, train });
    const b = out();
    await runTrain({ ...base, out: b, train, shouldStop: (s) => s.step >= 5 }); // records at steps 2 and 4 (epoch 0.333, 0.667)
    expect(metrics(b).map((r) => r.step)).toEqual([2, 4]);
    await runTrain({ ...base, out: b, train, resume: true });
    expect(metrics(b).map((r) => r.step)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(metrics(b)).toEqual(metrics(a));
  }, 90_000);

  it('refuses to overwrite a run, refuses changed options on resume, and no-ops a finished run', async () => {
    const a = out();
    await runTrain({ ...base, out: a, train: { ...base.train, epochs: 1 } });
    await expect(runTrain({ ...base, out: a, train: { ...base.train, epochs: 1 } })).rejects.toThrow(/already holds a checkpoint: pass --resume/);
    await expect(runTrain({ ...base, out: a, resume: true, batchSize: 4 })).rejects.toThrow(/differ from it: batch: 4 \(saved run: 8\)/);
    const again = await runTrain({ ...base, out: a, resume: true, train: undefined });
    expect(again.steps).toBe(again.totalSteps);
    expect(again.epochs).toBe(1);
  }, 60_000);
});
