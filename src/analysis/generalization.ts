// Generalization experiment: success per held-out split per policy (with the
// expert and blind baselines), through the evaluation harness: one resumable
// eval run per split (src/analysis/conditions.ts), summarized as
// <out>/generalization.{json,html}.
import { readFileSync } from 'node:fs';
import { resolveSuite } from '../../tasks/builtin.ts';
import { type ConditionRunOptions, runConditions } from './conditions.ts';
import type { GroupedRow } from './grouped.ts';

export async function runGeneralization(o: ConditionRunOptions & { splits?: string[] }): Promise<GroupedRow[]> {
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const splits = o.splits ?? Object.keys(suite.splits).filter((s) => s !== 'train');
  for (const s of splits) if (!suite.splits[s]) throw new Error(`suite ${suite.name} has no split "${s}" (splits: ${Object.keys(suite.splits).join(', ')})`);
  return runConditions(o, splits.map((split) => ({ name: split, eval: { split } })), {
    name: 'generalization', title: 'vlalab: generalization across held-out splits', groupTitle: 'split',
    intro: 'Success rate per held-out split and policy, 95% Wilson intervals; "+blind" is the same policy with its image zeroed, "expert" the scripted upper bound.',
    meta: { experiment: 'generalization', suite: suite.name, suiteVersion: suite.version, splits, episodesPerSplit: o.episodes ?? 'all' },
  });
}
