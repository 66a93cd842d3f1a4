// HTML report of `analyze robustness --levels` (src/analysis/robustnessLevels.ts):
// per axis, success against level per policy with 95% Wilson intervals, the
// example policy-camera frame of every level, and a table marking the levels
// that lie inside the training ranges (in-distribution) and, with two learned
// policies, the paired verdict between them.
import { policyColors } from '../report/palette.ts';
import { esc, FRAMES_STYLE, framesRow, htmlPage, lineChart } from '../report/charts.ts';
import type { SplitVerdict } from './generalization.ts';
import { successCell } from './grouped.ts';
import type { Axis } from './perturbationAxes.ts';
import type { LevelRow } from './robustnessLevels.ts';

function verdictCell(v: SplitVerdict | undefined): string {
  if (!v) return '';
  const o = v.overall;
  return `<td>${esc(o.verdict)} (b=${o.b}, c=${o.c}, p=${o.p.toFixed(3)})</td>`;
}

function axisSection(axis: Axis, rows: LevelRow[], paired: SplitVerdict[], frames: Record<string, string>): string {
  const mine = rows.filter((r) => r.axis === axis.name);
  const policies = [...new Set(mine.map((r) => r.policy))];
  const levels = [...new Map(mine.map((r) => [r.level, r])).values()].sort((a, b) => a.level - b.level);
  const color = policyColors(new Set(rows.map((r) => r.policy))); // every axis's chart: a policy missing from one keeps the others' colours
  const series = policies.map((p) => {
    const rs = mine.filter((r) => r.policy === p).sort((a, b) => a.level - b.level);
    return { name: p, color: color(p), points: rs.map((r) => [r.level, r.rate] as [number, number]), errors: rs.map((r) => [r.lo, r.hi] as [number, number]) };
  });
  const xTicks = levels.map((l) => ({ value: l.level, label: `${l.level}\n${l.label}` }));
  const chart = lineChart({ title: `${axis.name}: success vs level`, xLabel: 'level (0 = nominal)', yLabel: 'success rate', series, yMin: 0, yMax: 1, xTicks, width: 640, height: 320 });
  const ind = (l: LevelRow) => (l.inTraining.length ? ` <span class="ind" title="${esc(l.inTraining.join('; '))}">in-distribution</span>` : '');
  const figs = framesRow(levels.map((l) => ({ name: l.run, alt: `${axis.name} level ${l.level}`, caption: `${l.level}: ${esc(l.label)}${ind(l)}` })), frames);
  const hasPaired = paired.length > 0;
  const pairedHead = hasPaired ? `<th>paired: ${esc(paired[0].policyB)} vs ${esc(paired[0].policyA)}</th>` : '';
  const table = `<table><tr><th>level</th><th>setting</th><th>in training range?</th>${policies.map((p) => `<th>${esc(p)}</th>`).join('')}${pairedHead}</tr>${levels.map((l) =>
    `<tr><td>${l.level}</td><td style="text-align:left">${esc(l.label)}</td><td style="text-align:left">${l.level === 0 ? '-' : l.inTraining.length ? `<span class="ind">yes</span>: ${esc(l.inTraining.join('; '))}` : 'no'}</td>${policies.map((p) => `<td>${successCell(mine.find((r) => r.level === l.level && r.policy === p))}</td>`).join('')}${hasPaired ? verdictCell(paired.find((v) => v.split === l.run)) || '<td>-</td>' : ''}</tr>`).join('')}</table>`;
  return `<h2>${esc(axis.name)}</h2><p>${esc(axis.description)} (${axis.kind === 'episode' ? 'changes the physical episode: layout, goal, instruction and seed stay' : axis.kind === 'sensor' ? "changes the policy's camera image after rendering; physics identical" : 'changes the rendering only; physics identical'}).</p>
${chart}${figs}${table}`;
}

export function robustnessLevelsHtml(o: { axes: Axis[]; rows: LevelRow[]; paired: SplitVerdict[]; frames: Record<string, string>; meta: Record<string, unknown> }): string {
  const intro = `<p>Success rate (95% Wilson intervals) on the ${esc(o.meta.split)} split as one thing at a time is perturbed, from mild (level 1) to severe; level 0 is the nominal run shared by every axis, and every level runs the same episodes.
Each frame is the first observation of episode ${esc(JSON.stringify(o.meta.exampleEpisode))} as the policy sees it (cameras left to right: ${esc((o.meta.exampleCameras as string[] | undefined)?.join(', ') ?? '')}). Levels marked <span class="ind">in-distribution</span> lie inside what the training data covered (appearance randomization ranges, sampled robot start, training distractor counts).
The scripted expert does not look at images; it runs where the physical episode changes, to show those episodes stay solvable.</p>`;
  const body = intro + o.axes.map((a) => axisSection(a, o.rows, o.paired, o.frames)).join('\n') + `<pre>${esc(JSON.stringify(o.meta, null, 2))}</pre>`;
  return htmlPage('vlalab: robustness against perturbation level', FRAMES_STYLE + body);
}

/** Markdown table (terminal, results README): one row per (axis, level), one column per policy; "*" marks in-distribution levels. */
export function levelsMarkdown(rows: LevelRow[]): string {
  const policies = [...new Set(rows.map((r) => r.policy))];
  const keys = [...new Map(rows.map((r) => [`${r.axis}\u0000${r.level}`, r])).values()];
  return [`| axis | level | setting | ${policies.join(' | ')} |`, `|---|---|---|${policies.map(() => '---').join('|')}|`,
    ...keys.map((k) => `| ${k.axis} | ${k.level} | ${k.label}${k.inTraining.length ? ' *' : ''} | ${policies.map((p) => successCell(rows.find((r) => r.axis === k.axis && r.level === k.level && r.policy === p))).join(' | ')} |`)].join('\n');
}
