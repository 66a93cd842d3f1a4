// Success rates of several policies under several conditions (held-out
// splits, appearance probes, ...): one eval run per condition, one row per
// (condition, policy), a grouped bar chart with Wilson 95% intervals.
import { policyColors } from '../report/palette.ts';
import type { PolicySummary } from '../eval/summary.ts';
import { barChart, esc, FRAMES_STYLE, framesRow, htmlPage } from '../report/charts.ts';

/** One policy's success under one condition, with its Wilson 95% interval. */
export interface SuccessRow {
  policy: string;
  backbone: string;
  episodes: number;
  successes: number;
  rate: number;
  lo: number;
  hi: number;
}

export interface GroupedRow extends SuccessRow {
  /** The condition: a split name, a probe name, ... */
  group: string;
}

/** The success fields of one policy's eval summary. */
export function successRow(s: PolicySummary): SuccessRow {
  return { policy: s.policy, backbone: s.backbone, episodes: s.episodes, successes: s.success.k, rate: s.success.p, lo: s.success.lo, hi: s.success.hi };
}

/** Rows in (group, policy) order from per-condition eval summaries. */
export function groupedRows(perGroup: { group: string; summary: PolicySummary[] }[]): GroupedRow[] {
  return perGroup.flatMap(({ group, summary }) => summary.map((s) => ({ group, ...successRow(s) })));
}

/** A table cell, e.g. "61.0% [54, 68] (122/200)"; '-' for no row. */
export const successCell = (r: SuccessRow | undefined) => (r ? `${(100 * r.rate).toFixed(1)}% [${(100 * r.lo).toFixed(0)}, ${(100 * r.hi).toFixed(0)}] (${r.successes}/${r.episodes})` : '-');

/** Markdown table (README / terminal): one row per group, one column per policy. */
export function groupedMarkdown(rows: GroupedRow[], groupTitle: string): string {
  const groups = [...new Set(rows.map((r) => r.group))];
  const policies = [...new Set(rows.map((r) => r.policy))];
  const find = (g: string, p: string) => rows.find((x) => x.group === g && x.policy === p);
  return [`| ${groupTitle} | ${policies.join(' | ')} |`, `|---|${policies.map(() => '---').join('|')}|`, ...groups.map((g) => `| ${g} | ${policies.map((p) => successCell(find(g, p))).join(' | ')} |`)].join('\n');
}

/** An example frame per group (conditions that change the rendering): base64 PNG by group, and what they show (HTML). */
export interface GroupFrames {
  frames: Record<string, string>;
  caption: string;
}

export function groupedHtml(o: { title: string; intro: string; groupTitle: string; rows: GroupedRow[]; meta: Record<string, unknown>; frames?: GroupFrames }): string {
  const groups = [...new Set(o.rows.map((r) => r.group))];
  const policies = [...new Set(o.rows.map((r) => r.policy))];
  const find = (g: string, p: string) => o.rows.find((x) => x.group === g && x.policy === p);
  const bars = groups.map((g) => ({ label: g.replace(/^heldout_/, ''), bars: policies.map((p) => { const r = find(g, p); return r ? { value: r.rate, lo: r.lo, hi: r.hi } : { value: 0 }; }) }));
  const table = `<table><tr><th>${o.groupTitle}</th>${policies.map((p) => `<th>${p}</th>`).join('')}</tr>${groups.map((g) => `<tr><td style="text-align:left">${g}</td>${policies.map((p) => `<td>${successCell(find(g, p))}</td>`).join('')}</tr>`).join('')}</table>`;
  const frames = o.frames ? `${FRAMES_STYLE}<p>${o.frames.caption}</p>${framesRow(groups.map((g) => ({ name: g, alt: `${o.groupTitle} ${g}`, caption: esc(g) })), o.frames.frames)}` : '';
  const body = `<p>${o.intro}</p>${barChart({ title: `Success per ${o.groupTitle}`, yLabel: 'success rate', series: policies, colors: policies.map(policyColors(policies)), groups: bars, yMin: 0, yMax: 1 })}${frames}${table}<pre>${JSON.stringify(o.meta, null, 2)}</pre>`;
  return htmlPage(o.title, body);
}
