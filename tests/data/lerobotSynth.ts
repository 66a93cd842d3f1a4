// A small synthetic demo dataset for the LeRobot export tests, written with DemoWriter (the real
// on-disk format): episodes of different lengths and instructions, one failure, two cameras whose
// frames are smooth gradients with a moving square (so each frame differs from its neighbours and
// a lossy codec can still reproduce it closely).
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { DemoWriter, datasetInfo } from '../../src/data/demoStore.ts';

export const SYNTH_INSTRUCTIONS = ['put the red cube in the blue bowl', 'stack the green prism on the yellow cube', 'put the red cube in the blue bowl'];
/** Steps per episode; episode 2 (index) is recorded as a failure. */
export const SYNTH_LENGTHS = [7, 4, 5, 9];
export const SYNTH_FAILED = 2;

export function synthFrame(res: number, e: number, t: number, cam: number): Uint8Array {
  const im = new Uint8Array(res * res * 3);
  const sx = (4 * t + 3 * e) % (res - 8), sy = (3 * t + 5 * e + 7 * cam) % (res - 8);
  for (let y = 0; y < res; y++) for (let x = 0; x < res; x++) {
    const i = (y * res + x) * 3;
    const inSq = x >= sx && x < sx + 8 && y >= sy && y < sy + 8;
    im[i] = inSq ? 240 : 30 + Math.round((150 * x) / res) + 10 * e;
    im[i + 1] = inSq ? 60 : 40 + Math.round((120 * y) / res) + 30 * cam;
    im[i + 2] = inSq ? 50 : 80 + Math.round((60 * (x + y)) / (2 * res)) + 5 * t;
  }
  return im;
}

export function synthState(e: number, t: number): number[] {
  return [0.01 * t - 0.003 * e, -0.02 * e, 0.16 - 0.004 * t, 0.05 * e, t > 3 ? 0.04 : 0.09, t > 3 ? 1 : 0];
}

export function synthAction(e: number, t: number): number[] {
  const s = Math.sin(0.7 * t + 1.3 * e);
  return [0.025 * s, -0.02 * Math.cos(0.5 * t + e), 0.01 * s, 0.1 * s, t > 3 ? 1 : 0, t === SYNTH_LENGTHS[e] - 1 ? 1 : 0];
}

/** Writes the dataset into `dir` (resolution `res`, cameras scene + wrist); returns `dir`. */
export function writeSynthDataset(dir: string, res = 32, cameras = ['scene', 'wrist']): string {
  const w = new DemoWriter(dir, datasetInfo({ suite: 'tabletop', suiteVersion: '1.0.0', split: 'train', resolution: res, cameras }));
  SYNTH_LENGTHS.forEach((T, e) => {
    const images: Record<string, Uint8Array> = {};
    cameras.forEach((cam, c) => {
      images[cam] = new Uint8Array(T * res * res * 3);
      for (let t = 0; t < T; t++) images[cam].set(synthFrame(res, e, t, c), t * res * res * 3);
    });
    const proprio = new Float32Array(T * 6), actions = new Float32Array(T * 6);
    for (let t = 0; t < T; t++) {
      proprio.set(synthState(e, t), t * 6);
      actions.set(synthAction(e, t), t * 6);
    }
    const episode = {
      suite: 'tabletop', suiteVersion: '1.0.0', split: 'train', task: e % 2 ? 'stack' : 'pick_place', family: 'pick_place', seed: 100 + e,
      instruction: SYNTH_INSTRUCTIONS[e % SYNTH_INSTRUCTIONS.length], template: '', goal: {}, maxSteps: 50, layout: { objects: [], bowls: [] },
    } as unknown as EpisodeSpec;
    w.write({ episode, steps: T, success: e !== SYNTH_FAILED, images, proprio, actions });
  });
  return dir;
}
