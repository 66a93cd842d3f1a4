// "What each backbone looks at", on real held-out frames:
//  - ViT: attention maps per layer and head, and their mean attention distance
//    (Dosovitskiy et al., arXiv:2010.11929, Fig. 7: early layers mix local and
//    global heads, later ones are mostly global), plus the attention each
//    patch receives in every layer as an overlay on the frame.
//  - CNN: the effective receptive field of the centre output of every stage
//    (Luo et al., NeurIPS 2016: |d out_centre / d input|), against the
//    theoretical receptive field, as overlays and a size-per-stage chart.
// Frames are the first scene-camera observations of held-out episodes,
// rendered in headless Chromium; the models run in Node on tfjs-wasm.
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EfficientNet, ViT } from '../../backbones/index.ts';
import type { RgbFrame, VlaPolicy } from '../../policies/policy.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { evalEpisodes } from '../eval/records.ts';
import { b64ToBytes } from '../runtime/b64.ts';
import { HeadlessSession } from '../runtime/session.ts';
import { loadPolicy } from '../train/checkpoint.ts';
import { encodePng } from '../io/png.ts';
import { initBackend } from '../tf/backend.ts';
import { headDistances } from './attention.ts';
import { effectiveReceptiveField, theoreticalReceptiveField } from './receptiveField.ts';
import { htmlPage, lineChart } from '../report/charts.ts';

export interface LooksAtFrame {
  label: string;
  instruction: string;
  frame: RgbFrame;
}

export interface AttentionLayer {
  layer: number;
  /** Mean attention distance per head, pixels of the model input. */
  headDistances: number[];
  /** Attention received per patch (mean over heads and patch queries), [grid*grid]. */
  received: number[];
}

export interface ErfStage {
  stage: number;
  /** Side (input px) of the centred square holding 95% of the ERF. */
  erfSize: number;
  theoreticalSize: number;
  map: number[];
}

export interface LooksAtResult {
  policy: string;
  backbone: string;
  imageSize: number;
  frames: { label: string; instruction: string; attention?: AttentionLayer[]; erf?: ErfStage[] }[];
}

/** First scene frames of the first n episodes of a split (expert rollouts, frame 0). */
export async function heldOutFrames(n: number, split = 'heldout_layout', chromium?: string): Promise<LooksAtFrame[]> {
  const suite = resolveSuite('tabletop', (p) => readFileSync(p, 'utf8'));
  const session = await HeadlessSession.open({ executablePath: chromium });
  try {
    const out: LooksAtFrame[] = [];
    for (const ep of evalEpisodes(suite, split, n)) {
      const res = 96;
      const w = await session.call('runExpertEpisode', { suite, task: ep.task, split, seed: ep.seed, resolution: res });
      const bytes = b64ToBytes(w.frames.scene);
      out.push({ label: `${ep.task}-${ep.seed}`, instruction: w.episode.instruction, frame: { width: res, height: res, data: bytes.slice(0, res * res * 3) } });
    }
    return out;
  } finally {
    await session.close();
  }
}

export function analyzeVit(policy: VlaPolicy, vit: ViT, f: LooksAtFrame): AttentionLayer[] {
  const x = policy.inputImage(f.frame);
  const out = vit.forward(x, null, false, { returnAttention: true });
  const p = vit.config.patchSize;
  const grid = Math.floor(policy.imageSize / p);
  const pre = vit.config.classToken ? 1 : 0;
  const T = pre + grid * grid;
  const layers = (out.attention ?? []).map((a, layer) => {
    const data = a.dataSync(); // [1,heads,T,T]
    const heads = a.shape[1];
    const received = new Array(grid * grid).fill(0);
    for (let h = 0; h < heads; h++) for (let q = pre; q < T; q++) for (let k = pre; k < T; k++) received[k - pre] += data[(h * T + q) * T + k] / (heads * grid * grid);
    return { layer: layer + 1, headDistances: headDistances(data, heads, { gridH: grid, gridW: grid, patchSize: p, prefixTokens: pre }), received };
  });
  tf.dispose([x, out.tokens, out.pooled, ...(out.attention ?? [])]);
  return layers;
}

export function analyzeCnn(policy: VlaPolicy, net: EfficientNet, f: LooksAtFrame): ErfStage[] {
  const x = policy.inputImage(f.frame);
  const emb = net.textDim > 0 ? policy.instructionEmbedding(f.instruction) : null;
  const S = policy.imageSize;
  const stages = Array.from({ length: net.numStages }, (_, i) => {
    const stage = i + 1;
    const erf = effectiveReceptiveField((inp) => net.stageFeatures(inp, emb, stage), S, S, 3, 0.95, x);
    return { stage, erfSize: erf.size, theoreticalSize: Math.min(theoreticalReceptiveField(net.convChain(stage)), 10 * S), map: Array.from(erf.map) };
  });
  tf.dispose([x, ...(emb ? [emb] : [])]);
  return stages;
}

/** Frame with a heat map blended in (red), nearest-upsampled; PNG data URL. */
export function overlayPng(f: RgbFrame, heat: number[], hh: number, hw: number): string {
  const max = Math.max(...heat, 1e-12);
  const rgb = new Uint8Array(f.width * f.height * 3);
  for (let y = 0; y < f.height; y++) for (let x = 0; x < f.width; x++) {
    const v = heat[Math.min(hh - 1, Math.floor((y * hh) / f.height)) * hw + Math.min(hw - 1, Math.floor((x * hw) / f.width))] / max;
    const i = 3 * (y * f.width + x);
    const g = 0.35 * (f.data[i] + f.data[i + 1] + f.data[i + 2]) / 3; // dimmed grey frame
    rgb[i] = Math.min(255, g + 255 * v);
    rgb[i + 1] = Math.min(255, g + 90 * v * v);
    rgb[i + 2] = g;
  }
  return `data:image/png;base64,${Buffer.from(encodePng(f.width, f.height, rgb)).toString('base64')}`;
}

export async function runLooksAt(o: { policies: string[]; episodes: number; out: string; chromium?: string }): Promise<LooksAtResult[]> {
  await initBackend('wasm');
  const frames = await heldOutFrames(o.episodes, 'heldout_layout', o.chromium);
  const results: LooksAtResult[] = [];
  let body = '<p>First scene-camera frames of held-out episodes. ViT: attention each patch receives (mean over heads and queries) per layer, and mean attention distance per head (ViT paper, Fig. 7). CNN: effective receptive field of the centre output per stage (95% mass square, Luo et al. 2016) against the theoretical one of its convolutions; the squeeze-excitation blocks pool the whole map, so gradient reaches beyond that (the effective field can exceed it in early stages).</p>';
  for (const dir of o.policies) {
    const policy = await loadPolicy(dir);
    try {
      const bb = policy.backbone;
      const res: LooksAtResult = { policy: dir, backbone: policy.config.backbone, imageSize: policy.imageSize, frames: [] };
      body += `<h2>${dir} (${policy.config.backbone}, ${policy.imageSize} px)</h2>`;
      for (const f of frames) {
        const scaled = { ...f, frame: frameAt(f.frame, policy.imageSize) };
        if (bb instanceof ViT) {
          const attention = analyzeVit(policy, bb, f);
          const grid = Math.floor(policy.imageSize / bb.config.patchSize);
          res.frames.push({ label: f.label, instruction: f.instruction, attention });
          body += `<h3>${f.label}: "${f.instruction}"</h3><div class="charts">${attention.map((l) => `<figure><img src="${overlayPng(scaled.frame, l.received, grid, grid)}" width="192" style="image-rendering:pixelated"><figcaption>layer ${l.layer}</figcaption></figure>`).join('')}</div>`;
        } else if (bb instanceof EfficientNet) {
          const erf = analyzeCnn(policy, bb, f);
          res.frames.push({ label: f.label, instruction: f.instruction, erf });
          body += `<h3>${f.label}: "${f.instruction}"</h3><div class="charts">${erf.map((s) => `<figure><img src="${overlayPng(scaled.frame, s.map, policy.imageSize, policy.imageSize)}" width="192" style="image-rendering:pixelated"><figcaption>stage ${s.stage}: ERF ${s.erfSize} px (theoretical ${s.theoreticalSize})</figcaption></figure>`).join('')}</div>`;
        }
      }
      body += summaryCharts(res);
      results.push(res);
    } finally {
      policy.dispose();
    }
  }
  mkdirSync(o.out, { recursive: true });
  writeFileSync(join(o.out, 'looks_at.json'), JSON.stringify(results.map((r) => ({ ...r, frames: r.frames.map((f) => ({ ...f, erf: f.erf?.map(({ map: _m, ...s }) => s) })) })), null, 2) + '\n');
  writeFileSync(join(o.out, 'looks_at.html'), htmlPage('vlalab: what each backbone looks at', body));
  return results;
}

/** The frame resized (nearest) to the model input, so overlays line up with what the model saw. */
function frameAt(f: RgbFrame, S: number): RgbFrame {
  if (f.width === S && f.height === S) return f;
  const data = new Uint8Array(S * S * 3);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
    const i = 3 * (Math.floor((y * f.height) / S) * f.width + Math.floor((x * f.width) / S));
    data.set(f.data.subarray(i, i + 3), 3 * (y * S + x));
  }
  return { width: S, height: S, data };
}

function summaryCharts(r: LooksAtResult): string {
  const att = r.frames.filter((f) => f.attention);
  if (att.length) {
    const layers = att[0].attention!.length, heads = att[0].attention![0].headDistances.length;
    // mean over frames, one series per head (points: layer -> distance)
    const series = Array.from({ length: heads }, (_, h) => ({ name: `head ${h + 1}`, points: Array.from({ length: layers }, (_, l) => [l + 1, att.reduce((a, f) => a + f.attention![l].headDistances[h], 0) / att.length] as [number, number]) }));
    return `<div class="charts">${lineChart({ title: 'Mean attention distance per head', xLabel: 'layer', yLabel: 'pixels (model input)', series, yMin: 0 })}</div>`;
  }
  const erf = r.frames.filter((f) => f.erf);
  if (erf.length) {
    const stages = erf[0].erf!.length;
    const mean = (pick: (s: ErfStage) => number) => Array.from({ length: stages }, (_, i) => [i + 1, erf.reduce((a, f) => a + pick(f.erf![i]), 0) / erf.length] as [number, number]);
    return `<div class="charts">${lineChart({ title: 'Receptive field per stage', xLabel: 'stage', yLabel: 'pixels (model input)', series: [{ name: 'effective (95%)', points: mean((s) => s.erfSize) }, { name: 'theoretical', points: mean((s) => s.theoreticalSize), dashed: true }], yMin: 0 })}</div>`;
  }
  return '';
}
