// Render throughput through the real page: render + readback of every camera,
// looped INSIDE the page so page.evaluate round trips are not measured.
import type { HeadlessSession } from './session.ts';
import type { CameraSpec } from '../../sim/types.ts';
import type { BenchRenderResult } from '../app/api/render.ts';

export interface BenchRenderOptions {
  width: number;
  height: number;
  frames: number;
  /** Default: the sample scene's cameras (scene + wrist), i.e. what an episode renders. */
  cameras?: CameraSpec[];
  warmup?: number;
  /** Measure with the optional shadow pass on. */
  shadows?: boolean;
}

export type { BenchRenderResult };

export async function benchRender(session: HeadlessSession, opts: BenchRenderOptions): Promise<BenchRenderResult> {
  return session.call<BenchRenderResult>('benchRender', opts);
}
