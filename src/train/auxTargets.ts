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
