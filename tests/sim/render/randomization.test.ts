// Appearance randomization for collection (sim/render/randomization.ts):
// determinism, validity, and that the training ranges exclude every
// robustness probe's exact setting (so the probes still measure generalization).
import { describe, expect, it } from 'vitest';
import { checkAppearance, patternTexels } from '../../../sim/render/appearance.ts';
import { RANDOMIZATION_RANGES, sampleAppearance } from '../../../sim/render/randomization.ts';
import { PROBES } from '../../../src/analysis/robustness.ts';

const N = 2000;
const samples = Array.from({ length: N }, (_, i) => sampleAppearance(i, i % 2));

describe('appearance randomization', () => {
  it('is a pure function of (seed, task) and always a valid appearance', () => {
    expect(sampleAppearance(17, 1)).toEqual(sampleAppearance(17, 1));
    expect(JSON.stringify(sampleAppearance(17, 0))).not.toEqual(JSON.stringify(sampleAppearance(17, 1)));
    for (const a of samples) expect(checkAppearance(a)).toEqual(a);
  });

  it('covers each family in roughly its share', () => {
    const share = (f: (a: (typeof samples)[number]) => boolean) => samples.filter(f).length / N;
    const { nominalShare, table } = RANDOMIZATION_RANGES;
    const randomized = 1 - nominalShare;
    expect(share((a) => Object.keys(a).length === 0)).toBeCloseTo(nominalShare, 1);
    expect(share((a) => a.tableColor !== undefined)).toBeCloseTo(randomized * table.plain, 1);
    expect(share((a) => a.tablePattern?.kind === 'stripes')).toBeCloseTo(randomized * table.stripes, 1);
    expect(share((a) => a.tablePattern?.kind === 'cells')).toBeCloseTo(randomized * table.cells, 1);
    const scales = samples.flatMap((a) => (a.lightScale === undefined ? [] : [a.lightScale]));
    expect(Math.min(...scales)).toBeLessThan(0.75);
    expect(Math.max(...scales)).toBeGreaterThan(1.35);
  });

  it('never reaches a robustness probe: no light as low as dim_light, no warm_light tint, no checkerboard, no camera_shift-sized move', () => {
    const dim = PROBES.dim_light.lightScale!;
    const warm = PROBES.warm_light.lightTint!;
    const shift = PROBES.camera_shift.cameraShift!;
    for (const a of samples) {
      expect(a.tableTexture).toBeUndefined();
      if (a.lightScale !== undefined) expect(a.lightScale).toBeGreaterThan(dim + 0.1);
      if (a.lightTint) expect(Math.min(...a.lightTint)).toBeGreaterThan(Math.min(...warm) + 0.2);
      if (a.lightTint) expect(a.lightTint[1]).toBeGreaterThan(warm[1] + 0.05);
      if (a.cameraShift) {
        const d = Math.hypot(...a.cameraShift.map((v, i) => v - shift[i]));
        expect(d).toBeGreaterThan(0.02); // the probe's move is 5 cm; training jitter stays within 1.5 cm per axis
        expect(Math.max(...a.cameraShift.map(Math.abs))).toBeLessThanOrEqual(RANDOMIZATION_RANGES.cameraShift);
      }
    }
  });

  it('patterns are stripes or irregular patches, not a checkerboard', () => {
    const isChecker = (t: Uint8Array, n: number) => {
      // a checkerboard flips colour at every cell edge along rows AND columns on a regular grid:
      // count texels whose colour equals the texel diagonally across versus side by side
      let side = 0, diag = 0;
      for (let y = 0; y + 1 < n; y++) for (let x = 0; x + 1 < n; x++) {
        const c = (xx: number, yy: number) => t[(yy * n + xx) * 4] * 65536 + t[(yy * n + xx) * 4 + 1] * 256 + t[(yy * n + xx) * 4 + 2];
        if (c(x, y) !== c(x + 1, y) && c(x, y) !== c(x, y + 1)) { side++; if (c(x, y) === c(x + 1, y + 1)) diag++; }
      }
      return side > 0 && diag / side > 0.9 && side > n;
    };
    const checker = new Uint8Array(64 * 64 * 4);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) checker.fill(((x >> 2) + (y >> 2)) % 2 ? 255 : 0, (y * 64 + x) * 4, (y * 64 + x) * 4 + 3);
    expect(isChecker(checker, 64)).toBe(true); // the detector does see a checkerboard
    const p = samples.filter((a) => a.tablePattern).slice(0, 60);
    expect(p.length).toBe(60);
    for (const a of p) {
      const t = patternTexels(a.tablePattern!, 64);
      expect(t.length).toBe(64 * 64 * 4);
      const colors = new Set<number>();
      for (let i = 0; i < t.length; i += 4) colors.add(t[i] * 65536 + t[i + 1] * 256 + t[i + 2]);
      expect(colors.size).toBeGreaterThanOrEqual(2);
      expect(isChecker(t, 64)).toBe(false);
    }
  });

  it('rejects malformed table appearance by name', () => {
    expect(() => checkAppearance({ tableColor: [2, 0, 0] })).toThrow(/tableColor must be 3 numbers/);
    expect(() => checkAppearance({ tablePattern: { kind: 'checker' as never, colors: [[0, 0, 0], [1, 1, 1]], count: 4, angle: 0, seed: 1 } })).toThrow(/tablePattern.kind/);
    expect(() => checkAppearance({ tablePattern: { kind: 'cells', colors: [[0, 0, 0]], count: 4, angle: 0, seed: 1 } })).toThrow(/tablePattern.colors/);
    expect(() => checkAppearance({ tableTexture: 'checker', tableColor: [0.5, 0.5, 0.5] })).toThrow(/exclude each other/);
  });
});
