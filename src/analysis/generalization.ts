// Generalization experiment: success per held-out split per policy (with the
// expert and blind baselines), through the evaluation harness: one resumable
// eval run per split (src/analysis/conditions.ts), summarized as
// <out>/generalization.{json,html}. When exactly two learned policies ran,
// each split also gets a paired verdict between them (eval/compare.ts: exact
// McNemar on the same episodes): <out>/runs/<split>/compare-<A>-vs-<B>/ and
// <out>/generalization.paired.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSuite } from '../../tasks/builtin.ts';
import { type CompareRow, isLearnedLabel, pairedCompare, readRunRecords } from '../eval/compare.ts';
import { compareDirName, writeCompare } from '../eval/compareReport.ts';
import { type ConditionRunOptions, runConditions } from './conditions.ts';
import type { GroupedRow } from './grouped.ts';

export async function runGeneralization(o: ConditionRunOptions & { splits?: string[] }): Promise<GroupedRow[]> {
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const splits = o.splits ?? Object.keys(suite.splits).filter((s) => s !== 'train');
  for (const s of splits) if (!suite.splits[s]) throw new Error(`suite ${suite.name} has no split "${s}" (splits: ${Object.keys(suite.splits).join(', ')})`);
  const rows = await runConditions(o, splits.map((split) => ({ name: split, eval: { split } })), {
    name: 'generalization', title: 'vlalab: generalization across held-out splits', groupTitle: 'split',
    intro: 'Success rate per held-out split and policy, 95% Wilson intervals; "+blind" is the same policy with its image zeroed, "expert" the scripted upper bound.',
    meta: { experiment: 'generalization', suite: suite.name, suiteVersion: suite.version, splits, episodesPerSplit: o.episodes ?? 'all' },
  });
  const learned = o.policies.filter((p) => p !== 'expert' && !p.startsWith('blind:'));
  const paired = learned.length === 2 ? pairedBySplit(o.out, splits) : [];
  if (paired.length) {
    writeFileSync(join(o.out, 'generalization.paired.json'), JSON.stringify(paired, null, 2) + '\n');
    if (!o.quiet) for (const p of paired) process.stderr.write(`${p.split}: ${p.policyB} vs ${p.policyA}: b=${p.overall.b} c=${p.overall.c} p=${p.overall.p.toFixed(3)} ${p.overall.verdict}\n`);
  }
  return rows;
}

export interface SplitVerdict {
  split: string;
  policyA: string;
  policyB: string;
  overall: CompareRow;
  perTask: CompareRow[];
}

/**
 * The paired verdict between the two learned policies of each split's run
 * (A = the first in the run's records, B = the second), written beside the run
 * as compare.{json,html}; splits whose run has not exactly two learned policies are skipped.
 */
export function pairedBySplit(out: string, splits: string[]): SplitVerdict[] {
  return splits.flatMap((split) => {
    const dir = join(out, 'runs', split);
    const records = readRunRecords(dir);
    const learned = [...new Set(records.map((r) => r.policy))].filter(isLearnedLabel);
    if (learned.length !== 2) return [];
    const [a, b] = learned;
    const c = pairedCompare(records.filter((r) => r.policy === a), records.filter((r) => r.policy === b));
    writeCompare(join(dir, compareDirName(a, b)), c, { runA: dir, runB: dir }, { experiment: 'generalization', split });
    return [{ split, policyA: a, policyB: b, overall: c.overall, perTask: c.rows }];
  });
}
