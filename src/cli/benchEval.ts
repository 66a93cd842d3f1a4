// Evaluation benchmarks (headless Chromium, inference in the Web Worker):
//  - per policy and tfjs backend: control steps/s and latency parts p50/p95 over short episodes
//  - eval throughput (episodes/min) at 1 and 2 workers on wasm
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { listPolicies } from '../../policies/registry.ts';
import { resolveSuite, DEFAULT_SUITE } from '../../tasks/builtin.ts';
import { LATENCY_PARTS, type StepLatency } from '../eval/records.ts';
import type { PolicyEpisodeWire } from '../app/api/policy.ts';
import { runEval } from '../eval/runner.ts';
import type { BackendRequest } from '../worker/fallback.ts';
import { summarizeLatency } from '../eval/stats.ts';
import { HeadlessSession } from '../runtime/session.ts';

/** Shipped checkpoints when present, else the untrained presets (latency does not depend on training). */
export function benchPolicies(): { label: string; spec: { checkpointUrl: string } | { name: string }; dir?: string }[] {
  const shipped = listPolicies().filter((p) => existsSync(join('checkpoints', p, 'config.json')));
  if (shipped.length) return shipped.map((p) => ({ label: p, spec: { checkpointUrl: `/ckpt/${p}/` }, dir: resolve('checkpoints', p) }));
  return listPolicies().map((p) => ({ label: `${p} (untrained)`, spec: { name: p } }));
}

export async function benchEvalLatency(backends: BackendRequest[], episodes: number, maxSteps: number) {
  const suite = resolveSuite(DEFAULT_SUITE);
  const policies = benchPolicies();
  const mounts = Object.fromEntries(policies.filter((p) => p.dir).map((p) => [`/ckpt/${p.label}`, p.dir!]));
  const out: Record<string, Record<string, unknown>> = {};
  const session = await HeadlessSession.open({ mounts, webgpu: backends.includes('webgpu') });
  try {
    for (const p of policies) {
      out[p.label] = {};
      for (const backend of backends) {
        const steps: StepLatency[] = [];
        let info: PolicyEpisodeWire['backendInfo'];
        for (let seed = 0; seed < episodes; seed++) {
          const w = await session.call('runPolicyEpisode', { suite, task: 'pick_place', split: 'heldout_layout', seed: 100000 + seed, policy: p.spec, backend, maxSteps, warmupSteps: 2 });
          if (w.failure) throw new Error(`${p.label} on ${backend}: ${w.failure.kind}: ${w.failure.message}`);
          steps.push(...w.latency);
          info = w.backendInfo;
        }
        const parts = Object.fromEntries(LATENCY_PARTS.filter((k) => steps.some((l) => l[k] !== undefined)).map((k) => {
          const s = summarizeLatency(steps.map((l) => l[k]!));
          return [k, { p50: +s.p50.toFixed(2), p95: +s.p95.toFixed(2) }];
        }));
        const total = summarizeLatency(steps.map((l) => l.totalMs));
        out[p.label][backend] = { steps: steps.length, controlStepsPerSecond: +(1000 / total.mean).toFixed(1), latencyMs: parts, backend: info };
      }
    }
  } finally {
    await session.close();
  }
  return out;
}

export async function benchEvalThroughput(episodes: number) {
  const policies = benchPolicies();
  const arg = policies[0].dir ?? (policies[0].spec as { name: string }).name;
  const out: Record<string, unknown> = { policy: policies[0].label, episodes };
  for (const workers of [1, 2]) {
    const dir = mkdtempSync(join(tmpdir(), 'vlalab-bench-eval-'));
    try {
      const t0 = Date.now();
      await runEval({ policies: [arg], baselines: false, suite: DEFAULT_SUITE, split: 'heldout_layout', episodes, workers, backend: 'wasm', out: dir, quiet: true, terminateOnSuccess: true });
      out[`episodesPerMinute_${workers}worker${workers > 1 ? 's' : ''}`] = +((episodes / ((Date.now() - t0) / 1000)) * 60).toFixed(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
