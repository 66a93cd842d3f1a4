// A hand-built scene that exercises every visual shape, used by the demo page,
// the render benchmark and the render tests. It is NOT produced by physics:
// poses are placed by hand so the renderer can be checked on its own.
import { BOWL, COLORS, DEFAULT_CAMERAS, GRIPPER, TABLE } from '../config.ts';
import type { BodyVisual, CameraSpec, PoseBuffer, SceneDescription, Vec3 } from '../types.ts';

export interface SampleScene {
  desc: SceneDescription;
  /** Poses at time t (seconds); t = 0 is the reference layout used by tests. */
  poses: (t?: number) => PoseBuffer;
  cameras: CameraSpec[];
  /** World centre of the red cube at t = 0 (tests project it into the scene camera). */
  redCubeCenter: Vec3;
}

const H = 0.02; // object half size (4 cm parts)

export function sampleScene(): SampleScene {
  const bodies: BodyVisual[] = [
    {
      name: 'table', role: 'table',
      parts: [{ shape: { type: 'box', half: [TABLE.halfX, TABLE.halfY, TABLE.thickness / 2] }, offset: [0, 0, -TABLE.thickness / 2], color: TABLE.color }],
    },
    { name: 'red cube', role: 'object', parts: [{ shape: { type: 'box', half: [H, H, H] }, offset: [0, 0, 0], color: COLORS.red }] },
    { name: 'green cylinder', role: 'object', parts: [{ shape: { type: 'cylinder', radius: H, halfHeight: H }, offset: [0, 0, 0], color: COLORS.green }] },
    { name: 'blue prism', role: 'object', parts: [{ shape: { type: 'hexprism', radius: H, halfHeight: H }, offset: [0, 0, 0], color: COLORS.blue }] },
    { name: 'yellow bowl', role: 'bowl', parts: [{ shape: { type: 'bowl', ...BOWL }, offset: [0, 0, 0], color: COLORS.yellow }] },
    { name: 'palm', role: 'palm', parts: [{ shape: { type: 'box', half: GRIPPER.palmHalf }, offset: [0, 0, 0], color: GRIPPER.color }] },
    { name: 'finger_l', role: 'finger', parts: [{ shape: { type: 'box', half: GRIPPER.fingerHalf }, offset: [0, 0, 0], color: GRIPPER.fingerColor }] },
    { name: 'finger_r', role: 'finger', parts: [{ shape: { type: 'box', half: GRIPPER.fingerHalf }, offset: [0, 0, 0], color: GRIPPER.fingerColor }] },
  ];
  const redCubeCenter: Vec3 = [0.08, 0.06, H];

  const poses = (t = 0): PoseBuffer => {
    const p = new Float32Array(bodies.length * 7);
    const put = (i: number, pos: Vec3, yaw = 0) => {
      p.set([pos[0], pos[1], pos[2], 0, 0, Math.sin(yaw / 2), Math.cos(yaw / 2)], i * 7);
    };
    put(0, [0, 0, 0]);
    put(1, [redCubeCenter[0] + 0.03 * Math.sin(t), redCubeCenter[1], H], 0.3 * t);
    put(2, [-0.1, 0.08, H]);
    put(3, [0.0, -0.05, H], 0.2);
    put(4, [-0.12, -0.1, 0]);
    // Gripper hovering above the workspace, swaying slowly; fingers open.
    const palm: Vec3 = [0.02 + 0.05 * Math.sin(0.7 * t), 0.02, 0.2];
    const yaw = 0.4 * Math.sin(0.5 * t);
    put(5, palm, yaw);
    const gap = 0.06;
    const dx = gap / 2 + GRIPPER.fingerHalf[0];
    const fz = palm[2] - GRIPPER.palmHalf[2] - GRIPPER.fingerHalf[2];
    put(6, [palm[0] - dx * Math.cos(yaw), palm[1] - dx * Math.sin(yaw), fz], yaw);
    put(7, [palm[0] + dx * Math.cos(yaw), palm[1] + dx * Math.sin(yaw), fz], yaw);
    return p;
  };

  return { desc: { bodies }, poses, cameras: DEFAULT_CAMERAS.map((c) => ({ ...c })), redCubeCenter };
}
