import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeRuns } from '../../src/eval/merge.ts';
import { appendRecord, evalEpisodes, parseShard, readRecords, shardEpisodes, type EpisodeRecord } from '../../src/eval/records.ts';
import { parseCsv, toCsv, toHtml, writeOutputs } from '../../src/eval/report.ts';
import { percentile, wilson } from '../../src/eval/stats.ts';
import { formatTable, summarize } from '../../src/eval/summary.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import type { OutcomeKind } from '../../tasks/outcome.ts';

describe('Wilson score interval (z = 1.96), hand-worked', () => {
  // 8/10: p = .8, z^2 = 3.8416, denom = 1 + z^2/n = 1.38416,
  // centre = (.8 + z^2/(2n)) / denom = .99208 / 1.38416 = .716738,
  // half = (z/denom) * sqrt(p(1-p)/n + z^2/(4n^2)) = 1.416021 * .160012 = .226580.
  it('8 of 10 -> [0.4902, 0.9433]', () => {
    const w = wilson(8, 10);
    expect(w.p).toBe(0.8);
    expect(w.lo).toBeCloseTo(0.490158, 5);
    expect(w.hi).toBeCloseTo(0.943318, 5);
  });
  // 0/10: centre = half = .19208 / 1.38416 = .138770 -> [0, .277540].
  it('0 of 10 -> [0, 0.2775]', () => {
    const w = wilson(0, 10);
    expect(w.lo).toBe(0);
    expect(w.hi).toBeCloseTo(0.27754, 4);
  });
  // 50/100: centre .5, half = (1.96/1.038416) * sqrt(.0025 + .00009604) = 1.887490 * .050951 = .096170.
  it('50 of 100 -> [0.4038, 0.5962]', () => {
    const w = wilson(50, 100);
    expect(w.lo).toBeCloseTo(0.40383, 4);
    expect(w.hi).toBeCloseTo(0.59617, 4);
  });
  it('10 of 10 is symmetric to 0 of 10; bad input is rejected', () => {
    expect(wilson(10, 10).lo).toBeCloseTo(1 - 0.27754, 4);
    expect(wilson(10, 10).hi).toBe(1);
    expect(() => wilson(3, 2)).toThrow(/0 <= k <= n/);
    expect(wilson(0, 0)).toMatchObject({ lo: 0, hi: 1 });
  });
});

describe('percentiles (linear interpolation)', () => {
  it('hand-worked', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 10); // pos = .95 * 3 = 2.85
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

const lat = (t: number) => ({ captureMs: 1, transferMs: 0.5, backboneMs: t / 2, decoderMs: t / 4, totalMs: t });
function rec(policy: string, task: string, seed: number, success: boolean): EpisodeRecord {
  return {
    suite: 'tabletop', suiteVersion: '1.0.0', split: 'heldout_layout', task, seed, instruction: `do ${task} ${seed}`, policy, backbone: 'b', backend: 'wasm',
    success, steps: 10, terminated: true, latency: [lat(10 + seed % 5), lat(12)], warmup: [lat(100)], wallMs: 50,
  };
}

describe('episode lists, shards and merge', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-eval-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const suite = resolveSuite('tabletop');

  it('episode lists interleave tasks and are fixed', () => {
    const eps = evalEpisodes(suite, 'heldout_layout', 4);
    expect(eps).toEqual([{ task: 'pick_place', seed: 100000 }, { task: 'stack', seed: 100000 }, { task: 'pick_place', seed: 100001 }, { task: 'stack', seed: 100001 }]);
    expect(evalEpisodes(suite, 'heldout_layout')).toHaveLength(200);
  });

  it('shards partition the list exactly', () => {
    const eps = evalEpisodes(suite, 'heldout_layout', 23);
    const shards = [0, 1, 2].map((i) => shardEpisodes(eps, { index: i, count: 3 }));
    expect(shards.flat()).toHaveLength(23);
    expect(new Set(shards.flat().map((e) => `${e.task}${e.seed}`)).size).toBe(23);
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(() => parseShard('3/3')).toThrow(/0 <= i < n/);
    expect(() => parseShard('a')).toThrow(/must look like i\/n/);
  });

  it('records survive a torn line; merge of shards equals the unsharded summary', () => {
    const eps = evalEpisodes(suite, 'heldout_layout', 12);
    const all = eps.flatMap((e, i) => ['p1', 'p2'].map((p) => rec(p, e.task, e.seed, (i + p.length) % 3 !== 0)));
    const shardDirs = [0, 1].map((i) => join(dir, `shard${i}`));
    for (const [i, d] of shardDirs.entries()) {
      const mine = shardEpisodes(eps, { index: i, count: 2 });
      const rs = all.filter((r) => mine.some((e) => e.task === r.task && e.seed === r.seed));
      mkdirSync(d, { recursive: true });
      for (const r of rs) appendRecord(join(d, 'episodes.jsonl'), r);
      writeOutputs(d, rs, summarize(rs), { suite: 'tabletop', split: 'heldout_layout', shard: { index: i, count: 2 } });
    }
    // A torn tail in one shard (crash mid-append) is ignored, and the next append starts a new line.
    const f = join(shardDirs[0], 'episodes.jsonl');
    writeFileSync(f, readFileSync(f, 'utf8') + '{"policy":"p1","ta');
    expect(readRecords(f)).toHaveLength(12);
    const merged = join(dir, 'merged');
    expect(mergeRuns(shardDirs, merged)).toEqual({ records: 24, duplicates: 0, missingShards: [], shardCount: 2 });
    const unsharded = summarize(all);
    const fromMerge = JSON.parse(readFileSync(join(merged, 'summary.json'), 'utf8')).policies;
    expect(fromMerge.map((p: { success: unknown }) => p.success)).toEqual(unsharded.map((p) => p.success));
    expect(fromMerge.map((p: { latency: unknown }) => p.latency)).toEqual(JSON.parse(JSON.stringify(unsharded.map((p) => p.latency))));
    expect(readFileSync(join(merged, 'report.html'), 'utf8')).toContain('95% Wilson');
    expect(() => mergeRuns(shardDirs, merged)).toThrow(/exists: merge into an empty directory/);
  });

  it('merge refuses shards of one policy label run with different checkpoint weights', () => {
    const eps = evalEpisodes(suite, 'heldout_layout', 2);
    const dirs = eps.map((e, i) => {
      const d = join(dir, `sha-shard${i}`);
      mkdirSync(d, { recursive: true });
      const r = { ...rec('p1', e.task, e.seed, true), checkpointSha256: String(i).repeat(64) };
      appendRecord(join(d, 'episodes.jsonl'), r);
      writeOutputs(d, [r], summarize([r]), { suite: 'tabletop', split: 'heldout_layout' });
      return d;
    });
    expect(() => mergeRuns(dirs, join(dir, 'sha-merged'))).toThrow(/episodes of "p1" come from two models: checkpoint sha256 000000000000… \(.*sha-shard0\) and checkpoint sha256 111111111111… \(.*sha-shard1\): not merged/);
    expect(mergeRuns([dirs[0]], join(dir, 'sha-merged-one'))).toEqual({ records: 1, duplicates: 0, missingShards: [] });
    // a directory without summary.json (a shard killed before it finished) is not merged as if complete
    rmSync(join(dirs[1], 'summary.json'));
    expect(() => mergeRuns([dirs[1]], join(dir, 'sha-merged-two'))).toThrow(/sha-shard1 has no summary\.json .*rerun that shard/);
  });

  it('summaries exclude warm-up and report per-task intervals; CSV quotes safely', () => {
    const rs = [rec('p', 'pick_place', 1, true), rec('p', 'stack', 1, false), { ...rec('p', 'stack', 2, false), failure: { kind: 'nan_action', message: 'action[0] is NaN' } }];
    const [s] = summarize(rs, [{ policy: 'p', backbone: 'vit', params: 2e6, flopsPerFrame: 3e8 }]);
    expect(s.episodes).toBe(3);
    expect(s.perTask.pick_place).toMatchObject({ k: 1, n: 1 });
    expect(s.perTask.stack).toMatchObject({ k: 0, n: 2 });
    expect(s.failures).toEqual({ nan_action: 1 });
    expect(s.latency.totalMs!.p99).toBeLessThan(100); // the 100 ms warm-up step is excluded
    expect(s.warmupTotalMs.p50).toBe(100);
    expect(s.controlHz).toBeCloseTo(1000 / s.latency.totalMs!.p50, 6);
    expect(formatTable([s])).toMatch(/p\s+vit\s+wasm\s+3\s+33\.3%/);
    const csv = toCsv([{ ...rs[0], instruction: 'put "it", here' }]);
    expect(csv.split('\n')[1]).toContain('"put ""it"", here"');
    // parseCsv reads it back field for field, quotes, commas and newlines included
    const odd = { ...rs[0], instruction: 'put "it", here', failure: { kind: 'exception' as const, message: 'line 1,\nline "2"' } };
    const [head, row] = parseCsv(toCsv([odd]));
    expect(row).toHaveLength(head.length);
    expect(row[head.indexOf('instruction')]).toBe('put "it", here');
    expect(row[head.indexOf('failure')]).toBe('exception: line 1,\nline "2"');
    expect(row[head.indexOf('policy')]).toBe(odd.policy);
    expect(parseCsv('a,b\n1,\n')).toEqual([['a', 'b'], ['1', '']]);
  });

  it('summaries count episode outcomes (records without one are left out); the CSV and report carry them', () => {
    const out = (kind: OutcomeKind, d: number) => ({ kind, targetDistance: d, lifted: [] });
    const rs = [
      { ...rec('p', 'pick_place', 1, true), outcome: out('success', 0.01) },
      { ...rec('p', 'stack', 1, false), outcome: out('misplaced', 0.1234) },
      { ...rec('p', 'stack', 2, false), outcome: out('misplaced', 0.2) },
      { ...rec('p', 'stack', 3, false), failure: { kind: 'exception', message: 'browser died' } },
    ];
    const [s] = summarize(rs);
    expect(s.outcomes).toEqual({ success: 1, misplaced: 2 });
    expect(Object.keys(s.outcomes)).toEqual(['success', 'misplaced']); // OUTCOMES order
    const [header, , row2, row3] = toCsv(rs).split('\n');
    const col = header.split(',').indexOf('outcome');
    expect(header.split(',')[col + 1]).toBe('targetDistance_m');
    expect(row2.split(',').slice(col, col + 2)).toEqual(['misplaced', '0.1234']);
    expect(row3.split(',').slice(col, col + 2)).toEqual(['misplaced', '0.2000']);
    const html = toHtml([s], { suite: 'tabletop', suiteVersion: '1', split: 'heldout_layout' } as never);
    expect(html).toContain('Where episodes end');
    expect(html).toContain('success: 1, misplaced: 2');
  });
});
