// Appearance probes for robustness experiments (issue: "robustness probes"):
// rendering-only changes of an episode that leave physics, layout and task
// untouched, so a policy's success under them measures how much its vision
// relies on the exact training appearance.
//   lightScale    multiplies both lights' intensities (0.5 = dim room, 1.6 = bright)
//   lightTint     colours both lights (e.g. warm [1, 0.8, 0.6])
//   tableTexture  'checker': the table top becomes a checkerboard of saturated
//                 colours drawn from the object palette (distractor texture)
//   cameraShift   metres added to the position of fixed cameras (their target
//                 stays, so the view also rotates slightly)
import type { Scene } from '@babylonjs/core/scene';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial';
import { RawTexture } from '@babylonjs/core/Materials/Textures/rawTexture';
import { Texture } from '@babylonjs/core/Materials/Textures/texture';
import { Constants } from '@babylonjs/core/Engines/constants';
import { Color3 } from '@babylonjs/core/Maths/math.color';
import type { CameraSpec, RGB, Vec3 } from '../types.ts';

export interface Appearance {
  lightScale?: number;
  lightTint?: RGB;
  tableTexture?: 'plain' | 'checker';
  cameraShift?: Vec3;
}

/** Validated copy (clear errors for bad probe values). */
export function checkAppearance(a: Appearance): Appearance {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (a.lightScale !== undefined && !(finite(a.lightScale) && a.lightScale >= 0 && a.lightScale <= 4)) throw new Error(`appearance.lightScale must be a number in [0, 4], got ${a.lightScale}`);
  if (a.lightTint !== undefined && !(Array.isArray(a.lightTint) && a.lightTint.length === 3 && a.lightTint.every((v) => finite(v) && v >= 0 && v <= 2))) throw new Error(`appearance.lightTint must be 3 numbers in [0, 2], got ${JSON.stringify(a.lightTint)}`);
  if (a.tableTexture !== undefined && a.tableTexture !== 'plain' && a.tableTexture !== 'checker') throw new Error(`appearance.tableTexture must be "plain" or "checker", got ${JSON.stringify(a.tableTexture)}`);
  if (a.cameraShift !== undefined && !(Array.isArray(a.cameraShift) && a.cameraShift.length === 3 && a.cameraShift.every((v) => finite(v) && Math.abs(v) <= 0.3))) throw new Error(`appearance.cameraShift must be 3 numbers within +-0.3 m, got ${JSON.stringify(a.cameraShift)}`);
  return structuredClone(a);
}

/** Cameras with the shift applied to the fixed ones (wrist cameras ride the gripper). */
export function shiftedCameras(cameras: CameraSpec[], shift: Vec3 | undefined): CameraSpec[] {
  if (!shift) return cameras;
  return cameras.map((c) => (c.mount === 'fixed' ? { ...c, position: [c.position[0] + shift[0], c.position[1] + shift[1], c.position[2] + shift[2]] as Vec3 } : c));
}

const CHECKER_COLORS: RGB[] = [
  [0.86, 0.16, 0.16], [0.16, 0.62, 0.22], [0.2, 0.36, 0.9], [0.95, 0.8, 0.15], [0.95, 0.5, 0.1], [0.55, 0.25, 0.75], [0.9, 0.9, 0.88], [0.3, 0.3, 0.32],
];

/** Checkerboard material: 16 x 16 cells per face, colours in a fixed pseudo-random order. */
export function checkerMaterial(scene: Scene): StandardMaterial {
  const n = 16;
  const data = new Uint8Array(n * n * 4);
  let h = 12345;
  for (let i = 0; i < n * n; i++) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    const c = CHECKER_COLORS[(h >>> 16) % CHECKER_COLORS.length];
    data.set([Math.round(c[0] * 255), Math.round(c[1] * 255), Math.round(c[2] * 255), 255], i * 4);
  }
  const tex = new RawTexture(data, n, n, Constants.TEXTUREFORMAT_RGBA, scene, false, false, Texture.NEAREST_SAMPLINGMODE);
  const mat = new StandardMaterial('table_checker', scene);
  mat.diffuseTexture = tex;
  mat.specularColor = new Color3(0, 0, 0);
  mat.ambientColor = new Color3(0.5, 0.5, 0.5);
  return mat;
}
