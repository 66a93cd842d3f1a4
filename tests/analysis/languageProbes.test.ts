// analyze language-probes, the aggregation (src/analysis/languageProbes.ts):
// what each record's episode moved relative to its instruction, and the rows
// per condition, policy and task, on constructed records.
import { describe, expect, it } from 'vitest';
import { probeRows, probesMarkdown, recordMovedRole } from '../../src/analysis/languageProbes.ts';
import type { EpisodeRecord } from '../../src/eval/records.ts';
import type { Goal } from '../../tasks/episode.ts';
import type { ProbeInfo } from '../../tasks/probes.ts';

const sampled: Goal = { object: 'red cube', target: 'blue bowl' };
const rec = (seed: number, o: { success?: boolean; moved?: string[] | null; probe?: ProbeInfo; task?: string; policy?: string }): EpisodeRecord => ({
  suite: 'tabletop', suiteVersion: '1.0.0', split: 'heldout_layout', task: o.task ?? 'pick_place', seed, instruction: 'x', policy: o.policy ?? 'cnn', backbone: 'efficientnet_film_s_96', backend: 'wasm',
  success: o.success ?? false, steps: 10, terminated: true, latency: [], warmup: [], wallMs: 1,
  ...(o.moved === null ? {} : { outcome: { kind: o.success ? 'success' : 'misplaced', targetDistance: 0.1, lifted: [], moved: o.moved ?? [] } }),
  ...(o.probe ? { probe: o.probe } : {}),
});
const swap: ProbeInfo = { kind: 'swap', named: { object: 'green prism', target: 'red bowl' }, original: sampled };
const garbled: ProbeInfo = { kind: 'garbled', named: null, original: sampled };

describe('language probe aggregation', () => {
  it('reads what was moved against the named object, the original one, another, or none; an episode without an outcome is not counted', () => {
    expect(recordMovedRole(rec(1, { moved: ['red cube'] }), sampled)).toBe('named'); // unprobed: the sampled goal is what it names
    expect(recordMovedRole(rec(1, { moved: ['green prism'] }), sampled)).toBe('other');
    expect(recordMovedRole(rec(1, { moved: ['green prism', 'red cube'], probe: swap }), sampled)).toBe('named');
    expect(recordMovedRole(rec(1, { moved: ['red cube'], probe: swap }), sampled)).toBe('original');
    expect(recordMovedRole(rec(1, { moved: ['red cube'], probe: garbled }), sampled)).toBe('original');
    expect(recordMovedRole(rec(1, { moved: [], probe: garbled }), sampled)).toBe('none');
    expect(recordMovedRole(rec(1, { moved: null }), sampled)).toBeNull(); // an exception: no outcome
    const old = rec(1, {});
    delete old.outcome!.moved; // a record from before `moved` existed says nothing
    expect(recordMovedRole(old, sampled)).toBeNull();
  });

  it('rows per policy and task with Wilson intervals, paired with the original instruction on the same episodes', () => {
    const records = [
      rec(1, { probe: swap, moved: ['green prism'], success: true }),
      rec(2, { probe: swap, moved: ['red cube'] }),
      rec(3, { probe: swap, moved: ['red cube'] }),
      rec(4, { probe: swap, moved: null }),
      rec(1, { probe: swap, moved: ['red cube'], task: 'stack' }),
    ];
    const original = [1, 2, 3, 4].map((s) => rec(s, { moved: ['red cube'], success: s !== 4 })).concat(rec(1, { task: 'stack', success: true, moved: ['red cube'] }));
    const rows = probeRows('swap', records, { info: () => ({ textEncoder: 'scratch' }), goalOf: () => sampled, original });
    expect(rows.map((r) => [r.task, r.episodes])).toEqual([['all', 5], ['pick_place', 4], ['stack', 1]]);
    const pp = rows[1];
    expect(pp.moved).toEqual({ named: 1, original: 2, other: 0, none: 0 });
    expect([pp.success.k, pp.success.n]).toEqual([1, 4]);
    expect([pp.movedNamed.k, pp.movedNamed.n, pp.movedOriginal.k]).toEqual([1, 3, 2]); // the episode without an outcome is left out
    expect(pp.movedNamed.lo).toBeLessThan(1 / 3);
    expect(pp.movedNamed.hi).toBeGreaterThan(1 / 3);
    expect([pp.originalSuccess!.k, pp.originalSuccess!.n]).toEqual([3, 4]);
    expect(rows[0].originalSuccess!.k).toBe(4);
    expect(pp.textEncoder).toBe('scratch');
    expect(pp.backbone).toBe('efficientnet_film_s_96');
    // no pairing when the original run lacks an episode
    expect(probeRows('swap', records, { info: () => ({ textEncoder: 'scratch' }), goalOf: () => sampled, original: original.slice(1) })[1].originalSuccess).toBeUndefined();
    expect(probesMarkdown(rows)).toContain('| swap | cnn | efficientnet_film_s_96 | scratch | 20% [4, 62] (1/5) | 25% [5, 70] (1/4) | 75% [30, 95] (3/4) | 80% [38, 96] (4/5) |');
  });
});
