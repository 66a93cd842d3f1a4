// Appearance randomization for demonstration collection (domain
// randomization, Tobin et al. 2017, arXiv:1703.06907): every recorded episode
// is rendered under its own lights, table top and a small camera jitter,
// drawn from the episode seed, so a policy cloned from the demos cannot key
// on the one training look. Rendering only: physics, layout, instruction and
// the expert's actions are those of the nominal episode.
//
// The ranges stay clear of the robustness probes (src/analysis/robustness.ts)
// so the probes keep measuring generalization, not memorization:
//   probe dim_light      lightScale 0.5          training: [0.7, 1.4]
//   probe warm_light     tint [1, 0.75, 0.5]     training: every channel in [0.85, 1]
//   probe checker_table  16x16 checkerboard      training: plain colours, stripes, Voronoi patches (never a checkerboard)
//   probe camera_shift   4 cm sideways, 3 cm up  training: at most 1.5 cm per axis
// A test asserts each exclusion (tests/sim/render/randomization.test.ts); every
// level of the perturbation axes (src/analysis/perturbationAxes.ts) lies
// outside these ranges too (tests/analysis/perturbationAxes.test.ts).
import { Rng } from '../rng.ts';
import type { RGB, Vec3 } from '../types.ts';
import type { Appearance, TablePattern } from './appearance.ts';

export interface RandomizationRanges {
  /** Share of episodes kept at the nominal appearance. */
  nominalShare: number;
  lightScale: [number, number];
  /** Per-channel light tint range (each channel drawn on its own). */
  tint: [number, number];
  /** Max |shift| of the fixed cameras per axis (metres). */
  cameraShift: number;
  /** Shares of table tops (the rest keeps the default wood colour): plain colour, stripes, patches. */
  table: { plain: number; stripes: number; cells: number };
  /** Bands / patch density across the table. */
  patternCount: [number, number];
  /** Chance that a pattern colour is saturated (like the object palette) rather than muted. */
  saturatedShare: number;
}

export const RANDOMIZATION_RANGES: RandomizationRanges = {
  nominalShare: 0.15,
  lightScale: [0.7, 1.4],
  tint: [0.85, 1],
  cameraShift: 0.015,
  table: { plain: 0.35, stripes: 0.25, cells: 0.25 },
  patternCount: [3, 12],
  saturatedShare: 0.5,
};

const SALT = 0xd0e1a7; // a stream of its own: layouts and DART noise draw from other seeds

/** HSV (h in [0, 1)) -> RGB. */
function hsv(h: number, s: number, v: number): RGB {
  const i = Math.floor(h * 6), f = h * 6 - i;
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const rgb: RGB[] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]];
  return rgb[i % 6].map((x) => Math.round(x * 1000) / 1000) as RGB;
}

function color(rng: Rng, saturated: boolean): RGB {
  return saturated ? hsv(rng.next(), rng.uniform(0.6, 0.9), rng.uniform(0.5, 0.95)) : hsv(rng.next(), rng.uniform(0, 0.5), rng.uniform(0.3, 0.85));
}

/** The appearance of episode (`seed`, task index `stream`) under `ranges` (a pure function of the three). */
export function sampleAppearance(seed: number, stream = 0, ranges: RandomizationRanges = RANDOMIZATION_RANGES): Appearance {
  const rng = new Rng(((seed * 31 + stream) ^ SALT) >>> 0);
  if (rng.next() < ranges.nominalShare) return {};
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  const a: Appearance = {
    lightScale: r3(rng.uniform(...ranges.lightScale)),
    lightTint: [0, 1, 2].map(() => r3(rng.uniform(...ranges.tint))) as RGB,
    cameraShift: [0, 1, 2].map(() => r3(rng.uniform(-ranges.cameraShift, ranges.cameraShift))) as Vec3,
  };
  const u = rng.next();
  const { plain, stripes, cells } = ranges.table;
  if (u < plain) a.tableColor = color(rng, false);
  else if (u < plain + stripes + cells) {
    const n = 2 + Math.floor(rng.next() * 3);
    const pattern: TablePattern = {
      kind: u < plain + stripes ? 'stripes' : 'cells',
      colors: Array.from({ length: n }, () => color(rng, rng.next() < ranges.saturatedShare)),
      count: Math.round(rng.uniform(...ranges.patternCount)),
      angle: r3(rng.uniform(0, Math.PI)),
      seed: rng.nextU32() & 0x7fffffff,
    };
    a.tablePattern = pattern;
  }
  return a;
}
