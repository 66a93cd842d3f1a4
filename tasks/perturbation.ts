// Physical perturbations of a sampled episode, for the robustness levels of
// src/analysis/perturbationAxes.ts (LIBERO-Plus, arXiv:2510.13626, perturbs
// the robot's initial state and the layout among its axes). Unlike appearance
// and sensor changes these change the physical episode, so each changes ONE
// thing and keeps the rest of the sampled episode (bowls, objects, goal,
// instruction, seed) as it was:
//   robotPose    the gripper starts `distance` m from its home point, in a
//                direction drawn once per episode, with yaw +-`yaw` rad (sign
//                drawn once per episode): the same direction at every level,
//                so only the distance and the turn grow
//   distractors  extra distractor objects until the scene holds this many;
//                the sampled objects stay where they are, the extras are
//                placed by the sampler's clearance rules, drawn one after
//                another from a per-episode stream, so the scene at level
//                k + 1 is the scene at level k plus more objects
// Pure functions of (episode, suite, perturbation).
import { OBJECT, TCP_HOME, WORKSPACE, type ShapeName } from '../sim/config.ts';
import type { ObjectPlacement } from '../sim/layout.ts';
import { Rng } from '../sim/rng.ts';
import { comboLists, hashString, SPACING, type EpisodeSpec } from './episode.ts';
import { getSplit, type SuiteSpec } from './suite.ts';

export interface EpisodePerturbation {
  robotPose?: { distance: number; yaw: number };
  /** Distractor objects in the scene (the goal object and a stack base are not distractors). */
  distractors?: number;
}

/** Most distractors a perturbed scene may ask for (the workspace fits no more with the sampler's clearances). */
export const MAX_DISTRACTORS = 6;

/** Validated copy (clear errors naming the field). */
export function checkEpisodePerturbation(p: EpisodePerturbation): EpisodePerturbation {
  if (typeof p !== 'object' || p === null) throw new Error(`perturbation must be an object, got ${JSON.stringify(p)}`);
  const known = ['robotPose', 'distractors'];
  const extra = Object.keys(p).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`perturbation: unknown field ${extra.map((k) => `"${k}"`).join(', ')} (fields: ${known.join(', ')})`);
  const r = p.robotPose;
  if (r !== undefined) {
    const ok = typeof r === 'object' && r !== null && Number.isFinite(r.distance) && r.distance >= 0 && r.distance <= 0.25 && Number.isFinite(r.yaw) && r.yaw >= 0 && r.yaw <= Math.PI / 2;
    if (!ok) throw new Error(`perturbation.robotPose must be {distance in [0, 0.25] m, yaw in [0, pi/2] rad}, got ${JSON.stringify(r)}`);
  }
  if (p.distractors !== undefined && !(Number.isInteger(p.distractors) && p.distractors >= 0 && p.distractors <= MAX_DISTRACTORS)) {
    throw new Error(`perturbation.distractors must be an integer in [0, ${MAX_DISTRACTORS}], got ${JSON.stringify(p.distractors)}`);
  }
  return structuredClone(p);
}

const POSE_SALT = 0x70a5e1;
const DISTRACTOR_SALT = 0xd15c7a;
const streamOf = (ep: EpisodeSpec, salt: number) => new Rng((ep.seed ^ hashString(ep.task) ^ salt) >>> 0);

/** Direction (radians) and yaw sign of an episode's moved start: one draw per episode, shared by every level. */
export function robotPoseDraw(ep: EpisodeSpec): { angle: number; yawSign: 1 | -1 } {
  const rng = streamOf(ep, POSE_SALT);
  return { angle: rng.uniform(0, 2 * Math.PI), yawSign: rng.next() < 0.5 ? -1 : 1 };
}

/** How many of the episode's objects are distractors. */
export function distractorCount(ep: EpisodeSpec): number {
  return ep.layout.objects.length - (ep.family === 'stack' ? 2 : 1);
}

type XY = { x: number; y: number };
const dist = (a: XY, b: XY) => Math.hypot(a.x - b.x, a.y - b.y);

function addDistractors(ep: EpisodeSpec, suite: SuiteSpec, total: number): ObjectPlacement[] {
  const have = distractorCount(ep);
  if (total < have) throw new Error(`perturbation.distractors ${total}: episode ${ep.task}/${ep.seed} of split "${ep.split}" already has ${have} distractors (the axis only adds objects)`);
  const split = getSplit(suite, ep.split);
  const combos = comboLists(suite);
  const pool = split.combos === 'all' ? combos.all : combos.train;
  const rng = streamOf(ep, DISTRACTOR_SALT);
  const objects = [...ep.layout.objects];
  const m = OBJECT.half;
  for (let k = have; k < total; k++) {
    const free = pool.filter((c) => !objects.some((o) => o.name === c));
    if (free.length === 0) throw new Error(`perturbation.distractors ${total}: the suite has no more distinct objects for episode ${ep.task}/${ep.seed}`);
    const name = rng.pick(free);
    let at: XY | null = null;
    for (let i = 0; i < 400 && !at; i++) {
      const q = { x: rng.uniform(WORKSPACE.xMin + m, WORKSPACE.xMax - m), y: rng.uniform(WORKSPACE.yMin + m, WORKSPACE.yMax - m) };
      if (ep.layout.bowls.every((b) => dist(b, q) >= SPACING.objectBowl) && objects.every((o) => dist(o, q) >= SPACING.objectObject)) at = q;
    }
    if (!at) throw new Error(`perturbation.distractors ${total}: no free place for distractor ${k + 1} in episode ${ep.task}/${ep.seed}`);
    const [color, shape] = name.split(' ');
    objects.push({ name, color, shape: shape as ShapeName, ...at, yaw: rng.uniform(-Math.PI, Math.PI) });
  }
  return objects;
}

/** The episode under `p`: a new EpisodeSpec, `ep` untouched; {} returns an equal copy. */
export function perturbEpisode(ep: EpisodeSpec, suite: SuiteSpec, p: EpisodePerturbation): EpisodeSpec {
  checkEpisodePerturbation(p);
  const layout = structuredClone(ep.layout);
  if (p.robotPose) {
    const { angle, yawSign } = robotPoseDraw(ep);
    const d = p.robotPose.distance;
    layout.gripperStart = { x: TCP_HOME[0] + d * Math.cos(angle), y: TCP_HOME[1] + d * Math.sin(angle), z: TCP_HOME[2], yaw: yawSign * p.robotPose.yaw };
  }
  if (p.distractors !== undefined) layout.objects = addDistractors(ep, suite, p.distractors);
  return { ...ep, layout };
}

/** The VlaEnv `perturbEpisode` option for `p` (undefined when there is none). */
export function episodeTransform(suite: SuiteSpec, p: EpisodePerturbation | undefined): ((ep: EpisodeSpec) => EpisodeSpec) | undefined {
  if (!p || (p.robotPose === undefined && p.distractors === undefined)) return undefined;
  const checked = checkEpisodePerturbation(p);
  return (ep) => perturbEpisode(ep, suite, checked);
}
