// Appearance probes for robustness experiments (issue: "robustness probes"):
// rendering-only changes of an episode that leave physics, layout and task
// untouched, so a policy's success under them measures how much its vision
// relies on the exact training appearance.
//   lightScale    multiplies both lights' intensities (0.5 = dim room, 1.6 = bright)
//   lightTint     colours both lights (e.g. warm [1, 0.8, 0.6])
//   tableTexture  'checker': the table top becomes a checkerboard of saturated
//                 colours drawn from the object palette (distractor texture)
//   checkerStrength  with 'checker': how far each cell's colour goes from the
//                 table's own wood colour to the palette colour (0..1, default
//                 1 = the full checkerboard); the perturbation levels grow it
//   cameraShift   metres added to the position of fixed cameras (their target
//                 stays, so the view also rotates slightly)
//   tableColor    a plain table top of this colour (domain randomization)
//   tablePattern  a procedural table texture: 'stripes' (bands of the given
//                 colours at an angle) or 'cells' (irregular Voronoi patches),
//                 the training family of sim/render/randomization.ts; the
//                 probe's checkerboard is deliberately not among them
import type { Scene } from '@babylonjs/core/scene';
import { StandardMaterial } from '@babylonjs/core/Materials/standardMaterial';
import { RawTexture } from '@babylonjs/core/Materials/Textures/rawTexture';
import { Texture } from '@babylonjs/core/Materials/Textures/texture';
import { Constants } from '@babylonjs/core/Engines/constants';
import { Color3 } from '@babylonjs/core/Maths/math.color';
import { TABLE } from '../config.ts';
import type { RGB, Vec3 } from '../types.ts';

export { shiftedCameras } from './cameraMath.ts';

export interface TablePattern {
  kind: 'stripes' | 'cells';
  /** 2-4 colours of the bands / patches. */
  colors: RGB[];
  /** Bands or patches across the table (2-24). */
  count: number;
  /** Stripe angle (radians) / patch placement seed. */
  angle: number;
  seed: number;
}

export interface Appearance {
  lightScale?: number;
  lightTint?: RGB;
  tableTexture?: 'plain' | 'checker';
  checkerStrength?: number;
  cameraShift?: Vec3;
  tableColor?: RGB;
  tablePattern?: TablePattern;
}

const isRgb = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= 1);

function checkPattern(p: TablePattern): void {
  const bad = (what: string) => { throw new Error(`appearance.tablePattern.${what}, got ${JSON.stringify(p)}`); };
  if (typeof p !== 'object' || p === null) bad('must be an object');
  if (p.kind !== 'stripes' && p.kind !== 'cells') bad('kind must be "stripes" or "cells"');
  if (!Array.isArray(p.colors) || p.colors.length < 2 || p.colors.length > 4 || !p.colors.every(isRgb)) bad('colors must be 2-4 RGB triples in [0, 1]');
  if (!(Number.isInteger(p.count) && p.count >= 2 && p.count <= 24)) bad('count must be an integer in [2, 24]');
  if (!(Number.isFinite(p.angle) && Number.isInteger(p.seed))) bad('angle must be a number and seed an integer');
}

/** Validated copy (clear errors for bad probe values). */
export function checkAppearance(a: Appearance): Appearance {
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (a.lightScale !== undefined && !(finite(a.lightScale) && a.lightScale >= 0 && a.lightScale <= 4)) throw new Error(`appearance.lightScale must be a number in [0, 4], got ${a.lightScale}`);
  if (a.lightTint !== undefined && !(Array.isArray(a.lightTint) && a.lightTint.length === 3 && a.lightTint.every((v) => finite(v) && v >= 0 && v <= 2))) throw new Error(`appearance.lightTint must be 3 numbers in [0, 2], got ${JSON.stringify(a.lightTint)}`);
  if (a.tableTexture !== undefined && a.tableTexture !== 'plain' && a.tableTexture !== 'checker') throw new Error(`appearance.tableTexture must be "plain" or "checker", got ${JSON.stringify(a.tableTexture)}`);
  if (a.checkerStrength !== undefined && !(finite(a.checkerStrength) && a.checkerStrength > 0 && a.checkerStrength <= 1)) throw new Error(`appearance.checkerStrength must be a number in (0, 1], got ${JSON.stringify(a.checkerStrength)}`);
  if (a.checkerStrength !== undefined && a.tableTexture !== 'checker') throw new Error('appearance.checkerStrength needs tableTexture "checker"');
  if (a.cameraShift !== undefined && !(Array.isArray(a.cameraShift) && a.cameraShift.length === 3 && a.cameraShift.every((v) => finite(v) && Math.abs(v) <= 0.3))) throw new Error(`appearance.cameraShift must be 3 numbers within +-0.3 m, got ${JSON.stringify(a.cameraShift)}`);
  if (a.tableColor !== undefined && !isRgb(a.tableColor)) throw new Error(`appearance.tableColor must be 3 numbers in [0, 1], got ${JSON.stringify(a.tableColor)}`);
  if (a.tablePattern !== undefined) checkPattern(a.tablePattern);
  const textures = [a.tableTexture === 'checker', a.tableColor !== undefined, a.tablePattern !== undefined].filter(Boolean).length;
  if (textures > 1) throw new Error('appearance: tableTexture "checker", tableColor and tablePattern exclude each other (one table top at a time)');
  return structuredClone(a);
}

const CHECKER_COLORS: RGB[] = [
  [0.86, 0.16, 0.16], [0.16, 0.62, 0.22], [0.2, 0.36, 0.9], [0.95, 0.8, 0.15], [0.95, 0.5, 0.1], [0.55, 0.25, 0.75], [0.9, 0.9, 0.88], [0.3, 0.3, 0.32],
];

/**
 * Texels of the checkerboard, RGBA [16, 16]: colours in a fixed pseudo-random
 * order, each `strength` of the way from the table colour to the palette one.
 */
export function checkerTexels(strength = 1): Uint8Array {
  const n = 16;
  const data = new Uint8Array(n * n * 4);
  let h = 12345;
  for (let i = 0; i < n * n; i++) {
    h = (Math.imul(h, 1103515245) + 12345) >>> 0;
    const c = CHECKER_COLORS[(h >>> 16) % CHECKER_COLORS.length];
    const mix = (k: number) => Math.round((strength === 1 ? c[k] : TABLE.color[k] + strength * (c[k] - TABLE.color[k])) * 255); // 1: the probe's texels exactly
    data.set([mix(0), mix(1), mix(2), 255], i * 4);
  }
  return data;
}

/** Checkerboard material: 16 x 16 cells per face (checkerTexels). */
export function checkerMaterial(scene: Scene, strength = 1): StandardMaterial {
  const n = 16;
  const data = checkerTexels(strength);
  const tex = new RawTexture(data, n, n, Constants.TEXTUREFORMAT_RGBA, scene, false, false, Texture.NEAREST_SAMPLINGMODE);
  const mat = new StandardMaterial('table_checker', scene);
  mat.diffuseTexture = tex;
  mat.specularColor = new Color3(0, 0, 0);
  mat.ambientColor = new Color3(0.5, 0.5, 0.5);
  return mat;
}

/** Texels of a procedural pattern, RGBA [n, n] (n = 64): pure function of the pattern. */
export function patternTexels(p: TablePattern, n = 64): Uint8Array {
  const data = new Uint8Array(n * n * 4);
  const rgba = (i: number, c: RGB) => data.set([Math.round(c[0] * 255), Math.round(c[1] * 255), Math.round(c[2] * 255), 255], i * 4);
  if (p.kind === 'stripes') {
    const cos = Math.cos(p.angle), sin = Math.sin(p.angle);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      const s = ((x + 0.5) / n) * cos + ((y + 0.5) / n) * sin; // position across the bands, in table widths
      const band = Math.floor(s * p.count + 1000 * p.count);
      rgba(y * n + x, p.colors[band % p.colors.length]);
    }
    return data;
  }
  // cells: nearest of `count * count / 4` seed points (irregular Voronoi patches), colours in seeded order
  const m = Math.max(3, Math.round((p.count * p.count) / 4));
  let h = (p.seed >>> 0) || 1;
  const next = () => ((h = (Math.imul(h, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pts = Array.from({ length: m }, () => [next(), next(), Math.floor(next() * p.colors.length)]);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
    const u = (x + 0.5) / n, v = (y + 0.5) / n;
    let best = 0, bd = Infinity;
    for (let k = 0; k < m; k++) {
      const d = (pts[k][0] - u) ** 2 + (pts[k][1] - v) ** 2;
      if (d < bd) { bd = d; best = k; }
    }
    rgba(y * n + x, p.colors[pts[best][2]]);
  }
  return data;
}

/**
 * The table-top material an appearance asks for (checker probe, plain
 * colour or procedural pattern), or null for the default table.
 */
export function tableMaterial(scene: Scene, a: Appearance): StandardMaterial | null {
  if (a.tableTexture === 'checker') return checkerMaterial(scene, a.checkerStrength ?? 1);
  if (!a.tableColor && !a.tablePattern) return null;
  const mat = new StandardMaterial('table_randomized', scene);
  if (a.tablePattern) {
    const n = 64;
    mat.diffuseTexture = new RawTexture(patternTexels(a.tablePattern, n), n, n, Constants.TEXTUREFORMAT_RGBA, scene, false, false, Texture.BILINEAR_SAMPLINGMODE);
  } else {
    const c = a.tableColor!;
    mat.diffuseColor = new Color3(c[0], c[1], c[2]);
  }
  mat.specularColor = new Color3(0, 0, 0);
  mat.ambientColor = new Color3(0.5, 0.5, 0.5);
  return mat;
}
