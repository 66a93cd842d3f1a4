// Physical perturbations of an episode (tasks/perturbation.ts), the robot_pose
// and distractors axes: each changes only what it names, grows with the
// level on the same per-episode draw, fits every held-out episode, and the
// scripted expert still solves the most severe level.
import { describe, expect, it } from 'vitest';
import { TCP_HOME } from '../../sim/config.ts';
import { SuiteEnv } from '../../tasks/env.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode, SPACING } from '../../tasks/episode.ts';
import { createExpert } from '../../tasks/expert.ts';
import { checkEpisodePerturbation, distractorCount, episodeTransform, MAX_DISTRACTORS, perturbEpisode } from '../../tasks/perturbation.ts';
import { episodeList } from '../../tasks/suite.ts';
import { AXES } from '../../src/analysis/perturbationAxes.ts';

const suite = resolveSuite('tabletop');
const levelsOf = (axis: string) => AXES.find((a) => a.name === axis)!.levels.map((l) => l.condition.perturbation!);
const heldout = episodeList(suite, 'heldout_layout').map((r) => sampleEpisode(suite, r.task, 'heldout_layout', r.seed));

describe('episode perturbations', () => {
  it('robot_pose moves only the gripper start: the level distance from home in one per-episode direction, yaw of the level size', () => {
    for (const ep of heldout.slice(0, 20)) {
      const angles = levelsOf('robot_pose').map((p) => {
        const q = perturbEpisode(ep, suite, p);
        const { gripperStart: g, ...rest } = q.layout;
        const { gripperStart: _, ...nominal } = ep.layout;
        expect(rest).toEqual(nominal);
        expect({ ...q, layout: null }).toEqual({ ...ep, layout: null });
        expect(Math.hypot(g!.x - TCP_HOME[0], g!.y - TCP_HOME[1])).toBeCloseTo(p.robotPose!.distance, 9);
        expect(g!.z).toBe(TCP_HOME[2]);
        expect(Math.abs(g!.yaw)).toBeCloseTo(p.robotPose!.yaw, 9);
        return [Math.atan2(g!.y, g!.x), Math.sign(g!.yaw)];
      });
      for (const [angle, sign] of angles) {
        expect(angle).toBeCloseTo(angles[0][0], 9);
        expect(sign).toBe(angles[0][1]);
      }
    }
    const ep = heldout[0];
    expect(perturbEpisode(ep, suite, levelsOf('robot_pose')[2])).toEqual(perturbEpisode(ep, suite, levelsOf('robot_pose')[2]));
    expect(perturbEpisode(ep, suite, {})).toEqual(ep);
  });

  it(`distractors keeps every sampled object and adds new ones up to the level, nested across levels, on every held-out episode (up to ${MAX_DISTRACTORS})`, () => {
    const counts = levelsOf('distractors').map((p) => p.distractors!);
    expect(Math.max(...counts)).toBe(MAX_DISTRACTORS);
    for (const ep of heldout) {
      let prev = ep.layout.objects;
      for (const n of counts) {
        const q = perturbEpisode(ep, suite, { distractors: n });
        expect(distractorCount(q)).toBe(n);
        expect(q.layout.objects.slice(0, prev.length)).toEqual(prev); // level k's scene plus more
        expect({ ...q.layout, objects: null }).toEqual({ ...ep.layout, objects: null });
        expect(q.instruction).toBe(ep.instruction);
        expect(q.goal).toEqual(ep.goal);
        expect(new Set(q.layout.objects.map((o) => o.name)).size).toBe(q.layout.objects.length);
        for (const o of q.layout.objects.slice(ep.layout.objects.length)) {
          for (const b of q.layout.bowls) expect(Math.hypot(o.x - b.x, o.y - b.y)).toBeGreaterThanOrEqual(SPACING.objectBowl);
          for (const p of q.layout.objects) if (p !== o) expect(Math.hypot(o.x - p.x, o.y - p.y)).toBeGreaterThanOrEqual(SPACING.objectObject);
          expect(suite.heldOutCombos).not.toContain(o.name); // held-out combinations stay held out on this split
        }
        prev = q.layout.objects;
      }
    }
  });

  it('refuses what it cannot do, by name', () => {
    const many = sampleEpisode(suite, 'pick_place', 'heldout_distractors', episodeList(suite, 'heldout_distractors')[0].seed);
    expect(() => perturbEpisode(many, suite, { distractors: 3 })).toThrow(/already has [45] distractors \(the axis only adds objects\)/);
    expect(() => checkEpisodePerturbation({ distractors: 7 })).toThrow(/perturbation.distractors must be an integer in \[0, 6\], got 7/);
    expect(() => checkEpisodePerturbation({ robotPose: { distance: 0.5, yaw: 0 } })).toThrow(/perturbation.robotPose must be/);
    expect(() => checkEpisodePerturbation({ lighting: 1 } as never)).toThrow(/unknown field "lighting"/);
    expect(episodeTransform(suite, {})).toBeUndefined();
  });

  it('the scripted expert still solves the most severe level of each episode axis (physics in Node)', async () => {
    for (const axis of ['robot_pose', 'distractors']) {
      const p = levelsOf(axis).at(-1)!;
      for (const task of ['pick_place', 'stack']) {
        const env = new SuiteEnv({ suite, task, split: 'heldout_layout', perturbEpisode: episodeTransform(suite, p) });
        let ok = 0;
        const seeds = episodeList(suite, 'heldout_layout').filter((r) => r.task === task).slice(0, 2).map((r) => r.seed);
        for (const seed of seeds) {
          const [obs] = await env.reset({ seed });
          if (p.robotPose) expect(Math.hypot(obs.proprio[0] - TCP_HOME[0], obs.proprio[1] - TCP_HOME[1])).toBeCloseTo(p.robotPose.distance, 3);
          if (p.distractors) expect(distractorCount(env.episode)).toBe(p.distractors);
          const expert = createExpert(env.episode);
          let r;
          do r = await env.step(expert.act(env.sim));
          while (!r.terminated && !r.truncated);
          if (r.info.success) ok++;
        }
        env.close();
        expect(ok, `${axis} ${task}`).toBe(seeds.length);
      }
    }
  }, 60_000);
});
