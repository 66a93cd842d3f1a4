// Paired comparison (src/eval/compare.ts, `vlalab compare`): pairing by
// (suite, split, task, seed) and policy label, verdicts, run-directory
// reading, and the CLI's exit codes and error messages on synthetic run
// directories written in the real format (appendRecord + writeOutputs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runCompare } from '../../src/cli/compare.ts';
import { chooseLabel, pairedCompare, readRunRecords, verdict } from '../../src/eval/compare.ts';
import { appendRecord, evalEpisodes, type EpisodeRecord } from '../../src/eval/records.ts';
import { writeOutputs } from '../../src/eval/report.ts';
import { summarize } from '../../src/eval/summary.ts';
import { resolveSuite } from '../../tasks/builtin.ts';

const lat = (t: number) => ({ captureMs: 1, transferMs: 1, backboneMs: t - 3, decoderMs: 1, totalMs: t });
function rec(policy: string, task: string, seed: number, success: boolean, split = 'heldout_layout'): EpisodeRecord {
  return {
    suite: 'tabletop', suiteVersion: '1.0.0', split, task, seed, instruction: `do ${task}`, policy, backbone: policy === 'expert' ? 'scripted' : `${policy}-net`,
    backend: 'wasm', success, steps: 10, terminated: true, latency: [lat(12)], warmup: [lat(100)], wallMs: 50,
  };
}

const suite = resolveSuite('tabletop');
const eps = evalEpisodes(suite, 'heldout_layout', 120); // 60 pick_place, 60 stack
const root = mkdtempSync(join(tmpdir(), 'vlalab-compare-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A run directory as `vlalab eval` leaves it: episodes.jsonl, summary.json, results.csv, report.html. */
function runDir(name: string, records: EpisodeRecord[]): string {
  const d = join(root, name);
  mkdirSync(d, { recursive: true });
  for (const r of records) appendRecord(join(d, 'episodes.jsonl'), r);
  writeOutputs(d, records, summarize(records), { suite: 'tabletop', split: 'heldout_layout' });
  return d;
}

/** One policy's records: success decided per episode index. */
const policy = (label: string, ok: (i: number, task: string) => boolean, list = eps) => list.map((e, i) => rec(label, e.task, e.seed, ok(i, e.task)));

describe('pairedCompare', () => {
  it('counts b and c on the pairs, per task and overall, and labels them', () => {
    // pick_place: A succeeds on even indices, B on all -> c = 30 (B wins 30 discordant pairs, A none): IMPROVED.
    // stack: both succeed on the same episodes: no discordance, but 60 pairs are too few to call it HELD: a true
    // 10-point gap would make ~10% of pairs discordant, all one way, and p < 0.05 needs >= 6 of them:
    // power = P(Binomial(60, 0.1) >= 6) = 0.56283 (python3 math.comb) < 0.8: UNDERPOWERED.
    const a = policy('cnn', (i, t) => (t === 'pick_place' ? i % 4 === 0 : i % 3 === 0));
    const b = policy('vit', (i, t) => (t === 'pick_place' ? true : i % 3 === 0));
    const c = pairedCompare(a, b);
    expect(c.policyA).toBe('cnn');
    expect(c.rows.map((r) => r.name)).toEqual(['pick_place', 'stack']);
    const [pp, st] = c.rows;
    expect(pp).toMatchObject({ pairs: 60, b: 0, c: 30, verdict: 'IMPROVED' });
    expect(pp.p).toBeCloseTo(2 * 0.5 ** 30, 15);
    expect(pp.successA.k).toBe(30);
    expect(pp.successB).toMatchObject({ k: 60, n: 60 });
    expect(st).toMatchObject({ pairs: 60, b: 0, c: 0, p: 1, verdict: 'UNDERPOWERED' });
    expect(st.power).toBeCloseTo(0.5628341292628726, 10);
    expect(c.overall).toMatchObject({ name: 'overall', pairs: 120, b: 0, c: 30, verdict: 'IMPROVED' });
    // Swapping the sides turns it into a regression.
    expect(pairedCompare(b, a).overall.verdict).toBe('REGRESSED');
  });

  it('the same outcomes on a whole 200-episode split are HELD: power P(Binomial(200, 0.1) >= 6) = 0.99996', () => {
    const all = evalEpisodes(suite, 'heldout_layout');
    const c = pairedCompare(policy('cnn', (i) => i % 3 === 0, all), policy('vit', (i) => i % 3 === 0, all));
    expect(c.overall).toMatchObject({ pairs: 200, b: 0, c: 0, p: 1, verdict: 'HELD' });
    expect(c.overall.power).toBeCloseTo(0.9999612880675374, 10);
    // 100 pairs per task: P(Binomial(100, 0.1) >= 6) = 0.94242 (python3 math.comb): HELD too.
    expect(c.rows.map((r) => [r.verdict, r.power.toFixed(5)])).toEqual([['HELD', '0.94242'], ['HELD', '0.94242']]);
  });

  it('a few discordant pairs either way are UNDERPOWERED, not HELD', () => {
    const few = eps.slice(0, 12);
    const a = policy('cnn', (i) => i % 2 === 0, few), b = policy('vit', (i) => i % 2 === 0 || i === 1, few);
    const c = pairedCompare(a, b);
    expect(c.overall).toMatchObject({ pairs: 12, b: 0, c: 1, p: 1, verdict: 'UNDERPOWERED' });
    expect(c.overall.power).toBeLessThan(0.8);
  });

  it('episodes on one side only are counted and left out; splits name the rows when the pairs span several', () => {
    const a = [...policy('cnn', () => true, eps.slice(0, 10)), rec('cnn', 'pick_place', 5, true, 'heldout_combo')];
    const b = [...policy('vit', () => false, eps.slice(4, 20)), rec('vit', 'pick_place', 5, true, 'heldout_combo')];
    const c = pairedCompare(a, b);
    expect(c.overall.pairs).toBe(7);
    expect([c.onlyA, c.onlyB]).toEqual([4, 10]);
    expect(c.rows.map((r) => r.name)).toEqual(['heldout_combo/pick_place', 'heldout_layout/pick_place', 'heldout_layout/stack']);
    expect(c.versionMismatches).toBe(0);
    expect(pairedCompare(a, b.map((r) => ({ ...r, suiteVersion: '2.0.0' }))).versionMismatches).toBe(7);
  });

  it('refuses mixed policies, nothing paired and bad options, naming them', () => {
    expect(() => pairedCompare([...policy('cnn', () => true), ...policy('vit', () => true)], policy('vit', () => true))).toThrow(/A records must be of one policy, got cnn, vit/);
    expect(() => pairedCompare(policy('cnn', () => true, eps.slice(0, 4)), policy('vit', () => true, eps.slice(4, 8)))).toThrow(/no paired episodes: cnn has 4 and vit has 4/);
    expect(() => pairedCompare(policy('cnn', () => true), policy('vit', () => true), { alpha: 1.5 })).toThrow(/alpha must be in \(0, 1\), got 1.5/);
  });

  it('verdict thresholds: 6 one-sided pairs reach p < 0.05 (min p 2/2^6), 5 cannot', () => {
    expect(verdict(0, 6, 0.03125, 0.9, 0.05, 0.8)).toBe('IMPROVED');
    expect(verdict(6, 0, 0.03125, 0.9, 0.05, 0.8)).toBe('REGRESSED');
    expect(verdict(0, 5, 0.0625, 0.9, 0.05, 0.8)).toBe('HELD');
    expect(verdict(0, 5, 0.0625, 0.5, 0.05, 0.8)).toBe('UNDERPOWERED');
  });
});

describe('run directories and labels', () => {
  const both = [...policy('cnn', (i) => i % 2 === 0), ...policy('vit', (i) => i % 3 !== 0), ...policy('expert', () => true), ...policy('cnn+blind', () => false)];
  const multi = runDir('multi', both);

  it('reads episodes.jsonl, or results.csv where the JSONL is not kept, to the same pairs', () => {
    const fromJsonl = readRunRecords(multi);
    expect(fromJsonl).toHaveLength(both.length);
    const csvOnly = join(root, 'csv-only');
    mkdirSync(csvOnly);
    writeFileSync(join(csvOnly, 'results.csv'), readFileSync(join(multi, 'results.csv')));
    const fromCsv = readRunRecords(csvOnly);
    const key = (r: { policy: string; task: string; seed: number; success: boolean; split: string; suite: string }) => `${r.suite}/${r.split}/${r.policy}/${r.task}/${r.seed}/${r.success}`;
    expect(fromCsv.map(key)).toEqual(fromJsonl.map(key));
  });

  it('errors name the directory: missing, not a run, no readable record', () => {
    expect(() => readRunRecords(join(root, 'nope'))).toThrow(/no such directory: .*nope/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect(() => readRunRecords(empty)).toThrow(/empty is not an eval run directory: no episodes.jsonl or results.csv/);
    writeFileSync(join(empty, 'episodes.jsonl'), 'not json\n{"policy": 3}\n');
    expect(() => readRunRecords(empty)).toThrow(/episodes.jsonl holds no readable episode record/);
  });

  it('defaults to the only learned policy, else lists the labels', () => {
    const recs = readRunRecords(multi);
    expect(chooseLabel(recs, multi, '--policy-a', 'vit')).toBe('vit');
    expect(chooseLabel(recs.filter((r) => r.policy !== 'vit'), multi, '--policy-a')).toBe('cnn'); // expert and +blind are baselines
    expect(() => chooseLabel(recs, multi, '--policy-b')).toThrow(/holds 2 learned policies: choose one with --policy-b LABEL \(labels: cnn, vit, expert, cnn\+blind\)/);
    expect(() => chooseLabel(recs, multi, '--policy-a', 'resnet')).toThrow(/has no policy "resnet" \(labels: cnn, vit, expert, cnn\+blind\)/);
  });
});

describe('vlalab compare', () => {
  // A baseline run; a candidate that loses 12 pick_place episodes the baseline won and gains none (REGRESSED
  // there and overall); another identical to the baseline but for 2 more wins (not significant, no regression).
  // eps interleaves tasks (even i: pick_place); (i >> 1) % 2 === 0 wins half of each task's 60 episodes.
  const half = (i: number) => (i >> 1) % 2 === 0;
  const base = runDir('base', [...policy('cnn', half), ...policy('cnn+blind', () => false), ...policy('expert', () => true)]);
  const worse = runDir('worse', policy('cnn', (i, t) => half(i) && !(t === 'pick_place' && i < 48)));
  const better = runDir('better', policy('cnn', (i) => half(i) || i === 2 || i === 6));
  const two = runDir('two', [...policy('cnn', half), ...policy('vit', () => true)]);

  const quiet = async (args: string[]) => {
    const out: string[] = [], err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    const error = vi.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
    try {
      return { code: await runCompare(args), out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };

  it('exits 1 on a regression, with the table, compare.json and compare.html (default out in RUN_B)', async () => {
    const r = await quiet([base, worse]);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toMatch(/A = cnn .*base/);
    expect(r.out).toMatch(/pick_place\s+60\s+50\.0% .*30\.0% .*\s12\s+0\s.*REGRESSED/);
    expect(r.out).toMatch(/REGRESSED: pick_place, overall/);
    const out = join(worse, 'compare-vs-base');
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(json.overall).toMatchObject({ pairs: 120, b: 12, c: 0, verdict: 'REGRESSED' });
    expect(json.meta).toMatchObject({ runA: base, runB: worse });
    expect(json.alpha).toBe(0.05);
    const html = readFileSync(join(out, 'compare.html'), 'utf8');
    expect(html).toContain('REGRESSED');
    expect(html).not.toMatch(/<script|<link|src="http/); // self-contained
  });

  it('exits 0 without a regression; --out, --alpha and --effect are honoured', async () => {
    const out = join(root, 'out-better');
    const r = await quiet([base, better, '--out', out, '--alpha', '0.01', '--effect', '0.2']);
    expect(r.code, r.err).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8'));
    expect(json).toMatchObject({ alpha: 0.01, effect: 0.2, overall: { b: 0, c: 2 } });
    expect(json.overall.verdict).not.toBe('REGRESSED');
    expect(r.out).toMatch(/power@20pt/);
  });

  it('compares two labels of one run directory', async () => {
    const r = await quiet([two, '--policy-a', 'cnn', '--policy-b', 'vit']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(readFileSync(join(two, 'compare-cnn-vs-vit', 'compare.json'), 'utf8')).overall).toMatchObject({ b: 0, c: 60, verdict: 'IMPROVED' });
  });

  it('bad input exits 2 with a message that names it', async () => {
    const cases: [string[], RegExp][] = [
      [[join(root, 'missing'), worse], /no such directory: .*missing/],
      [[two, worse], /two holds 2 learned policies: choose one with --policy-a LABEL \(labels: cnn, vit\)/],
      [[two, worse, '--policy-a', 'resnet'], /has no policy "resnet" \(labels: cnn, vit\)/],
      [[two], /needs --policy-a LABEL and --policy-b LABEL/],
      [[two, '--policy-a', 'cnn', '--policy-b', 'cnn'], /both "cnn" in one run/],
      [[base, worse, '--alpha', '2'], /--alpha must be a number in \(0, 1\), got "2"/],
      [[base, worse, '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, msg] of cases) {
      const r = await quiet(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(msg);
    }
    const disjoint = runDir('disjoint', policy('cnn', () => true, evalEpisodes(suite, 'heldout_layout', 200).slice(150)));
    expect((await quiet([base, disjoint])).err).toMatch(/no paired episodes: cnn has 120 and cnn has 50/);
  });

  it('through the real entry point: exit codes 1 / 0 / 2 reach the shell', () => {
    const vlalab = (args: string[]) => spawnSync(process.execPath, ['bin/vlalab.mjs', 'compare', ...args], { encoding: 'utf8', timeout: 60_000 });
    const reg = vlalab([base, worse, '--out', join(root, 'cli-reg')]);
    expect(reg.status, reg.stderr).toBe(1);
    expect(reg.stdout).toMatch(/REGRESSED: pick_place, overall/);
    expect(existsSync(join(root, 'cli-reg', 'compare.html'))).toBe(true);
    expect(vlalab([base, better, '--out', join(root, 'cli-ok')]).status).toBe(0);
    const bad = vlalab([join(root, 'missing'), worse]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^vlalab compare: no such directory/);
  }, 120_000);
});

describe("generalization's per-split verdict between two learned policies", () => {
  it('pairs each split run of exactly two learned policies and writes its compare report beside it', async () => {
    const { pairedBySplit } = await import('../../src/analysis/generalization.ts');
    const out = join(root, 'gen');
    const mk = (split: string, labels: string[], ok: (label: string, i: number) => boolean) => {
      const d = join(out, 'runs', split);
      mkdirSync(d, { recursive: true });
      const rs = labels.flatMap((l) => eps.map((e, i) => rec(l, e.task, e.seed, ok(l, i), split)));
      for (const r of rs) appendRecord(join(d, 'episodes.jsonl'), r);
    };
    mk('heldout_layout', ['cnn', 'vit', 'expert', 'cnn+blind', 'vit+blind'], (l, i) => l === 'expert' || (l === 'vit' ? i % 2 === 0 : l === 'cnn' && i % 10 === 0));
    mk('heldout_combo', ['cnn', 'expert'], () => true); // one learned policy: nothing to pair
    const v = pairedBySplit(out, ['heldout_layout', 'heldout_combo']);
    expect(v.map((x) => [x.split, x.policyA, x.policyB, x.overall.b, x.overall.c, x.overall.verdict])).toEqual([['heldout_layout', 'cnn', 'vit', 0, 48, 'IMPROVED']]);
    expect(v[0].perTask.map((r) => [r.name, r.c])).toEqual([['pick_place', 48], ['stack', 0]]);
    expect(existsSync(join(out, 'runs', 'heldout_layout', 'compare-cnn-vs-vit', 'compare.html'))).toBe(true);
  });
});
