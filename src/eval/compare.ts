// Paired comparison of two policies on the same episodes (`vlalab compare`,
// and the analyses' "do these two backbones differ?"). Both policies ran the
// same fixed episode list (suite, split, task, seed: same layout, same
// instruction), so each episode is a matched pair and the exact McNemar test
// on the discordant pairs is the right test (McNemar 1947; LeRobot's
// eval-compare uses a per-task exact test the same way). Two unpaired Wilson
// intervals that overlap can still hide a real, paired difference.
//
// Verdict per task and overall, at level alpha (default 0.05):
//   IMPROVED      p < alpha and B won more discordant pairs than A (c > b)
//   REGRESSED     p < alpha and A won more (b > c)
//   HELD          not significant, and the run had power >= minPower (0.8) to
//                 detect a true difference of `effect` (10 points) in either
//                 direction: no difference that size, at the stated power
//   UNDERPOWERED  not significant, and the run could not have detected that
//                 difference reliably (power < minPower): no conclusion
// Power is the exact test's unconditional power for the paired episodes and
// the observed discordance rate (eval/stats.ts mcnemarPower); each row also
// gives the smallest difference it could have detected at minPower (mde).
// Per-task tests are not corrected for multiplicity.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRecord, type EpisodeRecord } from './records.ts';
import { parseCsv } from './report.ts';
import { mcnemarExact, mcnemarPower, minDetectableEffect, wilson, type Interval } from './stats.ts';

export const VERDICTS = ['IMPROVED', 'REGRESSED', 'HELD', 'UNDERPOWERED'] as const;
export type Verdict = (typeof VERDICTS)[number];

/** What pairing needs of an episode record (EpisodeRecord has it all; results.csv rows too). */
export type PairRecord = Pick<EpisodeRecord, 'suite' | 'split' | 'task' | 'seed' | 'policy' | 'success'> & { suiteVersion?: string };

export interface CompareOptions {
  /** Significance level (default 0.05). */
  alpha?: number;
  /** The difference in success rate HELD must have been able to detect (default 0.10). */
  effect?: number;
  /** The power that counts as able to detect it (default 0.8). */
  minPower?: number;
}

export interface CompareRow {
  /** A task (prefixed by split, and suite, when the pairs span several). */
  name: string;
  pairs: number;
  successA: Interval;
  successB: Interval;
  /** Pairs where A succeeded and B failed. */
  b: number;
  /** Pairs where A failed and B succeeded. */
  c: number;
  /** Exact McNemar two-sided p-value. */
  p: number;
  /** Power to detect a difference of `effect` at alpha, given these pairs and their discordance. */
  power: number;
  /** Smallest difference detectable with power minPower; null when no difference could be. */
  mde: number | null;
  verdict: Verdict;
}

export interface PairedComparison {
  policyA: string;
  policyB: string;
  alpha: number;
  effect: number;
  minPower: number;
  rows: CompareRow[];
  overall: CompareRow;
  /** Episodes of one side with no partner on the other: reported, not tested. */
  onlyA: number;
  onlyB: number;
  /** Pairs whose two records come from different suite versions (the episodes may differ). */
  versionMismatches: number;
}

const pairKey = (r: PairRecord) => `${r.suite}\u0000${r.split}\u0000${r.task}\u0000${r.seed}`;

export function verdict(b: number, c: number, p: number, power: number, alpha: number, minPower: number): Verdict {
  if (p < alpha) return c > b ? 'IMPROVED' : 'REGRESSED';
  return power >= minPower ? 'HELD' : 'UNDERPOWERED';
}

function row(name: string, pairs: [PairRecord, PairRecord][], o: Required<CompareOptions>): CompareRow {
  const n = pairs.length;
  const b = pairs.filter(([a, x]) => a.success && !x.success).length;
  const c = pairs.filter(([a, x]) => !a.success && x.success).length;
  const p = mcnemarExact(b, c);
  const power = mcnemarPower(n, (b + c) / n, o.effect, o.alpha);
  return {
    name, pairs: n,
    successA: wilson(pairs.filter(([a]) => a.success).length, n),
    successB: wilson(pairs.filter(([, x]) => x.success).length, n),
    b, c, p, power, mde: minDetectableEffect(n, (b + c) / n, o.alpha, o.minPower),
    verdict: verdict(b, c, p, power, o.alpha, o.minPower),
  };
}

function onePolicy(records: readonly PairRecord[], side: string): string {
  const labels = [...new Set(records.map((r) => r.policy))];
  if (labels.length !== 1) throw new Error(`pairedCompare: the ${side} records must be of one policy, got ${labels.length ? labels.join(', ') : 'none'}`);
  return labels[0];
}

/**
 * Pair the two policies' episodes by (suite, split, task, seed) and test per
 * task and overall. Each side's records must be of one policy; a repeated
 * episode keeps its first record. Throws when no episode is on both sides.
 */
export function pairedCompare(recordsA: readonly PairRecord[], recordsB: readonly PairRecord[], opts: CompareOptions = {}): PairedComparison {
  const o: Required<CompareOptions> = { alpha: opts.alpha ?? 0.05, effect: opts.effect ?? 0.1, minPower: opts.minPower ?? 0.8 };
  if (!(o.alpha > 0 && o.alpha < 1)) throw new Error(`alpha must be in (0, 1), got ${o.alpha}`);
  if (!(o.effect > 0 && o.effect <= 1)) throw new Error(`effect must be in (0, 1], got ${o.effect}`);
  if (!(o.minPower > 0 && o.minPower < 1)) throw new Error(`minPower must be in (0, 1), got ${o.minPower}`);
  const policyA = onePolicy(recordsA, 'A'), policyB = onePolicy(recordsB, 'B');
  const byKey = (rs: readonly PairRecord[]) => {
    const m = new Map<string, PairRecord>();
    for (const r of rs) if (!m.has(pairKey(r))) m.set(pairKey(r), r);
    return m;
  };
  const a = byKey(recordsA), bMap = byKey(recordsB);
  const pairs: [PairRecord, PairRecord][] = [...a].filter(([k]) => bMap.has(k)).map(([k, r]) => [r, bMap.get(k)!]);
  if (!pairs.length) throw new Error(`no paired episodes: ${policyA} has ${a.size} and ${policyB} has ${bMap.size}, and none share (suite, split, task, seed)`);
  const suites = new Set(pairs.map(([r]) => r.suite)), splits = new Set(pairs.map(([r]) => `${r.suite}/${r.split}`));
  const name = (r: PairRecord) => (suites.size > 1 ? `${r.suite}/${r.split}/${r.task}` : splits.size > 1 ? `${r.split}/${r.task}` : r.task);
  const groups = new Map<string, [PairRecord, PairRecord][]>();
  for (const pr of pairs) groups.set(name(pr[0]), [...(groups.get(name(pr[0])) ?? []), pr]);
  return {
    policyA, policyB, ...o,
    rows: [...groups.keys()].sort().map((g) => row(g, groups.get(g)!, o)),
    overall: row('overall', pairs, o),
    onlyA: a.size - pairs.length,
    onlyB: bMap.size - pairs.length,
    versionMismatches: pairs.filter(([x, y]) => x.suiteVersion !== undefined && y.suiteVersion !== undefined && x.suiteVersion !== y.suiteVersion).length,
  };
}

/** True when any row or the overall row regressed (the CI gate). */
export const anyRegression = (c: PairedComparison) => [...c.rows, c.overall].some((r) => r.verdict === 'REGRESSED');

/**
 * A run directory's episode records: episodes.jsonl as `vlalab eval` writes
 * it, or, where that is absent (committed results keep only the CSV),
 * results.csv. Throws an error naming the directory when it is missing, not a
 * run, or holds no readable record.
 */
export function readRunRecords(dir: string): PairRecord[] {
  if (!existsSync(dir)) throw new Error(`no such directory: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory (give an eval run directory)`);
  const jsonl = join(dir, 'episodes.jsonl'), csv = join(dir, 'results.csv');
  const file = existsSync(jsonl) ? jsonl : existsSync(csv) ? csv : undefined;
  if (!file) throw new Error(`${dir} is not an eval run directory: no episodes.jsonl or results.csv`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  const records = file === jsonl ? fromJsonl(text) : fromCsv(text, file);
  if (!records.length) throw new Error(`${file} holds no readable episode record`);
  return records;
}

function fromJsonl(text: string): PairRecord[] {
  return text.split('\n').flatMap((line) => {
    try {
      const v: unknown = JSON.parse(line);
      return isRecord(v) && typeof v.suite === 'string' && typeof v.split === 'string' ? [v] : [];
    } catch {
      return []; // blank or torn line (a crash mid-append), as readJsonl
    }
  });
}

function fromCsv(text: string, file: string): PairRecord[] {
  const [header, ...rows] = parseCsv(text);
  const col = (name: string) => {
    const i = header?.indexOf(name) ?? -1;
    if (i < 0) throw new Error(`${file} has no "${name}" column: not a vlalab results.csv`);
    return i;
  };
  const [suite, version, split, task, seed, policy, success] = ['suite', 'suiteVersion', 'split', 'task', 'seed', 'policy', 'success'].map(col);
  return rows.filter((r) => r.length === header.length && (r[success] === 'true' || r[success] === 'false') && /^\d+$/.test(r[seed]))
    .map((r) => ({ suite: r[suite], suiteVersion: r[version], split: r[split], task: r[task], seed: Number(r[seed]), policy: r[policy], success: r[success] === 'true' }));
}

/** A learned policy's label: not the scripted expert, not an image-zeroed baseline. */
export const isLearnedLabel = (label: string) => label !== 'expert' && !label.endsWith('+blind');

/**
 * The label to compare from a run's records: `given` when it is there, else
 * the run's only learned policy; otherwise an error naming the flag and
 * listing the labels.
 */
export function chooseLabel(records: readonly PairRecord[], dir: string, flag: string, given?: string): string {
  const labels = [...new Set(records.map((r) => r.policy))];
  if (given !== undefined) {
    if (!labels.includes(given)) throw new Error(`${dir} has no policy "${given}" (labels: ${labels.join(', ')})`);
    return given;
  }
  const learned = labels.filter(isLearnedLabel);
  if (learned.length === 1) return learned[0];
  throw new Error(`${dir} holds ${learned.length ? `${learned.length} learned policies` : 'no learned policy'}: choose one with ${flag} LABEL (labels: ${labels.join(', ')})`);
}
