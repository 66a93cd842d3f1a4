// Aggregate evaluation records into the comparison table: success rate with
// Wilson 95% intervals (overall and per task), latency percentiles per part
// (warm-up excluded), control rate, and model cost.
import { OUTCOMES, type OutcomeKind } from '../../tasks/outcome.ts';
import { LATENCY_PARTS, type EpisodeRecord, type LatencyPart } from './records.ts';
import { summarizeLatency, wilson, type Interval, type LatencySummary } from './stats.ts';

export interface PolicyInfo {
  policy: string;
  backbone: string;
  params?: number;
  flopsPerFrame?: number;
  /** How a learned policy decoded (argmax or median bin), as its worker reported. */
  decodePoint?: string;
  /** Chunked policies: actions per inference, how the chunk is decoded and executed, as its worker reported. */
  chunkLength?: number;
  decoding?: string;
  head?: string;
  chunkExecution?: string;
}

export interface PolicySummary extends PolicyInfo {
  backend: string;
  episodes: number;
  success: Interval;
  perTask: Record<string, Interval>;
  failures: Record<string, number>;
  /** Episodes per outcome kind (tasks/outcome.ts), in OUTCOMES order; records without one are not counted. */
  outcomes: Partial<Record<OutcomeKind, number>>;
  latency: Partial<Record<LatencyPart, LatencySummary>>;
  warmupTotalMs: LatencySummary;
  /** Control steps per second implied by the median total step latency. */
  controlHz: number;
  /**
   * Steps that ran the model (backbone + decoder time > 0), apart from the
   * steps a chunked policy replayed from its queue: their backbone, decoder
   * and total latency, and their share of all steps. With chunks the median
   * step can be a replay, so `meanStepHz` (1000 / mean total step latency)
   * is the sustained control rate.
   */
  perInference?: { share: number; backboneMs: LatencySummary; decoderMs: LatencySummary; totalMs: LatencySummary };
  meanStepHz?: number;
  meanSteps: number;
}

export function summarize(records: EpisodeRecord[], infos: PolicyInfo[] = []): PolicySummary[] {
  const byPolicy = new Map<string, EpisodeRecord[]>();
  for (const r of records) byPolicy.set(r.policy, [...(byPolicy.get(r.policy) ?? []), r]);
  return [...byPolicy.entries()].map(([policy, rs]) => {
    const info = infos.find((i) => i.policy === policy);
    const tasks = [...new Set(rs.map((r) => r.task))];
    const count = (xs: EpisodeRecord[]) => xs.filter((r) => r.success).length;
    const failures: Record<string, number> = {};
    for (const r of rs) if (r.failure) failures[r.failure.kind] = (failures[r.failure.kind] ?? 0) + 1;
    const outcomes: Partial<Record<OutcomeKind, number>> = {};
    for (const k of OUTCOMES) {
      const n = rs.filter((r) => r.outcome?.kind === k).length;
      if (n) outcomes[k] = n;
    }
    const latency: Partial<Record<LatencyPart, LatencySummary>> = {};
    for (const part of LATENCY_PARTS) {
      const values = rs.flatMap((r) => r.latency.map((l) => l[part])).filter((v): v is number => Number.isFinite(v));
      if (values.length) latency[part] = summarizeLatency(values);
    }
    const total = latency.totalMs;
    return {
      policy,
      backbone: info?.backbone ?? rs[0].backbone,
      params: info?.params,
      flopsPerFrame: info?.flopsPerFrame,
      ...(info?.decodePoint ? { decodePoint: info.decodePoint } : {}),
      ...(info?.chunkLength ? { chunkLength: info.chunkLength, decoding: info.decoding, head: info.head, chunkExecution: info.chunkExecution } : {}),
      backend: [...new Set(rs.map((r) => r.backend))].join('+'),
      episodes: rs.length,
      success: wilson(count(rs), rs.length),
      perTask: Object.fromEntries(tasks.map((t) => {
        const ts = rs.filter((r) => r.task === t);
        return [t, wilson(count(ts), ts.length)];
      })),
      failures,
      outcomes,
      latency,
      warmupTotalMs: summarizeLatency(rs.flatMap((r) => r.warmup.map((l) => l.totalMs))),
      controlHz: total && total.p50 > 0 ? 1000 / total.p50 : Number.NaN,
      ...inferenceSummary(rs),
      meanSteps: rs.reduce((a, r) => a + r.steps, 0) / rs.length,
    };
  });
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ms = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));

/** Plain-text comparison table for the terminal. */
export function formatTable(rows: PolicySummary[]): string {
  const header = ['policy', 'backbone', 'backend', 'episodes', 'success [95% CI]', 'p50 total ms', 'p95 total ms', 'Hz', 'params'];
  const lines = rows.map((r) => [
    r.policy, r.backbone, r.backend, String(r.episodes),
    `${pct(r.success.p)} [${pct(r.success.lo)}, ${pct(r.success.hi)}]`,
    ms(r.latency.totalMs?.p50), ms(r.latency.totalMs?.p95), Number.isFinite(r.controlHz) ? r.controlHz.toFixed(1) : '-',
    r.params === undefined ? '-' : `${(r.params / 1e6).toFixed(2)}M`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

/** Latency of the steps that ran the model, and the sustained (mean) control rate; {} without latency records. */
function inferenceSummary(rs: EpisodeRecord[]): Pick<PolicySummary, 'perInference' | 'meanStepHz'> {
  const steps = rs.flatMap((r) => r.latency).filter((l) => Number.isFinite(l.totalMs));
  if (steps.length === 0) return {};
  // a remote policy's inference steps are those with a network round trip (its server may compute in ~0 ms)
  const inferred = steps.filter((l) => (l.backboneMs ?? 0) + (l.decoderMs ?? 0) > 0 || (l.policyMs !== undefined && l.transferMs > 0));
  const mean = steps.reduce((a, l) => a + l.totalMs, 0) / steps.length;
  return {
    meanStepHz: mean > 0 ? 1000 / mean : Number.NaN,
    ...(inferred.length ? { perInference: { share: inferred.length / steps.length, backboneMs: summarizeLatency(inferred.map((l) => l.backboneMs)), decoderMs: summarizeLatency(inferred.map((l) => l.decoderMs)), totalMs: summarizeLatency(inferred.map((l) => l.totalMs)) } } : {}),
  };
}
