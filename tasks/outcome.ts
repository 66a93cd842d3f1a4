// Why an episode ended the way it did, from physics state only: the failure
// taxonomy an evaluation reports next to the success rate. A success rate
// says how often a policy fails; the taxonomy says where in the task it
// fails (never touched the object, picked the wrong one, still carrying it
// at the end, put it down in the wrong place, or declared "done" while the
// object was still settling in the right place), which is what decides the
// next change to a policy or its training recipe.
//
// The tracker watches every step (heights of all objects, which ones the
// gripper touched) because the end state alone cannot tell "never grasped"
// from "grasped and dropped back where it was".
import { OBJECT } from '../sim/config.ts';
import type { SimWorld } from '../sim/world.ts';
import type { EpisodeSpec } from './episode.ts';
import { baseUpright, inTargetPose, isSuccess } from './success.ts';

/**
 * Outcome kinds, checked in this order:
 *   success       the success predicate holds at the end
 *   holding       the commanded object is still touched by the gripper (ran
 *                 out of steps, or stopped, while carrying or pushing it)
 *   wrong_object  the commanded object was never lifted, another one was
 *   no_grasp      no object was ever lifted
 *   knocked_base  stack: the base object no longer stands on the table
 *   unsettled     the object is where it must be but still moving (the
 *                 policy stopped too early)
 *   misplaced     the object was lifted and let go somewhere else
 */
export const OUTCOMES = ['success', 'holding', 'wrong_object', 'no_grasp', 'knocked_base', 'unsettled', 'misplaced'] as const;
export type OutcomeKind = (typeof OUTCOMES)[number];

export interface EpisodeOutcome {
  kind: OutcomeKind;
  /** Horizontal distance (m) of the commanded object from its target (bowl centre or base object) at the end. */
  targetDistance: number;
  /** Objects lifted at least LIFT_HEIGHT above their start during the episode. */
  lifted: string[];
  /** Objects moved (movedObjects): lifted, or ending MOVED_DISTANCE or more from where they started; the most moved first. Absent in records of older versions. */
  moved?: string[];
}

/** An object counts as lifted once its centre rose this far (m) above where it started: half its size. */
export const LIFT_HEIGHT = OBJECT.half;
/** An object counts as moved once it ends this far (m, horizontally) from where it started: its own width (a brush of the gripper shifts it less). */
export const MOVED_DISTANCE = 2 * OBJECT.half;

/**
 * Which objects an episode moved, from where each started and ended (x, y)
 * and which were lifted: the lifted ones first (picking is deliberate, a push
 * may be collateral), each group by final horizontal displacement, largest first.
 */
export function movedObjects(start: ReadonlyMap<string, readonly number[]>, end: ReadonlyMap<string, readonly number[]>, lifted: readonly string[]): string[] {
  const rows = [...start].map(([name, s]) => {
    const e = end.get(name);
    if (!e) throw new Error(`movedObjects: no final position of "${name}"`);
    return { name, d: Math.hypot(e[0] - s[0], e[1] - s[1]), lifted: lifted.includes(name) };
  });
  return rows.filter((r) => r.lifted || r.d >= MOVED_DISTANCE)
    .sort((a, b) => Number(b.lifted) - Number(a.lifted) || b.d - a.d)
    .map((r) => r.name);
}

export class OutcomeTracker {
  private readonly startZ = new Map<string, number>();
  private readonly startXY = new Map<string, number[]>();
  private readonly maxRise = new Map<string, number>();

  constructor(private readonly ep: EpisodeSpec, sim: SimWorld) {
    for (const o of ep.layout.objects) {
      const p = sim.bodyState(o.name).pos;
      this.startZ.set(o.name, p[2]);
      this.startXY.set(o.name, [p[0], p[1]]);
      this.maxRise.set(o.name, 0);
    }
  }

  /** Call after every env step. */
  observe(sim: SimWorld): void {
    for (const [name, z0] of this.startZ) {
      const rise = sim.bodyState(name).pos[2] - z0;
      if (rise > this.maxRise.get(name)!) this.maxRise.set(name, rise);
    }
  }

  /** Classify the episode from the final state (call once it is over). */
  classify(sim: SimWorld): EpisodeOutcome {
    this.observe(sim);
    const { object, target } = this.ep.goal;
    const lifted = [...this.maxRise].filter(([, r]) => r >= LIFT_HEIGHT).map(([n]) => n);
    const o = sim.bodyState(object).pos;
    const bowl = this.ep.layout.bowls.find((b) => b.name === target);
    const t = bowl ? [bowl.x, bowl.y] : sim.bodyState(target).pos;
    const targetDistance = Math.hypot(o[0] - t[0], o[1] - t[1]);
    const kind = ((): OutcomeKind => {
      if (isSuccess(sim, this.ep)) return 'success';
      if (sim.isTouchedByGripper(object)) return 'holding';
      if (!lifted.includes(object)) return lifted.length > 0 ? 'wrong_object' : 'no_grasp';
      if (this.ep.family === 'stack' && !baseUpright(sim, target)) return 'knocked_base';
      return inTargetPose(sim, this.ep) ? 'unsettled' : 'misplaced';
    })();
    const end = new Map([...this.startXY.keys()].map((n) => [n, sim.bodyState(n).pos.slice(0, 2)]));
    return { kind, targetDistance, lifted, moved: movedObjects(this.startXY, end, lifted) };
  }
}
