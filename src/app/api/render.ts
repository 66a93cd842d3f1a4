// Page API: rendering. Each api/*.ts module exports a plain object of async
// functions; headless.ts merges them into window.vlalab. Arguments and
// results cross page.evaluate, so they are JSON-like: binary data travels as
// base64 (see src/runtime/b64.ts).
import type { CameraSpec, PoseBuffer, RenderOptions, SceneDescription } from '../../../sim/types.ts';
import { sampleScene } from '../../../sim/render/sampleScene.ts';
import type { Appearance } from '../../../sim/render/appearance.ts';
import { b64ToF32, frameToWire, type WireFrame } from '../../runtime/b64.ts';
import { ensureScene, rendererFor } from '../rendererPool.ts';

/** Poses as a plain array, a Float32Array, or base64 of float32 bytes (fastest over the wire). */
export type PosesArg = number[] | Float32Array | string;

export function toPoseBuffer(p: PosesArg): PoseBuffer {
  if (typeof p === 'string') return b64ToF32(p);
  return p instanceof Float32Array ? p : Float32Array.from(p);
}

export interface RenderSceneResult {
  frames: Record<string, WireFrame>;
}

export interface BenchRenderOptions {
  width: number;
  height: number;
  frames: number;
  /** Defaults to the sample scene's cameras (scene + wrist). */
  cameras?: CameraSpec[];
  warmup?: number;
  shadows?: boolean;
}

export interface BenchRenderResult {
  /** render() calls per second; each renders AND reads back every camera. */
  framesPerSecond: number;
  /** Camera images per second (framesPerSecond x cameras). */
  cameraFramesPerSecond: number;
  msPerFrameP50: number;
  msPerFrameMean: number;
  /** Median split of a frame: JS draw calls, readPixels wait + copy, RGB conversion. */
  breakdownP50: { drawMs: number; readMs: number; convertMs: number };
  cameras: string[];
  width: number;
  height: number;
  frames: number;
  shadows: boolean;
  userAgent: string;
}

export const renderApi = {
  /** Renders `desc` at `poses` from every camera in `opts`; frames are RGB top-down, base64. */
  async renderScene(
    desc: SceneDescription, poses: PosesArg, opts: RenderOptions, extras: { shadows?: boolean; appearance?: Appearance } = {},
  ): Promise<RenderSceneResult> {
    const { appearance, ...rest } = extras;
    const renderer = rendererFor(opts, rest, appearance ?? {});
    ensureScene(renderer, desc);
    const frames = await renderer.render(toPoseBuffer(poses));
    const out: Record<string, WireFrame> = {};
    for (const [name, f] of Object.entries(frames)) out[name] = frameToWire(f);
    return { frames: out };
  },

  /** The built-in sample scene (what the demo page shows), for callers that need a quick scene. */
  async sampleScene(t = 0): Promise<{ desc: SceneDescription; poses: number[]; cameras: CameraSpec[] }> {
    const s = sampleScene();
    return { desc: s.desc, poses: Array.from(s.poses(t)), cameras: s.cameras };
  },

  /**
   * Render + readback throughput, measured inside the page so that
   * page.evaluate round trips are not counted. Poses change every frame.
   */
  async benchRender(o: BenchRenderOptions): Promise<BenchRenderResult> {
    const s = sampleScene();
    const cameras = o.cameras ?? s.cameras;
    const renderer = rendererFor({ width: o.width, height: o.height, cameras }, { shadows: o.shadows });
    ensureScene(renderer, s.desc);
    const warmup = o.warmup ?? 10;
    for (let i = 0; i < warmup; i++) await renderer.render(s.poses(i * 0.05));
    const times: number[] = [];
    const parts = { drawMs: [] as number[], readMs: [] as number[], convertMs: [] as number[] };
    const start = performance.now();
    for (let i = 0; i < o.frames; i++) {
      const t0 = performance.now();
      await renderer.render(s.poses(i * 0.05));
      times.push(performance.now() - t0);
      for (const k of ['drawMs', 'readMs', 'convertMs'] as const) parts[k].push(renderer.lastTimings[k]);
    }
    const totalS = (performance.now() - start) / 1000;
    const median = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? NaN;
    const fps = o.frames / totalS;
    return {
      framesPerSecond: fps,
      cameraFramesPerSecond: fps * cameras.length,
      msPerFrameP50: median(times),
      msPerFrameMean: (totalS * 1000) / o.frames,
      breakdownP50: { drawMs: median(parts.drawMs), readMs: median(parts.readMs), convertMs: median(parts.convertMs) },
      cameras: cameras.map((c) => c.name),
      width: o.width,
      height: o.height,
      frames: o.frames,
      shadows: !!o.shadows,
      userAgent: navigator.userAgent,
    };
  },
};
