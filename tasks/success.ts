// Success predicates, evaluated on physics state only (never on pixels).
import { BOWL, OBJECT } from '../sim/config.ts';
import { quatYaw, type SimWorld } from '../sim/world.ts';
import type { EpisodeSpec } from './episode.ts';

/** An object counts as placed only once it rests: slower than this (m/s). */
export const REST_SPEED = 0.05;

/**
 * pick_place: object centre inside the bowl's inner square, below the rim;
 * stack: on top of the base, centred within 2.5 cm, base still upright. In
 * both, the object must be at rest and released.
 */
export function isSuccess(sim: SimWorld, ep: EpisodeSpec): boolean {
  return inTargetPose(sim, ep) && isReleasedAtRest(sim, ep.goal.object);
}

const speed = (v: [number, number, number]) => Math.hypot(v[0], v[1], v[2]);

/**
 * Where the object must be, whatever it is doing: centre inside the bowl's
 * inner square and below the rim (pick_place), or on top of the base within
 * 2.5 cm with the base still upright on the table (stack). Success adds
 * "at rest and released" (isSuccess); tasks/outcome.ts uses the pose alone to
 * tell a misplaced object from one that was still settling.
 */
export function inTargetPose(sim: SimWorld, ep: EpisodeSpec): boolean {
  return ep.family === 'pick_place' ? inBowlRegion(sim, ep.goal.object, ep.goal.target) : onBase(sim, ep.goal.object, ep.goal.target);
}

/** At rest (slower than REST_SPEED) and not touched by either finger. */
export function isReleasedAtRest(sim: SimWorld, object: string): boolean {
  return speed(sim.bodyState(object).linvel) < REST_SPEED && !sim.isTouchedByGripper(object);
}

/** Object centre inside the bowl's inner square, below the rim (any speed). */
export function inBowlRegion(sim: SimWorld, object: string, bowl: string): boolean {
  const b = sim.layout.bowls.find((x) => x.name === bowl);
  if (!b) throw new Error(`no bowl named "${bowl}" in this scene`);
  const s = sim.bodyState(object);
  const dx = s.pos[0] - b.x, dy = s.pos[1] - b.y;
  const c = Math.cos(-b.yaw), si = Math.sin(-b.yaw);
  const lx = c * dx - si * dy, ly = si * dx + c * dy;
  return Math.abs(lx) < BOWL.innerHalf && Math.abs(ly) < BOWL.innerHalf && s.pos[2] < BOWL.wallHeight + OBJECT.half;
}

/** Object centre on top of the base within 2.5 cm, base upright on the table (any speed). */
export function onBase(sim: SimWorld, object: string, base: string): boolean {
  const a = sim.bodyState(object), b = sim.bodyState(base);
  const dxy = Math.hypot(a.pos[0] - b.pos[0], a.pos[1] - b.pos[1]);
  const dz = a.pos[2] - b.pos[2];
  return dxy < 0.025 && Math.abs(dz - 2 * OBJECT.half) < 0.006 && baseUpright(sim, base);
}

/** The stack base still stands on the table (centre at half height). */
export function baseUpright(sim: SimWorld, base: string): boolean {
  return Math.abs(sim.bodyState(base).pos[2] - OBJECT.half) < 0.005;
}

/** Yaw of a body about world z (for experts and analysis). */
export function bodyYaw(sim: SimWorld, name: string): number {
  const q = sim.bodyState(name).quat;
  return quatYaw({ x: q[0], y: q[1], z: q[2], w: q[3] });
}
