// The streaming BC dataset: episode-level validation split, deterministic
// seeded batches and augmentation, windowed shuffle, LRU cache, action chunks.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../sim/rng.ts';
import { AUGMENT_DEFAULTS, augmentFrame, NO_AUGMENT, sampleAugment } from '../../src/train/augment.ts';
import { DemoDataset } from '../../src/train/dataset.ts';
import { dirSource } from '../../src/train/node.ts';
import { synthDataset } from './helpers.ts';

const dir = synthDataset({ episodes: 10, steps: 6, failures: [3] });
const source = dirSource(dir);
const make = (seed: number, extra = {}) => new DemoDataset(source, { cameras: ['scene', 'wrist'], batchSize: 4, seed, valFraction: 0.2, ...extra });

describe('DemoDataset', () => {
  it('splits by episode (failures excluded), deterministically per seed', () => {
    const d = make(7);
    expect(d.episodes.length).toBe(9); // episode 3 failed
    expect(d.episodes.some((e) => e.seed === 3)).toBe(false);
    expect(d.valEpisodes.length).toBe(2); // round(9 * 0.2)
    expect(d.trainEpisodes.length).toBe(7);
    expect(new Set([...d.trainEpisodes, ...d.valEpisodes]).size).toBe(9);
    expect(d.trainSteps.length).toBe(42);
    expect(d.valSteps.length).toBe(12);
    const trainEps = new Set(d.trainSteps.map((s) => s.episode));
    expect(d.valSteps.every((s) => !trainEps.has(s.episode))).toBe(true); // no episode on both sides
    expect(make(7).valEpisodes).toEqual(d.valEpisodes);
    const other = [1, 2, 3, 4].map((s) => make(s).valEpisodes.join());
    expect(other.some((v) => v !== d.valEpisodes.join())).toBe(true);
    expect(() => new DemoDataset(source, { cameras: ['top'] })).toThrow(/no camera 'top'/);
  });

  it('gives identical batches for a seed, new orders per epoch, and a windowed shuffle', async () => {
    const a = make(7);
    const b = make(7);
    const [x, y] = [await a.trainBatch(0, 2), await b.trainBatch(0, 2)];
    expect(x.refs).toEqual(y.refs);
    expect(x.images.scene).toEqual(y.images.scene);
    expect(x.images.wrist).toEqual(y.images.wrist);
    expect(x.proprio).toEqual(y.proprio);
    expect(x.actions).toEqual(y.actions);
    expect(a.batchesPerEpoch).toBe(10); // floor(42 / 4)
    const key = (r: { episode: number; t: number }) => `${r.episode}:${r.t}`;
    for (const e of [0, 1]) expect(a.epochOrder(e).map(key).sort()).toEqual(a.trainSteps.map(key).sort()); // a permutation
    expect(a.epochOrder(1).map(key)).not.toEqual(a.epochOrder(0).map(key));
    expect(make(8).epochOrder(0).map(key)).not.toEqual(a.epochOrder(0).map(key));
    const w = make(7, { windowEpisodes: 2 });
    const first = w.epochOrder(0).slice(0, 12); // the first window: 2 episodes x 6 steps
    expect(new Set(first.map((r) => r.episode)).size).toBe(2);
  });

  it('augments within range and shape, and not at all for validation', async () => {
    const d = make(7);
    const res = source.info.resolution;
    const aug = await d.trainBatch(0, 0);
    expect(aug.images.scene.length).toBe(4 * res * res * 3);
    expect(aug.height).toBe(res);
    expect(aug.images.scene.every((v) => v >= 0 && v <= 1)).toBe(true);
    const plain = await d.batch(aug.refs, null);
    let diff = 0;
    for (let i = 0; i < plain.images.scene.length; i++) diff += Math.abs(plain.images.scene[i] - aug.images.scene[i]);
    diff /= plain.images.scene.length;
    expect(diff).toBeGreaterThan(0.005); // augmentation changed the frames...
    expect(diff).toBeLessThan(0.25); // ...but only a little
    const ep = await d.episode(aug.refs[0].episode);
    const t = aug.refs[0].t;
    for (let i = 0; i < res * res * 3; i++) expect(plain.images.scene[i]).toBe(Math.fround(ep.images.scene[t * res * res * 3 + i] / 255));
    // validation batches: fixed order over the held-out steps, capped and strided on request
    const val = d.valBatchRefs();
    expect(val.flat()).toEqual(d.valSteps);
    expect(val.map((b) => b.length)).toEqual([4, 4, 4]);
    expect(d.valBatchRefs(5).flat().length).toBe(5);
  });

  it('pads action chunks with the last action and keeps at most cacheEpisodes decoded', async () => {
    const d = make(7, { chunkLength: 3, cacheEpisodes: 2 });
    const e = d.trainEpisodes[0];
    const b = await d.batch([{ episode: e, t: 5 }, { episode: e, t: 0 }], null);
    const ep = await d.episode(e);
    const last = Array.from(ep.actions.subarray(30, 36));
    expect(Array.from(b.actions[0])).toEqual([...last, ...last, ...last]);
    expect(Array.from(b.actions[1])).toEqual(Array.from(ep.actions.subarray(0, 18)));
    for (let i = 0; i < d.batchesPerEpoch; i++) await d.trainBatch(0, i);
    expect(d.stats.loads).toBeGreaterThan(d.trainEpisodes.length); // evictions forced reloads
    expect(d.stats.hits).toBeGreaterThan(0);
  });
});

describe('augmentFrame', () => {
  const W = 5, H = 4;
  const src = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);
  it('is exact float conversion without parameters, and shifts with edge replication', () => {
    const out = new Float32Array(W * H * 3);
    augmentFrame(src, 0, H, W, out, 0, null);
    out.forEach((v, i) => expect(v).toBe(Math.fround(src[i] / 255)));
    augmentFrame(src, 0, H, W, out, 0, { dx: 2, dy: -1, brightness: 1, contrast: 1, saturation: 1 });
    const px = (x: number, y: number, c: number) => src[(y * W + x) * 3 + c] / 255;
    expect(out[(1 * W + 0) * 3]).toBeCloseTo(px(2, 0, 0), 6); // out(0,1) = src(2,0)
    expect(out[(0 * W + 4) * 3 + 1]).toBeCloseTo(px(4, 0, 1), 6); // x+2 and y-1 clamp to the edge
  });
  it('samples bounded parameters from the seeded stream', () => {
    const r1 = new Rng(5), r2 = new Rng(5);
    for (let i = 0; i < 50; i++) {
      const p = sampleAugment(r1, AUGMENT_DEFAULTS);
      expect(p).toEqual(sampleAugment(r2, AUGMENT_DEFAULTS));
      expect(Math.abs(p.dx) <= 4 && Math.abs(p.dy) <= 4).toBe(true);
      for (const k of ['brightness', 'contrast', 'saturation'] as const) expect(Math.abs(p[k] - 1)).toBeLessThanOrEqual(0.15);
    }
    expect(sampleAugment(new Rng(1), NO_AUGMENT)).toEqual({ dx: 0, dy: 0, brightness: 1, contrast: 1, saturation: 1 });
  });

  it('maxEpisodes keeps the first N successful episodes in collection order (sample-efficiency runs)', () => {
    const d = make(7, { maxEpisodes: 4 });
    expect(d.episodes.map((e) => e.seed)).toEqual([0, 1, 2, 4]); // episode 3 failed and is skipped
    expect(d.trainEpisodes.length + d.valEpisodes.length).toBe(4);
    expect(() => make(7, { maxEpisodes: 10 })).toThrow(/9 successful episodes, fewer than the 10 asked for/);
    expect(() => make(7, { maxEpisodes: 1.5 })).toThrow(/maxEpisodes must be an integer/);
  });
});

describe('joined datasets (--data A,B)', () => {
  it('concatenates the episodes in the order given, each loaded from its own directory; a mismatch names the field', async () => {
    const a = synthDataset({ episodes: 3, steps: 4, seed: 1 });
    const b = synthDataset({ episodes: 2, steps: 5, seed: 2 });
    const joined = dirSource(`${a},${b}`);
    const sa = dirSource(a), sb = dirSource(b);
    expect(joined.index.map((e) => e.seed)).toEqual([...sa.index, ...sb.index].map((e) => e.seed));
    const last = await joined.load(joined.index[4]);
    expect(last.steps).toBe(5);
    expect(last.actions).toEqual((await sb.load(sb.index[1])).actions);
    expect(() => joined.load({ ...joined.index[0] })).toThrow(/is in none of/);
    const c = synthDataset({ episodes: 1, steps: 4, resolution: 16 });
    expect(() => dirSource(`${a},${c}`)).toThrow(new RegExp(`${c} has resolution 16, ${a} has 32: the datasets cannot be joined`));
    expect(() => dirSource(',')).toThrow(/no dataset directory given/);
  });
});
