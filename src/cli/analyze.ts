// `vlalab analyze <experiment>`: the CNN-vs-Transformer questions as
// reproducible experiments, each writing JSON + a self-contained HTML report.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { htmlPage, lineChart } from '../report/charts.ts';
import { costVsResolution, type ResolutionRow } from '../analysis/resolution.ts';
import { CONFIG_FILE, parseConfig } from '../train/checkpoint.ts';
import { initBackend } from '../tf/backend.ts';
import { glueNegativeValues } from './args.ts';
import { machineInfo } from '../runtime/machine.ts';

const EXPERIMENTS: Record<string, string> = {
  resolution: 'FLOPs, parameters and measured latency per backbone at several input resolutions, against the predicted scaling',
  generalization: 'success per held-out split (layouts, color-shape combos, paraphrases, distractors) per policy, with baselines',
  robustness: 'success under camera pose shift, lighting changes and a distractor table texture, per policy; with --levels: success against level on each perturbation axis (--axes a,b)',
  'sample-efficiency': 'held-out success against the number of training demos (same step budget), one curve per backbone',
  'looks-at': 'ViT attention maps and mean attention distance per layer/head; CNN effective receptive field per stage, on held-out frames',
  grounding: "where each policy's object/destination attention points on the first frame (commanded object, destination, another item), crossed with an eval run's outcomes (--eval DIR)",
  'language-roles': "whether a policy's instruction embedding tells the object from the destination (role swap vs one replaced word)",
  'language-probes': 'whether the policy reads its instruction: the same layouts phrased as people type, and counterfactual instructions (swap, other object/destination, garbled, empty); success and which object it moved',
};

/** The shipped checkpoints: the default policies of the evaluation experiments. */
export const SHIPPED_POLICIES = ['checkpoints/efficientnet-film', 'checkpoints/vit-siglip'];

/**
 * The shipped policies' backbone presets, read from their config.json (a
 * hard-coded list went stale when a new ViT was shipped). A checkpoint whose
 * backbone is not a plain preset is refused: the cost table would describe
 * another model.
 */
export function shippedBackbones(policies: string[] = SHIPPED_POLICIES): string[] {
  return policies.map((dir) => {
    const file = join(dir, CONFIG_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`analyze resolution: cannot read the shipped checkpoint config ${file}: ${(e as Error).message}`);
    }
    const { config } = parseConfig(text, file).policy; // the checkpoint format's own checks (format, version, policy.config.backbone)
    const overrides = Object.keys(config.backboneOverrides ?? {});
    if (overrides.length > 0) throw new Error(`analyze resolution: ${file} overrides its backbone preset (${overrides.join(', ')}); pass the backbones explicitly`);
    return config.backbone;
  });
}

export async function runResolution(o: { quick: boolean; out: string; backbones?: string[] }): Promise<ResolutionRow[]> {
  const info = await initBackend('wasm');
  const resolutions = o.quick ? [64, 96, 128] : [64, 96, 128, 160, 224];
  const rows = costVsResolution(o.backbones ?? shippedBackbones(), resolutions, o.quick ? 3 : 15);
  mkdirSync(o.out, { recursive: true });
  const meta = { experiment: 'resolution', quick: o.quick, backend: info.backend, resolutions, machine: machineInfo() };
  writeFileSync(join(o.out, 'resolution.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
  const names = [...new Set(rows.map((r) => r.backbone))];
  const series = (pick: (r: ResolutionRow) => number, predicted?: (r: ResolutionRow) => number) => names.flatMap((n, i) => {
    const rs = rows.filter((r) => r.backbone === n);
    const out = [{ name: `${n} measured`, points: rs.map((r) => [r.resolution, pick(r)] as [number, number]), color: i }];
    if (predicted) out.push({ name: `${n} predicted`, points: rs.map((r) => [r.resolution, predicted(r)] as [number, number]), color: i, dashed: true } as never);
    return out;
  });
  const table = `<table><tr><th>backbone</th><th>resolution</th><th>params</th><th>GFLOPs</th><th>predicted GFLOPs</th><th>attention share</th><th>latency p50 ms</th><th>p95 ms</th><th>predicted ms</th></tr>${rows.map((r) =>
    `<tr><td style="text-align:left">${r.backbone}</td><td>${r.resolution}</td><td>${(r.params / 1e6).toFixed(2)}M</td><td>${(r.flops / 1e9).toFixed(3)}</td><td>${(r.predictedFlops / 1e9).toFixed(3)}</td><td>${r.attentionShare === undefined ? '-' : (100 * r.attentionShare).toFixed(1) + '%'}</td><td>${r.latencyP50Ms}</td><td>${r.latencyP95Ms}</td><td>${r.predictedLatencyMs}</td></tr>`).join('')}</table>`;
  const body = `<p>Input resolution vs cost. CNN prediction: FLOPs proportional to the pixel count (r/r0)^2. ViT prediction: a&middot;N + b&middot;N^2 in the patch count N, with b = 4&middot;d&middot;depth for QK^T and AV (fitted a at ${resolutions[0]} px). Latency: tfjs ${info.backend}, batch 1, warm-up excluded; predicted latency is a least-squares fit latency = overhead + k&middot;predicted FLOPs over the resolutions (per-op overhead dominates small inputs).</p>
<div class="charts">${lineChart({ title: 'FLOPs per frame', xLabel: 'input resolution (px)', yLabel: 'FLOPs', series: series((r) => r.flops, (r) => r.predictedFlops), logY: true })}
${lineChart({ title: 'Forward latency (ms)', xLabel: 'input resolution (px)', yLabel: 'ms (p50)', series: series((r) => r.latencyP50Ms, (r) => r.predictedLatencyMs), logY: true })}</div>${table}<pre>${JSON.stringify(meta, null, 2)}</pre>`;
  writeFileSync(join(o.out, 'resolution.html'), htmlPage('vlalab: cost versus resolution', body));
  return rows;
}

/** A positive integer option (default when absent), or an error naming the flag. */
function positiveInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

export async function runAnalyze(args: string[]): Promise<void> {
  const [experiment, ...rest] = args;
  const help = `vlalab analyze <experiment> [--quick] [--out DIR] [--policy CKPT|NAME ...] [--data DIR] [--demos 25,50] [--steps N] [--episodes N] [--workers K] [--splits a,b (generalization: splits; robustness, language-probes: probes)] [--levels [--axes a,b] (robustness)] [--eval DIR (grounding)] [--backend B]\nexperiments:\n${Object.entries(EXPERIMENTS).map(([k, v]) => `  ${k.padEnd(16)} ${v}`).join('\n')}`;
  if (!experiment || experiment === '--help' || experiment === '-h') {
    console.log(help);
    return;
  }
  if (!EXPERIMENTS[experiment]) throw new Error(`unknown experiment "${experiment}" (experiments: ${Object.keys(EXPERIMENTS).join(', ')})`);
  const options = {
    quick: { type: 'boolean' }, out: { type: 'string' }, policy: { type: 'string', multiple: true }, suite: { type: 'string', default: 'tabletop' },
    splits: { type: 'string' }, episodes: { type: 'string' }, workers: { type: 'string' }, backend: { type: 'string' },
    data: { type: 'string' }, demos: { type: 'string' }, steps: { type: 'string' }, eval: { type: 'string' },
    levels: { type: 'boolean' }, axes: { type: 'string' },
  } as const;
  const { values } = parseArgs({ args: glueNegativeValues(rest, options), options });
  if ((values.levels || values.axes !== undefined) && experiment !== 'robustness') throw new Error(`--levels and --axes belong to "analyze robustness", not "${experiment}"`);
  if (values.axes !== undefined && !values.levels) throw new Error('--axes needs --levels (analyze robustness --levels --axes a,b)');
  if (values.levels && values.splits !== undefined) throw new Error('--splits names robustness probes; with --levels choose axes with --axes');
  const out = values.out ?? `results/${experiment}${values.levels ? '-levels' : ''}${values.quick ? '-quick' : ''}`;

  if (experiment === 'resolution') {
    const rows = await runResolution({ quick: Boolean(values.quick), out });
    console.log(JSON.stringify(rows, null, 2));
    console.error(`report: ${out}/resolution.html`);
  } else if (experiment === 'sample-efficiency') {
    await sampleEfficiencyCommand(values, out);
  } else if (experiment === 'language-roles') {
    // --quick is the full size: the probe only runs instruction encoders (about a second per policy)
    await initBackend('wasm');
    const { runLanguageRoles } = await import('../analysis/languageRoles.ts');
    const { resolveSuite } = await import('../../tasks/builtin.ts');
    const res = await runLanguageRoles({ policies: (values.policy as string[] | undefined) ?? SHIPPED_POLICIES, suite: resolveSuite(String(values.suite)), out });
    for (const r of res) for (const x of r.rows) console.log(`${r.policy.padEnd(32)} ${x.task.padEnd(12)} role swap ${x.roleSwap.toFixed(3)}  object color ${x.objectColor.toFixed(3)}  ratio ${x.ratio.toFixed(2)}`);
    console.error(`report: ${out}/language_roles.html`);
  } else if (experiment === 'language-probes') {
    const { runLanguageProbes, probesMarkdown, CONDITIONS } = await import('../analysis/languageProbes.ts');
    const conditions = values.splits ? String(values.splits).split(',') : undefined;
    for (const c of conditions ?? []) if (!(CONDITIONS as readonly string[]).includes(c)) throw new Error(`--splits: unknown language probe "${c}" (conditions: ${CONDITIONS.join(', ')})`);
    const rows = await runLanguageProbes({
      policies: (values.policy as string[] | undefined) ?? SHIPPED_POLICIES, suite: String(values.suite), conditions: conditions as never,
      episodes: positiveInt(values.episodes as string | undefined, 'episodes', values.quick ? 2 : 100), workers: positiveInt(values.workers as string | undefined, 'workers', values.quick ? 1 : 2),
      backend: values.backend as string | undefined, out,
    });
    console.log(probesMarkdown(rows));
    console.error(`report: ${out}/language_probes.html`);
  } else if (experiment === 'grounding') {
    const { runGrounding } = await import('../analysis/grounding.ts');
    const res = await runGrounding({ policies: (values.policy as string[] | undefined) ?? SHIPPED_POLICIES, episodes: positiveInt(values.episodes as string | undefined, 'episodes', values.quick ? 2 : 100), evalDir: values.eval as string | undefined, out });
    for (const r of res) for (const [cam, maps] of Object.entries(r.counts)) for (const [m, c] of Object.entries(maps)) console.log(`${r.label.padEnd(24)} ${cam.padEnd(6)} ${m.padEnd(11)} map -> ${Object.entries(c).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    console.error(`report: ${out}/grounding.html`);
  } else if (experiment === 'looks-at') {
    const { runLooksAt } = await import('../analysis/looksAt.ts');
    const res = await runLooksAt({ policies: (values.policy as string[] | undefined) ?? SHIPPED_POLICIES, episodes: positiveInt(values.episodes as string | undefined, 'episodes', values.quick ? 1 : 4), out });
    for (const r of res) {
      const f = r.frames;
      if (f[0]?.attention) console.log(`${r.policy}: mean attention distance per layer (px): ${f[0].attention.map((l) => (l.headDistances.reduce((a, b) => a + b, 0) / l.headDistances.length).toFixed(1)).join(', ')}`);
      if (f[0]?.erf) console.log(`${r.policy}: effective receptive field per stage (px): ${f[0].erf.map((s) => s.erfSize).join(', ')}`);
    }
    console.error(`report: ${out}/looks_at.html`);
  } else {
    const common = {
      policies: (values.policy as string[] | undefined) ?? SHIPPED_POLICIES, suite: String(values.suite),
      episodes: positiveInt(values.episodes as string | undefined, 'episodes', values.quick ? 2 : 100), workers: positiveInt(values.workers as string | undefined, 'workers', values.quick ? 1 : 2),
      backend: values.backend as string | undefined, out,
    };
    const list = values.splits ? String(values.splits).split(',') : undefined;
    const { groupedMarkdown } = await import('../analysis/grouped.ts');
    if (experiment === 'generalization') {
      const { runGeneralization } = await import('../analysis/generalization.ts');
      console.log(groupedMarkdown(await runGeneralization({ ...common, splits: list }), 'split'));
    } else if (values.levels) {
      const { parseAxes } = await import('../analysis/perturbationAxes.ts');
      const axes = parseAxes(values.axes as string | undefined);
      const { runRobustnessLevels } = await import('../analysis/robustnessLevels.ts');
      const { rows } = await runRobustnessLevels({ ...common, episodes: positiveInt(values.episodes as string | undefined, 'episodes', values.quick ? 1 : 100), axes, quick: Boolean(values.quick) });
      const { levelsMarkdown } = await import('../analysis/robustnessLevelsReport.ts');
      console.log(levelsMarkdown(rows));
      console.error(`report: ${out}/robustness_levels.html`);
      return;
    } else {
      const { runRobustness } = await import('../analysis/robustness.ts');
      console.log(groupedMarkdown(await runRobustness({ ...common, probes: list }), 'probe'));
    }
    console.error(`report: ${out}/${experiment}.html`);
  }
}

async function sampleEfficiencyCommand(values: Record<string, unknown>, out: string): Promise<void> {
  const quick = Boolean(values.quick);
  const list = (v: unknown, dflt: number[]) => (v === undefined ? dflt : String(v).split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n) || n < 2) throw new Error(`--demos must be integers >= 2, got "${v}"`);
    return n;
  }));

  // Full size = the committed results/sample-efficiency run: x4 steps in N keep the
  // grid at 6 training runs (~2 h side by side on the 2-core reference machine).
  // Its policies are the recipes that run trained (named efficientnet-film and
  // vit-siglip then, before those names meant the shipped recipes).
  const demos = list(values.demos, quick ? [4, 8] : [25, 100, 400]);
  let data = values.data as string | undefined;
  if (!data && quick) {
    // --quick needs no recorded demo set: it records a tiny one first (resumable).
    const { collect } = await import('../collect/runner.ts');
    data = `${out}/data`;
    await collect({ suite: 'tabletop', split: 'train', episodes: Math.max(...demos) + 2, out: data, quiet: true });
  }
  const { runSampleEfficiency } = await import('../analysis/sampleEfficiency.ts');
  const rows = await runSampleEfficiency({
    policies: (values.policy as string[] | undefined) ?? ['efficientnet-film-64', 'vit-siglip-openvla'], data: data ?? 'data/tabletop-train', demos,
    steps: positiveInt(values.steps, 'steps', quick ? 3 : 1000), episodes: positiveInt(values.episodes, 'episodes', quick ? 1 : 100),
    workers: positiveInt(values.workers, 'workers', quick ? 1 : 2), backend: values.backend as string | undefined, out,
  });
  for (const r of rows) console.log(`${r.policy.padEnd(20)} ${String(r.demos).padStart(5)} demos ${(100 * r.rate).toFixed(1).padStart(5)}% [${(100 * r.lo).toFixed(0)}, ${(100 * r.hi).toFixed(0)}] (${r.successes}/${r.episodes})`);
  console.error(`report: ${out}/sample_efficiency.html`);
}
