// Outputs of a paired comparison (eval/compare.ts): the terminal table,
// compare.json and a self-contained compare.html (inline SVG, no assets).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { barChart, esc, htmlPage } from '../report/charts.ts';
import { PALETTE, policyColors } from '../report/palette.ts';
import type { CompareRow, PairedComparison, Verdict } from './compare.ts';
import type { Interval } from './stats.ts';

/** The run directory each side came from. */
export interface CompareSides {
  runA: string;
  runB: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ci = (i: Interval) => `${pct(i.p)} [${pct(i.lo)}, ${pct(i.hi)}]`;
const pFmt = (p: number) => (p >= 0.001 ? p.toFixed(3) : p.toExponential(1));
const mdeFmt = (r: CompareRow) => (r.mde === null ? '-' : `${(100 * r.mde).toFixed(0)} pt`);

/** One line per task and the overall row, then what the verdicts mean for this run. */
export function formatCompareTable(c: PairedComparison, sides: CompareSides): string {
  const header = ['task', 'pairs', `A success [95% CI]`, `B success [95% CI]`, 'b (A only)', 'c (B only)', 'p', `power@${(100 * c.effect).toFixed(0)}pt`, 'mde', 'verdict'];
  const line = (r: CompareRow) => [r.name, String(r.pairs), ci(r.successA), ci(r.successB), String(r.b), String(r.c), pFmt(r.p), r.power.toFixed(2), mdeFmt(r), r.verdict];
  const lines = [...c.rows, c.overall].map(line);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((x, i) => x.padEnd(widths[i])).join('  ');
  const rule = fmt(widths.map((w) => '-'.repeat(w)));
  const notes = [
    `A = ${c.policyA} (${sides.runA})`,
    `B = ${c.policyB} (${sides.runB})`,
    '',
    fmt(header), rule, ...c.rows.map(line).map(fmt), rule, fmt(line(c.overall)),
    '',
    `Exact McNemar test on the discordant pairs, alpha ${c.alpha}; HELD = not significant with power >= ${c.minPower} to detect a ${(100 * c.effect).toFixed(0)}-point difference, UNDERPOWERED = not significant and less power than that; mde = smallest difference detectable at that power.`,
  ];
  if (c.onlyA || c.onlyB) notes.push(`unpaired episodes, excluded from the test: ${c.onlyA} only in A, ${c.onlyB} only in B`);
  if (c.versionMismatches) notes.push(`warning: ${c.versionMismatches} pairs come from different suite versions (their episodes may differ)`);
  return notes.join('\n');
}

const COLORS: Record<Verdict, string> = { IMPROVED: '#2e7d32', REGRESSED: '#c62828', HELD: '#455a64', UNDERPOWERED: '#9e9e9e' };

export function compareHtml(c: PairedComparison, sides: CompareSides, meta: Record<string, unknown>): string {
  const all = [...c.rows, c.overall];
  const cell = (i: Interval) => `${pct(i.p)} <small>[${pct(i.lo)}, ${pct(i.hi)}] (${i.k}/${i.n})</small>`;
  const table = `<table><tr><th>task</th><th>pairs</th><th>A success (95% Wilson)</th><th>B success (95% Wilson)</th><th>b: A only</th><th>c: B only</th><th>p (exact McNemar)</th><th>power at ${(100 * c.effect).toFixed(0)} pt</th><th>mde</th><th>verdict</th></tr>
${all.map((r) => `<tr${r.name === 'overall' ? ' style="font-weight:bold"' : ''}><td style="text-align:left">${esc(r.name)}</td><td>${r.pairs}</td><td>${cell(r.successA)}</td><td>${cell(r.successB)}</td><td>${r.b}</td><td>${r.c}</td><td>${pFmt(r.p)}</td><td>${r.power.toFixed(2)}</td><td>${mdeFmt(r)}</td><td style="color:#fff;background:${COLORS[r.verdict]}">${r.verdict}</td></tr>`).join('\n')}</table>`;
  const chart = barChart({
    title: 'Success on the paired episodes (95% Wilson)', yLabel: 'success rate', series: [`A: ${c.policyA}`, `B: ${c.policyB}`], yMin: 0, yMax: 1,
    // each side in its policy's colour; the same policy from two runs: the first two palette colours
    colors: c.policyA === c.policyB ? PALETTE.slice(0, 2) : [c.policyA, c.policyB].map(policyColors([c.policyA, c.policyB])),
    width: Math.max(600, 150 + all.length * 74),
    groups: all.map((r) => ({ label: r.name, bars: [r.successA, r.successB].map((i) => ({ value: i.p, lo: i.lo, hi: i.hi })) })),
  });
  const unpaired = c.onlyA || c.onlyB ? `<p>Unpaired episodes, excluded from the test: ${c.onlyA} only in A, ${c.onlyB} only in B.</p>` : '';
  const mismatch = c.versionMismatches ? `<p><b>Warning:</b> ${c.versionMismatches} pairs come from different suite versions (their episodes may differ).</p>` : '';
  const body = `<p><b>A</b> = ${esc(c.policyA)} <small>(${esc(sides.runA)})</small>, <b>B</b> = ${esc(c.policyB)} <small>(${esc(sides.runB)})</small>. Episodes are paired by (suite, split, task, seed);
the exact McNemar test uses only the discordant pairs (b: A succeeded and B failed, c: the reverse), two-sided, alpha ${c.alpha}.
IMPROVED / REGRESSED: p &lt; alpha with B better / worse. HELD: not significant, and the run had power &ge; ${c.minPower} to detect a true
difference of ${(100 * c.effect).toFixed(0)} points at the observed discordance. UNDERPOWERED: not significant, with less power than that (no conclusion).
mde: the smallest difference the run could have detected with power ${c.minPower}. Per-task tests are not corrected for multiplicity.</p>
${unpaired}${mismatch}${table}${chart}<h2>Metadata</h2><pre>${esc(JSON.stringify(meta, null, 2))}</pre>`;
  return htmlPage(`vlalab compare: ${c.policyB} vs ${c.policyA}`, body);
}

/** A label or directory name made safe as a path part. */
export const slug = (s: string) => s.replace(/[^A-Za-z0-9._@+-]+/g, '_');

/** The default output folder name for two policies of one run. */
export const compareDirName = (policyA: string, policyB: string) => `compare-${slug(policyA)}-vs-${slug(policyB)}`;

/** Write DIR/compare.json and DIR/compare.html; returns their paths. */
export function writeCompare(dir: string, c: PairedComparison, sides: CompareSides, meta: Record<string, unknown> = {}): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const full = { ...sides, ...meta, createdAt: new Date().toISOString() };
  const json = join(dir, 'compare.json'), html = join(dir, 'compare.html');
  writeFileSync(json, JSON.stringify({ meta: full, ...c }, null, 2) + '\n');
  writeFileSync(html, compareHtml(c, sides, full));
  return { json, html };
}
