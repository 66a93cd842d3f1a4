// Robustness probes: the same held-out episodes rendered differently
// (sim/render/appearance.ts) — camera pose shift, dim and tinted lighting, a
// distractor texture on the table — one resumable eval run per probe
// (src/analysis/conditions.ts), summarized as <out>/robustness.{json,html}
// with an example policy-camera frame of each probe (<out>/frames/<probe>.png).
// Physics, layouts and instructions are unchanged, so any drop is the vision's.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Appearance } from '../../sim/render/appearance.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { esc } from '../report/charts.ts';
import { type ConditionRunOptions, runConditions } from './conditions.ts';
import { conditionFrames } from './frames.ts';
import type { GroupedRow } from './grouped.ts';

export const PROBES: Record<string, Appearance> = {
  none: {},
  camera_shift: { cameraShift: [0.04, 0, 0.03] }, // 4 cm sideways, 3 cm up (the view also turns ~5 degrees)
  dim_light: { lightScale: 0.5 },
  warm_light: { lightTint: [1, 0.75, 0.5] },
  checker_table: { tableTexture: 'checker' },
};

export async function runRobustness(o: ConditionRunOptions & { split?: string; probes?: string[]; chromium?: string }): Promise<GroupedRow[]> {
  const names = o.probes ?? Object.keys(PROBES);
  for (const n of names) if (!PROBES[n]) throw new Error(`unknown probe "${n}" (probes: ${Object.keys(PROBES).join(', ')})`);
  const split = o.split ?? 'heldout_layout';
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  if (!o.quiet) process.stderr.write(`robustness: ${names.length} probes, example frames -> ${join(o.out, 'frames')}\n`);
  const ex = await conditionFrames(o, suite, split, names.map((n) => ({ name: n, perturbation: { appearance: PROBES[n] } })));
  return runConditions(o, names.map((probe) => ({ name: probe, eval: { split, baselines: false, appearance: PROBES[probe] } })), {
    name: 'robustness', title: 'vlalab: robustness probes', groupTitle: 'probe',
    intro: `Success rate on the ${split} split under rendering-only changes (camera pose, lighting, table texture), 95% Wilson intervals. The scripted expert does not look at images, so it is not repeated here.`,
    meta: { experiment: 'robustness', suite: o.suite, split, probes: Object.fromEntries(names.map((n) => [n, PROBES[n]])), episodesPerProbe: o.episodes ?? 'all', exampleEpisode: ex.episode, exampleCameras: ex.cameras },
    frames: { frames: ex.frames, caption: `What each probe changes: the first observation of episode ${esc(`${ex.episode.task}/${ex.episode.seed}`)} as the policy sees it (cameras left to right: ${esc(ex.cameras.join(', '))}).` },
  });
}
