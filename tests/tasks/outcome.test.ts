import { describe, expect, it } from 'vitest';
import { makeEnv } from '../../tasks/envRegistry.ts';
import type { SuiteEnv } from '../../tasks/env.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { createExpert } from '../../tasks/expert.ts';
import { LIFT_HEIGHT, OUTCOMES, OutcomeTracker } from '../../tasks/outcome.ts';

// Each outcome is produced by a scripted run built to end in exactly that
// state: the expert solving the episode, the expert following a different
// goal (wrong object / wrong destination), stopping early, or doing nothing.

/** Run `spec`'s expert in `env` (whose episode may differ) until `stop` or the episode ends; returns the tracker. */
async function run(env: SuiteEnv, spec: EpisodeSpec, stop: (step: number, phase: string) => boolean = () => false): Promise<OutcomeTracker> {
  const tracker = new OutcomeTracker(env.episode, env.sim);
  const expert = createExpert(spec);
  for (let t = 0; ; t++) {
    const a = expert.act(env.sim);
    if (stop(t, expert.phase)) return tracker;
    const r = await env.step(a);
    tracker.observe(env.sim);
    if (r.terminated || r.truncated) return tracker;
  }
}

/** The first seed of the task whose layout has what `ok` needs. */
async function seedWhere(env: SuiteEnv, ok: (ep: EpisodeSpec) => boolean): Promise<number> {
  for (let seed = 0; seed < 50; seed++) {
    await env.reset({ seed });
    if (ok(env.episode)) return seed;
  }
  throw new Error('no suitable seed in the first 50');
}

describe('episode outcome taxonomy', () => {
  it('success when the expert solves the episode; the object was lifted and ends on its target', async () => {
    for (const id of ['tabletop/pick_place-v1', 'tabletop/stack-v1']) {
      const env = makeEnv(id, { split: 'train' });
      await env.reset({ seed: 1 });
      const out = (await run(env, env.episode)).classify(env.sim);
      expect(out.kind).toBe('success');
      expect(out.lifted).toEqual([env.episode.goal.object]);
      expect(out.targetDistance).toBeLessThan(0.025);
      env.close();
    }
  });

  it('no_grasp when nothing is lifted, with the object still where it started', async () => {
    const env = makeEnv('tabletop/pick_place-v1', { split: 'train' });
    await env.reset({ seed: 2 });
    const tracker = new OutcomeTracker(env.episode, env.sim);
    for (let t = 0; t < 5; t++) {
      await env.step([0, 0, -0.01, 0, 0, 0]);
      tracker.observe(env.sim);
    }
    const out = tracker.classify(env.sim);
    const start = env.episode.layout.objects.find((o) => o.name === env.episode.goal.object)!;
    const bowl = env.episode.layout.bowls.find((b) => b.name === env.episode.goal.target)!;
    expect(out.kind).toBe('no_grasp');
    expect(out.lifted).toEqual([]);
    expect(out.targetDistance).toBeCloseTo(Math.hypot(start.x - bowl.x, start.y - bowl.y), 2);
    env.close();
  });

  it('wrong_object when another object is carried to the destination instead', async () => {
    const env = makeEnv('tabletop/pick_place-v1', { split: 'train' });
    await env.reset({ seed: 3 });
    const ep = env.episode;
    const other = ep.layout.objects.find((o) => o.name !== ep.goal.object)!.name;
    const out = (await run(env, { ...ep, goal: { ...ep.goal, object: other } })).classify(env.sim);
    expect(out.kind).toBe('wrong_object');
    expect(out.lifted).toEqual([other]);
    env.close();
  });

  it('misplaced when the right object is put down at the wrong destination', async () => {
    const env = makeEnv('tabletop/pick_place-v1', { split: 'train' });
    await seedWhere(env, (ep) => ep.layout.bowls.length >= 2);
    const ep = env.episode;
    const otherBowl = ep.layout.bowls.find((b) => b.name !== ep.goal.target)!;
    const out = (await run(env, { ...ep, goal: { ...ep.goal, target: otherBowl.name } })).classify(env.sim);
    expect(out.kind).toBe('misplaced');
    expect(out.lifted).toContain(ep.goal.object);
    expect(out.targetDistance).toBeGreaterThan(0.05);
    env.close();
  });

  it('holding when the episode ends with the object in the gripper', async () => {
    const env = makeEnv('tabletop/stack-v1', { split: 'train' });
    await env.reset({ seed: 4 });
    let carried = 0;
    const out = (await run(env, env.episode, (_t, phase) => phase === 'transport' && ++carried > 3)).classify(env.sim);
    expect(out.kind).toBe('holding');
    expect(out.lifted).toContain(env.episode.goal.object);
    env.close();
  });

  it('unsettled when the object is in place but still moving; knocked_base when the stack base left the table', async () => {
    const env = makeEnv('tabletop/stack-v1', { split: 'train' });
    await env.reset({ seed: 5 });
    const tracker = await run(env, env.episode);
    expect(tracker.classify(env.sim).kind).toBe('success');
    const { object, target } = env.episode.goal;
    env.sim.objectBodies.get(object)!.setLinvel({ x: 0, y: 0, z: 0.2 }, true);
    expect(tracker.classify(env.sim).kind).toBe('unsettled');
    const base = env.sim.objectBodies.get(target)!;
    const p = base.translation();
    base.setTranslation({ x: p.x, y: p.y, z: p.z + 2 * LIFT_HEIGHT }, true);
    expect(tracker.classify(env.sim).kind).toBe('knocked_base');
    env.close();
  });

  it('OUTCOMES lists every kind once, success first', () => {
    expect(new Set(OUTCOMES).size).toBe(OUTCOMES.length);
    expect(OUTCOMES[0]).toBe('success');
  });
});
