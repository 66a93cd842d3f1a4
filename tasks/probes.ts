// Counterfactual language probes: does a policy read its instruction, or act
// out the task its training made typical of a layout? (openvla-oft#95 and
// lerobot#4548 are users asking exactly this.) A probe keeps an episode's
// layout and replaces its instruction:
//   swap               object and destination exchanged: stack "stack the A on
//                      the B" -> "stack the B on the A"; pick_place cannot put
//                      a bowl in an object, so its swap exchanges the role
//                      colours ("the red cube in the blue bowl" -> "the blue
//                      <object> in the red bowl"), which applies only where the
//                      scene has an object of the bowl's colour and a bowl of
//                      the object's: the binding a bag of words cannot see
//                      (whole-sentence USE vectors of such a pair: cosine 0.96)
//   other_object       another object of the scene named as the thing to move
//   other_destination  the other bowl (pick_place) or another object (stack)
//   garbled            every word's letters shuffled (no word of the lexicon left)
//   empty              no instruction at all
// The probe's text goes to the policy as is (never parsed or canonicalized:
// the parser would refuse the garbled and empty ones, which is their point).
// Success is judged against what the instruction names; garbled and empty
// name nothing, so theirs is the sampled goal's. Which object the policy moved
// (tasks/outcome.ts `moved`) is read against the object the probe names, the
// sampled one, or another (movedRole).
import type { Rng } from '../sim/rng.ts';
import { episodeRng, type EpisodeSpec, type Goal } from './episode.ts';
import { fillTemplate, normalizeWords, type Lexicon } from './grammar.ts';

export const PROBE_KINDS = ['swap', 'other_object', 'other_destination', 'garbled', 'empty'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export function isProbeKind(v: unknown): v is ProbeKind {
  return (PROBE_KINDS as readonly unknown[]).includes(v);
}

/** A probe of one episode: the text the policy is given and what it names. */
export interface LanguageProbe {
  kind: ProbeKind;
  /** Given to the policy as is. */
  instruction: string;
  /** Scene names of what the instruction names, or null when it names nothing (garbled, empty). */
  goal: Goal | null;
}

/** What a probed episode keeps of its probe (EpisodeSpec.probe, eval records). */
export interface ProbeInfo {
  kind: ProbeKind;
  /** What the instruction names (null: nothing; then the episode's goal is `original`). */
  named: Goal | null;
  /** The sampled goal the probe replaced. */
  original: Goal;
}

const colorOf = (name: string) => name.split(' ')[0];

function probeRng(ep: EpisodeSpec, kind: ProbeKind): Rng {
  return episodeRng(`${ep.task}/probe:${kind}`, ep.seed);
}

function textFor(ep: EpisodeSpec, goal: Goal): string {
  if (!ep.template.includes('{object}') || !ep.template.includes('{target}')) throw new Error(`makeProbe: episode ${ep.task}/${ep.seed} has no template to rephrase ("${ep.template}"): probe sampled episodes`);
  return fillTemplate(ep.template, goal.object, goal.target);
}

/** The counterfactual goal of a kind on this layout, or null when the layout has none. */
function probeGoal(ep: EpisodeSpec, kind: 'swap' | 'other_object' | 'other_destination', rng: Rng): Goal | null {
  const { object, target } = ep.goal;
  const objects = ep.layout.objects.map((o) => o.name);
  const stack = ep.family === 'stack';
  if (kind === 'swap') {
    if (stack) return { object: target, target: object };
    const bowl = ep.layout.bowls.find((b) => b.color === colorOf(object) && b.name !== target);
    const same = objects.filter((n) => n !== object && colorOf(n) === colorOf(target));
    if (!bowl || same.length === 0) return null;
    // the swapped phrase keeps the shape when the scene allows ("blue cube" for "red cube")
    const shape = object.split(' ')[1];
    return { object: same.find((n) => n.endsWith(` ${shape}`)) ?? same[0], target: bowl.name };
  }
  if (kind === 'other_object') {
    const others = objects.filter((n) => n !== object && n !== target);
    return others.length ? { object: rng.pick(others), target } : null;
  }
  const others = stack ? objects.filter((n) => n !== object && n !== target) : ep.layout.bowls.map((b) => b.name).filter((n) => n !== target);
  return others.length ? { object, target: rng.pick(others) } : null;
}

/** Words no garbled word may be: the lexicon's colours, shapes and synonyms. */
function lexiconWords(lex: Lexicon): Set<string> {
  return new Set([...lex.colors, ...lex.shapes, 'bowl', ...Object.keys(lex.synonyms)]);
}

/**
 * Every word's letters shuffled (deterministic in `rng`), reshuffled until it
 * is neither the word itself nor a word of the lexicon; a word whose letters
 * cannot be rearranged (one letter, "ee") becomes x's (q's for "x").
 */
export function garble(text: string, lex: Lexicon, rng: Rng): string {
  const banned = lexiconWords(lex);
  return normalizeWords(text).map((w) => {
    for (let i = 0; i < 20; i++) {
      const g = rng.shuffle([...w]).join('');
      if (g !== w && !banned.has(g)) return g;
    }
    const g = 'x'.repeat(w.length);
    return g === w ? 'q'.repeat(w.length) : g;
  }).join(' ');
}

/** The probe of an episode (its layout, template and seed decide it), or null when it does not apply to this layout. */
export function makeProbe(ep: EpisodeSpec, kind: ProbeKind, lex: Lexicon): LanguageProbe | null {
  if (!isProbeKind(kind)) throw new Error(`unknown language probe "${String(kind)}" (probes: ${PROBE_KINDS.join(', ')})`);
  const rng = probeRng(ep, kind);
  if (kind === 'empty') return { kind, instruction: '', goal: null };
  if (kind === 'garbled') return { kind, instruction: garble(ep.instruction, lex, rng), goal: null };
  const goal = probeGoal(ep, kind, rng);
  return goal ? { kind, instruction: textFor(ep, goal), goal } : null;
}

/**
 * The episode under a probe: the probe's text as the instruction and what it
 * names as the goal (success, outcome and the scripted expert follow it); the
 * sampled goal stays the goal when the probe names nothing. Throws when the
 * probe names something the layout does not have.
 */
export function applyProbe(ep: EpisodeSpec, probe: LanguageProbe): EpisodeSpec {
  if (!isProbeKind(probe?.kind)) throw new Error(`probe.kind must be one of ${PROBE_KINDS.join(', ')}, got ${JSON.stringify(probe?.kind)}`);
  if (typeof probe.instruction !== 'string') throw new Error(`probe.instruction must be a string, got ${JSON.stringify(probe.instruction)}`);
  const g = probe.goal;
  if (g !== null) {
    const objects = ep.layout.objects.map((o) => o.name);
    const targets = ep.family === 'pick_place' ? ep.layout.bowls.map((b) => b.name) : objects;
    if (!objects.includes(g?.object)) throw new Error(`probe ${probe.kind}: no object "${g?.object}" in episode ${ep.task}/${ep.seed} (objects: ${objects.join(', ')})`);
    if (!targets.includes(g.target) || g.target === g.object) throw new Error(`probe ${probe.kind}: "${g.target}" is not a destination for the ${g.object} in episode ${ep.task}/${ep.seed} (${ep.family}: ${targets.filter((t) => t !== g.object).join(', ')})`);
  }
  return { ...ep, instruction: probe.instruction, template: `(probe ${probe.kind})`, goal: g ?? ep.goal, probe: { kind: probe.kind, named: g, original: ep.goal } };
}

/** Which object a policy moved most (tasks/outcome.ts `moved`, most moved first), relative to a probe. */
export const MOVED_ROLES = ['named', 'original', 'other', 'none'] as const;
export type MovedRole = (typeof MOVED_ROLES)[number];

/**
 * 'named': the object the instruction names; 'original': the sampled
 * episode's object (when the probe names another one, or nothing); 'other':
 * any other object; 'none': nothing moved.
 */
export function movedRole(moved: readonly string[], named: string | null, original: string): MovedRole {
  const first = moved[0];
  if (first === undefined) return 'none';
  if (named !== null && first === named) return 'named';
  return first === original ? 'original' : 'other';
}
