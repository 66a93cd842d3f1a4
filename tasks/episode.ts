// Episode sampling: (suite, task, split, seed) -> initial layout + instruction.
// All randomness comes from one Rng seeded by (seed, task name), so an episode
// is a pure function of its reference and the suite version.
import { BOWL, OBJECT, TCP_HOME, WORKSPACE, type ShapeName } from '../sim/config.ts';
import type { Layout, ObjectPlacement } from '../sim/layout.ts';
import { Rng } from '../sim/rng.ts';
import type { CommandReading } from './command.ts';
import type { ProbeInfo } from './probes.ts';
import { fillTemplate } from './grammar.ts';
import { getSplit, getTask, type FamilyName, type SuiteSpec } from './suite.ts';

export interface Goal {
  /** Scene name of the object to move, e.g. "red cube". */
  object: string;
  /** Scene name of the bowl (pick_place) or base object (stack). */
  target: string;
}

export interface EpisodeSpec {
  suite: string;
  suiteVersion: string;
  split: string;
  task: string;
  family: FamilyName;
  seed: number;
  instruction: string;
  template: string;
  goal: Goal;
  layout: Layout;
  maxSteps: number;
  /** A typed command and how it was read (tasks/env.ts withInstruction); absent for sampled instructions. */
  command?: CommandReading;
  /** A counterfactual language probe (tasks/probes.ts applyProbe): its kind, what it names, and the sampled goal it replaced. */
  probe?: ProbeInfo;
}

/** Where a sampled episode's gripper starts: within +-xy m of TCP_HOME on x and y, yaw within +-yaw rad. */
export const GRIPPER_START_RANGE = { xy: 0.05, yaw: 0.3 };

/** Clearances (centre to centre, metres) so an open gripper can reach any object. */
export const SPACING = {
  objectObject: 0.075,
  objectBowl: 0.14,
  bowlBowl: 0.16,
};

export function hashString(s: string): number {
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

export function episodeRng(task: string, seed: number): Rng {
  return new Rng((seed ^ hashString(task)) >>> 0);
}

export function comboLists(suite: SuiteSpec): { train: string[]; heldout: string[]; all: string[] } {
  const all = suite.colors.flatMap((c) => suite.shapes.map((s) => `${c} ${s}`));
  const held = new Set(suite.heldOutCombos);
  return { all, heldout: all.filter((c) => held.has(c)), train: all.filter((c) => !held.has(c)) };
}

export function sampleEpisode(suite: SuiteSpec, taskName: string, splitName: string, seed: number): EpisodeSpec {
  const task = getTask(suite, taskName);
  const split = getSplit(suite, splitName);
  const rng = episodeRng(task.name, seed);
  const combos = comboLists(suite);
  const pool = split.combos === 'all' ? combos.all : combos.train;
  const goalPool = split.combos === 'heldout' ? combos.heldout : pool;

  // Objects: the one to move, the stack base (stack family), then distractors; names unique.
  const chosen: string[] = [rng.pick(goalPool)];
  const take = (from: string[]) => {
    const free = from.filter((c) => !chosen.includes(c));
    chosen.push(rng.pick(free));
  };
  if (task.family === 'stack') take(pool);
  const nDistract = rng.int(split.distractors[0], split.distractors[1]);
  for (let i = 0; i < nDistract; i++) take(pool);

  const bowlColors = rng.shuffle(suite.colors).slice(0, suite.bowls);
  const positions = placeAll(rng, suite.bowls, chosen.length);
  const bowls = bowlColors.map((color, i) => ({ name: `${color} bowl`, color, ...positions.bowls[i], yaw: rng.uniform(-0.4, 0.4) }));
  const objects: ObjectPlacement[] = chosen.map((name, i) => {
    const [color, shape] = name.split(' ');
    return { name, color, shape: shape as ShapeName, ...positions.objects[i], yaw: rng.uniform(-Math.PI, Math.PI) };
  });

  const goal: Goal = { object: chosen[0], target: task.family === 'stack' ? chosen[1] : bowls[0].name };
  const templates = split.templates === 'all' ? [...task.templates.train, ...task.templates.heldout] : task.templates[split.templates];
  if (templates.length === 0) throw new Error(`task "${task.name}" has no ${split.templates} templates for split "${splitName}"`);
  const template = rng.pick(templates);
  const { xy, yaw } = GRIPPER_START_RANGE;
  const gripperStart = { x: TCP_HOME[0] + rng.uniform(-xy, xy), y: TCP_HOME[1] + rng.uniform(-xy, xy), z: TCP_HOME[2], yaw: rng.uniform(-yaw, yaw) };
  // Synonyms are drawn last: the layout and gripper start stay those of the same seed without them.
  const say = split.synonyms ? (name: string) => withSynonyms(name, suite.synonyms, rng) : (name: string) => name;
  const objectPhrase = say(goal.object);
  const targetPhrase = say(goal.target);
  return {
    suite: suite.name, suiteVersion: suite.version, split: splitName, task: task.name, family: task.family, seed,
    instruction: fillTemplate(template, objectPhrase, targetPhrase), template, goal,
    layout: { objects, bowls, gripperStart }, maxSteps: task.maxSteps,
  };
}

/** A scene name with each word that has synonyms replaced by one of them with probability 1/2 ("red cube" -> "scarlet cube"). */
export function withSynonyms(name: string, synonyms: Readonly<Record<string, readonly string[]>>, rng: Rng): string {
  return name.split(' ').map((w) => {
    const alts = synonyms[w];
    if (!alts?.length) return w;
    const i = rng.int(0, 2 * alts.length - 1); // one draw per word: the first half keeps it
    return i < alts.length ? w : alts[i - alts.length];
  }).join(' ');
}

type XY = { x: number; y: number };

/** Rejection-sample non-overlapping positions: bowls first (largest), then objects. */
function placeAll(rng: Rng, nBowls: number, nObjects: number): { bowls: XY[]; objects: XY[] } {
  const bowlMargin = BOWL.innerHalf + BOWL.wall;
  for (let attempt = 0; attempt < 200; attempt++) {
    const bowls: XY[] = [];
    const objects: XY[] = [];
    let ok = true;
    for (let i = 0; i < nBowls && ok; i++) {
      const p = sampleFree(rng, bowlMargin, (q) => bowls.every((b) => dist(b, q) >= SPACING.bowlBowl));
      if (p) bowls.push(p); else ok = false;
    }
    for (let i = 0; i < nObjects && ok; i++) {
      const p = sampleFree(rng, OBJECT.half, (q) => bowls.every((b) => dist(b, q) >= SPACING.objectBowl) && objects.every((o) => dist(o, q) >= SPACING.objectObject));
      if (p) objects.push(p); else ok = false;
    }
    if (ok) return { bowls, objects };
  }
  throw new Error(`could not place ${nBowls} bowls and ${nObjects} objects without overlap; reduce distractors`);
}

function sampleFree(rng: Rng, margin: number, free: (p: XY) => boolean): XY | null {
  for (let i = 0; i < 100; i++) {
    const p = { x: rng.uniform(WORKSPACE.xMin + margin, WORKSPACE.xMax - margin), y: rng.uniform(WORKSPACE.yMin + margin, WORKSPACE.yMax - margin) };
    if (free(p)) return p;
  }
  return null;
}

const dist = (a: XY, b: XY) => Math.hypot(a.x - b.x, a.y - b.y);
