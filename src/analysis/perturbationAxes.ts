// Perturbation axes with levels, from mild to severe (LIBERO-Plus,
// arXiv:2510.13626, which perturbs camera, robot initial state, light,
// background, sensor noise and layout and finds the camera axis the weakest
// for most models). Each level is one condition of `analyze robustness
// --levels` (src/analysis/robustnessLevels.ts): the held-out episodes run
// again with ONE thing changed:
//   appearance axes (camera_pose, light_intensity, light_tint, table_texture)
//     change the rendering only (sim/render/appearance.ts)
//   sensor axes (pixel_noise, blur, occlusion) change the policy's camera
//     image after rendering (sim/render/sensor.ts)
//   episode axes (robot_pose, distractors) change the physical episode
//     (tasks/perturbation.ts); the layout, goal, instruction and seed stay
// Level 0 of every axis is the one nominal run. The single-level probes of
// src/analysis/robustness.ts are points of these axes: camera_shift is
// camera_pose level 2, dim_light light_intensity level 2, warm_light
// light_tint level 2, checker_table table_texture level 4.
import type { Appearance } from '../../sim/render/appearance.ts';
import { RANDOMIZATION_RANGES, type RandomizationRanges } from '../../sim/render/randomization.ts';
import type { SensorPerturbation } from '../../sim/render/sensor.ts';
import type { Vec3 } from '../../sim/types.ts';
import { GRIPPER_START_RANGE } from '../../tasks/episode.ts';
import type { EpisodePerturbation } from '../../tasks/perturbation.ts';

/** What one condition changes; {} is the nominal episode. */
export interface Perturbation {
  appearance?: Appearance;
  sensor?: SensorPerturbation;
  perturbation?: EpisodePerturbation;
}

export interface AxisLevel {
  /** 1 = mildest. */
  level: number;
  /** Human label of the setting ("5 cm", "50%"). */
  label: string;
  condition: Perturbation;
}

export interface Axis {
  name: string;
  kind: 'appearance' | 'sensor' | 'episode';
  /** What grows along the axis. */
  description: string;
  levels: AxisLevel[];
}

const CAMERA_DIRECTION: Vec3 = [0.8, 0, 0.6]; // the camera_shift probe's direction: sideways and up
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const levels = <T>(values: T[], label: (v: T) => string, condition: (v: T) => Perturbation): AxisLevel[] =>
  values.map((v, i) => ({ level: i + 1, label: label(v), condition: condition(v) }));

export const AXES: Axis[] = [
  {
    name: 'camera_pose', kind: 'appearance', description: 'the scene camera moves sideways and up (its target stays, so the view also turns)',
    levels: levels([0.025, 0.05, 0.075, 0.1], (d) => `${+(d * 100).toFixed(1)} cm`, (d) => ({ appearance: { cameraShift: CAMERA_DIRECTION.map((c) => r4(c * d)) as Vec3 } })),
  },
  {
    name: 'light_intensity', kind: 'appearance', description: 'both lights dim to this share of their intensity',
    levels: levels([0.6, 0.5, 0.35, 0.2], (k) => `${Math.round(k * 100)}%`, (k) => ({ appearance: { lightScale: k } })),
  },
  {
    name: 'light_tint', kind: 'appearance', description: 'both lights turn warm: tint [1, 1 - s/2, 1 - s]',
    levels: levels([0.25, 0.5, 0.75, 1], (s) => `warm ${Math.round(s * 100)}%`, (s) => ({ appearance: { lightTint: [1, r4(1 - s / 2), r4(1 - s)] } })),
  },
  {
    name: 'table_texture', kind: 'appearance', description: 'the table top turns into a 16x16 checkerboard of object colours, this far from the wood colour',
    levels: levels([0.25, 0.5, 0.75, 1], (s) => `checker ${Math.round(s * 100)}%`, (s) => ({ appearance: { tableTexture: 'checker', ...(s < 1 ? { checkerStrength: s } : {}) } })),
  },
  {
    name: 'pixel_noise', kind: 'sensor', description: 'Gaussian pixel noise on every camera, drawn afresh each step (std as a share of 255)',
    levels: levels([0.02, 0.05, 0.1, 0.2], (s) => `std ${Math.round(s * 255)}/255`, (s) => ({ sensor: { noise: s } })),
  },
  {
    name: 'blur', kind: 'sensor', description: 'Gaussian blur on every camera (std in pixels of the 96 px frame)',
    levels: levels([0.5, 1, 2, 3], (s) => `${s} px`, (s) => ({ sensor: { blur: s } })),
  },
  {
    name: 'occlusion', kind: 'sensor', description: "a grey square over the scene camera's image (side as a share of the image side), at a spot drawn per episode",
    levels: levels([0.15, 0.25, 0.35, 0.5], (s) => `${Math.round(s * 100)}% side`, (s) => ({ sensor: { occluder: { size: s } } })),
  },
  {
    name: 'robot_pose', kind: 'episode', description: 'the gripper starts this far from home, in a direction drawn per episode, turned by this yaw',
    levels: levels([[0.08, 0.4], [0.12, 0.6], [0.16, 0.8], [0.2, 1]], ([d, y]) => `${d * 100} cm, ${y} rad`, ([distance, yaw]) => ({ perturbation: { robotPose: { distance, yaw } } })),
  },
  {
    name: 'distractors', kind: 'episode', description: 'distractor objects in the scene (the sampled ones stay; more are added)',
    levels: levels([3, 4, 5, 6], (n) => `${n}`, (n) => ({ perturbation: { distractors: n } })),
  },
];

export const AXIS_NAMES = AXES.map((a) => a.name);

/** The axes named in `list` ("a,b"; undefined = all), in AXES order; an unknown or repeated name is an error naming it. */
export function parseAxes(list: string | undefined): Axis[] {
  if (list === undefined) return AXES;
  const names = list.split(',').map((s) => s.trim());
  for (const n of names) {
    if (!n) throw new Error(`--axes: an empty axis name in "${list}" (axes: ${AXIS_NAMES.join(', ')})`);
    if (!AXIS_NAMES.includes(n)) throw new Error(`--axes: unknown axis "${n}" (axes: ${AXIS_NAMES.join(', ')})`);
  }
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`--axes: axis "${dup}" is named twice`);
  return AXES.filter((a) => names.includes(a.name));
}

/** The levels an axis runs at: all, or with `quick` the mildest and the most severe. */
export function levelsToRun(axis: Axis, quick = false): AxisLevel[] {
  return quick ? [axis.levels[0], axis.levels[axis.levels.length - 1]] : axis.levels;
}

/** Run-directory name of a condition (<out>/runs/<name>). */
export const conditionName = (axis: Axis | null, level: AxisLevel | null) => (axis && level ? `${axis.name}-${level.level}` : 'nominal');

/**
 * Why a condition lies inside what training saw ([] when it does not): every
 * field it changes must be within the training range. Appearance is checked
 * against the collection's randomization ranges (sim/render/randomization.ts),
 * the robot start against the sampler's range (tasks/episode.ts), the
 * distractor count against the training split's; a checkerboard table and
 * sensor corruptions are never part of collection.
 */
export function inTrainingRange(c: Perturbation, o: { ranges?: RandomizationRanges; trainDistractors?: [number, number] } = {}): string[] {
  const R = o.ranges ?? RANDOMIZATION_RANGES;
  const fields: { inside: boolean; why: string }[] = [];
  const within = (v: number, [lo, hi]: [number, number]) => v >= lo && v <= hi;
  const a = c.appearance ?? {};
  if (a.lightScale !== undefined) fields.push({ inside: within(a.lightScale, R.lightScale), why: `lightScale ${a.lightScale} within the training range [${R.lightScale.join(', ')}]` });
  if (a.lightTint) fields.push({ inside: a.lightTint.every((v) => within(v, R.tint)), why: `every tint channel within the training range [${R.tint.join(', ')}]` });
  if (a.cameraShift) fields.push({ inside: a.cameraShift.every((v) => Math.abs(v) <= R.cameraShift), why: `camera shift within the training jitter of ${R.cameraShift} m per axis` });
  if (a.tableTexture === 'checker' || a.tableColor || a.tablePattern) fields.push({ inside: a.tableTexture !== 'checker', why: 'a table top of the training families (plain colour, stripes, patches)' });
  const s = c.sensor ?? {};
  if (s.noise || s.blur || s.occluder) fields.push({ inside: false, why: '' });
  const p = c.perturbation ?? {};
  // the farthest training starts are the corners of the +-xy box, xy * sqrt(2) from home
  if (p.robotPose) fields.push({ inside: p.robotPose.distance <= GRIPPER_START_RANGE.xy * Math.SQRT2 && p.robotPose.yaw <= GRIPPER_START_RANGE.yaw, why: `robot start within the sampled start range (+-${GRIPPER_START_RANGE.xy} m, +-${GRIPPER_START_RANGE.yaw} rad)` });
  const td = o.trainDistractors;
  if (p.distractors !== undefined) fields.push({ inside: td !== undefined && within(p.distractors, td), why: `${p.distractors} distractors within the training split's ${td?.[0]}-${td?.[1]}` });
  return fields.length > 0 && fields.every((f) => f.inside) ? fields.map((f) => f.why) : [];
}
