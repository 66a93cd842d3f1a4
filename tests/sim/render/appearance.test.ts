// Appearance probes (Node side): validation messages and the camera shift.
import { describe, expect, it } from 'vitest';
import { checkAppearance, checkerTexels, shiftedCameras } from '../../../sim/render/appearance.ts';
import { TABLE } from '../../../sim/config.ts';
import { DEFAULT_CAMERAS } from '../../../sim/config.ts';
import { PROBES } from '../../../src/analysis/robustness.ts';

describe('appearance probes', () => {
  it('shifts fixed cameras only (the wrist camera rides the gripper)', () => {
    const shifted = shiftedCameras(DEFAULT_CAMERAS, [0.04, 0, 0.03]);
    const scene = DEFAULT_CAMERAS.find((c) => c.name === 'scene')!;
    const s2 = shifted.find((c) => c.name === 'scene')!;
    expect(s2.position.map((v, i) => +(v - scene.position[i]).toFixed(6))).toEqual([0.04, 0, 0.03]);
    expect(s2.target).toEqual(scene.target);
    expect(shifted.find((c) => c.name === 'wrist')).toEqual(DEFAULT_CAMERAS.find((c) => c.name === 'wrist'));
    expect(shiftedCameras(DEFAULT_CAMERAS, undefined)).toBe(DEFAULT_CAMERAS);
  });

  it('rejects bad probe values by name; every registered probe is valid', () => {
    expect(() => checkAppearance({ lightScale: Number.NaN })).toThrow(/lightScale/);
    expect(() => checkAppearance({ lightTint: [1, 1] as never })).toThrow(/lightTint must be 3 numbers/);
    expect(() => checkAppearance({ tableTexture: 'marble' as never })).toThrow(/tableTexture must be "plain" or "checker", got "marble"/);
    expect(() => checkAppearance({ cameraShift: [0, 0, 1] })).toThrow(/cameraShift must be 3 numbers within/);
    for (const p of Object.values(PROBES)) expect(checkAppearance(p)).toEqual(p);
    expect(Object.keys(PROBES)).toEqual(['none', 'camera_shift', 'dim_light', 'warm_light', 'checker_table']);
  });

  it('checkerStrength blends the checkerboard from the table colour (1 = the probe); it needs the checker table', () => {
    const full = checkerTexels(), half = checkerTexels(0.5);
    expect(checkerTexels(1)).toEqual(full);
    const table = TABLE.color.map((c) => Math.round(c * 255));
    const colours = new Set<string>();
    for (let i = 0; i < full.length; i += 4) {
      colours.add(`${full[i]},${full[i + 1]},${full[i + 2]}`);
      for (let k = 0; k < 3; k++) expect(Math.abs(half[i + k] - (table[k] + full[i + k]) / 2)).toBeLessThanOrEqual(1);
    }
    expect(colours.size).toBeGreaterThan(4); // a multi-coloured board, not a blend to one colour
    expect(checkAppearance({ tableTexture: 'checker', checkerStrength: 0.25 })).toEqual({ tableTexture: 'checker', checkerStrength: 0.25 });
    expect(() => checkAppearance({ tableTexture: 'checker', checkerStrength: 0 })).toThrow(/checkerStrength must be a number in \(0, 1\]/);
    expect(() => checkAppearance({ checkerStrength: 0.5 })).toThrow(/checkerStrength needs tableTexture "checker"/);
  });
});
