// What the demo page's POLICY cameras render, captured through the page's own
// VlaEnv (window.vlalab.env(): the env the page runs, with the page's policy
// renderer attached). The orbit view may change its look; these frames must
// not change until a policy trained on a new look ships (issue 22). The
// fixture was captured on main's code before the orbit view changed
// (tests/app/capturePolicyFrames.ts); demo.browser.test.ts compares against it.
import { gunzipSync, gzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { WireFrame } from '../../src/runtime/b64.ts';

export const FIXTURE = 'tests/fixtures/demo-policy-frames.json.gz';

/** Seeds of the page's task (pick_place) and fixed actions that move, turn and close the gripper. */
export const SEEDS = [0, 7];
export const MOVES = [
  [0.025, -0.02, -0.025, 0.25, 1, 0],
  [-0.02, 0.025, -0.02, -0.1, 0.3, 0],
];

export interface PolicyFrameFixture {
  capturedFrom: string;
  userAgent: string;
  /** `seed<k>/<reset|step<i>>/<camera>` -> frame. */
  frames: Record<string, WireFrame>;
}

/** Resets the page's env to each seed, steps the fixed moves, and returns every policy-camera frame. */
export async function capturePolicyFrames(page: Page): Promise<Record<string, WireFrame>> {
  // No named function inside: tsx (esbuild keepNames) would wrap it in a __name() the page lacks.
  return page.evaluate(async ({ seeds, moves }) => {
    const env = (window as any).vlalab.env();
    const out: Record<string, { width: number; height: number; b64: string }> = {};
    for (const seed of seeds) {
      const states: [string, Record<string, { width: number; height: number; data: Uint8Array }>][] = [[`seed${seed}/reset`, (await env.reset({ seed }))[0].images]];
      for (let i = 0; i < moves.length; i++) states.push([`seed${seed}/step${i}`, (await env.step(moves[i])).obs.images]);
      for (const [key, images] of states) for (const [cam, f] of Object.entries(images)) {
        let s = '';
        for (let i = 0; i < f.data.length; i += 0x8000) s += String.fromCharCode.apply(null, f.data.subarray(i, i + 0x8000) as unknown as number[]);
        out[`${key}/${cam}`] = { width: f.width, height: f.height, b64: btoa(s) };
      }
    }
    return out;
  }, { seeds: SEEDS, moves: MOVES });
}

export function readFixture(): PolicyFrameFixture {
  return JSON.parse(gunzipSync(readFileSync(FIXTURE)).toString('utf8')) as PolicyFrameFixture;
}

export function writeFixture(f: PolicyFrameFixture): void {
  writeFileSync(FIXTURE, gzipSync(JSON.stringify(f), { level: 9 }));
}

/** Pixels (of 3 bytes) that differ between two frames of the same size. */
export function differingPixels(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.max(a.length, b.length) / 3;
  let n = 0;
  for (let i = 0; i < a.length; i += 3) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) n++;
  return n;
}
