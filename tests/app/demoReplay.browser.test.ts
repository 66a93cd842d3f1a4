import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { b64ToBytes, b64ToF32 } from '../../src/runtime/b64.ts';
import { quatYaw, solveArm } from '../../src/app/demo/ik.ts';
import { DEFAULT_SUITE, resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { ARTIFACTS, openDemo, policyState, type DemoPage } from './demoPage.ts';

// An episode opened from a link (task, seed, policy, backend, command), run,
// looked back at with the scrubber, downloaded as a WebM clip and a JSON
// record, and reproduced from the link the page gives.
const ep = sampleEpisode(resolveSuite(DEFAULT_SUITE), 'pick_place', 'train', 0);
const COMMAND = `drop the ${ep.goal.object} into the ${ep.goal.target}`;
const STATE = { task: 'pick_place', seed: 0, policy: 'ckpt:efficientnet-film', backend: 'wasm', command: COMMAND };
const QUERY = `?task=pick_place&seed=0&policy=ckpt:efficientnet-film&backend=wasm&cmd=${encodeURIComponent(COMMAND)}`;

let session: HeadlessSession;
let first: DemoPage;
let record: any; // the downloaded JSON
const errors: string[] = [];

/** Enter on the viewer canvas; resolves with the record summary when the episode is over. */
async function runToEnd(p: Page) {
  await p.uncheck('#realtime');
  await p.focus('#view');
  await p.keyboard.press('Enter');
  await p.waitForFunction(() => document.querySelector('#st-policy')?.getAttribute('data-state') === 'done', null, { timeout: 240_000 });
  return p.evaluate(() => (window as any).vlalab.record());
}

async function download(p: Page, button: string, path: string): Promise<Buffer> {
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: 120_000 }), p.click(button)]);
  await d.saveAs(path);
  return readFileSync(path);
}

beforeAll(async () => {
  session = await HeadlessSession.open({ page: 'index.html', onError: (m) => errors.push(m) });
  first = await openDemo(session, QUERY);
}, 300_000);
afterAll(async () => {
  await session?.close();
});

describe('demo replay and share', { timeout: 300_000 }, () => {
  it('restores task, seed, policy, backend and command from the link', async () => {
    const p = first.page;
    await p.waitForFunction(() => /restored from the link/.test(document.querySelector('#status')?.textContent ?? ''), null, { timeout: 60_000 });
    expect([await p.inputValue('#task'), await p.inputValue('#seed'), await p.inputValue('#policy-select'), await p.inputValue('#backend'), await p.inputValue('#text')])
      .toEqual(['pick_place', '0', 'ckpt:efficientnet-film', 'wasm', COMMAND]);
    expect(await p.textContent('#reading')).toMatch(new RegExp(`^object: ${ep.goal.object} · destination: ${ep.goal.target}`));
    expect(await p.textContent('#st-backend')).toBe('tfjs wasm (as asked)');
    expect(await p.getAttribute('#dl-clip', 'disabled')).not.toBeNull(); // nothing recorded yet
    expect(first.errors).toEqual([]);
  });

  it('records the episode as it runs and replays it step by step with the attention overlay', async () => {
    const p = first.page;
    await p.check('#looks');
    const summary = await runToEnd(p);
    expect(summary.state).toEqual(STATE);
    expect(summary.steps).toBe(summary.outcome.steps + 1);
    expect(summary.actions).toHaveLength(summary.outcome.steps);
    // keyboard on the scrubber: Home, then 5 steps on
    await p.focus('#scrub');
    await p.keyboard.press('Home');
    for (let i = 0; i < 5; i++) await p.keyboard.press('ArrowRight');
    expect(await p.inputValue('#scrub')).toBe('5');
    expect(await policyState(p)).toBe('replay');
    expect(await p.textContent('#hud')).toMatch(/step 5\//);
    const shown = await p.evaluate(() => {
      const c = document.querySelector('#policy') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      const s = document.querySelector('#saliency') as HTMLCanvasElement;
      const h = s.getContext('2d')!.getImageData(0, 0, s.width, s.height).data;
      let hot = 0;
      for (let i = 0; i < h.length; i += 4) if (h[i] > h[i + 2] + 60) hot++;
      return { w: c.width, h: c.height, rgba: Array.from(d.data), hot, joints: (window as any).vlalab.orbit().arm.joints as number[] };
    });
    expect(shown.hot).toBeGreaterThan(10);
    await p.screenshot({ path: `${ARTIFACTS}/replay-step5.png` });

    // The JSON record: what was shown at step 5 is the recorded step 5.
    record = JSON.parse((await download(p, '#dl-json', `${ARTIFACTS}/episode.json`)).toString('utf8'));
    expect(record.format).toBe('vlalab-demo-episode/1');
    expect(record.state).toEqual(STATE);
    expect(record.outcome).toEqual(summary.outcome);
    expect(record.steps.filter((s: any) => s.action).map((s: any) => s.action)).toEqual(summary.actions);
    expect(record.cameras).toEqual(['scene', 'wrist']);
    const s5 = record.steps[5];
    const [scene, wrist] = [b64ToBytes(s5.frames.scene), b64ToBytes(s5.frames.wrist)];
    expect([shown.w, shown.h, scene.length]).toEqual([192, 96, 96 * 96 * 3]);
    let mismatched = 0;
    for (let y = 0; y < 96; y++) for (let x = 0; x < 192; x++) {
      const src = x < 96 ? scene : wrist, i = 3 * (y * 96 + (x % 96)), j = 4 * (y * 192 + x);
      if (src[i] !== shown.rgba[j] || src[i + 1] !== shown.rgba[j + 1] || src[i + 2] !== shown.rgba[j + 2]) mismatched++;
    }
    expect(mismatched).toBe(0);
    // the viewer arm at step 5 is the IK solution for the recorded palm pose
    const poses = b64ToF32(s5.poses);
    const i = record.bodies.indexOf('palm');
    expect(i).toBeGreaterThan(0);
    expect(poses.length).toBe(7 * record.bodies.length);
    const q = [poses[7 * i + 3], poses[7 * i + 4], poses[7 * i + 5], poses[7 * i + 6]] as [number, number, number, number];
    const joints = solveArm([poses[7 * i], poses[7 * i + 1], poses[7 * i + 2]], quatYaw(q)).joints;
    joints.forEach((j, k) => expect(shown.joints[k]).toBeCloseTo(j, 9));
    // every step carries its latency parts and where the backbone looked
    for (const s of record.steps.slice(0, -1)) {
      const { inferred, ...ms } = s.timing as Record<string, unknown>;
      expect(Object.values(ms).every((v) => Number.isFinite(v as number))).toBe(true);
      expect(inferred).toBe(true); // a 1-step policy asks at every step
      expect(s.saliency.heat.length).toBe(s.saliency.grid[0] * s.saliency.grid[1]);
    }
    expect(record.steps.at(-1).action).toBeNull();
    expect(first.errors).toEqual([]);
  });

  it('downloads a WebM clip of the viewer camera', async () => {
    const p = first.page;
    const clip = await download(p, '#dl-clip', `${ARTIFACTS}/clip.webm`);
    expect(clip.length).toBeGreaterThan(2000);
    expect([...clip.subarray(0, 4)]).toEqual([0x1a, 0x45, 0xdf, 0xa3]); // EBML magic
    expect(clip.subarray(0, 64).toString('latin1')).toContain('webm'); // DocType
    expect(await p.textContent('#status')).toMatch(new RegExp(`^clip saved: \\d+ KB WebM of ${record.steps.length} frames at 10 fps$`));
    expect(first.errors).toEqual([]);
  });

  it('reproduces the episode from the link the page gives', async () => {
    const link: string = await first.page.inputValue('#share-url');
    expect(link).toBe(record.url);
    const url = new URL(link);
    const second = await openDemo(session, url.search);
    try {
      const again = await runToEnd(second.page);
      expect(again.state).toEqual(STATE);
      expect(again.outcome).toEqual(record.outcome);
      expect(again.actions).toEqual(record.steps.filter((s: any) => s.action).map((s: any) => s.action));
      expect(second.errors).toEqual([]);
    } finally {
      await second.page.close();
    }
    expect(errors).toEqual([]);
  });
});
