// Appearance probes (Node side): validation messages and the camera shift.
import { describe, expect, it } from 'vitest';
import { checkAppearance, shiftedCameras } from '../../sim/render/appearance.ts';
import { DEFAULT_CAMERAS } from '../../sim/config.ts';
import { PROBES } from '../../src/analysis/robustness.ts';

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
});
