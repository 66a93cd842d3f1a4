// Sensor perturbations: changes to the camera IMAGE after rendering, for the
// robustness levels of src/analysis/perturbationAxes.ts (LIBERO-Plus,
// arXiv:2510.13626, perturbs sensor noise among its axes). Pure functions of
// the frame and a seed: the renderer and physics never see them, and the same
// (episode seed, task, step) always gives the same corrupted frame.
//   occluder  a flat grey square over part of one camera's image (`camera`,
//             default the fixed 'scene' camera), side `size` x the image side,
//             centred at a point drawn once per episode (the same centre at
//             every size, so a larger occluder covers the smaller one)
//   blur      Gaussian blur of standard deviation `blur` pixels (every camera)
//   noise     additive Gaussian pixel noise of standard deviation `noise` x 255,
//             drawn afresh every step (every camera)
// Order: occluder (a thing in front of the lens), then blur (optics), then
// noise (the sensor).
import { Rng } from '../rng.ts';
import type { Frame } from '../types.ts';

export interface SensorPerturbation {
  /** Gaussian pixel noise, standard deviation as a fraction of 255 (0..1). */
  noise?: number;
  /** Gaussian blur, standard deviation in pixels (0..8). */
  blur?: number;
  /** Square occluder: side as a fraction of the image side (0..1), on `camera` (default 'scene'). */
  occluder?: { size: number; camera?: string };
}

/** Grey of the occluder (a neutral colour that is neither table, object nor bowl). */
export const OCCLUDER_RGB = [128, 128, 128] as const;

/** Validated copy (clear errors naming the field). */
export function checkSensor(s: SensorPerturbation): SensorPerturbation {
  const num = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;
  if (typeof s !== 'object' || s === null) throw new Error(`sensor must be an object, got ${JSON.stringify(s)}`);
  const known = ['noise', 'blur', 'occluder'];
  const extra = Object.keys(s).filter((k) => !known.includes(k));
  if (extra.length) throw new Error(`sensor: unknown field ${extra.map((k) => `"${k}"`).join(', ')} (fields: ${known.join(', ')})`);
  if (s.noise !== undefined && !num(s.noise, 0, 1)) throw new Error(`sensor.noise must be a number in [0, 1] (fraction of 255), got ${JSON.stringify(s.noise)}`);
  if (s.blur !== undefined && !num(s.blur, 0, 8)) throw new Error(`sensor.blur must be a number in [0, 8] (pixels), got ${JSON.stringify(s.blur)}`);
  if (s.occluder !== undefined) {
    const o = s.occluder;
    if (typeof o !== 'object' || o === null || !num(o.size, 0, 1)) throw new Error(`sensor.occluder.size must be a number in [0, 1] (fraction of the image side), got ${JSON.stringify(o)}`);
    if (o.camera !== undefined && (typeof o.camera !== 'string' || !o.camera)) throw new Error(`sensor.occluder.camera must be a camera name, got ${JSON.stringify(o.camera)}`);
  }
  return structuredClone(s);
}

/** FNV-1a of a string: mixes the task name into the per-episode seed. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

const SALT = 0x5e4503; // a stream of its own: layouts, DART noise and appearance draw from other seeds

/** Where an episode's occluder sits: its centre in [0.3, 0.7] of the width and height (over the workspace). */
export function occluderCentre(seed: number, task: string): [number, number] {
  const rng = new Rng((hash(task) ^ seed ^ SALT) >>> 0);
  return [rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)];
}

function occlude(f: Frame, size: number, centre: [number, number]): void {
  const side = Math.round(size * Math.min(f.width, f.height));
  if (side <= 0) return;
  const x0 = Math.max(0, Math.round(centre[0] * f.width - side / 2)), y0 = Math.max(0, Math.round(centre[1] * f.height - side / 2));
  const x1 = Math.min(f.width, x0 + side), y1 = Math.min(f.height, y0 + side);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) f.data.set(OCCLUDER_RGB, (y * f.width + x) * 3);
}

/** Separable Gaussian blur (radius ceil(3 sigma), edges clamped), in place. */
function blur(f: Frame, sigma: number): void {
  const r = Math.ceil(3 * sigma);
  if (sigma <= 0 || r === 0) return;
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = k.reduce((a, b) => a + b, 0);
  const w = k.map((v) => v / sum);
  const { width: W, height: H, data } = f;
  const tmp = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += w[i + r] * data[(y * W + Math.min(W - 1, Math.max(0, x + i))) * 3 + c];
    tmp[(y * W + x) * 3 + c] = acc;
  }
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) {
    let acc = 0;
    for (let i = -r; i <= r; i++) acc += w[i + r] * tmp[(Math.min(H - 1, Math.max(0, y + i)) * W + x) * 3 + c];
    data[(y * W + x) * 3 + c] = Math.round(acc);
  }
}

function addNoise(f: Frame, std: number, rng: Rng): void {
  const s = std * 255;
  const d = f.data;
  for (let i = 0; i < d.length; i += 2) {
    // Box-Muller: two normals per pair of uniforms
    const u = 1 - rng.next(), v = rng.next();
    const m = Math.sqrt(-2 * Math.log(u));
    d[i] = Math.min(255, Math.max(0, Math.round(d[i] + s * m * Math.cos(2 * Math.PI * v))));
    if (i + 1 < d.length) d[i + 1] = Math.min(255, Math.max(0, Math.round(d[i + 1] + s * m * Math.sin(2 * Math.PI * v))));
  }
}

/**
 * The frames as the corrupted sensor delivers them at `step` of episode
 * (`seed`, `task`): new Frame objects, the inputs untouched. Cameras in
 * `images` order; each camera's noise has its own stream.
 */
export function applySensor(images: Record<string, Frame>, s: SensorPerturbation, at: { seed: number; task: string; step: number }): Record<string, Frame> {
  const out: Record<string, Frame> = {};
  const names = Object.keys(images);
  const occluded = s.occluder?.camera ?? 'scene';
  if (s.occluder && names.length > 0 && !names.includes(occluded)) throw new Error(`sensor.occluder.camera "${occluded}" is not a camera of this episode (cameras: ${names.join(', ')})`);
  for (const name of names) {
    const src = images[name];
    const f: Frame = { width: src.width, height: src.height, data: src.data.slice() };
    if (s.occluder && s.occluder.size > 0 && name === occluded) occlude(f, s.occluder.size, occluderCentre(at.seed, at.task));
    if (s.blur) blur(f, s.blur);
    if (s.noise) addNoise(f, s.noise, new Rng((hash(`${at.task}/${name}`) ^ Math.imul(at.seed, 0x9e3779b1) ^ Math.imul(at.step + 1, 0x85ebca6b) ^ SALT) >>> 0));
    out[name] = f;
  }
  return out;
}

/** True when `s` changes nothing (no field, or every strength 0). */
export function isIdentitySensor(s: SensorPerturbation | undefined): boolean {
  return !s || (!s.noise && !s.blur && !(s.occluder && s.occluder.size > 0));
}
