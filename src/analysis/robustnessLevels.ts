// `analyze robustness --levels`: success against perturbation level, per
// axis and policy (axes and levels: src/analysis/perturbationAxes.ts). One
// resumable eval run per condition under <out>/runs/<axis>-<level> (level 0
// of every axis is the shared <out>/runs/nominal), all on the same held-out
// episodes; the example frames of each condition (the first episode's first
// observation, as the policy sees it) under <out>/frames/; the summary in
// <out>/robustness_levels.{json,html}. Episode axes change the physical
// episode, so the scripted expert runs there too: it shows the perturbed
// episodes stay solvable. With exactly two learned policies every condition
// also gets the paired exact McNemar verdict between them (eval/compare.ts).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSuite } from '../../tasks/builtin.ts';
import { evalEpisodes } from '../eval/records.ts';
import type { PolicySummary } from '../eval/summary.ts';
import { type ConditionRunOptions, evalCondition } from './conditions.ts';
import { conditionFrames } from './frames.ts';
import { pairedBySplit, type SplitVerdict } from './generalization.ts';
import { type SuccessRow, successRow } from './grouped.ts';
import { type Axis, type AxisLevel, AXES, conditionName, inTrainingRange, levelsToRun, type Perturbation } from './perturbationAxes.ts';
import { robustnessLevelsHtml } from './robustnessLevelsReport.ts';

export interface RobustnessLevelsOptions extends ConditionRunOptions {
  split?: string;
  /** Default: every axis (parseAxes turns --axes into this). */
  axes?: Axis[];
  /** The mildest and the most severe level of each axis only. */
  quick?: boolean;
  /** Run the scripted expert on the nominal and episode-axis conditions (default true). */
  expert?: boolean;
  chromium?: string;
}

export interface LevelRow extends SuccessRow {
  axis: string;
  /** 0 = nominal. */
  level: number;
  label: string;
  /** The condition: its eval run is <out>/runs/<run>, its example frame <out>/frames/<run>.png. */
  run: string;
  /** Why this level lies inside the training ranges; [] = outside (perturbationAxes.ts inTrainingRange). */
  inTraining: string[];
}

interface PlannedCondition {
  name: string;
  axis: Axis | null;
  level: AxisLevel | null;
  perturbation: Perturbation;
}

export function planConditions(axes: Axis[], quick = false): PlannedCondition[] {
  return [
    { name: conditionName(null, null), axis: null, level: null, perturbation: {} },
    ...axes.flatMap((axis) => levelsToRun(axis, quick).map((level) => ({ name: conditionName(axis, level), axis, level, perturbation: level.condition }))),
  ];
}

export async function runRobustnessLevels(o: RobustnessLevelsOptions): Promise<{ rows: LevelRow[]; paired: SplitVerdict[] }> {
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const split = o.split ?? 'heldout_layout';
  if (!suite.splits[split]) throw new Error(`suite ${suite.name} has no split "${split}" (splits: ${Object.keys(suite.splits).join(', ')})`);
  const axes = o.axes ?? AXES;
  const plan = planConditions(axes, o.quick);
  const trainDistractors = suite.splits.train?.distractors;
  const withExpert = o.expert !== false && !o.policies.includes('expert') && axes.some((a) => a.kind === 'episode');
  const say = (line: string) => { if (!o.quiet) process.stderr.write(line + '\n'); };

  // Frames first: a condition that cannot be built (e.g. no room for the distractors) fails before hours of evaluation.
  say(`robustness levels: ${plan.length} conditions (${axes.map((a) => a.name).join(', ')}), example frames -> ${join(o.out, 'frames')}`);
  const { cameras, frames } = await conditionFrames(o, suite, split, plan);

  const summaries = new Map<string, PolicySummary[]>();
  for (const [i, c] of plan.entries()) {
    say(`\n[${i + 1}/${plan.length}] ${c.name}${c.level ? ` (${c.axis!.name} ${c.level.label})` : ''}`);
    const expert = withExpert && (c.axis === null || c.axis.kind === 'episode');
    summaries.set(c.name, await evalCondition(o, { name: c.name, eval: { split, baselines: false, policies: expert ? [...o.policies, 'expert'] : o.policies, ...c.perturbation } }));
  }

  const rows: LevelRow[] = [];
  for (const axis of axes) {
    for (const c of plan.filter((x) => x.axis === null || x.axis === axis)) {
      for (const s of summaries.get(c.name)!) {
        rows.push({
          axis: axis.name, level: c.level?.level ?? 0, label: c.level?.label ?? 'nominal', run: c.name, inTraining: inTrainingRange(c.perturbation, { trainDistractors }),
          ...successRow(s),
        });
      }
    }
  }
  const learned = o.policies.filter((p) => p !== 'expert' && !p.startsWith('blind:'));
  const paired = learned.length === 2 ? pairedBySplit(o.out, plan.map((c) => c.name)) : [];
  const meta = {
    experiment: 'robustness-levels', suite: suite.name, suiteVersion: suite.version, split, quick: o.quick ?? false, episodesPerLevel: o.episodes ?? 'all',
    exampleEpisode: evalEpisodes(suite, split, 1)[0], exampleCameras: cameras, policies: o.policies, expert: withExpert, createdAt: new Date().toISOString(),
  };
  const axesJson = axes.map((a) => ({ name: a.name, kind: a.kind, description: a.description, levels: levelsToRun(a, o.quick).map((l) => ({ ...l, run: conditionName(a, l), inTraining: inTrainingRange(l.condition, { trainDistractors }) })) }));
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'robustness_levels.json'), JSON.stringify({ meta, axes: axesJson, rows, paired }, null, 2) + '\n');
  writeFileSync(join(o.out, 'robustness_levels.html'), robustnessLevelsHtml({ axes, rows, paired, frames, meta }));
  return { rows, paired };
}
