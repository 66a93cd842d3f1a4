// "Does the policy read the language?" (issue 20; openvla-oft#95 and
// lerobot#4548 are users asking exactly this). The same held-out layouts run
// under several instructions, one resumable eval run per condition under
// <out>/runs/<condition>:
//   original           the sampled instruction (heldout_layout)
//   language           the heldout_language split: the same seeds and layouts,
//                      phrased as people type (fillers, unseen verbs, synonyms)
//   swap, other_object, other_destination, garbled, empty
//                      counterfactual probes of the original episodes (tasks/probes.ts)
// Per condition and policy (with its backbone and text encoder): success
// judged against what the instruction names (garbled and empty name nothing:
// theirs is the sampled goal's), and which object the policy moved most: the
// one the instruction names, the originally intended one, another, or none
// (tasks/probes.ts movedRole over the outcome's `moved`), each with a Wilson
// 95% interval. A policy that ignores the words keeps moving the original
// object under swap and other_object, and still succeeds on garbled text.
// <out>/language_probes.{json,html}.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSuite } from '../../tasks/builtin.ts';
import { type Goal, sampleEpisode } from '../../tasks/episode.ts';
import { MOVED_ROLES, type MovedRole, movedRole, type ProbeKind, PROBE_KINDS } from '../../tasks/probes.ts';
import type { EpisodeRecord } from '../eval/records.ts';
import { runEval } from '../eval/runner.ts';
import { parsePolicySpec, textEncoderOf } from '../eval/setup.ts';
import { type Interval, wilson } from '../eval/stats.ts';
import { policyColors } from '../report/palette.ts';
import { barChart, htmlPage } from '../report/charts.ts';

export const CONDITIONS = ['original', 'language', ...PROBE_KINDS] as const;
export type Condition = (typeof CONDITIONS)[number];

/** Conditions whose instruction names nothing: the scripted expert (it reads the goal, not the words) does not run them. */
const NAMELESS: readonly Condition[] = ['garbled', 'empty'];

export interface ProbeRow {
  condition: Condition;
  policy: string;
  backbone: string;
  /** 'scratch', 'use-lite:<input>', or '-' for the scripted expert. */
  textEncoder: string;
  /** 'all' or a task name. */
  task: string;
  episodes: number;
  /** Success w.r.t. the instruction given (the sampled goal when it names nothing). */
  success: Interval;
  /** Episodes by what was moved most; episodes without an outcome (an exception) are not counted. */
  moved: Record<MovedRole, number>;
  movedNamed: Interval;
  movedOriginal: Interval;
  /** Success of the original instruction on the same episodes (probes; when the original run has them all). */
  originalSuccess?: Interval;
}

export interface LanguageProbeOptions {
  policies: string[];
  suite: string;
  conditions?: Condition[];
  episodes?: number;
  workers?: number;
  backend?: string;
  /** Split whose layouts are probed (default heldout_layout) and the language split on the same seeds (default heldout_language). */
  split?: string;
  languageSplit?: string;
  /** Run the scripted expert where the instruction names something (default true). */
  expert?: boolean;
  out: string;
  quiet?: boolean;
}

/**
 * What a record's episode moved most, relative to what its instruction named
 * (`sampled`: the episode's sampled goal; a probe's record carries its own).
 * Null when the record cannot say: no outcome (the episode broke off with an
 * exception) or one from before `moved` was recorded.
 */
export function recordMovedRole(r: EpisodeRecord, sampled: Goal): MovedRole | null {
  if (!r.outcome?.moved) return null;
  const original = r.probe?.original.object ?? sampled.object;
  const named = r.probe ? r.probe.named?.object ?? null : sampled.object;
  return movedRole(r.outcome.moved, named, original);
}

/** Rows per (policy, task and 'all') of one condition's records. */
export function probeRows(condition: Condition, records: EpisodeRecord[], o: { info: (label: string) => { backbone?: string; textEncoder: string }; goalOf: (r: EpisodeRecord) => Goal; original?: EpisodeRecord[] }): ProbeRow[] {
  const original = o.original ?? [];
  const rows: ProbeRow[] = [];
  for (const policy of [...new Set(records.map((r) => r.policy))]) {
    const mine = records.filter((r) => r.policy === policy);
    const i = o.info(policy);
    for (const task of ['all', ...new Set(mine.map((r) => r.task))]) {
      const rs = task === 'all' ? mine : mine.filter((r) => r.task === task);
      const moved = Object.fromEntries(MOVED_ROLES.map((m) => [m, 0])) as Record<MovedRole, number>;
      for (const r of rs) {
        const m = recordMovedRole(r, o.goalOf(r));
        if (m) moved[m]++;
      }
      const classified = MOVED_ROLES.reduce((n, m) => n + moved[m], 0);
      const row: ProbeRow = {
        condition, policy, backbone: i.backbone ?? rs[0].backbone, textEncoder: i.textEncoder, task, episodes: rs.length,
        success: wilson(rs.filter((r) => r.success).length, rs.length), moved, movedNamed: wilson(moved.named, classified), movedOriginal: wilson(moved.original, classified),
      };
      const base = rs.map((r) => original.find((o) => o.policy === policy && o.task === r.task && o.seed === r.seed));
      if (condition !== 'original' && rs.length > 0 && base.every(Boolean)) row.originalSuccess = wilson(base.filter((o) => o!.success).length, base.length);
      rows.push(row);
    }
  }
  return rows;
}

/** Run every condition (resumable) and write <out>/language_probes.{json,html}. */
export async function runLanguageProbes(o: LanguageProbeOptions): Promise<ProbeRow[]> {
  const conditions = o.conditions ?? [...CONDITIONS];
  for (const c of conditions) if (!(CONDITIONS as readonly string[]).includes(c)) throw new Error(`unknown condition "${c}" (conditions: ${CONDITIONS.join(', ')})`);
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const split = o.split ?? 'heldout_layout';
  const languageSplit = o.languageSplit ?? 'heldout_language';
  const specs = o.policies.map((p) => parsePolicySpec(p));
  const encoders = new Map(specs.map((s) => [s.label, s.kind === 'expert' ? '-' : textEncoderOf(s)]));
  const info = (label: string) => ({ textEncoder: label === 'expert' ? '-' : encoders.get(label) ?? '?' });
  const byCondition = new Map<Condition, EpisodeRecord[]>();
  for (const c of conditions) {
    const expert = (o.expert ?? true) && !NAMELESS.includes(c) && !o.policies.includes('expert') ? ['expert'] : [];
    const r = await runEval({
      policies: [...expert, ...o.policies], suite: o.suite, split: c === 'language' ? languageSplit : split, baselines: false,
      ...(c === 'original' || c === 'language' ? {} : { probe: c as ProbeKind }),
      episodes: o.episodes, workers: o.workers, backend: o.backend, quiet: o.quiet, out: join(o.out, 'runs', c),
    });
    byCondition.set(c, r.records);
  }
  const original = byCondition.get('original') ?? [];
  const goalOf = (r: EpisodeRecord) => r.probe?.original ?? sampleEpisode(suite, r.task, r.split, r.seed).goal;
  // The language split is paired with the original episodes only where its layouts are theirs (the default splits share seeds and settings).
  const sameLayouts = (r: EpisodeRecord) => JSON.stringify(sampleEpisode(suite, r.task, r.split, r.seed).layout) === JSON.stringify(sampleEpisode(suite, r.task, split, r.seed).layout);
  const paired = (c: Condition) => (c === 'original' || (c === 'language' && !byCondition.get(c)!.every(sameLayouts)) ? [] : original);
  const rows = conditions.flatMap((c) => probeRows(c, byCondition.get(c)!, { info, goalOf, original: paired(c) }));
  const meta = { experiment: 'language-probes', suite: o.suite, split, languageSplit, conditions, policies: o.policies, episodesAsked: o.episodes ?? 'all', createdAt: new Date().toISOString() };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'language_probes.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(join(o.out, 'language_probes.html'), probesHtml(rows, meta));
  return rows;
}

const pct = (i: Interval) => (i.n === 0 ? '-' : `${(100 * i.p).toFixed(0)}% [${(100 * i.lo).toFixed(0)}, ${(100 * i.hi).toFixed(0)}] (${i.k}/${i.n})`);

/** Markdown summary (terminal): one line per condition and policy, all tasks. */
export function probesMarkdown(rows: ProbeRow[]): string {
  const all = rows.filter((r) => r.task === 'all');
  return ['| condition | policy | backbone | text encoder | success | moved named | moved original | original success, same layouts |', '|---|---|---|---|---|---|---|---|',
    ...all.map((r) => `| ${r.condition} | ${r.policy} | ${r.backbone} | ${r.textEncoder} | ${pct(r.success)} | ${pct(r.movedNamed)} | ${pct(r.movedOriginal)} | ${r.originalSuccess ? pct(r.originalSuccess) : '-'} |`)].join('\n');
}

function probesHtml(rows: ProbeRow[], meta: Record<string, unknown>): string {
  const all = rows.filter((r) => r.task === 'all');
  const conditions = [...new Set(all.map((r) => r.condition))];
  const policies = [...new Set(all.map((r) => r.policy))];
  const chart = (title: string, pick: (r: ProbeRow) => Interval) => barChart({
    title, yLabel: 'rate', series: policies, colors: policies.map(policyColors(policies)), yMin: 0, yMax: 1,
    groups: conditions.map((c) => ({ label: c, bars: policies.map((p) => { const r = all.find((x) => x.condition === c && x.policy === p); return r ? { value: pick(r).p, lo: pick(r).lo, hi: pick(r).hi } : { value: 0 }; }) })),
  });
  const table = (rs: ProbeRow[]) => `<table><tr><th>condition</th><th>policy</th><th>backbone</th><th>text encoder</th><th>task</th><th>success</th><th>moved named</th><th>moved original</th><th>moved other</th><th>nothing moved</th><th>original success, same layouts</th></tr>${rs.map((r) =>
    `<tr><td style="text-align:left">${r.condition}</td><td style="text-align:left">${r.policy}</td><td>${r.backbone}</td><td>${r.textEncoder}</td><td>${r.task}</td><td>${pct(r.success)}</td><td>${pct(r.movedNamed)}</td><td>${pct(r.movedOriginal)}</td><td>${r.moved.other}</td><td>${r.moved.none}</td><td>${r.originalSuccess ? pct(r.originalSuccess) : '-'}</td></tr>`).join('')}</table>`;
  const body = `<p>The same held-out layouts under the sampled instruction (<b>original</b>), phrased as people type (<b>language</b>: the ${meta.languageSplit} split, same seeds), and counterfactual probes:
<b>swap</b> (stack: object and base exchanged; pick_place: the object and bowl colours exchanged, only where the scene has both), <b>other_object</b> (another object of the scene named), <b>other_destination</b> (the other bowl, or another base),
<b>garbled</b> (each word's letters shuffled) and <b>empty</b>. Success is judged against what the instruction names (garbled and empty name nothing: the sampled goal). "Moved" is the object moved most (lifted first, then by final displacement of at least one object width):
the one the instruction names, the originally intended one, or another. 95% Wilson intervals. The scripted expert reads the goal, not the words: it shows that each probe is solvable and does not run garbled or empty.</p>
<div class="charts">${chart('Success (w.r.t. the instruction given)', (r) => r.success)}${chart('Moved the object the instruction names', (r) => r.movedNamed)}${chart('Moved the originally intended object', (r) => r.movedOriginal)}</div>
<h2>All tasks</h2>${table(all)}<h2>Per task</h2>${table(rows.filter((r) => r.task !== 'all'))}<pre>${JSON.stringify(meta, null, 2)}</pre>`;
  return htmlPage('vlalab: does the policy read the language?', body);
}
