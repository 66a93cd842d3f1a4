// One palette for every report and the demo (src/report/palette.ts): a policy
// keeps its colour in the eval report's legend, success chart and latency
// chart (the expert, without latency, shifts nothing), and in the analysis
// charts.
import { describe, expect, it } from 'vitest';
import { groupedHtml, groupedRows } from '../../src/analysis/grouped.ts';
import { POLICY_COLORS, policyColor, policyColors } from '../../src/report/palette.ts';
import { toHtml } from '../../src/eval/report.ts';
import { summarizeLatency, wilson } from '../../src/eval/stats.ts';
import type { PolicySummary } from '../../src/eval/summary.ts';

const summary = (policy: string, k: number, n: number, latencyMs?: number) => ({
  policy, backbone: `${policy}-bb`, backend: 'wasm', episodes: n, success: wilson(k, n), perTask: { pick_place: wilson(k, n) }, failures: {}, outcomes: {},
  latency: latencyMs === undefined ? {} : { backboneMs: summarizeLatency([latencyMs * 0.8]), totalMs: summarizeLatency([latencyMs]) },
  warmupTotalMs: summarizeLatency([]), controlHz: latencyMs ? 1000 / latencyMs : NaN, meanSteps: 50,
}) as unknown as PolicySummary;

/** Every policy's colours in an HTML report: legend swatches and the bars titled by its name. */
function coloursOf(html: string): { legend: Map<string, string>; bars: Map<string, Set<string>> } {
  const legend = new Map([...html.matchAll(/<span><i style="background:([^"]+)"><\/i>([^<]+)<\/span>/g)].map((m) => [m[2], m[1]]));
  const bars = new Map<string, Set<string>>();
  for (const m of html.matchAll(/fill="([^"]+)"[^>]*><title>([^<]+)<\/title>/g)) {
    const name = m[2].split(/[: /]/)[0];
    bars.set(name, (bars.get(name) ?? new Set()).add(m[1]));
  }
  return { legend, bars };
}

describe('policy colours', () => {
  it('fixed for the shipped policies, the expert and the blind baselines; distinct within a report; stable by label', () => {
    const c = policyColors(['expert', 'efficientnet-film', 'vit-siglip', 'efficientnet-film+blind', 'vit-siglip+blind']);
    for (const [label, colour] of Object.entries(POLICY_COLORS)) expect(c(label)).toBe(colour);
    expect(new Set(Object.values(POLICY_COLORS)).size).toBe(Object.keys(POLICY_COLORS).length);
    const labels = ['roleA', 'roleB', 'roleC', 'roleD', 'roleE', 'roleG', 'roleH', 'expert'];
    const r = policyColors(labels);
    expect(new Set(labels.map(r)).size).toBe(labels.length); // past the free colours: hues from the hash
    expect(labels.map(policyColors(labels))).toEqual(labels.map(r)); // deterministic
    // a label alone (the demo) is the colour it has in a report where nothing collides with it
    expect(policyColors(['expert', 'my-ckpt'])('my-ckpt')).toBe(policyColor('my-ckpt'));
    expect(policyColor('vit-siglip')).toBe(POLICY_COLORS['vit-siglip']);
    // a blind baseline is its policy's colour, paler: the same in a report and alone
    const b = policyColors(['my-ckpt', 'my-ckpt+blind'])('my-ckpt+blind');
    expect(b).toBe(policyColor('my-ckpt+blind'));
    const lum = (c: string) => [1, 3, 5].reduce((a, i) => a + parseInt(c.slice(i, i + 2), 16), 0);
    expect(lum(b)).toBeGreaterThan(lum(policyColor('my-ckpt')));
    for (const l of [...labels, 'x+blind']) expect(r(l)).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('the eval report paints each policy in its legend colour in the success and the latency chart, the expert (no latency) included', () => {
    const html = toHtml([summary('expert', 9, 10), summary('efficientnet-film', 6, 10, 20), summary('vit-siglip', 7, 10, 30), summary('my-ckpt', 5, 10, 10)], { suite: 'tabletop', suiteVersion: '1', split: 'heldout_layout' });
    const { legend, bars } = coloursOf(html);
    expect([...legend.keys()]).toEqual(['expert', 'efficientnet-film', 'vit-siglip', 'my-ckpt']);
    for (const [policy, colour] of legend) expect([...bars.get(policy)!], policy).toEqual([colour]);
    expect(html).toMatch(/fill="#f28e2b" opacity="1"><title>efficientnet-film totalMs p50/); // the CNN's latency bar is the CNN's orange, not the expert's blue
    expect(legend.get('efficientnet-film')).toBe(POLICY_COLORS['efficientnet-film']);
    expect(new Set(legend.values()).size).toBe(4);

    // an analysis chart without the expert: the same colours
    const g = groupedHtml({ title: 't', intro: 'i', groupTitle: 'probe', meta: {}, rows: groupedRows([{ group: 'dim_light', summary: [summary('efficientnet-film', 2, 10), summary('vit-siglip', 6, 10)] }]) });
    const a = coloursOf(g).bars;
    expect([...a.get('efficientnet-film')!]).toEqual([legend.get('efficientnet-film')]);
    expect([...a.get('vit-siglip')!]).toEqual([legend.get('vit-siglip')]);
    expect(g).toContain(`fill="${legend.get('vit-siglip')}"/><text`); // its legend swatch too
  });
});
