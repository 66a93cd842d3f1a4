// Counterfactual language probes (tasks/probes.ts): what each probe says on
// the same layout, that the environment gives its text to the policy unparsed
// and judges success against what it names, and which object an episode moved
// (tasks/outcome.ts movedObjects, tasks/probes.ts movedRole) on constructed
// states and on real physics.
import { describe, expect, it } from 'vitest';
import { makeEnv } from '../../tasks/envRegistry.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { resolveCommand } from '../../tasks/command.ts';
import { type EpisodeSpec, sampleEpisode } from '../../tasks/episode.ts';
import { createExpert } from '../../tasks/expert.ts';
import { fillTemplate, normalizeWords } from '../../tasks/grammar.ts';
import { MOVED_DISTANCE, movedObjects, OutcomeTracker } from '../../tasks/outcome.ts';
import { applyProbe, makeProbe, movedRole, PROBE_KINDS } from '../../tasks/probes.ts';
import { getTask, lexiconOf } from '../../tasks/suite.ts';

const suite = resolveSuite('tabletop');
const lex = lexiconOf(suite);
const SEEDS = Array.from({ length: 100 }, (_, i) => 100000 + i);
const episodes = (task: string) => SEEDS.map((seed) => sampleEpisode(suite, task, 'heldout_layout', seed));
const resolve = (ep: EpisodeSpec, text: string) => resolveCommand(text, {
  lexicon: lex, family: ep.family, templates: getTask(suite, ep.task).templates,
  scene: { objects: ep.layout.objects.map((o) => o.name), bowls: ep.layout.bowls.map((b) => b.name) },
});

describe('language probes', () => {
  it('swap, stack: object and base exchanged on the same layout, in the episode\'s own template', () => {
    for (const ep of episodes('stack')) {
      const p = makeProbe(ep, 'swap', lex)!;
      expect(p.goal).toEqual({ object: ep.goal.target, target: ep.goal.object });
      expect(p.instruction).toBe(fillTemplate(ep.template, ep.goal.target, ep.goal.object));
      const r = resolve(ep, p.instruction); // what the text says is what the probe names
      expect([r.object, r.target]).toEqual([ep.goal.target, ep.goal.object]);
    }
  });

  it('swap, pick_place: the role colours exchanged where the scene has both, else no probe', () => {
    let applied = 0;
    const color = (n: string) => n.split(' ')[0];
    for (const ep of episodes('pick_place')) {
      const p = makeProbe(ep, 'swap', lex);
      const bowl = ep.layout.bowls.find((b) => b.color === color(ep.goal.object) && b.name !== ep.goal.target);
      const objs = ep.layout.objects.filter((o) => o.name !== ep.goal.object && o.color === color(ep.goal.target));
      if (!bowl || objs.length === 0) {
        expect(p).toBeNull();
        continue;
      }
      applied++;
      expect(color(p!.goal!.object)).toBe(color(ep.goal.target)); // the new object has the old bowl's colour
      expect(p!.goal!.target).toBe(`${color(ep.goal.object)} bowl`); // the new bowl the old object's
      const r = resolve(ep, p!.instruction);
      expect([r.object, r.target]).toEqual([p!.goal!.object, p!.goal!.target]);
    }
    expect(applied).toBeGreaterThan(5); // 11 of these 100 layouts have both
  });

  it('other_object names an object of the scene that is neither the target nor the original; other_destination another destination', () => {
    for (const ep of [...episodes('pick_place'), ...episodes('stack')]) {
      const names = ep.layout.objects.map((o) => o.name);
      const o = makeProbe(ep, 'other_object', lex)!; // 1-2 distractors: always applies here
      expect(names).toContain(o.goal!.object);
      expect(o.goal!.object).not.toBe(ep.goal.object);
      expect(o.goal!.object).not.toBe(ep.goal.target);
      expect(o.goal!.target).toBe(ep.goal.target);
      expect(resolve(ep, o.instruction).object).toBe(o.goal!.object);
      const d = makeProbe(ep, 'other_destination', lex)!;
      expect(d.goal!.object).toBe(ep.goal.object);
      expect(d.goal!.target).not.toBe(ep.goal.target);
      expect(ep.family === 'pick_place' ? ep.layout.bowls.map((b) => b.name) : names.filter((n) => n !== ep.goal.object)).toContain(d.goal!.target);
      expect(resolve(ep, d.instruction).target).toBe(d.goal!.target);
    }
    // deterministic: the same episode gives the same probe
    const ep = episodes('stack')[3];
    expect(makeProbe(ep, 'other_object', lex)).toEqual(makeProbe(ep, 'other_object', lex));
  });

  it('garbled: the same words with their letters shuffled, none of them a word of the lexicon, refused by the parser; empty is empty', () => {
    const banned = new Set([...lex.colors, ...lex.shapes, 'bowl', ...Object.keys(lex.synonyms)]);
    for (const ep of [...episodes('pick_place').slice(0, 30), ...episodes('stack').slice(0, 30)]) {
      const g = makeProbe(ep, 'garbled', lex)!;
      expect(g.goal).toBeNull();
      const words = normalizeWords(ep.instruction), got = g.instruction.split(' ');
      expect(got).toHaveLength(words.length);
      got.forEach((w, i) => {
        expect(banned.has(w), w).toBe(false);
        if (new Set(words[i]).size > 1) {
          expect([...w].sort().join('')).toBe([...words[i]].sort().join('')); // the same letters
          expect(w).not.toBe(words[i]);
        }
      });
      expect(() => resolve(ep, g.instruction)).toThrow();
      expect(makeProbe(ep, 'empty', lex)).toEqual({ kind: 'empty', instruction: '', goal: null });
    }
    expect(() => makeProbe(episodes('stack')[0], 'shout' as never, lex)).toThrow(/unknown language probe "shout" \(probes: swap, other_object, other_destination, garbled, empty\)/);
  });

  it('the environment gives the probe text to the policy unparsed, keeps the layout and judges the named goal; a goal not in the scene is an error', async () => {
    const env = makeEnv('tabletop/stack-v1', { split: 'heldout_layout' });
    const seed = 100004;
    const [plain] = await env.reset({ seed });
    const ep = env.episode;
    for (const kind of PROBE_KINDS) {
      const probe = makeProbe(ep, kind, lex)!;
      const [obs, { episode }] = await env.reset({ seed, probe });
      expect(obs.instruction).toBe(probe.instruction); // '' and garbled text too: nothing refuses them
      expect(episode.layout).toEqual(ep.layout);
      expect(obs.proprio).toEqual(plain.proprio);
      expect(episode.goal).toEqual(probe.goal ?? ep.goal);
      expect(episode.probe).toEqual({ kind, named: probe.goal, original: ep.goal });
    }
    await expect(env.reset({ seed, probe: { kind: 'other_object', instruction: 'x', goal: { object: 'pink cube', target: ep.goal.target } } })).rejects.toThrow(/probe other_object: no object "pink cube" in episode stack\/100004/);
    await expect(env.reset({ seed, probe: { kind: 'swap', instruction: 'x', goal: { object: ep.goal.object, target: ep.goal.object } } })).rejects.toThrow(/is not a destination for the/);
    await expect(env.reset({ seed, instruction: 'stack it', probe: makeProbe(ep, 'empty', lex)! })).rejects.toThrow(/not both/);
    env.close();
  });
});

describe('which object an episode moved', () => {
  const at = (xy: Record<string, [number, number]>) => new Map(Object.entries(xy));
  it('lifted objects first, then objects displaced at least one object width, largest first; a nudge is not a move', () => {
    const start = at({ a: [0, 0], b: [0.1, 0], c: [0.2, 0], d: [0.3, 0] });
    const end = at({ a: [0, MOVED_DISTANCE * 0.5], b: [0.1 + 2 * MOVED_DISTANCE, 0], c: [0.2, 0], d: [0.3, 1.5 * MOVED_DISTANCE] });
    expect(movedObjects(start, end, [])).toEqual(['b', 'd']);
    expect(movedObjects(start, end, ['c'])).toEqual(['c', 'b', 'd']); // lifted and put back where it was still counts, and first
    expect(movedObjects(start, at({ a: [0, 0], b: [0.1, 0], c: [0.2, 0], d: [0.3, 0] }), [])).toEqual([]);
    expect(() => movedObjects(start, at({ a: [0, 0] }), [])).toThrow(/no final position of "b"/);
  });

  it('relative to a probe: the named object, the original one, another, or none', () => {
    expect(movedRole(['x', 'y'], 'x', 'y')).toBe('named');
    expect(movedRole(['y', 'x'], 'x', 'y')).toBe('original');
    expect(movedRole(['z'], 'x', 'y')).toBe('other');
    expect(movedRole([], 'x', 'y')).toBe('none');
    expect(movedRole(['y'], null, 'y')).toBe('original'); // garbled / empty name nothing
    expect(movedRole(['y'], 'y', 'y')).toBe('named'); // other_destination names the original object
  });

  it('on physics: under the swap, the expert of the swapped goal moves the named object, the expert of the sampled goal the original one', async () => {
    const env = makeEnv('tabletop/stack-v1', { split: 'heldout_layout' });
    const seed = 100002;
    await env.reset({ seed });
    const probe = makeProbe(env.episode, 'swap', lex)!;
    const original = env.episode.goal;
    for (const [follow, want] of [['probe', 'named'], ['original', 'original']] as const) {
      await env.reset({ seed, probe });
      const spec = follow === 'probe' ? env.episode : { ...env.episode, goal: original };
      const tracker = new OutcomeTracker(env.episode, env.sim);
      const expert = createExpert(spec);
      for (;;) {
        const r = await env.step(expert.act(env.sim));
        tracker.observe(env.sim);
        if (r.terminated || r.truncated) break;
      }
      const out = tracker.classify(env.sim);
      expect(out.kind).toBe(follow === 'probe' ? 'success' : 'wrong_object'); // judged against the swapped goal
      expect(out.moved![0]).toBe(spec.goal.object);
      expect(movedRole(out.moved!, probe.goal!.object, original.object)).toBe(want);
    }
    env.close();
  });
});
