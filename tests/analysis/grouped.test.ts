// Grouped success tables/charts (generalization splits, robustness probes).
import { describe, expect, it } from 'vitest';
import { barChart, textWidth, wrapLabel } from '../../src/report/charts.ts';
import { PROBES } from '../../src/analysis/robustness.ts';
import { groupedHtml, groupedMarkdown, groupedRows } from '../../src/analysis/grouped.ts';
import { wilson } from '../../src/eval/stats.ts';
import type { PolicySummary } from '../../src/eval/summary.ts';

const summary = (policy: string, k: number, n: number) => ({ policy, backbone: `${policy}-bb`, episodes: n, success: wilson(k, n) }) as unknown as PolicySummary;

describe('grouped success rows', () => {
  const rows = groupedRows([
    { group: 'heldout_layout', summary: [summary('cnn', 7, 10), summary('vit', 5, 10)] },
    { group: 'heldout_combo', summary: [summary('cnn', 0, 4)] },
  ]);

  it('one row per (group, policy) with the Wilson interval of its episodes', () => {
    expect(rows.map((r) => [r.group, r.policy, r.successes, r.episodes])).toEqual([
      ['heldout_layout', 'cnn', 7, 10], ['heldout_layout', 'vit', 5, 10], ['heldout_combo', 'cnn', 0, 4],
    ]);
    expect(rows[0].rate).toBe(0.7);
    // Wilson 95% for 7/10: [0.3968, 0.8922]
    expect(rows[0].lo).toBeCloseTo(0.3968, 3);
    expect(rows[0].hi).toBeCloseTo(0.8922, 3);
  });

  it('markdown marks missing cells; HTML holds one bar per present cell', () => {
    expect(groupedMarkdown(rows, 'split').split('\n')).toEqual([
      '| split | cnn | vit |',
      '|---|---|---|',
      '| heldout_layout | 70.0% [40, 89] (7/10) | 50.0% [24, 76] (5/10) |',
      '| heldout_combo | 0.0% [0, 49] (0/4) | - |',
    ]);
    const html = groupedHtml({ title: 't', intro: 'i', groupTitle: 'split', rows, meta: { a: 1 } });
    expect((html.match(/<rect [^>]*><title>/g) ?? []).length).toBe(4); // 2 groups x 2 policies (missing = zero-height bar)
    expect(html).toContain('cnn / layout: 0.7');
  });

  it('bar chart without data says so', () => {
    expect(barChart({ title: 'x', yLabel: 'y', series: [], groups: [] })).toContain('no data');
  });

  it('group labels never run into each other: wrapped after _ - / or a space, and groups at least as wide as their widest line', () => {
    // the robustness chart: five probes, two policies (its names used to overlap at 58 px a group)
    const labelBoxes = (svg: string) => [...svg.matchAll(/<text class="group" x="([\d.]+)"[^>]*>(.*?)<\/text>/g)].map((m) => {
      const lines = m[2].includes('<tspan') ? [...m[2].matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((t) => t[1]) : [m[2]];
      return { x: Number(m[1]), lines, width: Math.max(...lines.map((l) => textWidth(l))) };
    });
    const cases = [
      { series: ['efficientnet-film', 'vit-siglip'], labels: Object.keys(PROBES) },
      { series: ['efficientnet-film'], labels: ['other_destination', 'garbled', 'a_very_long_condition_name_indeed', 'x'] },
      { series: ['a', 'b', 'c'], labels: ['unbreakablelonglabelnumberone', 'unbreakablelonglabelnumbertwo'], width: 300 }, // width is a minimum
    ];
    for (const c of cases) {
      const svg = barChart({ title: 't', yLabel: 'y', series: c.series, width: c.width, groups: c.labels.map((label) => ({ label, bars: c.series.map(() => ({ value: 0.5 })) })) });
      const boxes = labelBoxes(svg);
      expect(boxes.map((b) => b.lines.join(''))).toEqual(c.labels);
      for (let i = 1; i < boxes.length; i++) {
        const gap = boxes[i].x - boxes[i - 1].x - boxes[i].width / 2 - boxes[i - 1].width / 2;
        expect(gap, `${c.labels[i - 1]} | ${c.labels[i]}`).toBeGreaterThanOrEqual(4);
      }
    }
    expect(wrapLabel('checker_table', 50)).toEqual(['checker_', 'table']);
    expect(wrapLabel('checker_table', 200)).toEqual(['checker_table']);
    expect(wrapLabel('unbreakable', 10)).toEqual(['unbreakable']);
    expect(textWidth('checker_table')).toBeGreaterThan(70); // 13 chars at 11 px: wider than the 58 px group it had
  });
});
