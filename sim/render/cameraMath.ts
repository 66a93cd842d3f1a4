// Camera pose math, kept free of Babylon so it runs (and is tested) in Node.
// Conventions: world is right-handed, z up; quaternions are [x, y, z, w];
// cameras follow the OpenGL convention (look along local -z, local +y is the
// image "up"), which is what Babylon's TargetCamera uses in a right-handed scene.
import type { CameraSpec, Quat, Vec3 } from '../types.ts';

export interface CameraPose {
  eye: Vec3;
  target: Vec3;
  /** Unit vector that appears as "up" in the image (orthogonal to the view direction). */
  up: Vec3;
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
function normalize(a: Vec3): Vec3 {
  const n = Math.hypot(a[0], a[1], a[2]);
  if (n < 1e-12) throw new Error('cameraMath: zero-length vector (camera position equals target?)');
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** Rotates v by the unit quaternion q = [x, y, z, w]. */
export function rotate(q: Quat, v: Vec3): Vec3 {
  const u: Vec3 = [q[0], q[1], q[2]];
  const t = cross(u, v).map((c) => 2 * c) as Vec3;
  const ut = cross(u, t);
  return [v[0] + q[3] * t[0] + ut[0], v[1] + q[3] * t[1] + ut[1], v[2] + q[3] * t[2] + ut[2]];
}

/**
 * Image-up vector for a camera looking along `dir` in a frame whose z axis is
 * `zAxis` and y axis is `yAxis`. Up is z projected onto the image plane; when
 * looking (almost) straight along z, that projection vanishes, so we fall back
 * to +y, which is also the continuous limit for a camera tilted towards +y
 * (e.g. the default scene camera at -y looking at the table).
 */
function imageUp(dir: Vec3, zAxis: Vec3, yAxis: Vec3): Vec3 {
  const hint = Math.abs(dot(dir, zAxis)) > 0.999 ? yAxis : zAxis;
  const right = normalize(cross(dir, hint));
  return cross(right, dir);
}

/**
 * World pose of a camera. Fixed cameras use the spec as world coordinates; wrist
 * cameras take position/target in the palm frame and follow the palm pose.
 */
export function cameraWorldPose(spec: CameraSpec, palmPos?: Vec3, palmQuat?: Quat): CameraPose {
  if (spec.mount === 'fixed') {
    const dir = normalize(sub(spec.target, spec.position));
    return { eye: [...spec.position], target: [...spec.target], up: imageUp(dir, [0, 0, 1], [0, 1, 0]) };
  }
  if (!palmPos || !palmQuat) throw new Error(`camera "${spec.name}": wrist mount needs a body with role 'palm'`);
  const eye = add(palmPos, rotate(palmQuat, spec.position));
  const target = add(palmPos, rotate(palmQuat, spec.target));
  const dir = normalize(sub(target, eye));
  return { eye, target, up: imageUp(dir, rotate(palmQuat, [0, 0, 1]), rotate(palmQuat, [0, 1, 0])) };
}

/**
 * Camera-to-world rotation as a quaternion [x, y, z, w]: local -z maps to the
 * view direction and local +y to `up`. Feeding this to Babylon's
 * camera.rotationQuaternion avoids TargetCamera.setTarget, which assumes y-up.
 */
export function lookRotation(pose: CameraPose): Quat {
  const f = normalize(sub(pose.target, pose.eye));
  const r = normalize(cross(f, pose.up));
  const u = cross(r, f);
  // Rotation matrix columns: r, u, -f.
  const m00 = r[0], m01 = u[0], m02 = -f[0];
  const m10 = r[1], m11 = u[1], m12 = -f[1];
  const m20 = r[2], m21 = u[2], m22 = -f[2];
  const trace = m00 + m11 + m22;
  let x: number, y: number, z: number, w: number;
  if (trace > 0) {
    const s = 0.5 / Math.sqrt(trace + 1);
    w = 0.25 / s; x = (m21 - m12) * s; y = (m02 - m20) * s; z = (m10 - m01) * s;
  } else if (m00 > m11 && m00 > m22) {
    const s = 2 * Math.sqrt(1 + m00 - m11 - m22);
    w = (m21 - m12) / s; x = 0.25 * s; y = (m01 + m10) / s; z = (m02 + m20) / s;
  } else if (m11 > m22) {
    const s = 2 * Math.sqrt(1 + m11 - m00 - m22);
    w = (m02 - m20) / s; x = (m01 + m10) / s; y = 0.25 * s; z = (m12 + m21) / s;
  } else {
    const s = 2 * Math.sqrt(1 + m22 - m00 - m11);
    w = (m10 - m01) / s; x = (m02 + m20) / s; y = (m12 + m21) / s; z = 0.25 * s;
  }
  return [x, y, z, w];
}

/**
 * Pinhole projection of a world point to pixel coordinates (x right, y DOWN,
 * origin at the top-left corner, pixel centres at +0.5), matching the
 * top-down Frame layout. Returns null for points behind the camera.
 * Used by tests and handy for labelling/debugging frames.
 */
export function projectPoint(
  pose: CameraPose, fovDeg: number, width: number, height: number, p: Vec3,
): [number, number] | null {
  const f = normalize(sub(pose.target, pose.eye));
  const r = normalize(cross(f, pose.up));
  const u = cross(r, f);
  const d = sub(p, pose.eye);
  const depth = dot(d, f);
  if (depth <= 1e-9) return null;
  const tanHalf = Math.tan((fovDeg * Math.PI) / 360);
  const ndcY = dot(d, u) / (depth * tanHalf);
  const ndcX = dot(d, r) / (depth * tanHalf * (width / height));
  return [((ndcX + 1) / 2) * width, ((1 - ndcY) / 2) * height];
}

/** Cameras with the shift applied to the fixed ones (wrist cameras ride the gripper). */
export function shiftedCameras(cameras: CameraSpec[], shift: Vec3 | undefined): CameraSpec[] {
  if (!shift) return cameras;
  return cameras.map((c) => (c.mount === 'fixed' ? { ...c, position: [c.position[0] + shift[0], c.position[1] + shift[1], c.position[2] + shift[2]] as Vec3 } : c));
}
