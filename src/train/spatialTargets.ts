// Spatial auxiliary targets for behavior cloning (policy config
// spatialAuxWeight, policies/spatialAux.ts): where, in each camera image, the
// commanded object and its destination are. Like src/train/auxTargets.ts this
// is privileged simulator state used only as a training signal; the policy
// acts from pixels, instruction and proprio alone.
//
// Why: the action loss alone teaches "where is the yellow cube" only through
// 6 tokens per frame, and the shipped-size policies trained from scratch on a
// CPU never learned it (they moved in one fixed direction). Supervising the
// attention over the feature grid gives a dense, well-conditioned signal for
// exactly that question, as Transporter/CLIPort-style spatial supervision
// (Zeng et al. arXiv:2010.14406, Shridhar et al. arXiv:2109.12098) and the
// keypoint pretraining of Levine et al. (arXiv:1504.00702) do.
//
// Per step and camera: (u, v, visible) for [object, destination], u and v the
// projected point in [0, 1] image coordinates (u to the right, v down, as the
// frames are stored top-down). The object is masked from the step after the
// first close command on (it then moves with the gripper; the demos record
// only the initial layout), the destination never moves. The wrist camera
// follows the palm, whose pose is the TCP (proprio x, y, z, yaw) raised by
// GRIPPER.tcpBelowPalm.
import { BOWL, GRIPPER, OBJECT } from '../../sim/config.ts';
import { cameraWorldPose, projectPoint } from '../../sim/render/cameraMath.ts';
import type { CameraSpec, Quat, Vec3 } from '../../sim/types.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { SPATIAL_TARGETS, SPATIAL_VALUES } from '../../policies/spatialAux.ts';

export { SPATIAL_TARGETS, SPATIAL_VALUES };

const yawQuat = (yaw: number): Quat => [0, 0, Math.sin(yaw / 2), Math.cos(yaw / 2)]; // as sim/world.ts

/** World point of a named object (its centre) or bowl (its floor centre) in the initial layout. */
export function worldPoint(ep: EpisodeSpec, name: string): Vec3 {
  const o = ep.layout.objects.find((x) => x.name === name);
  if (o) return [o.x, o.y, OBJECT.half];
  const b = ep.layout.bowls.find((x) => x.name === name);
  if (b) return [b.x, b.y, BOWL.base];
  throw new Error(`episode ${ep.task}/${ep.seed}: no object or bowl named "${name}" in the layout`);
}

/** A camera's world pose given the TCP's proprio (x, y, z, yaw): fixed cameras ignore it, the wrist camera follows the palm. */
export function cameraPoseAt(cam: CameraSpec, proprio: ArrayLike<number>): ReturnType<typeof cameraWorldPose> {
  return cam.mount === 'fixed' ? cameraWorldPose(cam) : cameraWorldPose(cam, [proprio[0], proprio[1], proprio[2] + GRIPPER.tcpBelowPalm], yawQuat(proprio[3]));
}

/**
 * [steps * cameras.length * SPATIAL_TARGETS * SPATIAL_VALUES], step-major,
 * then camera, then target (object, destination), then (u, v, visible).
 * proprio: [steps * proprioDim] with x, y, z, yaw first; actions: [steps * actionDim].
 */
export function spatialTargets(
  ep: EpisodeSpec, cameras: CameraSpec[], proprio: Float32Array, proprioDim: number,
  actions: Float32Array, actionDim: number, gripperIndex: number, steps: number,
): Float32Array {
  const points = [worldPoint(ep, ep.goal.object), worldPoint(ep, ep.goal.target)];
  const per = cameras.length * SPATIAL_TARGETS * SPATIAL_VALUES;
  const out = new Float32Array(steps * per);
  let grasped = false;
  for (let t = 0; t < steps; t++) {
    const p = proprio.subarray(t * proprioDim, t * proprioDim + 4);
    cameras.forEach((cam, c) => {
      const pose = cameraPoseAt(cam, p);
      points.forEach((w, k) => {
        const o = t * per + (c * SPATIAL_TARGETS + k) * SPATIAL_VALUES;
        if (k === 0 && grasped) return; // (0, 0, invisible)
        const uv = projectPoint(pose, cam.fovDeg, 1, 1, w);
        if (!uv || uv[0] < 0 || uv[0] > 1 || uv[1] < 0 || uv[1] > 1) return;
        out.set([uv[0], uv[1], 1], o);
      });
    });
    if (actions[t * actionDim + gripperIndex] > 0.5) grasped = true; // observation t still shows the object in place
  }
  return out;
}
