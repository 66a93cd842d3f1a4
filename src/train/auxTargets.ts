// Auxiliary behavior-cloning targets from privileged simulator state (policy
// config auxDim = 4, policies/policy.ts): per step, the table (x, y) of the
// commanded object and of its destination (bowl or base object), scaled by
// the workspace half-width to about [-1, 1].
//
// Only the episode spec (initial layout, goal) and the expert's actions are
// needed, so existing demo sets work unchanged: the object sits at its
// initial place until the expert first closes the gripper, and is moving
// afterwards, so its target is masked from the step after the first close
// command on; the destination never moves (bowls are static; a stack's base
// object is not touched by the expert) and is supervised at every step.
import { WORKSPACE } from '../../sim/config.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';

export const AUX_DIM = 4;
const SCALE = WORKSPACE.xMax;

/** Table position of a named object or bowl in the episode's initial layout. */
export function placeOf(ep: EpisodeSpec, name: string): [number, number] {
  const o = ep.layout.objects.find((x) => x.name === name) ?? ep.layout.bowls.find((x) => x.name === name);
  if (!o) throw new Error(`episode ${ep.task}/${ep.seed}: no object or bowl named "${name}" in the layout`);
  return [o.x, o.y];
}

/**
 * targets / mask: [steps * 4] (object x, y, destination x, y per step).
 * actions: [steps * actionDim]; gripperIndex: the close command's dimension.
 */
export function auxTargets(ep: EpisodeSpec, actions: Float32Array, steps: number, actionDim: number, gripperIndex: number): { target: Float32Array; mask: Float32Array } {
  const [ox, oy] = placeOf(ep, ep.goal.object);
  const [tx, ty] = placeOf(ep, ep.goal.target);
  const target = new Float32Array(steps * AUX_DIM);
  const mask = new Float32Array(steps * AUX_DIM);
  let grasped = false;
  for (let t = 0; t < steps; t++) {
    target.set([ox / SCALE, oy / SCALE, tx / SCALE, ty / SCALE], t * AUX_DIM);
    const m = grasped ? 0 : 1;
    mask.set([m, m, 1, 1], t * AUX_DIM);
    if (actions[t * actionDim + gripperIndex] > 0.5) grasped = true; // observation t still shows the object in place
  }
  return { target, mask };
}

/** Plan values per step: object x, y and destination x, y (policies/tokenLayout.ts). */
export const PLAN_DIM = 4;
/** Table bounds of the plan values (metres): the TCP's reach. */
export const PLAN_LOW = [-0.3, -0.3, -0.3, -0.3];
export const PLAN_HIGH = [0.3, 0.3, 0.3, 0.3];

/**
 * Plan targets [steps * PLAN_DIM] in metres: where the commanded object and
 * its destination are at each step. The object sits at its initial place
 * until the first close command; from the next observation on it is in the
 * gripper (the TCP's x, y from proprio) until the gripper opens again, and
 * then stays where it was released. The destination never moves.
 */
export function planTargets(ep: EpisodeSpec, proprio: Float32Array, proprioDim: number, actions: Float32Array, actionDim: number, gripperIndex: number, steps: number): Float32Array {
  let [ox, oy] = placeOf(ep, ep.goal.object);
  const [tx, ty] = placeOf(ep, ep.goal.target);
  const out = new Float32Array(steps * PLAN_DIM);
  let held = false;
  for (let t = 0; t < steps; t++) {
    if (held) [ox, oy] = [proprio[t * proprioDim], proprio[t * proprioDim + 1]];
    out.set([ox, oy, tx, ty], t * PLAN_DIM);
    const closing = actions[t * actionDim + gripperIndex] > 0.5;
    if (closing) held = true;
    else if (held) held = false; // opened: the part stays where it was let go
  }
  return out;
}
