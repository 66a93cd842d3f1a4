// The perturbation axes of `analyze robustness --levels`
// (src/analysis/perturbationAxes.ts): level definitions, parsing and bad
// input, the exclusion of the training ranges, the probes as points of the
// axes, and, through a VlaEnv with a stand-in renderer, that a sensor level
// changes only the observed image while an episode level changes the episode.
import { describe, expect, it } from 'vitest';
import { SuiteEnv } from '../../tasks/env.ts';
import { checkAppearance } from '../../sim/render/appearance.ts';
import { RANDOMIZATION_RANGES, sampleAppearance } from '../../sim/render/randomization.ts';
import { checkSensor } from '../../sim/render/sensor.ts';
import type { Frame, FrameRenderer, PoseBuffer } from '../../sim/types.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { createExpert } from '../../tasks/expert.ts';
import { checkEpisodePerturbation, episodeTransform } from '../../tasks/perturbation.ts';
import { AXES, AXIS_NAMES, conditionName, inTrainingRange, levelsToRun, parseAxes, type Perturbation } from '../../src/analysis/perturbationAxes.ts';
import { PROBES } from '../../src/analysis/robustness.ts';
import { runAnalyze } from '../../src/cli/analyze.ts';

const suite = resolveSuite('tabletop');
const train = suite.splits.train.distractors;

describe('perturbation axes', () => {
  it('nine axes of 3-5 valid levels each; every level changes only its kind of thing', () => {
    expect(AXIS_NAMES).toEqual(['camera_pose', 'light_intensity', 'light_tint', 'table_texture', 'pixel_noise', 'blur', 'occlusion', 'robot_pose', 'distractors']);
    for (const a of AXES) {
      expect(a.levels.length).toBeGreaterThanOrEqual(3);
      expect(a.levels.length).toBeLessThanOrEqual(5);
      expect(a.levels.map((l) => l.level)).toEqual(a.levels.map((_, i) => i + 1));
      const field = { appearance: 'appearance', sensor: 'sensor', episode: 'perturbation' }[a.kind];
      for (const l of a.levels) {
        expect(Object.keys(l.condition)).toEqual([field]);
        if (l.condition.appearance) expect(checkAppearance(l.condition.appearance)).toEqual(l.condition.appearance);
        if (l.condition.sensor) expect(checkSensor(l.condition.sensor)).toEqual(l.condition.sensor);
        if (l.condition.perturbation) expect(checkEpisodePerturbation(l.condition.perturbation)).toEqual(l.condition.perturbation);
      }
    }
    expect(conditionName(AXES[0], AXES[0].levels[1])).toBe('camera_pose-2');
    expect(conditionName(null, null)).toBe('nominal');
    expect(levelsToRun(AXES[0], true).map((l) => l.level)).toEqual([1, 4]);
  });

  it('parses --axes in axis order; an unknown, empty or repeated name is an error naming it', () => {
    expect(parseAxes(undefined)).toBe(AXES);
    expect(parseAxes('occlusion,camera_pose').map((a) => a.name)).toEqual(['camera_pose', 'occlusion']);
    expect(() => parseAxes('camera_pose,lighting')).toThrow(/--axes: unknown axis "lighting" \(axes: camera_pose, light_intensity, .*distractors\)/);
    expect(() => parseAxes('blur,,occlusion')).toThrow(/empty axis name/);
    expect(() => parseAxes('blur,blur')).toThrow(/axis "blur" is named twice/);
  });

  it('the CLI refuses bad --levels / --axes input before any browser starts', async () => {
    await expect(runAnalyze(['robustness', '--levels', '--axes', 'fog'])).rejects.toThrow(/unknown axis "fog"/);
    await expect(runAnalyze(['robustness', '--axes', 'blur'])).rejects.toThrow(/--axes needs --levels/);
    await expect(runAnalyze(['generalization', '--levels'])).rejects.toThrow(/belong to "analyze robustness"/);
    await expect(runAnalyze(['robustness', '--levels', '--splits', 'dim_light'])).rejects.toThrow(/--splits names robustness probes/);
    await expect(runAnalyze(['robustness', '--levels', '--episodes', '0'])).rejects.toThrow(/--episodes must be a positive integer, got "0"/);
  });

  it('no level lies inside the training ranges, and the check does see one that does', () => {
    for (const a of AXES) for (const l of a.levels) expect(inTrainingRange(l.condition, { trainDistractors: train }), `${a.name} ${l.level}`).toEqual([]);
    const inside: Perturbation[] = [
      { appearance: { lightScale: 1 } }, { appearance: { lightTint: [1, 0.9, 0.86] } }, { appearance: { cameraShift: [0.01, 0, -0.01] } },
      { perturbation: { robotPose: { distance: 0.04, yaw: 0.2 } } }, { perturbation: { distractors: 2 } },
    ];
    for (const c of inside) expect(inTrainingRange(c, { trainDistractors: train }).length, JSON.stringify(c)).toBe(1);
    expect(inTrainingRange({ appearance: { lightScale: 1, tableTexture: 'checker' } })).toEqual([]); // one field outside: outside
    // and against actual training draws: every appearance level is beyond every sample on its own field
    const samples = Array.from({ length: 2000 }, (_, i) => sampleAppearance(i, i % 2));
    const levelsOf = (axis: string) => AXES.find((a) => a.name === axis)!.levels.map((l) => l.condition.appearance!);
    const minScale = Math.min(...samples.flatMap((s) => (s.lightScale === undefined ? [] : [s.lightScale])));
    for (const l of levelsOf('light_intensity')) expect(l.lightScale!).toBeLessThan(minScale);
    const minTint = Math.min(...samples.flatMap((s) => s.lightTint ?? []));
    for (const l of levelsOf('light_tint')) expect(Math.min(...l.lightTint!)).toBeLessThan(minTint);
    for (const l of levelsOf('camera_pose')) expect(Math.max(...l.cameraShift!.map(Math.abs))).toBeGreaterThan(RANDOMIZATION_RANGES.cameraShift);
    expect(samples.some((s) => s.tableTexture === 'checker')).toBe(false);
  });

  it('the single-level probes are points of the axes', () => {
    const at = (axis: string, level: number) => AXES.find((a) => a.name === axis)!.levels[level - 1].condition.appearance;
    expect(at('camera_pose', 2)).toEqual(PROBES.camera_shift);
    expect(at('light_intensity', 2)).toEqual(PROBES.dim_light);
    expect(at('light_tint', 2)).toEqual(PROBES.warm_light);
    expect(at('table_texture', 4)).toEqual(PROBES.checker_table);
  });

  it('through the env: a sensor level changes the observed frames only, deterministically; an episode level changes the episode', async () => {
    // stand-in renderer: one frame per camera painted from the body poses, so the image follows physics
    const renderer: FrameRenderer = {
      setScene() {},
      async render(poses: PoseBuffer) {
        const frame = (k: number): Frame => {
          const data = new Uint8Array(32 * 32 * 3);
          for (let i = 0; i < data.length; i++) data[i] = Math.floor(Math.abs(poses[(i + k) % poses.length]) * 997) % 256;
          return { width: 32, height: 32, data };
        };
        return { scene: frame(0), wrist: frame(1) };
      },
      dispose() {},
    };
    const run = async (c: Perturbation) => {
      const env = new SuiteEnv({ suite, task: 'pick_place', split: 'heldout_layout', renderer, sensor: c.sensor, perturbEpisode: episodeTransform(suite, c.perturbation) });
      let [obs] = await env.reset({ seed: 100000 });
      const expert = createExpert(env.episode);
      const proprio: number[] = [], frames: Buffer[] = [];
      for (let t = 0; t < 4; t++) {
        proprio.push(...obs.proprio);
        frames.push(Buffer.from(obs.images.scene.data), Buffer.from(obs.images.wrist.data));
        obs = (await env.step(expert.act(env.sim))).obs;
      }
      const out = { proprio, frames: Buffer.concat(frames), poses: Array.from(env.sim.poses()), layout: env.episode.layout };
      env.close();
      return out;
    };
    const nominal = await run({});
    for (const axis of ['pixel_noise', 'blur', 'occlusion']) {
      const c = AXES.find((a) => a.name === axis)!.levels[1].condition;
      const r = await run(c);
      expect(r.proprio, axis).toEqual(nominal.proprio);
      expect(r.poses, axis).toEqual(nominal.poses);
      expect(r.frames.equals(nominal.frames), axis).toBe(false);
      if (axis === 'pixel_noise') expect((await run(c)).frames.equals(r.frames), 'the same seeded noise on a rerun').toBe(true);
    }
    const moved = await run(AXES.find((a) => a.name === 'robot_pose')!.levels[0].condition);
    expect(moved.proprio.slice(0, 2)).not.toEqual(nominal.proprio.slice(0, 2));
    expect(moved.layout.objects).toEqual(nominal.layout.objects);
  });
});
