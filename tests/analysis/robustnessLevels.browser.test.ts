// `analyze robustness --levels` in headless Chromium: every level's frame
// differs from nominal and (where the axis has an order in pixels) more so
// with the level; appearance and sensor levels leave physics bit-identical;
// the policy is handed the perturbed frames; and a tiny end-to-end run
// (the scripted expert, 1 episode, quick levels of two axes: a learned or
// blind policy runs all 100 steps of an unsolved episode, too slow here)
// writes JSON + HTML with an example frame per condition and resumes without
// rerunning anything.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OCCLUDER_RGB, occluderCentre } from '../../sim/render/sensor.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { perturbEpisode } from '../../tasks/perturbation.ts';
import { AXES, parseAxes, type Perturbation } from '../../src/analysis/perturbationAxes.ts';
import { runRobustnessLevels } from '../../src/analysis/robustnessLevels.ts';
import { readRecords } from '../../src/eval/records.ts';
import { b64ToBytes } from '../../src/runtime/b64.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { PLAIN_POLICY } from '../policies/plain.ts';

const suite = resolveSuite('tabletop');
const ep = { suite, task: 'pick_place', split: 'heldout_layout', seed: 100000 };
const dir = mkdtempSync(join(tmpdir(), 'vlalab-levels-'));
let session: HeadlessSession;
beforeAll(async () => { session = await HeadlessSession.open(); });
afterAll(async () => {
  await session?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sceneFrame = async (c: Perturbation) => b64ToBytes((await session.call('conditionFrames', { ...ep, ...c })).frames.scene);
const meanAbs = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0) / a.length;

describe('robustness levels (headless Chromium)', { timeout: 300_000 }, () => {
  it('every level changes the scene frame; appearance, sensor and distractor levels more with each level', async () => {
    const nominal = await sceneFrame({});
    expect(Buffer.from(await sceneFrame({})).equals(Buffer.from(nominal))).toBe(true); // rendering is deterministic
    for (const axis of AXES) {
      const diffs: number[] = [];
      for (const l of axis.levels) diffs.push(meanAbs(await sceneFrame(l.condition), nominal));
      for (const d of diffs) expect(d, axis.name).toBeGreaterThan(0);
      // the robot's start is a pose, not a magnitude in pixels: only "differs" is asserted for it
      if (axis.name !== 'robot_pose') for (let i = 1; i < diffs.length; i++) expect(diffs[i], `${axis.name} level ${i + 1} vs ${i}: ${diffs.map((d) => d.toFixed(2))}`).toBeGreaterThan(diffs[i - 1]);
    }
    const noisy = AXES.find((a) => a.name === 'pixel_noise')!.levels[3].condition;
    expect(Buffer.from(await sceneFrame(noisy)).equals(Buffer.from(await sceneFrame(noisy)))).toBe(true); // seeded per episode
  });

  it('appearance and sensor levels leave the physical episode bit-identical (expert actions and proprioception)', async () => {
    const expert = (c: Perturbation) => session.call('runExpertEpisode', { ...ep, record: false, ...c });
    const nominal = await expert({});
    expect(nominal.success).toBe(true);
    for (const axis of AXES.filter((a) => a.kind !== 'episode')) {
      const w = await expert(axis.levels.at(-1)!.condition);
      expect(w.proprio, axis.name).toBe(nominal.proprio);
      expect(w.actions, axis.name).toBe(nominal.actions);
      expect(w.episode).toEqual(nominal.episode);
    }
  });

  it('the policy is handed the perturbed frames and the perturbed episode', async () => {
    const c: Perturbation = { sensor: { occluder: { size: 0.5 } }, perturbation: { robotPose: { distance: 0.16, yaw: 0.8 } } };
    const w = await session.call('runPolicyEpisode', {
      ...ep, ...c, policy: { name: 'efficientnet-film', overrides: { ...PLAIN_POLICY, gptLayers: 1, textDepth: 0 } }, backend: 'wasm', maxSteps: 1, recordFrames: true,
    });
    expect(w.failure).toBeUndefined();
    expect(w.episode.layout).toEqual(perturbEpisode(sampleEpisode(suite, ep.task, ep.split, ep.seed), suite, c.perturbation!).layout);
    const frames = b64ToBytes(w.frames!.scene); // [steps + 1, 96, 96, 3]
    const [cx, cy] = occluderCentre(ep.seed, ep.task);
    const px = (f: number, x: number, y: number) => Array.from(frames.subarray((f * 96 * 96 + y * 96 + x) * 3, (f * 96 * 96 + y * 96 + x) * 3 + 3));
    for (const f of [0, 1]) expect(px(f, Math.round(cx * 96), Math.round(cy * 96))).toEqual([...OCCLUDER_RGB]);
  });

  it('end to end: the expert on two axes at the quick levels, JSON + HTML with a frame per condition; a rerun resumes', async () => {
    const out = join(dir, 'levels');
    const o = { policies: ['expert'], suite: 'tabletop', episodes: 1, workers: 1, out, quiet: true, axes: parseAxes('occlusion,distractors'), quick: true };
    const { rows } = await runRobustnessLevels(o);
    const key = (r: (typeof rows)[number]) => `${r.axis}/${r.level}/${r.policy}`;
    expect(rows.map(key)).toEqual(['occlusion/0/expert', 'occlusion/1/expert', 'occlusion/4/expert', 'distractors/0/expert', 'distractors/1/expert', 'distractors/4/expert']);
    expect(rows.map((r) => r.run)).toEqual(['nominal', 'occlusion-1', 'occlusion-4', 'nominal', 'distractors-1', 'distractors-4']);
    expect(rows.every((r) => r.episodes === 1 && r.inTraining.length === 0)).toBe(true);
    expect(rows.every((r) => r.successes === 1)).toBe(true); // the perturbed episodes stay solvable
    const runs = ['nominal', 'occlusion-1', 'occlusion-4', 'distractors-1', 'distractors-4'];
    const meta = (run: string) => JSON.parse(readFileSync(join(out, 'runs', run, 'summary.json'), 'utf8')).meta;
    expect(meta('occlusion-4').sensor).toEqual({ occluder: { size: 0.5 } });
    expect(meta('distractors-4').perturbation).toEqual({ distractors: 6 });
    expect(meta('nominal').sensor).toBeUndefined();
    const episodes = runs.map((r) => [...new Set(readRecords(join(out, 'runs', r, 'episodes.jsonl')).map((x) => `${x.task}/${x.seed}`))].join());
    expect(new Set(episodes)).toEqual(new Set(['pick_place/100000']));
    for (const r of runs) expect(existsSync(join(out, 'frames', `${r}.png`)), r).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'robustness_levels.json'), 'utf8'));
    expect(json.axes.map((a: { name: string }) => a.name)).toEqual(['occlusion', 'distractors']);
    expect(json.rows).toEqual(rows);
    const html = readFileSync(join(out, 'robustness_levels.html'), 'utf8');
    expect(html.match(/<img [^>]*src="data:image\/png;base64,/g)).toHaveLength(6); // 3 levels (nominal included) per axis
    expect(html).toContain('occlusion: success vs level');
    expect(html).toContain('cameras left to right: scene, wrist');
    const count = () => runs.reduce((n, r) => n + readRecords(join(out, 'runs', r, 'episodes.jsonl')).length, 0);
    const before = count();
    const again = await runRobustnessLevels(o);
    expect(count()).toBe(before);
    expect(again.rows).toEqual(rows);
  }, 900_000); // a Chromium start per condition and run, slow on a loaded 2-core machine
});
