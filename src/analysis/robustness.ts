// Robustness probes: the same held-out episodes rendered differently
// (sim/render/appearance.ts) — camera pose shift, dim and tinted lighting, a
// distractor texture on the table — one resumable eval run per probe under
// <out>/runs/<probe>, summarized as <out>/robustness.{json,html}. Physics,
// layouts and instructions are unchanged, so any drop is the vision's.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Appearance } from '../../sim/render/appearance.ts';
import { runEval } from '../eval/runner.ts';
import { summarize } from '../eval/summary.ts';
import type { ConditionRunOptions } from './generalization.ts';
import { type GroupedRow, groupedHtml, groupedRows } from './grouped.ts';

export const PROBES: Record<string, Appearance> = {
  none: {},
  camera_shift: { cameraShift: [0.04, 0, 0.03] }, // 4 cm sideways, 3 cm up (the view also turns ~5 degrees)
  dim_light: { lightScale: 0.5 },
  warm_light: { lightTint: [1, 0.75, 0.5] },
  checker_table: { tableTexture: 'checker' },
};

export async function runRobustness(o: ConditionRunOptions & { split?: string; probes?: string[] }): Promise<GroupedRow[]> {
  const names = o.probes ?? Object.keys(PROBES);
  for (const n of names) if (!PROBES[n]) throw new Error(`unknown probe "${n}" (probes: ${Object.keys(PROBES).join(', ')})`);
  const split = o.split ?? 'heldout_layout';
  const perGroup = [];
  for (const probe of names) {
    const r = await runEval({
      policies: o.policies, suite: o.suite, split, episodes: o.episodes, workers: o.workers, backend: o.backend, out: join(o.out, 'runs', probe), quiet: o.quiet,
      baselines: false, appearance: PROBES[probe],
    });
    perGroup.push({ group: probe, summary: summarize(r.records) });
  }
  const rows = groupedRows(perGroup);
  mkdirSync(o.out, { recursive: true });
  const meta = { experiment: 'robustness', suite: o.suite, split, probes: Object.fromEntries(names.map((n) => [n, PROBES[n]])), episodesPerProbe: o.episodes ?? 'all', policies: o.policies, createdAt: new Date().toISOString() };
  writeFileSync(join(o.out, 'robustness.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(join(o.out, 'robustness.html'), groupedHtml({
    title: 'vlalab: robustness probes', groupTitle: 'probe', rows, meta,
    intro: `Success rate on the ${split} split under rendering-only changes (camera pose, lighting, table texture), 95% Wilson intervals. The scripted expert does not look at images, so it is not repeated here.`,
  }));
  return rows;
}
