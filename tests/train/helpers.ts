// Tiny synthetic demo datasets (written with DemoWriter, the real on-disk
// format) and a tiny policy config, so training tests run in seconds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { DemoWriter, datasetInfo } from '../../src/data/demoStore.ts';
import type { VlaPolicyConfig } from '../../policies/policy.ts';

export interface SynthOptions {
  episodes: number;
  steps: number;
  resolution?: number;
  cameras?: string[];
  /** Indices of episodes recorded as failures (excluded from training). */
  failures?: number[];
  seed?: number;
}

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed when the test file is done. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vlalab-train-'));
  made.push(d);
  return d;
}

const INSTRUCTIONS = ['put the red cube in the blue bowl', 'stack the green prism on the yellow cube'];

/** Deterministic demo dataset in a fresh temp directory; returns its path. */
export function synthDataset(o: SynthOptions, dir = tempDir()): string {
  const res = o.resolution ?? 32;
  const cameras = o.cameras ?? ['scene', 'wrist'];
  const w = new DemoWriter(dir, datasetInfo({ suite: 'tabletop', suiteVersion: '1.0.0', split: 'train', resolution: res, cameras }));
  for (let e = 0; e < o.episodes; e++) {
    const seed = (o.seed ?? 0) * 1000 + e;
    const T = o.steps;
    const images: Record<string, Uint8Array> = {};
    cameras.forEach((cam, ci) => {
      const buf = new Uint8Array(T * res * res * 3);
      for (let t = 0; t < T; t++) {
        // background texture + a bright square whose position encodes (episode, t)
        const sq = { x: (3 * t + 5 * e) % (res - 6), y: (2 * t + 7 * e + ci) % (res - 6) };
        for (let y = 0; y < res; y++) for (let x = 0; x < res; x++) {
          const i = ((t * res + y) * res + x) * 3;
          const inSq = x >= sq.x && x < sq.x + 6 && y >= sq.y && y < sq.y + 6;
          buf[i] = inSq ? 250 : (x * 7 + y * 3 + e * 40) % 120;
          buf[i + 1] = inSq ? 40 : (x * 2 + y * 5 + ci * 60) % 120;
          buf[i + 2] = inSq ? 40 : (x + y + t * 9) % 120;
        }
      }
      images[cam] = buf;
    });
    const proprio = new Float32Array(T * 6);
    const actions = new Float32Array(T * 6);
    for (let t = 0; t < T; t++) {
      proprio.set([0.01 * t, -0.01 * e, 0.1 + 0.005 * t, 0, t > T / 2 ? 0.04 : 0.09, t > T / 2 ? 1 : 0], t * 6);
      const s = Math.sin(0.7 * t + 1.3 * e);
      actions.set([0.025 * s, -0.02 * Math.cos(0.5 * t + e), t < 3 ? -0.025 : 0.01 * s, 0.1 * s, t > T / 2 ? 1 : 0, t === T - 1 ? 1 : 0], t * 6);
    }
    for (let i = 0; i < actions.length; i++) actions[i] = Math.min(ACTION_HIGH[i % 6], Math.max(ACTION_LOW[i % 6], actions[i]));
    const instruction = INSTRUCTIONS[e % INSTRUCTIONS.length];
    const episode = {
      suite: 'tabletop', suiteVersion: '1.0.0', split: 'train', task: 'pick_place', family: 'pick_place', seed, instruction,
      template: '', goal: { object: 'red cube', target: 'blue bowl' }, maxSteps: 50,
      layout: {
        objects: [{ name: 'red cube', color: 'red', shape: 'cube', x: 0.01 * e, y: -0.02 * e, yaw: 0 }],
        bowls: [{ name: 'blue bowl', color: 'blue', x: 0.15, y: -0.1, yaw: 0 }],
      },
    } as unknown as EpisodeSpec;
    w.write({ episode, steps: T, success: !(o.failures ?? []).includes(e), images, proprio, actions });
  }
  return dir;
}

/** A policy small enough to train in a few seconds on wasm. */
export const TINY_POLICY: Partial<VlaPolicyConfig> = {
  backbone: 'efficientnet_film_xs_64',
  imageSize: 32,
  textDim: 16,
  textHeads: 2,
  gptLayers: 1,
  gptHeads: 2,
  gptDim: 32,
  gptMlpRatio: 2,
};

/** A tiny OpenVLA-style policy (no batch norm, few kernels: the fastest to overfit): patch tokens and language tokens in the decoder. */
export const TINY_VIT: Partial<VlaPolicyConfig> = {
  backbone: 'siglip_tiny_patch8_96',
  useTextTokens: true,
  backboneOverrides: { depth: 1, dim: 32, heads: 2, mlpRatio: 2 },
  imageSize: 32,
  textDim: 16,
  textHeads: 2,
  gptLayers: 1,
  gptHeads: 2,
  gptDim: 32,
  gptMlpRatio: 2,
};
