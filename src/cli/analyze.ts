// `vlalab analyze <experiment>`: the CNN-vs-Transformer questions as
// reproducible experiments, each writing JSON + a self-contained HTML report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { htmlPage, lineChart } from '../analysis/charts.ts';
import { costVsResolution, type ResolutionRow } from '../analysis/resolution.ts';
import { initBackend } from '../tf/backend.ts';
import { machineInfo } from './machine.ts';

const EXPERIMENTS: Record<string, string> = {
  resolution: 'FLOPs, parameters and measured latency per backbone at several input resolutions, against the predicted scaling',
};

export const RESOLUTION_BACKBONES = ['efficientnet_film_s_96', 'siglip_tiny_patch8_96'];

export async function runResolution(o: { quick: boolean; out: string; backbones?: string[] }): Promise<ResolutionRow[]> {
  const info = await initBackend('wasm');
  const resolutions = o.quick ? [64, 96, 128] : [64, 96, 128, 160, 224];
  const rows = costVsResolution(o.backbones ?? RESOLUTION_BACKBONES, resolutions, o.quick ? 3 : 15);
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

export async function runAnalyze(args: string[]): Promise<void> {
  const [experiment, ...rest] = args;
  const help = `vlalab analyze <experiment> [--quick] [--out DIR]\nexperiments:\n${Object.entries(EXPERIMENTS).map(([k, v]) => `  ${k.padEnd(12)} ${v}`).join('\n')}`;
  if (!experiment || experiment === '--help' || experiment === '-h') {
    console.log(help);
    return;
  }
  if (!EXPERIMENTS[experiment]) throw new Error(`unknown experiment "${experiment}" (experiments: ${Object.keys(EXPERIMENTS).join(', ')})`);
  const { values } = parseArgs({ args: rest, options: { quick: { type: 'boolean' }, out: { type: 'string' } } });
  const out = values.out ?? `results/${experiment}${values.quick ? '-quick' : ''}`;
  if (experiment === 'resolution') {
    const rows = await runResolution({ quick: Boolean(values.quick), out });
    console.log(JSON.stringify(rows, null, 2));
    console.error(`report: ${out}/resolution.html`);
  }
}
