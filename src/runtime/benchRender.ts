// Render throughput through the real page: render + readback of every camera,
// looped INSIDE the page so page.evaluate round trips are not measured.
import type { HeadlessSession } from './session.ts';
import type { BenchRenderOptions, BenchRenderResult } from '../app/api/render.ts';

export type { BenchRenderOptions, BenchRenderResult };

export async function benchRender(session: HeadlessSession, opts: BenchRenderOptions): Promise<BenchRenderResult> {
  return session.call('benchRender', opts);
}
