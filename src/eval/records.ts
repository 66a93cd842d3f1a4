// Per-episode evaluation records (one JSONL line each, LeRobot eval_info
// style, plus latency parts) and the deterministic episode list they cover.
import { appendJsonl, readJsonl } from '../io/jsonl.ts';
import type { EvalProtocol } from './fingerprint.ts';
import type { EpisodeOutcome } from '../../tasks/outcome.ts';
import type { ProbeInfo } from '../../tasks/probes.ts';
import { episodeOrder, type EpisodeRef, type SuiteSpec } from '../../tasks/suite.ts';

/** policyMs: a remote policy's own compute, as its server reports it (docs/remote-policy.md); absent for the worker's policies. */
export const LATENCY_PARTS = ['captureMs', 'transferMs', 'backboneMs', 'decoderMs', 'totalMs', 'policyMs'] as const;
export type LatencyPart = (typeof LATENCY_PARTS)[number];
export type StepLatency = Record<Exclude<LatencyPart, 'policyMs'>, number> & { policyMs?: number };

export interface EpisodeRecord {
  suite: string;
  suiteVersion: string;
  split: string;
  task: string;
  seed: number;
  instruction: string;
  /** Policy label in the comparison: a checkpoint/name, "expert" or "<policy>+blind". */
  policy: string;
  /** SHA-256 of the checkpoint's config.json + weights.safetensors (learned policies from a directory; eval/fingerprint.ts). */
  checkpointSha256?: string;
  /** A remote policy server's declared "name@version" (docs/remote-policy.md): its model identity, as the hash is a checkpoint's. */
  remoteModel?: string;
  /** Registry preset name when the policy is an untrained preset (then `untrained` is true). */
  preset?: string;
  untrained?: boolean;
  /** Everything besides the model that decides the outcome (eval/fingerprint.ts); absent in records of older versions. */
  protocol?: EvalProtocol;
  backbone: string;
  /** tfjs backend that ran inference ("none" for the scripted expert). */
  backend: string;
  success: boolean;
  steps: number;
  terminated: boolean;
  /** Set when the episode failed for a reason other than the task: exception, NaN action, physics blow-up. */
  failure?: { kind: string; message: string };
  /** Where in the task it ended (tasks/outcome.ts); absent when the episode did not run to its end (exception). */
  outcome?: EpisodeOutcome;
  /** A counterfactual language probe replaced the instruction (tasks/probes.ts): its kind, what it named, the sampled goal. */
  probe?: ProbeInfo;
  /** Per-step latency, warm-up steps excluded (reported separately). */
  latency: StepLatency[];
  warmup: StepLatency[];
  wallMs: number;
}

export const recordKey = (r: { policy: string; task: string; seed: number }) => `${r.policy}\u0000${r.task}\u0000${r.seed}`;

export function isRecord(v: unknown): v is EpisodeRecord {
  const r = v as EpisodeRecord;
  return typeof r === 'object' && r !== null && typeof r.policy === 'string' && typeof r.task === 'string'
    && typeof r.seed === 'number' && typeof r.success === 'boolean' && Array.isArray(r.latency);
}

/** Records of a run file, first occurrence of each (policy, task, seed) kept. */
export function readRecords(path: string): EpisodeRecord[] {
  const seen = new Set<string>();
  return readJsonl(path, isRecord).filter((r) => {
    const k = recordKey(r);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function appendRecord(path: string, r: EpisodeRecord): void {
  appendJsonl(path, r);
}

export type { EpisodeRef } from '../../tasks/suite.ts';

/** A split's episodes in run order (tasks/suite.ts episodeOrder), optionally the first n. */
export function evalEpisodes(suite: SuiteSpec, split: string, n?: number): EpisodeRef[] {
  const all = episodeOrder(suite, split);
  return n === undefined ? all : all.slice(0, n);
}

/** Parse "i/n" (0-based shard index i of n). */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  if (!m) throw new Error(`--shard must look like i/n (e.g. 0/4), got "${s}"`);
  const index = Number(m[1]), count = Number(m[2]);
  if (count < 1 || index >= count) throw new Error(`--shard ${s}: need 0 <= i < n`);
  return { index, count };
}

/** Deterministic slice: every n-th episode starting at i, so shards stay balanced across tasks. */
export function shardEpisodes<T>(list: readonly T[], shard: { index: number; count: number }): T[] {
  return list.filter((_, j) => j % shard.count === shard.index);
}
