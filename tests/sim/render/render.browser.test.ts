// End-to-end render test: builds the app (if stale), opens headless Chromium
// through HeadlessSession and renders a hand-built scene from a fixed and a
// wrist camera. Checks content, placement, row order, change and determinism.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessSession } from '../../../src/runtime/session.ts';
import { wireToFrame } from '../../../src/runtime/b64.ts';
import { benchRender } from '../../../src/runtime/benchRender.ts';
import { cameraWorldPose, projectPoint } from '../../../sim/render/cameraMath.ts';
import type { BodyVisual, CameraSpec, Frame, Quat, RenderOptions, SceneDescription, Vec3 } from '../../../sim/types.ts';

const W = 96;
const RED: [number, number, number] = [0.86, 0.1, 0.1];
const CLEAR = [0.62, 0.68, 0.75]; // BabylonRenderer's default clear color
const CAMERAS: CameraSpec[] = [
  { name: 'scene', mount: 'fixed', position: [0, -0.55, 0.5], target: [0, -0.02, 0], fovDeg: 50 },
  { name: 'wrist', mount: 'wrist', position: [0, -0.05, 0.02], target: [0, 0, -0.2], fovDeg: 75 },
];
const OPTS: RenderOptions = { width: W, height: W, cameras: CAMERAS };

const box = (name: string, role: BodyVisual['role'], half: Vec3, color: Vec3, offset: Vec3 = [0, 0, 0]): BodyVisual => ({
  name, role, parts: [{ shape: { type: 'box', half }, offset, color }],
});
const DESC: SceneDescription = {
  bodies: [
    box('table', 'table', [0.4, 0.4, 0.02], [0.62, 0.5, 0.38], [0, 0, -0.02]),
    box('red cube', 'object', [0.02, 0.02, 0.02], RED),
    { name: 'green cylinder', role: 'object', parts: [{ shape: { type: 'cylinder', radius: 0.02, halfHeight: 0.02 }, offset: [0, 0, 0], color: [0.1, 0.7, 0.15] }] },
    { name: 'blue prism', role: 'object', parts: [{ shape: { type: 'hexprism', radius: 0.02, halfHeight: 0.02 }, offset: [0, 0, 0], color: [0.12, 0.25, 0.9] }] },
    { name: 'yellow bowl', role: 'bowl', parts: [{ shape: { type: 'bowl', innerHalf: 0.055, wallHeight: 0.03, wall: 0.008, base: 0.006 }, offset: [0, 0, 0], color: [0.95, 0.85, 0.1] }] },
    box('palm', 'palm', [0.06, 0.018, 0.012], [0.18, 0.18, 0.2]),
    box('finger_l', 'finger', [0.006, 0.014, 0.03], [0.85, 0.85, 0.88]),
    box('finger_r', 'finger', [0.006, 0.014, 0.03], [0.85, 0.85, 0.88]),
  ],
};

const RED_AT: Vec3 = [0.08, 0.06, 0.02];
const PALM_AT: Vec3 = [0.08, 0.06, 0.2]; // straight above the red cube
const ID: Quat = [0, 0, 0, 1];

function poses(over: { red?: Vec3; palm?: Vec3 } = {}): number[] {
  const red = over.red ?? RED_AT;
  const palm = over.palm ?? PALM_AT;
  const fz = palm[2] - 0.012 - 0.03;
  const list: [Vec3, Quat][] = [
    [[0, 0, 0], ID], [red, ID], [[-0.1, 0.08, 0.02], ID], [[0, -0.05, 0.02], [0, 0, Math.sin(0.1), Math.cos(0.1)]],
    [[-0.12, -0.1, 0], ID], [palm, ID], [[palm[0] - 0.036, palm[1], fz], ID], [[palm[0] + 0.036, palm[1], fz], ID],
  ];
  return list.flatMap(([p, q]) => [...p, ...q]);
}

let session: HeadlessSession;
const pageErrors: string[] = [];

async function render(p: number[]): Promise<Record<string, Frame>> {
  const r = await session.call('renderScene', DESC, p, OPTS);
  return Object.fromEntries(Object.entries(r.frames).map(([k, w]) => [k, wireToFrame(w)]));
}

function stats(f: Frame) {
  let sum = 0, sq = 0;
  const colors = new Set<number>();
  let redN = 0, redX = 0, redY = 0;
  for (let i = 0; i < f.width * f.height; i++) {
    const [r, g, b] = [f.data[3 * i], f.data[3 * i + 1], f.data[3 * i + 2]];
    const l = (r + g + b) / 3;
    sum += l; sq += l * l;
    colors.add(((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3));
    if (r > 120 && r > 2.5 * g && r > 2.5 * b) { redN++; redX += i % f.width; redY += Math.floor(i / f.width); }
  }
  const n = f.width * f.height;
  return { std: Math.sqrt(sq / n - (sum / n) ** 2), colors: colors.size, redN, redCentroid: [redX / redN + 0.5, redY / redN + 0.5] };
}

const diffCount = (a: Frame, b: Frame) => {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 3) if (a.data[i] !== b.data[i] || a.data[i + 1] !== b.data[i + 1] || a.data[i + 2] !== b.data[i + 2]) n++;
  return n;
};

beforeAll(async () => {
  session = await HeadlessSession.open({ onError: (m) => pageErrors.push(m) });
}, 300_000);
afterAll(async () => { await session?.close(); });

describe('BabylonRenderer in headless Chromium', { timeout: 120_000 }, () => {
  it('renders both cameras at the requested size, with content', async () => {
    const frames = await render(poses());
    expect(Object.keys(frames).sort()).toEqual(['scene', 'wrist']);
    for (const f of Object.values(frames)) {
      expect([f.width, f.height, f.data.length]).toEqual([W, W, W * W * 3]);
      const s = stats(f);
      expect(s.std).toBeGreaterThan(12);
      expect(s.colors).toBeGreaterThan(12);
    }
    expect(pageErrors).toEqual([]);
  });

  it('puts the red cube where the pinhole model says (scene and wrist cameras)', async () => {
    const frames = await render(poses());
    const scenePose = cameraWorldPose(CAMERAS[0]);
    const wristPose = cameraWorldPose(CAMERAS[1], PALM_AT, ID);
    for (const [name, pose, minN] of [['scene', scenePose, 15], ['wrist', wristPose, 40]] as const) {
      const s = stats(frames[name]);
      const expected = projectPoint(pose, name === 'scene' ? 50 : 75, W, W, RED_AT)!;
      expect(s.redN, `${name} red pixels`).toBeGreaterThan(minN);
      expect(Math.hypot(s.redCentroid[0] - expected[0], s.redCentroid[1] - expected[1]), `${name} red centroid`).toBeLessThan(6);
    }
  });

  it('writes rows top-down: sky at the top of the scene camera, table at the bottom', async () => {
    const f = (await render(poses())).scene;
    const top = [f.data[0], f.data[1], f.data[2]];
    CLEAR.forEach((c, k) => expect(Math.abs(top[k] - Math.round(c * 255))).toBeLessThanOrEqual(3));
    const b = ((W - 1) * W + W / 2) * 3;
    expect(f.data[b]).toBeGreaterThan(f.data[b + 2]); // table is brown: red > blue; sky is bluish
  });

  it('changes when a pose changes and is identical for identical poses', async () => {
    const a = await render(poses());
    const moved = await render(poses({ red: [0.12, 0.02, 0.02] }));
    expect(diffCount(a.scene, moved.scene)).toBeGreaterThan(20);
    const palmMoved = await render(poses({ palm: [0.0, 0.0, 0.2] }));
    expect(diffCount(a.wrist, palmMoved.wrist)).toBeGreaterThan(100);
    const again = await render(poses());
    expect(diffCount(a.scene, again.scene)).toBe(0);
    expect(diffCount(a.wrist, again.wrist)).toBe(0);
  });

  it('top-down camera: +x right, +y up; hexprism has a vertex on local +x', async () => {
    const desc: SceneDescription = {
      bodies: [
        box('table', 'table', [0.4, 0.4, 0.02], [0.62, 0.5, 0.38], [0, 0, -0.02]),
        { name: 'hex', role: 'object', parts: [{ shape: { type: 'hexprism', radius: 0.1, halfHeight: 0.02 }, offset: [0, 0, 0], color: [0.12, 0.25, 0.9] }] },
        box('marker +x', 'object', [0.02, 0.02, 0.02], RED),
        box('marker +y', 'object', [0.02, 0.02, 0.02], [0.1, 0.7, 0.15]),
      ],
    };
    const p = [[0, 0, 0], [0, 0, 0.02], [0.2, 0, 0.02], [0, 0.2, 0.02]].flatMap((v) => [...v, 0, 0, 0, 1]);
    const top: CameraSpec = { name: 'top', mount: 'fixed', position: [0, 0, 1], target: [0, 0, 0], fovDeg: 40 };
    const r = await session.call('renderScene', desc, p, { width: W, height: W, cameras: [top] });
    const f = wireToFrame(r.frames.top);
    let xMin = W, xMax = -1, yMin = W, yMax = -1, redX = 0, redN = 0, greenY = 0, greenN = 0;
    for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) {
      const [R, G, B] = [f.data[3 * (y * W + x)], f.data[3 * (y * W + x) + 1], f.data[3 * (y * W + x) + 2]];
      if (B > 120 && B > 2 * R && B > 1.5 * G) { xMin = Math.min(xMin, x); xMax = Math.max(xMax, x); yMin = Math.min(yMin, y); yMax = Math.max(yMax, y); }
      if (R > 120 && R > 2.5 * G && R > 2.5 * B) { redX += x; redN++; }
      if (G > 100 && G > 2 * R && G > 2 * B) { greenY += y; greenN++; }
    }
    expect(redN).toBeGreaterThan(10);
    expect(greenN).toBeGreaterThan(10);
    expect(redX / redN).toBeGreaterThan(W * 0.75); // +x is to the right
    expect(greenY / greenN).toBeLessThan(W * 0.25); // +y is up (top rows)
    // Vertex on +x: the hexagon is wider along x (2r) than along y (sqrt(3) r).
    expect(xMax - xMin - (yMax - yMin)).toBeGreaterThanOrEqual(2);
  });

  it('appearance probes: dim and warm light, checker table; {} restores the default pixels exactly', async () => {
    const look = async (appearance: object) => {
      const r = await session.call('renderScene', DESC, poses(), OPTS, { appearance });
      return wireToFrame(r.frames.scene);
    };
    // the table fills the lower half of the scene camera
    const lower = (f: Frame) => {
      const sum = [0, 0, 0];
      const colors = new Set<number>();
      for (let y = W / 2; y < W; y++) for (let x = 0; x < W; x++) {
        const i = 3 * (y * W + x);
        for (let k = 0; k < 3; k++) sum[k] += f.data[i + k];
        colors.add(((f.data[i] >> 4) << 8) | ((f.data[i + 1] >> 4) << 4) | (f.data[i + 2] >> 4));
      }
      return { mean: sum.map((v) => v / ((W * W) / 2)), colors: colors.size };
    };
    const base = (await render(poses())).scene;
    const b = lower(base);
    const dim = lower(await look({ lightScale: 0.5 }));
    expect(dim.mean[0]).toBeLessThan(0.8 * b.mean[0]);
    const warm = lower(await look({ lightTint: [1, 0.75, 0.5] }));
    expect(warm.mean[2] / warm.mean[0]).toBeLessThan(0.85 * (b.mean[2] / b.mean[0])); // less blue relative to red
    const checker = lower(await look({ tableTexture: 'checker' }));
    expect(checker.colors).toBeGreaterThan(b.colors + 5);
    expect(diffCount(base, await look({}))).toBe(0); // the pooled renderer goes back to the default look
    await expect(look({ lightScale: -1 })).rejects.toThrow(/lightScale must be a number in \[0, 4\]/);
  });

  it('reports unknown page methods clearly', async () => {
    // @ts-expect-error: not a page method; the page's own check names the ones it has
    await expect(session.call('noSuchMethod')).rejects.toThrow(/noSuchMethod is not a function.*renderScene/);
  });

  it('benchRender returns a throughput figure', async () => {
    const r = await benchRender(session, { width: W, height: W, frames: 30, warmup: 3 });
    expect(r.framesPerSecond).toBeGreaterThan(5);
    expect(r.msPerFrameP50).toBeGreaterThan(0);
    console.log(`render+readback ${W}px, cameras ${r.cameras.join('+')}: ${r.framesPerSecond.toFixed(0)} frames/s, p50 ${r.msPerFrameP50.toFixed(2)} ms`);
  });
});
