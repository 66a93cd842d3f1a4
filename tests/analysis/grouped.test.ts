// Grouped success tables/charts (generalization splits, robustness probes).
import { describe, expect, it } from 'vitest';
import { barChart } from '../../src/analysis/charts.ts';
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
});
