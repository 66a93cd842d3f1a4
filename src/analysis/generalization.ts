// Generalization experiment: success per held-out split per policy (with the
// expert and blind baselines), through the evaluation harness. Each split is
// one resumable eval run under <out>/runs/<split>; the table and a grouped
// bar chart go to <out>/generalization.{json,html}.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSuite } from '../../tasks/builtin.ts';
import { runEval } from '../eval/runner.ts';
import { summarize } from '../eval/summary.ts';
import { type GroupedRow, groupedHtml, groupedRows } from './grouped.ts';

export interface ConditionRunOptions {
  policies: string[];
  suite: string;
  episodes?: number;
  workers?: number;
  backend?: string;
  out: string;
  quiet?: boolean;
}

export async function runGeneralization(o: ConditionRunOptions & { splits?: string[] }): Promise<GroupedRow[]> {
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const splits = o.splits ?? Object.keys(suite.splits).filter((s) => s !== 'train');
  for (const s of splits) if (!suite.splits[s]) throw new Error(`suite ${suite.name} has no split "${s}" (splits: ${Object.keys(suite.splits).join(', ')})`);
  const perGroup = [];
  for (const split of splits) {
    const r = await runEval({ policies: o.policies, suite: o.suite, split, episodes: o.episodes, workers: o.workers, backend: o.backend, out: join(o.out, 'runs', split), quiet: o.quiet });
    perGroup.push({ group: split, summary: summarize(r.records) });
  }
  const rows = groupedRows(perGroup);
  mkdirSync(o.out, { recursive: true });
  const meta = { experiment: 'generalization', suite: suite.name, suiteVersion: suite.version, splits, episodesPerSplit: o.episodes ?? 'all', policies: o.policies, createdAt: new Date().toISOString() };
  writeFileSync(join(o.out, 'generalization.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(join(o.out, 'generalization.html'), groupedHtml({
    title: 'vlalab: generalization across held-out splits', groupTitle: 'split', rows, meta,
    intro: 'Success rate per held-out split and policy, 95% Wilson intervals; "+blind" is the same policy with its image zeroed, "expert" the scripted upper bound.',
  }));
  return rows;
}
