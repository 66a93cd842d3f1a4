// Sensor perturbations (sim/render/sensor.ts) on synthetic frames: each level
// of the pixel_noise, blur and occlusion axes changes the image more than the
// one before, reruns are identical, and nothing but the image changes.
import { describe, expect, it } from 'vitest';
import { applySensor, checkSensor, isIdentitySensor, OCCLUDER_RGB, occluderCentre, type SensorPerturbation } from '../../../sim/render/sensor.ts';
import type { Frame } from '../../../sim/types.ts';
import { AXES } from '../../../src/analysis/perturbationAxes.ts';

const W = 96;
/** A textured frame: diagonal stripes of two colours plus a smooth ramp (edges for blur, mid-range values for noise). */
function textured(): Frame {
  const data = new Uint8Array(W * W * 3);
  for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) {
    const on = ((x + y) >> 3) % 2 === 0;
    data.set(on ? [200, 60 + x, 40] : [50, 120, 60 + y], (y * W + x) * 3);
  }
  return { width: W, height: W, data };
}
const images = () => ({ scene: textured(), wrist: textured() });
const at = { seed: 100003, task: 'pick_place', step: 0 };
/** Byte equality (vitest's deep toEqual walks a typed array element by element: slow on frames). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const meanAbs = (a: Frame, b: Frame) => a.data.reduce((s, v, i) => s + Math.abs(v - b.data[i]), 0) / a.data.length;
const sensorLevels = (axis: string) => AXES.find((a) => a.name === axis)!.levels.map((l) => l.condition.sensor!);

describe('sensor perturbations', () => {
  it('each level of pixel_noise, blur and occlusion changes the scene image more than the one before', () => {
    for (const axis of ['pixel_noise', 'blur', 'occlusion']) {
      const nominal = images();
      const diffs = sensorLevels(axis).map((s) => meanAbs(applySensor(nominal, s, at).scene, nominal.scene));
      expect(diffs[0], axis).toBeGreaterThan(0);
      for (let i = 1; i < diffs.length; i++) expect(diffs[i], `${axis} level ${i + 1} vs ${i}`).toBeGreaterThan(diffs[i - 1]);
    }
  });

  it('leaves the input frames untouched and is identical for the same (seed, task, step)', () => {
    const src = images();
    const copy = src.scene.data.slice();
    const s: SensorPerturbation = { noise: 0.1, blur: 1, occluder: { size: 0.3 } };
    const a = applySensor(src, s, at), b = applySensor(images(), s, at);
    expect(same(src.scene.data, copy)).toBe(true);
    expect(same(a.scene.data, b.scene.data)).toBe(true);
    expect(same(a.wrist.data, b.wrist.data)).toBe(true);
  });

  it('noise is drawn afresh per step, per episode and per camera', () => {
    const s = { noise: 0.05 };
    const base = applySensor(images(), s, at);
    expect(same(applySensor(images(), s, { ...at, step: 1 }).scene.data, base.scene.data)).toBe(false);
    expect(same(applySensor(images(), s, { ...at, seed: at.seed + 1 }).scene.data, base.scene.data)).toBe(false);
    expect(same(applySensor(images(), s, { ...at, task: 'stack' }).scene.data, base.scene.data)).toBe(false);
    expect(same(base.wrist.data, base.scene.data)).toBe(false); // same input, own stream
    // zero-mean: the image's mean level barely moves (mid-range pixels, no clipping)
    const mean = (f: Frame) => f.data.reduce((x, v) => x + v, 0) / f.data.length;
    expect(Math.abs(mean(base.scene) - mean(images().scene))).toBeLessThan(0.5);
  });

  it('blur keeps a flat image flat and smooths edges', () => {
    const flat: Frame = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3).fill(77) };
    expect(same(applySensor({ scene: flat }, { blur: 3 }, at).scene.data, flat.data)).toBe(true);
    const step: Frame = { width: 16, height: 1, data: new Uint8Array(16 * 3) };
    for (let x = 8; x < 16; x++) step.data.fill(255, x * 3, x * 3 + 3);
    const out = applySensor({ scene: step }, { blur: 1 }, at).scene.data;
    expect(out[7 * 3]).toBeGreaterThan(0); // light spills across the edge
    expect(out[8 * 3]).toBeLessThan(255);
    expect(out[0]).toBe(0);
    expect(out[15 * 3]).toBe(255);
  });

  it('the occluder is a grey square of the level size on the scene camera only, at one spot per episode; larger levels cover the smaller', () => {
    const grey = (f: Frame) => {
      const set = new Set<number>();
      for (let i = 0; i < f.width * f.height; i++) if (f.data[i * 3] === OCCLUDER_RGB[0] && f.data[i * 3 + 1] === OCCLUDER_RGB[1] && f.data[i * 3 + 2] === OCCLUDER_RGB[2]) set.add(i);
      return set;
    };
    const [cx, cy] = occluderCentre(at.seed, at.task);
    expect(occluderCentre(at.seed, at.task)).toEqual([cx, cy]);
    expect(occluderCentre(at.seed + 1, at.task)).not.toEqual([cx, cy]);
    let prev = new Set<number>();
    for (const s of sensorLevels('occlusion')) {
      const out = applySensor(images(), s, at);
      const side = Math.round(s.occluder!.size * W);
      const g = grey(out.scene);
      expect(g.size).toBe(side * side); // centres in [0.3, 0.7] keep even the largest square inside the frame
      expect([...prev].every((i) => g.has(i))).toBe(true);
      const xs = [...g].map((i) => i % W), ys = [...g].map((i) => Math.floor(i / W));
      expect(Math.abs((Math.min(...xs) + Math.max(...xs) + 1) / 2 - cx * W)).toBeLessThanOrEqual(1);
      expect(Math.abs((Math.min(...ys) + Math.max(...ys) + 1) / 2 - cy * W)).toBeLessThanOrEqual(1);
      expect(same(out.wrist.data, images().wrist.data)).toBe(true);
      prev = g;
    }
    expect(same(applySensor(images(), { occluder: { size: 0.2, camera: 'wrist' } }, at).scene.data, images().scene.data)).toBe(true);
    expect(() => applySensor(images(), { occluder: { size: 0.2, camera: 'top' } }, at)).toThrow(/occluder.camera "top" is not a camera of this episode \(cameras: scene, wrist\)/);
  });

  it('rejects bad values by name', () => {
    expect(() => checkSensor({ noise: 2 })).toThrow(/sensor.noise must be a number in \[0, 1\]/);
    expect(() => checkSensor({ blur: -1 })).toThrow(/sensor.blur/);
    expect(() => checkSensor({ occluder: { size: Number.NaN } })).toThrow(/sensor.occluder.size/);
    expect(() => checkSensor({ jpeg: 0.5 } as never)).toThrow(/unknown field "jpeg"/);
    for (const a of AXES.filter((x) => x.kind === 'sensor')) for (const l of a.levels) expect(checkSensor(l.condition.sensor!)).toEqual(l.condition.sensor);
    expect(isIdentitySensor({})).toBe(true);
    expect(isIdentitySensor({ occluder: { size: 0 } })).toBe(true);
    expect(isIdentitySensor({ blur: 0.5 })).toBe(false);
  });
});
