// Sample-efficiency experiment: train each policy on the first N demos of the
// same demo set (N = 25, 50, 100, 200, ...), with the same seed and the same
// budget of gradient steps, then evaluate every checkpoint on the same
// held-out episodes. Tests the common claim that CNNs (strong inductive bias)
// win at small data while ViTs need more (Dosovitskiy et al., arXiv:2010.11929).
//
// Everything lands under <out>: checkpoints/<policy>-<N>demos (resumable
// training runs), runs/ (one resumable eval run over all checkpoints), and
// sample_efficiency.{json,html}. Rerunning the command continues where it
// stopped: finished checkpoints and finished episodes are not redone.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyColors } from '../report/palette.ts';
import { runEval } from '../eval/runner.ts';
import { summarize } from '../eval/summary.ts';
import { runTrain } from '../train/node.ts';
import { htmlPage, lineChart } from '../report/charts.ts';

export interface SampleEfficiencyOptions {
  /** Policy registry names (training presets), e.g. efficientnet-film, vit-siglip. */
  policies: string[];
  /** Demo directory from `vlalab collect` (must hold at least max(demos) successful episodes). */
  data: string;
  demos: number[];
  /** Gradient steps per training run (the same for every N). */
  steps: number;
  /** Held-out episodes per checkpoint. */
  episodes: number;
  suite?: string;
  split?: string;
  workers?: number;
  backend?: string;
  seed?: number;
  out: string;
  quiet?: boolean;
}

export interface SampleEfficiencyRow {
  policy: string;
  demos: number;
  checkpoint: string;
  episodes: number;
  successes: number;
  rate: number;
  lo: number;
  hi: number;
  /** Where the held-out episodes ended (tasks/outcome.ts), counts per kind. */
  outcomes: Record<string, number>;
  valLoss: number | null;
  valAccuracy: number | null;
  trainSeconds: number;
}

export const checkpointLabel = (policy: string, demos: number) => `${policy}-${demos}demos`;

export async function runSampleEfficiency(o: SampleEfficiencyOptions): Promise<SampleEfficiencyRow[]> {
  if (!o.demos.length || o.demos.some((n) => !Number.isInteger(n) || n < 2)) throw new Error(`--demos must be integers >= 2, got ${o.demos.join(',')}`);
  const ckptDir = join(o.out, 'checkpoints');
  mkdirSync(ckptDir, { recursive: true });
  const trained: { policy: string; demos: number; dir: string; seconds: number; valLoss: number | null; valAccuracy: number | null }[] = [];
  for (const policy of o.policies) {
    for (const demos of o.demos) {
      const dir = join(ckptDir, checkpointLabel(policy, demos));
      const resume = existsSync(join(dir, 'config.json'));
      if (!o.quiet) process.stderr.write(`\n${resume ? 'continuing' : 'training'} ${policy} on ${demos} demos (${o.steps} steps) -> ${dir}\n`);
      // epochs is only an upper bound: the step budget decides, whatever N is
      const s = await runTrain({ policy, data: o.data, out: dir, resume, maxEpisodes: demos, seed: o.seed ?? 0, train: resume ? undefined : { epochs: 100000, maxSteps: o.steps, saveEverySteps: 0 }, quiet: o.quiet });
      trained.push({ policy, demos, dir, seconds: s.seconds, valLoss: s.final?.valLoss ?? null, valAccuracy: s.final?.valAccuracy ?? null });
    }
  }
  const split = o.split ?? 'heldout_layout';
  const r = await runEval({
    policies: trained.map((t) => t.dir), suite: o.suite ?? 'tabletop', split, episodes: o.episodes, workers: o.workers, backend: o.backend,
    out: join(o.out, 'runs', split), baselines: false, quiet: o.quiet,
  });
  const summary = summarize(r.records);
  const rows: SampleEfficiencyRow[] = trained.map((t) => {
    const s = summary.find((x) => x.policy === checkpointLabel(t.policy, t.demos));
    if (!s) throw new Error(`no evaluation records for ${t.dir}`);
    return {
      policy: t.policy, demos: t.demos, checkpoint: t.dir, episodes: s.episodes, successes: s.success.k, rate: s.success.p, lo: s.success.lo, hi: s.success.hi, outcomes: s.outcomes,
      valLoss: t.valLoss, valAccuracy: t.valAccuracy, trainSeconds: t.seconds,
    };
  });
  const meta = { experiment: 'sample-efficiency', data: o.data, demos: o.demos, steps: o.steps, seed: o.seed ?? 0, split, episodesPerPoint: o.episodes, policies: o.policies, createdAt: new Date().toISOString() };
  writeFileSync(join(o.out, 'sample_efficiency.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
  writeFileSync(join(o.out, 'sample_efficiency.html'), sampleEfficiencyHtml(rows, meta));
  return rows;
}

export function sampleEfficiencyHtml(rows: SampleEfficiencyRow[], meta: Record<string, unknown>): string {
  const policies = [...new Set(rows.map((r) => r.policy))];
  const color = policyColors(policies);
  const series = policies.map((p) => {
    const rs = rows.filter((r) => r.policy === p).sort((a, b) => a.demos - b.demos);
    return { name: p, color: color(p), points: rs.map((r) => [r.demos, r.rate] as [number, number]), errors: rs.map((r) => [r.lo, r.hi] as [number, number]) };
  });
  const valSeries = policies.map((p) => ({ name: p, color: color(p), points: rows.filter((r) => r.policy === p && r.valAccuracy !== null).sort((a, b) => a.demos - b.demos).map((r) => [r.demos, r.valAccuracy!] as [number, number]) }));
  const table = `<table><tr><th>policy</th><th>demos</th><th>success</th><th>95% CI</th><th>episodes</th><th>outcomes</th><th>val loss</th><th>val token acc.</th><th>train s</th></tr>${rows.map((r) =>
    `<tr><td style="text-align:left">${r.policy}</td><td>${r.demos}</td><td>${(100 * r.rate).toFixed(1)}%</td><td>[${(100 * r.lo).toFixed(0)}, ${(100 * r.hi).toFixed(0)}]</td><td>${r.episodes}</td><td style="text-align:left">${Object.entries(r.outcomes ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '-'}</td><td>${r.valLoss?.toFixed(3) ?? '-'}</td><td>${r.valAccuracy?.toFixed(3) ?? '-'}</td><td>${r.trainSeconds}</td></tr>`).join('')}</table>`;
  const body = `<p>Held-out success rate (95% Wilson interval) against the number of training demos, same seed and the same number of gradient steps for every point.</p>
<div class="charts">${lineChart({ title: 'Success vs demos', xLabel: 'training demos', yLabel: 'success rate', series, logX: true, yMin: 0, yMax: 1 })}
${lineChart({ title: 'Validation token accuracy vs demos', xLabel: 'training demos', yLabel: 'accuracy', series: valSeries, logX: true, yMin: 0, yMax: 1 })}</div>${table}<pre>${JSON.stringify(meta, null, 2)}</pre>`;
  return htmlPage('vlalab: sample efficiency', body);
}
