// Example frames of the conditions a report compares (robustness probes,
// perturbation levels): the first held-out episode's first observation under
// each condition, as the policy sees it (every camera side by side), rendered
// in headless Chromium (the page's conditionFrames), written as
// <out>/frames/<condition>.png and returned as base64 for the HTML report
// (charts.ts framesRow shows them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SuiteSpec } from '../../tasks/suite.ts';
import { evalEpisodes } from '../eval/records.ts';
import { encodePng, hstack } from '../io/png.ts';
import { b64ToBytes } from '../runtime/b64.ts';
import { HeadlessSession } from '../runtime/session.ts';
import type { Perturbation } from './perturbationAxes.ts';

export interface ConditionFrames {
  /** The episode the frames show. */
  episode: { task: string; seed: number };
  /** Camera names, left to right. */
  cameras: string[];
  /** Condition name -> base64 PNG. */
  frames: Record<string, string>;
}

/** One frame per condition, the first episode of split under it; <out>/frames/<name>.png. */
export async function conditionFrames(o: { out: string; chromium?: string }, suite: SuiteSpec, split: string, conditions: { name: string; perturbation: Perturbation }[]): Promise<ConditionFrames> {
  const [ep] = evalEpisodes(suite, split, 1);
  const dir = join(o.out, 'frames');
  mkdirSync(dir, { recursive: true });
  const frames: Record<string, string> = {};
  let cameras: string[] = [];
  const session = await HeadlessSession.open({ executablePath: o.chromium });
  try {
    for (const c of conditions) {
      const r = await session.call('conditionFrames', { suite, task: ep.task, split, seed: ep.seed, ...c.perturbation });
      cameras = Object.keys(r.frames);
      const img = hstack(Object.values(r.frames).map((b64) => ({ width: r.resolution, height: r.resolution, data: b64ToBytes(b64) })));
      const png = encodePng(img.width, img.height, img.data);
      writeFileSync(join(dir, `${c.name}.png`), png);
      frames[c.name] = Buffer.from(png).toString('base64');
    }
  } finally {
    await session.close();
  }
  return { episode: { task: ep.task, seed: ep.seed }, cameras, frames };
}
