// DAgger collection (`vlalab collect --policy DIR --beta B`, src/app/api/dagger.ts):
// a checkpoint drives, the expert labels; the dataset says so and trains on
// every relabelled episode whatever its outcome.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DIM, ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { collect } from '../../src/collect/runner.ts';
import { readDatasetInfo, readEpisode, readIndex } from '../../src/data/demoStore.ts';
import { checkpointSha256 } from '../../src/eval/fingerprint.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { saveCheckpoint } from '../../src/train/checkpoint.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { dirSource } from '../../src/train/node.ts';
import { VlaPolicy } from '../../policies/policy.ts';
import { PLAIN_OPENVLA } from '../policies/plain.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-dagger-'));
const ckpt = join(dir, 'ckpt');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend('cpu');
  // Untrained and small: it wanders (so it fails), and its steps are cheap.
  const p = new VlaPolicy({ ...PLAIN_OPENVLA, gptLayers: 1, textDepth: 0, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH] });
  await saveCheckpoint(ckpt, p, { policyName: 'vit-siglip-openvla' });
  p.dispose();
}, 60_000);

describe('collect --policy (DAgger)', () => {
  it('beta = 1: the expert drives every step, so the episode is the expert demonstration of that seed', async () => {
    const expertDir = join(dir, 'expert'), daggerDir = join(dir, 'beta1');
    await collect({ suite: 'tabletop', split: 'train', episodes: 1, out: expertDir, quiet: true, noise: 0.1 });
    const s = await collect({ suite: 'tabletop', split: 'train', episodes: 1, out: daggerDir, quiet: true, noise: 0.1, policy: ckpt, beta: 1 });
    expect(s.written).toBe(1);
    expect(s.brokenOff).toBe(0);
    const [a, b] = [expertDir, daggerDir].map((d) => readEpisode(d, readIndex(d)[0], readDatasetInfo(d)));
    expect(b.steps).toBe(a.steps);
    expect(Array.from(b.actions)).toEqual(Array.from(a.actions));
    expect(Array.from(b.proprio)).toEqual(Array.from(a.proprio));
    expect(Buffer.compare(Buffer.from(b.images.scene), Buffer.from(a.images.scene))).toBe(0);
    expect(readDatasetInfo(daggerDir).dagger).toEqual({ policy: ckpt, checkpointSha256: checkpointSha256(ckpt), beta: 1 });
  }, 180_000);

  it('beta = 0: the policy drives; its failed episodes are kept as expert-labelled data and train', async () => {
    const out = join(dir, 'beta0');
    const s = await collect({ suite: 'tabletop', split: 'train', episodes: 2, out, quiet: true, policy: ckpt, beta: 0 });
    expect(s.written).toBe(2);
    const info = readDatasetInfo(out);
    const index = readIndex(out);
    expect(index.every((e) => e.relabelled === true)).toBe(true);
    expect(index.some((e) => !e.success)).toBe(true); // an untrained policy does not solve its episodes
    const ep = readEpisode(out, index[0], info);
    // The labels are the expert's: bounded actions that move (not the untrained policy's noise), terminate never claimed on a failure.
    for (let t = 0; t < ep.steps; t++) {
      for (let d = 0; d < 4; d++) expect(Math.abs(ep.actions[t * ACTION_DIM + d])).toBeLessThanOrEqual(ACTION_HIGH[d] + 1e-6);
      if (!index[0].success) expect(ep.actions[t * ACTION_DIM + 5]).toBe(0);
    }
    expect(ep.actions.slice(0, ACTION_DIM * 5).some((v) => Math.abs(v) > 1e-3)).toBe(true);
    // Every relabelled episode is training data, the failures included.
    const data = new DemoDataset(dirSource(out), { cameras: ['scene', 'wrist'], valFraction: 0, batchSize: 1 });
    expect(data.episodes.length).toBe(2);
  }, 300_000);

  it('refuses a dataset of another policy or beta, and a directory that is no checkpoint, before writing anything', async () => {
    const out = join(dir, 'beta0');
    await expect(collect({ suite: 'tabletop', split: 'train', episodes: 3, out, quiet: true, policy: ckpt, beta: 0.5 })).rejects.toThrow(/holds a DAgger collection .*"beta":0\b.*not a DAgger collection .*"beta":0\.5/);
    await expect(collect({ suite: 'tabletop', split: 'train', episodes: 3, out, quiet: true })).rejects.toThrow(/not expert demonstrations/);
    const fresh = join(dir, 'none');
    await expect(collect({ suite: 'tabletop', split: 'train', episodes: 1, out: fresh, quiet: true, policy: join(dir, 'missing') })).rejects.toThrow(/no checkpoint directory/);
    await expect(collect({ suite: 'tabletop', split: 'train', episodes: 1, out: fresh, quiet: true, beta: 0.5 })).rejects.toThrow(/--beta applies to a DAgger collection only/);
    expect(existsSync(join(fresh, 'episodes.jsonl'))).toBe(false);
  }, 60_000);
});
