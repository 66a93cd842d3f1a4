// Inverse kinematics of the demo's visual arm: a 6-DoF arm in the layout of
// the common industrial 6R arms (base yaw, shoulder and elbow pitch, then a
// spherical wrist: pitch, tilt, tool roll). The physics gripper is a floating
// kinematic palm (sim/world.ts); this arm only DRAWS a plausible robot whose
// flange meets the top of the palm every frame. Nothing here feeds back into
// physics or into what the policy cameras see.
//
// Closed form (Pieper's condition: the three wrist axes meet in one point, so
// position and orientation decouple; Craig, "Introduction to Robotics", 4.4):
// the wrist centre W sits L3 above the flange F, the base yaw points the arm
// plane at W, the shoulder-elbow pair is the planar two-link solution
// (elbow up), and the wrist pitch turns the last link straight down. The palm
// only yaws, so the wrist tilt is 0 and the tool roll takes the palm's yaw.
import { GRIPPER } from '../../../sim/config.ts';
import type { Quat, Vec3 } from '../../../sim/types.ts';

export const ARM = {
  /** Base (joint 1) on the table top, at the far edge from the scene camera. */
  base: [0, 0.36, 0] as Vec3,
  /** Base column: joint 2 (shoulder) sits this far above the base. */
  column: 0.16,
  upperArm: 0.42,
  forearm: 0.4,
  /** Wrist centre to flange (the top face of the palm). */
  wrist: 0.1,
};

/** Joint angles, radians: base yaw, shoulder (elevation of the upper arm), elbow, wrist pitch, wrist tilt, tool roll. */
export type ArmJoints = [number, number, number, number, number, number];

/** Where the links and joints are (world frame), from forward kinematics. */
export interface ArmPose {
  joints: ArmJoints;
  base: Vec3;
  shoulder: Vec3;
  elbow: Vec3;
  wrist: Vec3;
  flange: Vec3;
  /** Horizontal unit vector of the arm plane (joint 1 direction) and its normal (axis of joints 2-4). */
  radial: Vec3;
  normal: Vec3;
  /** Unit direction wrist -> flange (straight down when the tool points down). */
  tool: Vec3;
  /** Tool yaw about world z (radians): joint 1 + joint 6 while the tool points down. */
  toolYaw: number;
  /** Distance from the requested flange point to the reached one (> 0 only out of reach). */
  error: number;
}

const add = (a: Vec3, b: Vec3, s = 1): Vec3 => [a[0] + s * b[0], a[1] + s * b[1], a[2] + s * b[2]];
export const wrapAngle = (a: number) => a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));

/** Yaw about world z of a quaternion [x, y, z, w]. */
export function quatYaw(q: Quat): number {
  const [x, y, z, w] = q;
  return Math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z));
}

/** The flange point for a palm pose: the centre of the palm's top face. */
export function flangeTarget(palm: Vec3): Vec3 {
  return [palm[0], palm[1], palm[2] + GRIPPER.palmHalf[2]];
}

/** Forward kinematics: joint angles -> link positions. */
export function forwardKinematics(q: ArmJoints, arm = ARM): ArmPose {
  const [q1, q2, q3, q4, q5, q6] = q;
  const radial: Vec3 = [Math.cos(q1), Math.sin(q1), 0];
  const normal: Vec3 = [-Math.sin(q1), Math.cos(q1), 0];
  const inPlane = (a: number): Vec3 => [Math.cos(a) * radial[0], Math.cos(a) * radial[1], Math.sin(a)];
  const shoulder = add(arm.base, [0, 0, arm.column]);
  const elbow = add(shoulder, inPlane(q2), arm.upperArm);
  const wrist = add(elbow, inPlane(q2 + q3), arm.forearm);
  // Joint 5 tilts the last link out of the arm plane, towards the normal.
  const d = inPlane(q2 + q3 + q4);
  const tool: Vec3 = [Math.cos(q5) * d[0] + Math.sin(q5) * normal[0], Math.cos(q5) * d[1] + Math.sin(q5) * normal[1], Math.cos(q5) * d[2]];
  const flange = add(wrist, tool, arm.wrist);
  return { joints: q, base: [...arm.base], shoulder, elbow, wrist, flange, radial, normal, tool, toolYaw: wrapAngle(q1 + q6), error: 0 };
}

/**
 * Joint angles that put the flange on the palm's top face with the tool
 * pointing down and the tool yaw equal to the palm's. Out of reach, the arm
 * stretches towards the target (finite angles; `error` says how far it fell short).
 */
export function solveArm(palm: Vec3, palmYaw: number, arm = ARM): ArmPose {
  const target = flangeTarget(palm);
  const w: Vec3 = [target[0], target[1], target[2] + arm.wrist];
  const s = add(arm.base, [0, 0, arm.column]);
  const dx = w[0] - s[0], dy = w[1] - s[1], dz = w[2] - s[2];
  const q1 = Math.atan2(dy, dx);
  const r = Math.hypot(dx, dy);
  const { upperArm: l1, forearm: l2 } = arm;
  const reach = Math.hypot(r, dz);
  const d = Math.min(l1 + l2 - 1e-9, Math.max(Math.abs(l1 - l2) + 1e-9, reach));
  // Law of cosines: phi is the bend at the elbow (0 = straight arm).
  const phi = Math.acos(Math.min(1, Math.max(-1, (d * d - l1 * l1 - l2 * l2) / (2 * l1 * l2))));
  // Elbow up: the upper arm rises above the shoulder-wrist line by beta.
  const beta = Math.atan2(l2 * Math.sin(phi), l1 + l2 * Math.cos(phi));
  const q2 = Math.atan2(dz, r) + beta;
  const q3 = -phi;
  const q4 = -Math.PI / 2 - (q2 + q3); // last link straight down
  const pose = forwardKinematics([q1, q2, q3, q4, 0, wrapAngle(palmYaw - q1)], arm);
  pose.error = Math.hypot(pose.flange[0] - target[0], pose.flange[1] - target[1], pose.flange[2] - target[2]);
  return pose;
}
