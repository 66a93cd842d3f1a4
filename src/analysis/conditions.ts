// Shared driver of the per-condition experiments (generalization splits,
// robustness probes): one resumable eval run per condition under
// <out>/runs/<condition>, then <out>/<name>.json and <out>/<name>.html with
// the grouped success table and bar chart (src/analysis/grouped.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type EvalOptions, runEval } from '../eval/runner.ts';
import { type PolicySummary, summarize } from '../eval/summary.ts';
import { type GroupFrames, type GroupedRow, groupedHtml, groupedRows } from './grouped.ts';

/** What every condition's eval run shares. */
export interface ConditionRunOptions {
  policies: string[];
  suite: string;
  episodes?: number;
  workers?: number;
  backend?: string;
  out: string;
  quiet?: boolean;
}

export interface Condition {
  name: string;
  /** This condition's own eval options (split, baselines, appearance, ...). */
  eval: Pick<EvalOptions, 'split'> & Partial<EvalOptions>;
}

/** One condition's resumable eval run under <out>/runs/<name>, summarized. */
export async function evalCondition(o: ConditionRunOptions, c: Condition): Promise<PolicySummary[]> {
  const r = await runEval({ policies: o.policies, suite: o.suite, episodes: o.episodes, workers: o.workers, backend: o.backend, quiet: o.quiet, ...c.eval, out: join(o.out, 'runs', c.name) });
  return summarize(r.records);
}

export async function runConditions(
  o: ConditionRunOptions,
  conditions: Condition[],
  report: { name: string; title: string; intro: string; groupTitle: string; meta: Record<string, unknown>; frames?: GroupFrames },
): Promise<GroupedRow[]> {
  const perGroup = [];
  for (const c of conditions) perGroup.push({ group: c.name, summary: await evalCondition(o, c) });
  const rows = groupedRows(perGroup);
  const meta = { ...report.meta, policies: o.policies, createdAt: new Date().toISOString() };
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, `${report.name}.json`), JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(join(o.out, `${report.name}.html`), groupedHtml({ title: report.title, intro: report.intro, groupTitle: report.groupTitle, rows, meta, frames: report.frames }));
  return rows;
}
