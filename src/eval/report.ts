// Evaluation outputs in the run directory: summary.json, results.csv and a
// self-contained report.html (inline SVG charts, no external assets) with the
// per-backbone table, success rates with Wilson 95% intervals per task and
// overall, and latency percentiles per part.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUTCOMES } from '../../tasks/outcome.ts';
import { esc } from '../report/charts.ts';
import { PALETTE, policyColors } from '../report/palette.ts';
import { LATENCY_PARTS, type EpisodeRecord } from './records.ts';
import type { PolicyInfo, PolicySummary } from './summary.ts';

export interface RunMeta {
  [key: string]: unknown;
}

export function writeOutputs(dir: string, records: EpisodeRecord[], summary: PolicySummary[], meta: RunMeta): void {
  writeFileSync(join(dir, 'summary.json'), JSON.stringify({ meta, policies: summary }, null, 2) + '\n');
  writeFileSync(join(dir, 'results.csv'), toCsv(records));
  writeFileSync(join(dir, 'report.html'), toHtml(summary, meta));
}

/** A run directory's summary.json as writeOutputs wrote it: its meta, and what each policy's worker reported. Throws on unreadable JSON. */
export function readSummary(dir: string): { meta: RunMeta; policies: PolicyInfo[] } {
  const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { meta: RunMeta; policies?: PolicyInfo[] };
  const policies = (s.policies ?? []).map((p) => ({ policy: p.policy, backbone: p.backbone, params: p.params, flopsPerFrame: p.flopsPerFrame, decodePoint: p.decodePoint, chunkLength: p.chunkLength, decoding: p.decoding, head: p.head, chunkExecution: p.chunkExecution }));
  return { meta: s.meta, policies };
}

export function toCsv(records: EpisodeRecord[]): string {
  const cols = ['suite', 'suiteVersion', 'split', 'task', 'seed', 'policy', 'backbone', 'backend', 'success', 'steps', 'terminated', 'failure', 'outcome', 'targetDistance_m', 'instruction',
    ...LATENCY_PARTS.map((p) => `${p}_p50`)];
  const q = (v: unknown) => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const med = (xs: number[]) => {
    if (!xs.length) return '';
    const s = [...xs].sort((a, b) => a - b);
    return ((s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2).toFixed(3);
  };
  const rows = records.map((r) => [r.suite, r.suiteVersion, r.split, r.task, r.seed, r.policy, r.backbone, r.backend, r.success, r.steps, r.terminated,
    r.failure ? `${r.failure.kind}: ${r.failure.message}` : '', r.outcome?.kind, r.outcome?.targetDistance.toFixed(4), r.instruction, ...LATENCY_PARTS.map((p) => med(r.latency.flatMap((l) => (l[p] === undefined ? [] : [l[p]]))))].map(q).join(','));
  return [cols.join(','), ...rows].join('\n') + '\n';
}

/** Rows of CSV text as toCsv writes it (RFC 4180: fields with a comma, quote or newline are quoted, quotes doubled). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') (field += '"'), i++;
      else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(field), (field = ''));
    else if (ch === '\n') (row.push(field), rows.push(row), (row = []), (field = ''));
    else field += ch;
  }
  if (field !== '' || row.length > 0) (row.push(field), rows.push(row));
  return rows;
}

/** Horizontal bars with CI whiskers: one group per label, one bar per series (a policy, coloured by color). */
function ciChart(title: string, groups: string[], series: { name: string; values: ({ p: number; lo: number; hi: number } | undefined)[] }[], color: (policy: string) => string): string {
  const barH = 14, gap = 10, left = 170, width = 620, plotW = width - left - 20;
  const groupH = series.length * barH + gap;
  const height = 40 + groups.length * groupH + 20;
  const x = (v: number) => left + v * plotW;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif" font-size="11">`;
  svg += `<text x="${left}" y="16" font-size="13" font-weight="bold">${esc(title)}</text>`;
  for (let t = 0; t <= 10; t += 2) svg += `<line x1="${x(t / 10)}" y1="26" x2="${x(t / 10)}" y2="${height - 18}" stroke="#ddd"/><text x="${x(t / 10)}" y="${height - 5}" text-anchor="middle">${t * 10}%</text>`;
  groups.forEach((g, gi) => {
    const y0 = 30 + gi * groupH;
    svg += `<text x="${left - 6}" y="${y0 + (series.length * barH) / 2 + 4}" text-anchor="end">${esc(g)}</text>`;
    series.forEach((s, si) => {
      const v = s.values[gi];
      if (!v) return;
      const y = y0 + si * barH;
      svg += `<rect x="${left}" y="${y}" width="${v.p * plotW}" height="${barH - 3}" fill="${color(s.name)}"><title>${esc(s.name)}: ${(100 * v.p).toFixed(1)}% [${(100 * v.lo).toFixed(1)}, ${(100 * v.hi).toFixed(1)}]</title></rect>`;
      const yc = y + (barH - 3) / 2;
      svg += `<line x1="${x(v.lo)}" y1="${yc}" x2="${x(v.hi)}" y2="${yc}" stroke="#222"/><line x1="${x(v.lo)}" y1="${yc - 3}" x2="${x(v.lo)}" y2="${yc + 3}" stroke="#222"/><line x1="${x(v.hi)}" y1="${yc - 3}" x2="${x(v.hi)}" y2="${yc + 3}" stroke="#222"/>`;
    });
  });
  return svg + '</svg>';
}

/** Grouped bars of latency percentiles per part, log-free linear axis; a policy without latency (the expert) has no bars and takes no colour. */
function latencyChart(summary: PolicySummary[], color: (policy: string) => string): string {
  const parts = LATENCY_PARTS.filter((p) => summary.some((s) => s.latency[p]));
  const rows = summary.filter((s) => s.latency.totalMs);
  if (!rows.length) return '<p>No latency data (scripted policies only).</p>';
  const maxV = Math.max(...rows.flatMap((s) => parts.map((p) => s.latency[p]?.p99 ?? 0)), 1);
  const left = 100, width = 620, plotW = width - left - 20, barH = 12, groupH = rows.length * 3 * barH + 12;
  const height = 40 + parts.length * groupH + 20;
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif" font-size="11">`;
  svg += `<text x="${left}" y="16" font-size="13" font-weight="bold">Latency per control step (ms): p50 / p95 / p99, warm-up excluded</text>`;
  parts.forEach((part, pi) => {
    const y0 = 30 + pi * groupH;
    svg += `<text x="${left - 6}" y="${y0 + groupH / 2}" text-anchor="end">${esc(part.replace('Ms', ''))}</text>`;
    rows.forEach((s, si) => {
      const l = s.latency[part];
      if (!l) return;
      (['p50', 'p95', 'p99'] as const).forEach((q, qi) => {
        const y = y0 + (si * 3 + qi) * barH;
        svg += `<rect x="${left}" y="${y}" width="${(l[q] / maxV) * plotW}" height="${barH - 2}" fill="${color(s.policy)}" opacity="${1 - qi * 0.3}"><title>${esc(s.policy)} ${part} ${q}: ${l[q].toFixed(2)} ms</title></rect>`;
        svg += `<text x="${left + (l[q] / maxV) * plotW + 3}" y="${y + barH - 3}" font-size="9">${l[q].toFixed(1)}</text>`;
      });
    });
  });
  return svg + '</svg>';
}

/** One stacked bar per policy: the share of its episodes ending in each outcome (tasks/outcome.ts). */
function outcomeChart(summary: PolicySummary[]): string {
  const rows = summary.filter((s) => Object.keys(s.outcomes ?? {}).length > 0);
  if (!rows.length) return '';
  const barH = 16, left = 170, width = 620, plotW = width - left - 20;
  const height = 60 + rows.length * (barH + 6);
  let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="system-ui,sans-serif" font-size="11">`;
  svg += `<text x="${left}" y="16" font-size="13" font-weight="bold">Where episodes end (outcome taxonomy)</text>`;
  OUTCOMES.forEach((k, i) => {
    svg += `<rect x="${left + i * 64}" y="24" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${left + i * 64 + 13}" y="33" font-size="9">${k}</text>`;
  });
  rows.forEach((s, ri) => {
    const y = 44 + ri * (barH + 6);
    const n = Object.values(s.outcomes).reduce((a, b) => a + (b ?? 0), 0);
    svg += `<text x="${left - 6}" y="${y + barH - 4}" text-anchor="end">${esc(s.policy)}</text>`;
    let x = left;
    OUTCOMES.forEach((k, i) => {
      const c = s.outcomes[k] ?? 0;
      if (!c) return;
      const w = (c / n) * plotW;
      svg += `<rect x="${x}" y="${y}" width="${w}" height="${barH}" fill="${PALETTE[i % PALETTE.length]}"><title>${esc(s.policy)} ${k}: ${c}/${n}</title></rect>`;
      x += w;
    });
  });
  return svg + '</svg>';
}

export function toHtml(summary: PolicySummary[], meta: RunMeta): string {
  const tasks = [...new Set(summary.flatMap((s) => Object.keys(s.perTask)))];
  const fmtP = (i: { p: number; lo: number; hi: number; k: number; n: number }) => `${(100 * i.p).toFixed(1)}% <small>[${(100 * i.lo).toFixed(1)}, ${(100 * i.hi).toFixed(1)}] (${i.k}/${i.n})</small>`;
  const num = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d));
  const counts = (c: Record<string, number | undefined>) => esc(Object.entries(c).map(([k, v]) => `${k}: ${v}`).join(', ') || '-');
  const table = `<table><tr><th>policy</th><th>backbone</th><th>backend</th><th>episodes</th><th>success (95% Wilson CI)</th>${tasks.map((t) => `<th>${esc(t)}</th>`).join('')}
<th>total p50 / p95 / p99 ms</th><th>control Hz</th><th>params</th><th>GFLOPs / frame</th><th>failures</th><th>outcomes</th></tr>
${summary.map((s) => `<tr><td>${esc(s.policy)}</td><td>${esc(s.backbone)}</td><td>${esc(s.backend)}</td><td>${s.episodes}</td><td>${fmtP(s.success)}</td>${tasks.map((t) => `<td>${s.perTask[t] ? fmtP(s.perTask[t]) : '-'}</td>`).join('')}
<td>${num(s.latency.totalMs?.p50)} / ${num(s.latency.totalMs?.p95)} / ${num(s.latency.totalMs?.p99)}</td><td>${num(s.controlHz)}</td><td>${s.params === undefined ? '-' : (s.params / 1e6).toFixed(2) + 'M'}</td>
<td>${s.flopsPerFrame === undefined ? '-' : (s.flopsPerFrame / 1e9).toFixed(3)}</td><td>${counts(s.failures)}</td><td>${counts(s.outcomes)}</td></tr>`).join('\n')}</table>`;
  const series = summary.map((s) => ({ name: s.policy, values: [s.success, ...tasks.map((t) => s.perTask[t])] }));
  const color = policyColors(summary.map((s) => s.policy));
  return `<!doctype html><html><head><meta charset="utf-8"><title>vlalab evaluation</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f3f3f3}small{color:#666}.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}pre{background:#f7f7f7;padding:8px;overflow:auto}</style></head><body>
<h1>vlalab evaluation</h1>
<p>${esc(meta.suite)} v${esc(meta.suiteVersion)}, split <b>${esc(meta.split)}</b>. Success rates with 95% Wilson score intervals; latency percentiles exclude warm-up steps.</p>
<div class="legend">${summary.map((s) => `<span><i style="background:${color(s.policy)}"></i>${esc(s.policy)}</span>`).join('')}</div>
${table}
${ciChart('Success rate (95% Wilson CI)', ['overall', ...tasks], series, color)}
${outcomeChart(summary)}
${latencyChart(summary, color)}
<h2>Run metadata</h2><pre>${esc(JSON.stringify(meta, null, 2))}</pre>
</body></html>
`;
}
