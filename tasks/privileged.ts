// Privileged state: what the scripted experts read from physics (tasks/expert.ts),
// as plain JSON. Only a remote policy that asks for it in its handshake gets it
// (src/worker/remoteSpec.ts), and such a policy is reported as one that saw
// privileged state: an oracle or a debugging aid, never comparable to a policy
// that sees only pixels and proprioception.
import type { SimWorld } from '../sim/world.ts';
import type { EpisodeSpec } from './episode.ts';
import { isSuccess } from './success.ts';

type Vec3 = [number, number, number];

export interface PrivilegedState {
  family: string;
  /** The commanded TCP pose (m, rad), before float32 rounding (proprio carries it rounded). */
  tcp: { x: number; y: number; z: number; yaw: number };
  /** Finger gap (m) and the last gripper command (0 open .. 1 closed). */
  gap: number;
  gripper_command: number;
  /** The object to move: position (m), linear velocity (m/s), held between both fingers. */
  object: { name: string; pos: Vec3; linvel: Vec3; grasped: boolean };
  /** Where it goes: a bowl (centre on the table, z = 0) or the stack's base object (its centre). */
  target: { name: string; kind: 'bowl' | 'object'; pos: Vec3 };
  /** Whether the task counts as solved now (tasks/success.ts). */
  success: boolean;
}

export function privilegedState(sim: SimWorld, ep: EpisodeSpec): PrivilegedState {
  const o = sim.bodyState(ep.goal.object);
  const bowl = sim.layout.bowls.find((b) => b.name === ep.goal.target);
  const target: PrivilegedState['target'] = bowl
    ? { name: bowl.name, kind: 'bowl', pos: [bowl.x, bowl.y, 0] }
    : { name: ep.goal.target, kind: 'object', pos: sim.bodyState(ep.goal.target).pos };
  return {
    family: ep.family,
    tcp: sim.tcp(),
    gap: sim.gap(),
    gripper_command: sim.gripperCommand,
    object: { name: ep.goal.object, pos: o.pos, linvel: o.linvel, grasped: sim.isGrasped(ep.goal.object) },
    target,
    success: isSuccess(sim, ep),
  };
}
