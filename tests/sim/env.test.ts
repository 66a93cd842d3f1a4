import { describe, expect, it } from 'vitest';
import { ACTION_DIM, PROPRIO_DIM } from '../../sim/config.ts';
import { checkEnv } from '../../sim/checkEnv.ts';
import { ActionError, clipAction } from '../../sim/env.ts';
import { getEnvSpec, listEnvs, makeEnv } from '../../tasks/envRegistry.ts';
import { createExpert } from '../../tasks/expert.ts';
import { resolveCommand } from '../../tasks/command.ts';
import { episodeList, getTask, lexiconOf } from '../../tasks/suite.ts';
import { sampleEpisode } from '../../tasks/episode.ts';

/** Run the scripted expert for a whole episode; return every action and proprio. */
async function expertRollout(id: string, seed: number) {
  const env = makeEnv(id);
  const [obs] = await env.reset({ seed });
  const expert = createExpert(env.episode);
  const actions: number[] = [];
  const proprio: number[] = [...obs.proprio];
  let r;
  do {
    const a = expert.act(env.sim);
    actions.push(...a);
    r = await env.step(a);
    proprio.push(...r.obs.proprio);
  } while (!r.terminated && !r.truncated);
  const out = { instruction: env.episode.instruction, layout: env.episode.layout, actions, proprio, success: r.info.success, steps: r.info.step };
  env.close();
  return out;
}

describe('env registry', () => {
  it('registers both task families of the default suite with versioned ids', () => {
    expect(listEnvs()).toEqual(expect.arrayContaining(['tabletop/pick_place-v1', 'tabletop/stack-v1']));
    expect(() => getEnvSpec('tabletop/nope-v1')).toThrow(/unknown env id "tabletop\/nope-v1".*registered/);
  });

  for (const id of listEnvs()) {
    describe(id, () => {
      it('passes checkEnv (API, bounds, NaN rejection, determinism)', async () => {
        const env = makeEnv(id);
        await checkEnv(env, { seed: 3 });
        env.close();
      });

      it('same seed -> same layout, instruction, expert trajectory and bit-identical proprio', async () => {
        const a = await expertRollout(id, 11);
        const b = await expertRollout(id, 11);
        expect(b.instruction).toBe(a.instruction);
        expect(b.layout).toEqual(a.layout);
        expect(b.actions).toEqual(a.actions);
        expect(Float32Array.from(b.proprio)).toEqual(Float32Array.from(a.proprio));
        const c = await expertRollout(id, 12);
        expect(c.layout).not.toEqual(a.layout);
      });

      it('every episode of every split samples a valid layout', () => {
        const spec = getEnvSpec(id);
        for (const split of Object.keys(spec.suite.splits)) {
          const refs = episodeList(spec.suite, split).filter((r) => r.task === spec.task).slice(0, 150);
          for (const r of refs) {
            const ep = sampleEpisode(spec.suite, r.task, split, r.seed);
            // a split phrased with synonyms names the goal in other words: it must still read as the goal
            if (spec.suite.splits[split].synonyms) {
              const read = resolveCommand(ep.instruction, { lexicon: lexiconOf(spec.suite), family: ep.family, templates: getTask(spec.suite, ep.task).templates, scene: { objects: ep.layout.objects.map((o) => o.name), bowls: ep.layout.bowls.map((b) => b.name) } });
              expect([read.object, read.target]).toEqual([ep.goal.object, ep.goal.target]);
            } else expect(ep.instruction).toContain(ep.goal.object);
            expect(new Set(ep.layout.objects.map((o) => o.name)).size).toBe(ep.layout.objects.length);
          }
        }
      });
    });
  }
});

describe('env step semantics', () => {
  it('observations without a renderer carry proprio and instruction but no images', async () => {
    const env = makeEnv('tabletop/pick_place-v1');
    const [obs, info] = await env.reset({ seed: 5 });
    expect(obs.images).toEqual({});
    expect(obs.proprio).toHaveLength(PROPRIO_DIM);
    expect(obs.instruction).toBe(info.episode.instruction);
    // TCP starts near home, gripper open (gap ~ max opening).
    expect(obs.proprio[2]).toBeCloseTo(0.16, 3);
    expect(obs.proprio[4]).toBeGreaterThan(0.085);
    env.close();
  });

  it('moves the TCP by the (clipped) action and truncates at maxSteps', async () => {
    const env = makeEnv('tabletop/pick_place-v1');
    const [obs] = await env.reset({ seed: 5 });
    const r = await env.step([0.01, -0.02, 0.5, 0, 0, 0]); // dz clipped to 0.025
    expect(r.info.clipped).toBe(true);
    expect(r.obs.proprio[0] - obs.proprio[0]).toBeCloseTo(0.01, 5);
    expect(r.obs.proprio[1] - obs.proprio[1]).toBeCloseTo(-0.02, 5);
    expect(r.obs.proprio[2] - obs.proprio[2]).toBeCloseTo(0.025, 5);
    let last = r;
    while (!last.truncated) last = await env.step([0, 0, 0, 0, 0, 0]);
    expect(last.info.step).toBe(env.episode.maxSteps);
    expect(last.terminated).toBe(false);
    await expect(env.step([0, 0, 0, 0, 0, 0])).rejects.toThrow(/episode is over/);
    env.close();
  });

  it('terminate action ends the episode; success is reported', async () => {
    const env = makeEnv('tabletop/pick_place-v1');
    await env.reset({ seed: 5 });
    const r = await env.step([0, 0, 0, 0, 0, 1]);
    expect(r.terminated).toBe(true);
    expect(r.info.success).toBe(false);
    expect(r.reward).toBe(0);
    env.close();
  });

  it('rejects NaN and wrong-length actions with errors naming the dimension', () => {
    expect(() => clipAction([0, Number.NaN, 0, 0, 0, 0])).toThrow(ActionError);
    expect(() => clipAction([0, Number.NaN, 0, 0, 0, 0])).toThrow(/action\[1\] \(dy\) is NaN/);
    expect(() => clipAction([0, 0, 0])).toThrow(new RegExp(`must have ${ACTION_DIM} values`));
    expect(clipAction([1, -1, 0, 9, 2, -3]).a).toEqual(Float32Array.from([0.025, -0.025, 0, 0.25, 1, 0]));
  });

  it('typed instructions must name objects in the scene', async () => {
    const env = makeEnv('tabletop/pick_place-v1');
    const [, info] = await env.reset({ seed: 5 });
    const obj = info.episode.layout.objects[1].name;
    const bowl = info.episode.layout.bowls[1].name;
    const [obs] = await env.reset({ seed: 5, instruction: `put the ${obj} in the ${bowl}` });
    expect(obs.instruction).toBe(`put the ${obj} in the ${bowl}`);
    expect(env.episode.goal).toEqual({ object: obj, target: bowl });
    const missing = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'].map((c) => `${c} cube`).find((n) => !info.episode.layout.objects.some((o) => o.name === n))!;
    await expect(env.reset({ seed: 5, instruction: `put the ${missing} in the ${bowl}` })).rejects.toThrow(new RegExp(`there is no ${missing} in the scene \\(objects: `));
    env.close();
  });

  it('a typed command reaches the policy as the canonical train-template sentence, or as typed when asked', async () => {
    const env = makeEnv('tabletop/pick_place-v1');
    const [, info] = await env.reset({ seed: 5 });
    const obj = info.episode.layout.objects[1];
    const bowl = info.episode.layout.bowls[1];
    const typed = `Please, robot, drop the ${obj.color.toUpperCase()} ${obj.shape === 'cube' ? 'block' : obj.shape} into the ${bowl.color} dish!`;
    const canonical = `put the ${obj.name} in the ${bowl.name}`;
    const [obs] = await env.reset({ seed: 5, instruction: typed });
    expect(obs.instruction).toBe(canonical);
    expect(env.episode.instruction).toBe(canonical);
    expect(env.episode.command).toMatchObject({ text: typed, object: obj.name, target: bowl.name, canonical });
    expect(env.episode.goal).toEqual({ object: obj.name, target: bowl.name });
    const [raw] = await env.reset({ seed: 5, instruction: typed, policyInstruction: 'typed' });
    expect(raw.instruction).toBe(typed);
    expect(env.episode.command?.canonical).toBe(canonical);
    await expect(env.reset({ seed: 5, instruction: typed, policyInstruction: 'verbatim' as never })).rejects.toThrow(/policyInstruction must be 'canonical' or 'typed', got "verbatim"/);
    // Sampled episodes carry no command.
    await env.reset({ seed: 5 });
    expect(env.episode.command).toBeUndefined();
    env.close();
  });
});
