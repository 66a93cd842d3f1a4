import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACTION_DIM, PROPRIO_DIM } from '../../sim/config.ts';
import { makeEnv } from '../../tasks/envRegistry.ts';
import { createExpert } from '../../tasks/expert.ts';
import { ActionNoise } from '../../tasks/noise.ts';
import { collect, collectionOrder } from '../../src/collect/runner.ts';
import { readDatasetInfo, readEpisode, readIndex } from '../../src/data/demoStore.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { LOCK_FILE } from '../../src/eval/lock.ts';

const dir = mkdtempSync(join(tmpdir(), 'vlalab-collect-'));
const video = join(dir, 'video');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function frameStats(f: Uint8Array) {
  let sum = 0, sq = 0;
  for (const v of f) { sum += v; sq += v * v; }
  const mean = sum / f.length;
  return { mean, std: Math.sqrt(sq / f.length - mean * mean) };
}

describe('collect (headless Chromium)', () => {
  it('orders episodes seed by seed, tasks interleaved', () => {
    const suite = resolveSuite('tabletop');
    expect(collectionOrder(suite, 'train', 3)).toEqual([{ task: 'pick_place', seed: 0 }, { task: 'stack', seed: 0 }, { task: 'pick_place', seed: 1 }]);
    expect(() => collectionOrder(suite, 'train', 3, ['juggle'])).toThrow(/no task "juggle"/);
  });

  it('records rendered expert episodes that match the Node-side rollout', async () => {
    const s = await collect({ suite: 'tabletop', split: 'train', episodes: 4, out: dir, quiet: true, video, videoEpisodes: 1 });
    expect(s.written).toBe(4);
    const info = readDatasetInfo(dir);
    expect(info.cameras).toEqual(['scene', 'wrist']);
    const index = readIndex(dir);
    expect(index.map((e) => `${e.task}-${e.seed}`)).toEqual(['pick_place-0', 'stack-0', 'pick_place-1', 'stack-1']);
    const ep = readEpisode(dir, index[0], info);
    const T = ep.steps, R = info.resolution;
    expect(ep.images.scene.length).toBe(T * R * R * 3);
    expect(ep.proprio.length).toBe(T * PROPRIO_DIM);
    expect(ep.actions.length).toBe(T * ACTION_DIM);
    expect(ep.success).toBe(true);
    // Frames have content, and the scene changes over the episode (the gripper moves).
    const first = ep.images.scene.subarray(0, R * R * 3), last = ep.images.scene.subarray((T - 1) * R * R * 3);
    expect(frameStats(first).std).toBeGreaterThan(10);
    expect(Buffer.compare(Buffer.from(first), Buffer.from(last))).not.toBe(0);
    // Another layout renders differently.
    const other = readEpisode(dir, index[2], info).images.scene.subarray(0, R * R * 3);
    let diff = 0;
    for (let i = 0; i < first.length; i++) diff += Math.abs(first[i] - other[i]);
    expect(diff / first.length).toBeGreaterThan(1);
    // Physics in Chromium and in Node agree bit for bit: same actions, same proprio.
    const env = makeEnv('tabletop/pick_place-v1');
    let [obs] = await env.reset({ seed: 0 });
    const expert = createExpert(env.episode);
    for (let t = 0; t < T; t++) {
      expect(Array.from(obs.proprio)).toEqual(Array.from(ep.proprio.subarray(t * PROPRIO_DIM, (t + 1) * PROPRIO_DIM)));
      const a = expert.act(env.sim);
      expect(Array.from(a)).toEqual(Array.from(ep.actions.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM)));
      obs = (await env.step(a)).obs;
    }
    env.close();
    // Spatial training targets land on the rendered object: the projected point of the commanded
    // object in the scene camera has the object's colour in the recorded frame (before the grasp).
    const { spatialTargets } = await import('../../src/train/spatialTargets.ts');
    const { cameraSpecs } = await import('../../src/train/node.ts');
    const { COLORS } = await import('../../sim/config.ts');
    const sp = spatialTargets(ep.episode, cameraSpecs(['scene']), ep.proprio, PROPRIO_DIM, ep.actions, ACTION_DIM, 4, T);
    const want = COLORS[ep.episode.goal.object.split(' ')[0]];
    const px = (Math.round(sp[1] * R - 0.5) * R + Math.round(sp[0] * R - 0.5)) * 3;
    const got = Array.from(ep.images.scene.subarray(px, px + 3));
    const chroma = (c: number[]) => c.map((v) => v / (c[0] + c[1] + c[2] + 1e-6));
    expect(sp[2]).toBe(1);
    chroma(got).forEach((v, i) => expect(Math.abs(v - chroma(want)[i])).toBeLessThan(0.12));
    // --video wrote PNG frames for the first episode.
    const frames = readdirSync(join(video, 'pick_place-0')).filter((f) => f.endsWith('.png'));
    expect(frames.length).toBe(T + 1);
    expect(readFileSync(join(video, 'pick_place-0', frames[0])).subarray(1, 4).toString()).toBe('PNG');
  });

  it('resumes after a crash without losing or duplicating episodes', async () => {
    // Simulate a crash mid-write: a torn index line and a leftover temp file.
    const idx = join(dir, 'episodes.jsonl');
    writeFileSync(idx, readFileSync(idx, 'utf8') + '{"file":"episodes/pick_place-2.saf');
    writeFileSync(join(dir, 'episodes', 'pick_place-2.safetensors.tmp'), 'garbage');
    const s = await collect({ suite: 'tabletop', split: 'train', episodes: 6, out: dir, quiet: true });
    expect(s.skipped).toBe(4);
    expect(s.written).toBe(2);
    const index = readIndex(dir);
    expect(index.map((e) => `${e.task}-${e.seed}`)).toEqual(['pick_place-0', 'stack-0', 'pick_place-1', 'stack-1', 'pick_place-2', 'stack-2']);
    for (const e of index) expect(existsSync(join(dir, e.file))).toBe(true);
    // A dataset directory refuses a different configuration instead of mixing data.
    await expect(collect({ suite: 'tabletop', split: 'heldout_layout', episodes: 1, out: dir, quiet: true })).rejects.toThrow(/split="train", not "heldout_layout"/);
    await expect(collect({ suite: 'tabletop', split: 'train', episodes: 8, out: dir, quiet: true, noise: 0.1 })).rejects.toThrow(/noise=0, not 0.1/);
  });

  it('a browser killed mid-run is restarted (shared session pool): the same episodes, none lost or repeated', async () => {
    const a = mkdtempSync(join(tmpdir(), 'vlalab-collect-kill-a-')), b = mkdtempSync(join(tmpdir(), 'vlalab-collect-kill-b-'));
    let killed = false;
    const s = await collect({
      suite: 'tabletop', split: 'train', episodes: 6, out: a, quiet: true, workers: 2,
      afterEpisode: async (n, session) => { if (n === 2 && !killed) { killed = true; await session.browser.close(); } },
    });
    expect(killed).toBe(true);
    expect(s.written).toBe(6);
    await collect({ suite: 'tabletop', split: 'train', episodes: 6, out: b, quiet: true });
    const key = (d: string) => readIndex(d).map((e) => `${e.task}-${e.seed}:${e.success}:${e.steps}`).sort();
    expect(key(a)).toEqual(key(b));
    const info = readDatasetInfo(a);
    for (const e of readIndex(a)) {
      const other = readIndex(b).find((x) => x.task === e.task && x.seed === e.seed)!;
      expect([...readEpisode(a, e, info).actions]).toEqual([...readEpisode(b, other, info).actions]);
    }
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  });

  it('takes the run lock, and re-records indexed episodes whose files are missing or truncated', async () => {
    // Another live collect holds the directory (our parent process stands in for it): refused before any browser starts.
    writeFileSync(join(dir, LOCK_FILE), String(process.ppid));
    await expect(collect({ suite: 'tabletop', split: 'train', episodes: 6, out: dir, quiet: true })).rejects.toThrow(new RegExp(`another vlalab process \\(pid ${process.ppid}\\)`));
    rmSync(join(dir, LOCK_FILE));
    const cut = join(dir, 'episodes', 'pick_place-0.safetensors');
    const bytes = readFileSync(cut);
    writeFileSync(cut, bytes.subarray(0, bytes.length >> 1));
    rmSync(join(dir, 'episodes', 'stack-1.safetensors'));
    const s = await collect({ suite: 'tabletop', split: 'train', episodes: 6, out: dir, quiet: true });
    expect([s.skipped, s.written]).toEqual([4, 2]);
    const info = readDatasetInfo(dir);
    const index = readIndex(dir);
    expect(index.map((e) => `${e.task}-${e.seed}`).sort()).toEqual(['pick_place-0', 'pick_place-1', 'pick_place-2', 'stack-0', 'stack-1', 'stack-2']);
    for (const e of index) expect(readEpisode(dir, e, info).steps).toBe(e.steps); // every file parses whole
    expect(readFileSync(join(dir, 'episodes.jsonl'), 'utf8').split('\n').filter(Boolean)).toHaveLength(6); // not doubled
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('--noise executes perturbed actions and records the clean expert labels (DART)', async () => {
    const out = join(dir, 'noisy');
    await collect({ suite: 'tabletop', split: 'train', episodes: 1, out, quiet: true, noise: 0.1 });
    const info = readDatasetInfo(out);
    expect(info.noise).toBe(0.1);
    const ep = readEpisode(out, readIndex(out)[0], info);
    // Replay in Node: the recorded actions are the expert's own, the states follow the noisy execution.
    const env = makeEnv('tabletop/pick_place-v1');
    let [obs] = await env.reset({ seed: 0 });
    const expert = createExpert(env.episode);
    const noise = new ActionNoise(0.1, 0);
    let moved = 0;
    for (let t = 0; t < ep.steps; t++) {
      expect(Array.from(obs.proprio)).toEqual(Array.from(ep.proprio.subarray(t * PROPRIO_DIM, (t + 1) * PROPRIO_DIM)));
      const a = expert.act(env.sim);
      expect(Array.from(a)).toEqual(Array.from(ep.actions.subarray(t * ACTION_DIM, (t + 1) * ACTION_DIM)));
      const next = (await env.step(noise.perturb(a))).obs;
      if (Math.abs(next.proprio[0] - obs.proprio[0] - a[0]) > 1e-3) moved++; // executed != label
      obs = next;
    }
    env.close();
    expect(moved).toBeGreaterThan(ep.steps / 3);
  });
});
