// Small, dependency-free SVG line charts for analysis reports (self-contained HTML).
// Colours come from the one palette of every report (src/report/palette.ts): a
// series that is a policy is coloured by its label (policyColors).
import { PALETTE } from './palette.ts';
export const esc = (s: unknown) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export interface Series {
  name: string;
  points: [number, number][];
  /** Optional error bars: [lo, hi] per point. */
  errors?: [number, number][];
  dashed?: boolean;
  /** A CSS colour (a policy's: policyColors), or an index into PALETTE; default: the series' index. */
  color?: number | string;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
  yMin?: number;
  yMax?: number;
  /** Fixed x ticks with their own labels (categorical levels) instead of numeric ones; "\n" starts a second line. */
  xTicks?: { value: number; label: string }[];
}

function ticks(lo: number, hi: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) out.push(m * 10 ** e);
    return out.filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  }
  const step = 10 ** Math.floor(Math.log10((hi - lo) / 5 || 1));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= 6) ?? step * 10;
  const out: number[] = [];
  for (let t = Math.ceil(lo / nice) * nice; t <= hi + 1e-9; t += nice) out.push(+t.toPrecision(6));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e9 ? `${+(v / 1e9).toPrecision(3)}G` : Math.abs(v) >= 1e6 ? `${+(v / 1e6).toPrecision(3)}M` : Math.abs(v) >= 1e3 ? `${+(v / 1e3).toPrecision(3)}k` : `${+v.toPrecision(3)}`);

export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 560, H = o.height ?? 340, L = 70, R = 150, T = 34, B = 46;
  const all = o.series.flatMap((s) => [...s.points, ...(s.errors ?? []).map((e, i) => [s.points[i][0], e[0]] as [number, number]), ...(s.errors ?? []).map((e, i) => [s.points[i][0], e[1]] as [number, number])]);
  if (!all.length) return `<p>${esc(o.title)}: no data</p>`;
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [o.yMin ?? Math.min(...ys), o.yMax ?? Math.max(...ys)];
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  if (y0 === y1) { y0 = o.logY ? y0 / 2 : y0 - 1; y1 = o.logY ? y1 * 2 : y1 + 1; }
  if (!o.logY && o.yMin === undefined && y0 > 0) y0 = 0;
  const tx = (v: number) => (o.logX ? Math.log(v / x0) / Math.log(x1 / x0) : (v - x0) / (x1 - x0));
  const ty = (v: number) => (o.logY ? Math.log(v / y0) / Math.log(y1 / y0) : (v - y0) / (y1 - y0));
  const px = (v: number) => L + tx(v) * (W - L - R), py = (v: number) => H - B - ty(v) * (H - T - B);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="system-ui,sans-serif" font-size="11">`;
  s += `<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(o.title)}</text>`;
  const xt = o.xTicks ?? ticks(x0, x1, !!o.logX).map((t) => ({ value: t, label: fmt(t) }));
  for (const t of xt) {
    const lines = t.label.includes('\n') ? t.label.split('\n').map((l, i) => `<tspan x="${px(t.value)}" dy="${i === 0 ? 0 : 12}">${esc(l)}</tspan>`).join('') : esc(t.label);
    s += `<line x1="${px(t.value)}" y1="${T}" x2="${px(t.value)}" y2="${H - B}" stroke="#eee"/><text x="${px(t.value)}" y="${H - B + 14}" text-anchor="middle">${lines}</text>`;
  }
  for (const t of ticks(y0, y1, !!o.logY)) s += `<line x1="${L}" y1="${py(t)}" x2="${W - R}" y2="${py(t)}" stroke="#eee"/><text x="${L - 5}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`;
  s += `<text x="${(L + W - R) / 2}" y="${H - 8 + (o.xTicks?.some((t) => t.label.includes('\n')) ? 6 : 0)}" text-anchor="middle">${esc(o.xLabel)}</text>`;
  s += `<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`;
  o.series.forEach((se, i) => {
    const c = typeof se.color === 'string' ? se.color : PALETTE[(se.color ?? i) % PALETTE.length];
    const pts = [...se.points].sort((a, b) => a[0] - b[0]);
    s += `<polyline fill="none" stroke="${c}" stroke-width="2" ${se.dashed ? 'stroke-dasharray="5 4"' : ''} points="${pts.map((p) => `${px(p[0])},${py(p[1])}`).join(' ')}"/>`;
    se.points.forEach((p, j) => {
      const e = se.errors?.[j];
      if (e) s += `<line x1="${px(p[0])}" y1="${py(e[0])}" x2="${px(p[0])}" y2="${py(e[1])}" stroke="${c}"/>`;
      if (!se.dashed) s += `<circle cx="${px(p[0])}" cy="${py(p[1])}" r="3" fill="${c}"><title>${esc(se.name)}: (${fmt(p[0])}, ${fmt(p[1])})</title></circle>`;
    });
    s += `<line x1="${W - R + 10}" y1="${T + 10 + i * 16}" x2="${W - R + 30}" y2="${T + 10 + i * 16}" stroke="${c}" stroke-width="2" ${se.dashed ? 'stroke-dasharray="5 4"' : ''}/><text x="${W - R + 34}" y="${T + 14 + i * 16}">${esc(se.name)}</text>`;
  });
  return s + '</svg>';
}

export function htmlPage(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}pre{background:#f7f7f7;padding:8px;overflow:auto}.charts{display:flex;flex-wrap:wrap;gap:16px}</style></head><body><h1>${esc(title)}</h1>${body}</body></html>\n`;
}

/** The style of framesRow: pixels kept crisp at twice the policy's resolution. */
export const FRAMES_STYLE = `<style>.frames{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}.frames figure{margin:0;text-align:center;font-size:12px}
.frames img{height:144px;image-rendering:pixelated;border:1px solid #ccc}.ind{color:#a15c00;font-weight:bold}</style>`;

/** A row of figures, one per condition that has a frame; caption is HTML. */
export function framesRow(items: { name: string; alt: string; caption: string }[], frames: Record<string, string>): string {
  const figs = items.map((it) => (frames[it.name]
    ? `<figure><img alt="${esc(it.alt)}" src="data:image/png;base64,${frames[it.name]}"><figcaption>${it.caption}</figcaption></figure>` : '')).join('');
  return `<div class="frames">${figs}</div>`;
}

export interface BarGroup {
  /** Group label on the x axis (e.g. a split). */
  label: string;
  /** One bar per series, in series order: value and optional [lo, hi] error bar. */
  bars: { value: number; lo?: number; hi?: number }[];
}

/**
 * Estimated width in px of a line of text at this font size, a little wide
 * rather than narrow (system-ui sans at 11 px: lowercase ~0.6 em); the bar
 * chart sizes its groups to the labels with it, as SVG cannot measure text.
 */
export function textWidth(text: string, fontPx = 11): number {
  let em = 0;
  for (const ch of text) em += /[ilj.,:;'|!()[\] ]/.test(ch) ? 0.32 : /[mwMW@%]/.test(ch) ? 0.95 : /[A-Z0-9#&]/.test(ch) ? 0.7 : 0.6;
  return em * fontPx;
}

/** A label's unbreakable parts, each with the separators after it. */
const labelParts = (label: string) => label.match(/[^_\s/-]+[_\s/-]*|[_\s/-]+/g) ?? [label];

/** A label broken into lines no wider than maxPx, after a separator ("checker_" / "table"); a part that is wider on its own stays whole. */
export function wrapLabel(label: string, maxPx: number, fontPx = 11): string[] {
  const parts = labelParts(label);
  const lines: string[] = [];
  for (const p of parts) {
    const last = lines.length ? lines[lines.length - 1] : undefined;
    if (last !== undefined && textWidth((last + p).trimEnd(), fontPx) <= maxPx) lines[lines.length - 1] = last + p;
    else lines.push(p);
  }
  return lines.map((l) => l.trimEnd());
}

/** The widest part of a label that wrapLabel cannot break. */
const widestPart = (label: string, fontPx = 11) => Math.max(...labelParts(label).map((p) => textWidth(p.trimEnd(), fontPx)));

/**
 * Grouped bar chart (one colour per series: colors, e.g. a policy's from
 * policyColors, else PALETTE by index) with optional error bars. Group labels
 * wrap after _ - / or a space, and the chart widens (width is a minimum) until
 * each group is wider than its label, so neighbouring labels never overlap;
 * the legend column is as wide as its longest name.
 */
export function barChart(o: { title: string; yLabel: string; series: string[]; colors?: string[]; groups: BarGroup[]; yMin?: number; yMax?: number; width?: number; height?: number }): string {
  if (!o.groups.length || !o.series.length) return `<p>${esc(o.title)}: no data</p>`;
  const L = 60, T = 34, B = 60, PAD = 8;
  const R = Math.max(170, 30 + Math.max(...o.series.map((n) => textWidth(n))));
  const minGw = Math.max(...o.groups.map((g) => widestPart(g.label))) + PAD;
  const W = Math.max(o.width ?? Math.max(420, 150 + o.groups.length * (o.series.length * 22 + 30)) + R - 170, L + R + o.groups.length * minGw), H = o.height ?? 340;
  const vals = o.groups.flatMap((g) => g.bars.flatMap((b) => [b.value, b.hi ?? b.value]));
  const y0 = o.yMin ?? 0, y1 = o.yMax ?? Math.max(...vals, y0 + 1e-9);
  const py = (v: number) => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
  const gw = (W - L - R) / o.groups.length, bw = Math.min(22, (gw - 16) / o.series.length);
  const color = (si: number) => o.colors?.[si] ?? PALETTE[si % PALETTE.length];
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="system-ui,sans-serif" font-size="11">`;
  s += `<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(o.title)}</text>`;
  for (const t of ticks(y0, y1, false)) s += `<line x1="${L}" y1="${py(t)}" x2="${W - R}" y2="${py(t)}" stroke="#eee"/><text x="${L - 5}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`;
  s += `<text transform="translate(14 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`;
  o.groups.forEach((g, gi) => {
    const gx = L + gi * gw + (gw - bw * o.series.length) / 2;
    g.bars.forEach((b, si) => {
      const x = gx + si * bw;
      s += `<rect x="${x}" y="${py(Math.max(b.value, y0))}" width="${bw - 2}" height="${py(y0) - py(Math.max(b.value, y0))}" fill="${color(si)}"><title>${esc(o.series[si])} / ${esc(g.label)}: ${fmt(b.value)}</title></rect>`;
      if (b.lo !== undefined && b.hi !== undefined) s += `<line x1="${x + bw / 2 - 1}" y1="${py(b.lo)}" x2="${x + bw / 2 - 1}" y2="${py(b.hi)}" stroke="#222"/>`;
    });
    const cx = L + gi * gw + gw / 2;
    const lines = wrapLabel(g.label, gw - PAD);
    const text = lines.length === 1 ? esc(g.label) : lines.map((l, i) => `<tspan x="${cx}" dy="${i === 0 ? 0 : 12}">${esc(l)}</tspan>`).join('');
    s += `<text class="group" x="${cx}" y="${H - B + 14}" text-anchor="middle">${text}</text>`;
  });
  o.series.forEach((name, i) => {
    s += `<rect x="${W - R + 10}" y="${T + 4 + i * 16}" width="12" height="10" fill="${color(i)}"/><text x="${W - R + 26}" y="${T + 13 + i * 16}">${esc(name)}</text>`;
  });
  return s + '</svg>';
}
