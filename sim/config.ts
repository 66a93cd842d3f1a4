// Physical constants of the vlalab tabletop. All units SI: metres, radians,
// seconds, kilograms. Frame: right-handed, z up, table top at z = 0.
import type { CameraSpec, RGB } from './types.ts';

/** Physics rate. 120 Hz lets contacts be stiff (natural frequency 60 Hz) without jitter. */
export const PHYSICS_HZ = 120;
/** Control rate (RT-1 runs at 3 Hz, OpenVLA at 5–15 Hz; 10 Hz keeps episodes ~50 steps). */
export const CONTROL_HZ = 10;
export const SUBSTEPS = PHYSICS_HZ / CONTROL_HZ;
/** Contact stiffness; at most about half the physics rate (see shared notes). */
export const CONTACT_NATURAL_FREQUENCY = 60;

export const TABLE = { halfX: 0.4, halfY: 0.4, thickness: 0.04, color: [0.62, 0.5, 0.38] as RGB };
/** Region where objects and bowls are placed (centre coordinates). */
export const WORKSPACE = { xMin: -0.22, xMax: 0.22, yMin: -0.22, yMax: 0.22 };

/** Gripper geometry. The palm is kinematic; the fingers are dynamic bodies on prismatic joints. */
export const GRIPPER = {
  palmHalf: [0.06, 0.018, 0.012] as [number, number, number],
  fingerHalf: [0.006, 0.014, 0.03] as [number, number, number],
  /** Largest gap between the finger inner faces. */
  maxOpening: 0.09,
  /** TCP (tool centre point) below the palm centre: 1.7 cm above the finger tips. */
  tcpBelowPalm: 0.055,
  fingerMass: 0.08,
  fingerFriction: 1.6,
  /**
   * Finger motors: target speed = motorGain * position error (capped at motorMaxSpeed);
   * force = motorDamping * (target speed - speed), capped at motorMaxForce. Gripping a 4 cm
   * part with the gripper commanded shut leaves each finger 2 cm short, so it pushes with
   * 24 * 25 * 0.02 = 12 N, unsaturated: if the finger pair drifts sideways one finger pushes
   * harder than the other (a 1200 N/m centring spring). Saturated motors would let the
   * held part wander between the fingers.
   */
  motorGain: 24,
  motorDamping: 25,
  motorMaxForce: 20,
  motorMaxSpeed: 0.25, // m/s per finger: opens gently enough not to fling a released part
  color: [0.18, 0.18, 0.2] as RGB,
  fingerColor: [0.85, 0.85, 0.88] as RGB,
};

/** TCP limits: the fingertips never reach the table, and the arm stays over it. */
export const TCP_LIMITS = { xMin: -0.3, xMax: 0.3, yMin: -0.3, yMax: 0.3, zMin: 0.02, zMax: 0.3 };
export const TCP_HOME: [number, number, number] = [0, 0, 0.16];

/**
 * Action: 6 floats, all clipped to these bounds by env.step.
 *  0 dx, 1 dy, 2 dz  TCP translation this control step, metres (world frame)
 *  3 dyaw            TCP rotation about world z this control step, radians
 *  4 gripper         closure command in [0, 1]: 0 = fully open, 1 = close (target gap = (1-g) * maxOpening)
 *  5 terminate       > 0.5 ends the episode (RT-1's terminate token)
 */
export const ACTION_DIM = 6;
export const ACTION_NAMES = ['dx', 'dy', 'dz', 'dyaw', 'gripper', 'terminate'] as const;
export const ACTION_LOW = Float32Array.from([-0.025, -0.025, -0.025, -0.25, 0, 0]);
export const ACTION_HIGH = Float32Array.from([0.025, 0.025, 0.025, 0.25, 1, 1]);

/**
 * Proprioception: 6 floats.
 *  0..2 TCP position (m), 3 TCP yaw (rad, wrapped to (-pi, pi]),
 *  4 finger gap (m), 5 last gripper command (0..1)
 */
export const PROPRIO_DIM = 6;
export const PROPRIO_NAMES = ['x', 'y', 'z', 'yaw', 'gap', 'gripper_cmd'] as const;

/** Object geometry (4 cm parts, as in the measured grasping prototype). */
export const OBJECT = { half: 0.02, mass: 0.06, friction: 1.0, restitution: 0 };
export const BOWL = { innerHalf: 0.055, wallHeight: 0.03, wall: 0.008, base: 0.006 };

/** Named colors (linear-ish RGB in [0,1]); suites pick from these by name. */
export const COLORS: Record<string, RGB> = {
  red: [0.86, 0.1, 0.1],
  green: [0.1, 0.7, 0.15],
  blue: [0.12, 0.25, 0.9],
  yellow: [0.95, 0.85, 0.1],
  purple: [0.55, 0.15, 0.75],
  orange: [0.98, 0.5, 0.05],
  cyan: [0.1, 0.8, 0.85],
  white: [0.95, 0.95, 0.95],
  black: [0.08, 0.08, 0.08],
  pink: [0.98, 0.45, 0.7],
};

export const SHAPES = ['cube', 'cylinder', 'prism'] as const;
export type ShapeName = (typeof SHAPES)[number];

/** Default cameras: a fixed scene camera in front of and above the table, and a wrist camera. */
export const DEFAULT_CAMERAS: CameraSpec[] = [
  { name: 'scene', mount: 'fixed', position: [0.0, -0.42, 0.56], target: [0, 0.01, 0], fovDeg: 44 },
  { name: 'wrist', mount: 'wrist', position: [0, -0.05, 0.02], target: [0, 0, -0.2], fovDeg: 75 },
];
export const DEFAULT_RESOLUTION = 96;
