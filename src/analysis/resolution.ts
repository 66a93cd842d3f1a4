// Cost versus input resolution, per backbone: parameters, analytic FLOPs per
// frame and measured forward latency (wasm, batch 1, warm-up excluded), against
// the scaling each architecture predicts:
//   CNN (EfficientNet): every layer's cost is proportional to its feature-map
//     area, so FLOPs grow linearly with the pixel count: f(r) = f(r0) (r/r0)^2.
//   ViT: N = (r/p)^2 patches; per layer the projections and MLP cost O(N d^2)
//     and self-attention (QK^T and AV) 4 N^2 d: f(N) = a N + b N^2 with
//     b = 4 d depth and a fitted at r0 — quadratic in the patch count.
import * as tf from '@tensorflow/tfjs';
import { create, getPreset } from '../../backbones/index.ts';
import type { VisionBackbone } from '../../backbones/registry.ts';
import { summarizeLatency } from '../eval/stats.ts';

export interface ResolutionRow {
  backbone: string;
  family: 'cnn' | 'transformer';
  resolution: number;
  params: number;
  flops: number;
  predictedFlops: number;
  /** ViT only: share of FLOPs in attention products (QK^T, AV). */
  attentionShare?: number;
  patches?: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  /** Least-squares fit over this backbone's resolutions: latency = overhead + k * predictedFlops. */
  predictedLatencyMs: number;
}

function measure(b: VisionBackbone, res: number, iters: number): { p50: number; p95: number } {
  const text = b.textDim > 0 ? tf.randomNormal([1, b.textDim]) as tf.Tensor2D : null;
  const x = tf.randomUniform([1, res, res, 3]) as tf.Tensor4D;
  const times: number[] = [];
  for (let i = 0; i < iters + 3; i++) {
    const t0 = performance.now();
    const out = b.forward(x, text, false);
    out.tokens.dataSync();
    if (i >= 3) times.push(performance.now() - t0); // first calls: kernel/shape setup
    tf.dispose([out.tokens, out.pooled, out.logits ?? [], ...(out.attention ?? [])]);
  }
  tf.dispose([x, text ?? []]);
  const s = summarizeLatency(times);
  return { p50: s.p50, p95: s.p95 };
}

export function costVsResolution(backbones: string[], resolutions: number[], iters: number): ResolutionRow[] {
  const rows: ResolutionRow[] = [];
  for (const name of backbones) {
    const b = create(name);
    const preset = getPreset(name) as { patchSize?: number; dim?: number; depth?: number };
    const family = preset.patchSize ? 'transformer' : 'cnn';
    const r0 = resolutions[0];
    const f0 = b.flopsPerFrame(r0, r0);
    const n0 = family === 'transformer' ? (r0 / preset.patchSize!) ** 2 : 0;
    const quad = family === 'transformer' ? 4 * preset.dim! * preset.depth! : 0;
    const lin = family === 'transformer' ? (f0 - quad * n0 * n0) / n0 : 0;
    const mine: ResolutionRow[] = [];
    for (const res of resolutions) {
      const flops = b.flopsPerFrame(res, res);
      const n = family === 'transformer' ? (res / preset.patchSize!) ** 2 : 0;
      const predictedFlops = family === 'transformer' ? lin * n + quad * n * n : f0 * (res / r0) ** 2;
      const m = measure(b, res, iters);
      mine.push({
        backbone: name, family, resolution: res, params: b.paramCount(), flops, predictedFlops,
        ...(family === 'transformer' ? { attentionShare: (quad * n * n) / flops, patches: n } : {}),
        latencyP50Ms: +m.p50.toFixed(2), latencyP95Ms: +m.p95.toFixed(2), predictedLatencyMs: 0,
      });
    }
    // Per-op overhead dominates small inputs, so fit latency = a + k * FLOPs rather than a pure ratio.
    const [a, k] = linearFit(mine.map((r) => r.predictedFlops), mine.map((r) => r.latencyP50Ms));
    for (const r of mine) rows.push({ ...r, predictedLatencyMs: +(a + k * r.predictedFlops).toFixed(2) });
    b.dispose();
  }
  return rows;
}

/** Ordinary least squares y = a + k x; returns [a, k]. */
export function linearFit(x: number[], y: number[]): [number, number] {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n, my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; }
  const k = sxx > 0 ? sxy / sxx : 0;
  return [my - k * mx, k];
}
