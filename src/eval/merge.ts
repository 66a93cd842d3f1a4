// `vlalab merge`: combine the outputs of sharded runs (--shard i/n, e.g. a
// Slurm array or a Kubernetes indexed Job) into one run directory and report.
// A merged row must mean one model under one protocol over the whole episode
// list: inputs whose records of a label come from two models, or that ran
// under two protocols, are refused naming both sides; so is an incomplete set
// of shards (naming the missing ones) unless the caller accepts a partial
// merge, which the merged metadata then says.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendRecord, readRecords, recordKey, type EpisodeRecord } from './records.ts';
import { checkOneCheckpointPerLabel, protocolDiff } from './fingerprint.ts';
import { readSummary, writeOutputs } from './report.ts';
import { summarize, type PolicyInfo } from './summary.ts';

export interface MergeResult {
  records: number;
  duplicates: number;
  /** Shard indices of i/n absent from the inputs (only with partial). */
  missingShards: number[];
  shardCount?: number;
}

/** Which shards of the inputs' i/n are missing; throws on inputs of different n or sharded mixed with unsharded. */
export function shardCoverage(shards: { dir: string; shard?: { index: number; count: number } }[]): { count?: number; missing: number[] } {
  const sharded = shards.filter((s) => s.shard);
  if (sharded.length === 0) return { missing: [] };
  const whole = shards.find((s) => !s.shard);
  if (whole) throw new Error(`${whole.dir} is a whole run but ${sharded[0].dir} is shard ${sharded[0].shard!.index}/${sharded[0].shard!.count}: not merged`);
  const count = sharded[0].shard!.count;
  const odd = sharded.find((s) => s.shard!.count !== count);
  if (odd) throw new Error(`${odd.dir} is shard ${odd.shard!.index}/${odd.shard!.count}, ${sharded[0].dir} is shard ${sharded[0].shard!.index}/${count}: shards of different splits into parts are not merged`);
  const have = new Set(sharded.map((s) => s.shard!.index));
  return { count, missing: Array.from({ length: count }, (_, i) => i).filter((i) => !have.has(i)) };
}

export function mergeRuns(inputs: string[], out: string, opts: { partial?: boolean } = {}): MergeResult {
  const outFile = join(out, 'episodes.jsonl');
  if (existsSync(outFile)) throw new Error(`${outFile} exists: merge into an empty directory`);
  const seen = new Set<string>();
  const all: EpisodeRecord[] = [];
  const from = new Map<EpisodeRecord, string>();
  const infos: PolicyInfo[] = [];
  const shards: { dir: string; shard?: { index: number; count: number } }[] = [];
  let meta: Record<string, unknown> = {};
  let duplicates = 0;
  const short: string[] = [];
  for (const dir of inputs) {
    const f = join(dir, 'episodes.jsonl');
    if (!existsSync(f)) throw new Error(`${dir} has no episodes.jsonl: not an eval run directory`);
    if (existsSync(join(dir, 'summary.json'))) {
      const s = readSummary(dir);
      if (meta.suite && (s.meta.suite !== meta.suite || s.meta.split !== meta.split)) throw new Error(`${dir} is a run of ${s.meta.suite}/${s.meta.split}, not ${meta.suite}/${meta.split}`);
      meta = { ...s.meta, ...meta };
      shards.push({ dir, shard: s.meta.shard as { index: number; count: number } | undefined });
      for (const p of s.policies) if (!infos.some((i) => i.policy === p.policy)) infos.push(p);
    } else {
      throw new Error(`${dir} has no summary.json (the run never finished writing it): rerun that shard to complete it before merging`);
    }
    const own = readRecords(f);
    const m = readSummary(dir).meta as { episodes?: number; policies?: unknown[]; interrupted?: boolean };
    const expected = typeof m.episodes === 'number' && Array.isArray(m.policies) ? m.episodes * m.policies.length : undefined;
    if (m.interrupted || (expected !== undefined && own.length < expected)) short.push(`${dir} has ${own.length}${expected !== undefined ? ` of ${expected}` : ''} episodes${m.interrupted ? ' (interrupted)' : ''}`);
    for (const r of own) {
      const k = recordKey(r);
      if (seen.has(k)) { duplicates++; continue; }
      seen.add(k);
      all.push(r);
      from.set(r, dir);
    }
  }
  checkOneCheckpointPerLabel(all, (r) => from.get(r)!);
  const withProtocol = all.filter((r) => r.protocol);
  for (const r of withProtocol) {
    const d = protocolDiff(withProtocol[0].protocol!, r.protocol!);
    if (d.length) throw new Error(`${from.get(withProtocol[0])} and ${from.get(r)} ran under different protocols (${d.join('; ')}): not merged`);
  }
  const { count, missing } = shardCoverage(shards);
  if (missing.length && !opts.partial) {
    throw new Error(`shards ${missing.join(', ')} of ${count} are missing (have ${shards.map((s) => `${s.shard!.index}/${count}`).join(', ')}): a merge of them is not the whole run; pass --partial to merge anyway (marked partial)`);
  }
  if (short.length && !opts.partial) throw new Error(`${short.join('; ')}: resume ${short.length > 1 ? 'them' : 'it'} to completion before merging, or pass --partial`);
  mkdirSync(out, { recursive: true });
  // Stable order regardless of which shard finished first.
  all.sort((a, b) => a.policy.localeCompare(b.policy) || a.task.localeCompare(b.task) || a.seed - b.seed);
  for (const r of all) appendRecord(outFile, r);
  const partial = missing.length || short.length ? { partial: true, missingShards: missing.map((i) => `${i}/${count}`), incompleteInputs: short } : {};
  writeOutputs(out, all, summarize(all, infos), { ...meta, shard: undefined, mergedFrom: inputs, ...(count ? { shardCount: count } : {}), ...partial });
  return { records: all.length, duplicates, missingShards: missing, ...(count ? { shardCount: count } : {}) };
}
