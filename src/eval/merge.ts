// `vlalab merge`: combine the outputs of sharded runs (--shard i/n, e.g. a
// Slurm array or a Kubernetes indexed Job) into one run directory and report.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendRecord, readRecords, recordKey, type EpisodeRecord } from './records.ts';
import { writeOutputs } from './report.ts';
import { summarize, type PolicyInfo } from './summary.ts';

export function mergeRuns(inputs: string[], out: string): { records: number; duplicates: number } {
  mkdirSync(out, { recursive: true });
  const outFile = join(out, 'episodes.jsonl');
  if (existsSync(outFile)) throw new Error(`${outFile} exists: merge into an empty directory`);
  const seen = new Set<string>();
  const all: EpisodeRecord[] = [];
  const infos: PolicyInfo[] = [];
  let meta: Record<string, unknown> = {};
  let duplicates = 0;
  for (const dir of inputs) {
    const f = join(dir, 'episodes.jsonl');
    if (!existsSync(f)) throw new Error(`${dir} has no episodes.jsonl: not an eval run directory`);
    const summaryPath = join(dir, 'summary.json');
    if (existsSync(summaryPath)) {
      const s = JSON.parse(readFileSync(summaryPath, 'utf8')) as { meta: Record<string, unknown>; policies: PolicyInfo[] };
      if (meta.suite && (s.meta.suite !== meta.suite || s.meta.split !== meta.split)) throw new Error(`${dir} is a run of ${s.meta.suite}/${s.meta.split}, not ${meta.suite}/${meta.split}`);
      meta = { ...s.meta, ...meta };
      for (const p of s.policies) if (!infos.some((i) => i.policy === p.policy)) infos.push({ policy: p.policy, backbone: p.backbone, params: p.params, flopsPerFrame: p.flopsPerFrame, decodePoint: p.decodePoint });
    }
    for (const r of readRecords(f)) {
      const k = recordKey(r);
      if (seen.has(k)) { duplicates++; continue; }
      seen.add(k);
      all.push(r);
    }
  }
  // Shards of one label run with different weights (a checkpoint retrained between jobs) are not one run.
  const shaOf = new Map<string, string>();
  for (const r of all) {
    if (r.checkpointSha256 === undefined) continue;
    const prev = shaOf.get(r.policy);
    if (prev !== undefined && prev !== r.checkpointSha256) {
      throw new Error(`the inputs hold episodes of "${r.policy}" run with different weights (checkpoint sha256 ${prev.slice(0, 12)}… and ${r.checkpointSha256.slice(0, 12)}…): not merged`);
    }
    shaOf.set(r.policy, r.checkpointSha256);
  }
  // Stable order regardless of which shard finished first.
  all.sort((a, b) => a.policy.localeCompare(b.policy) || a.task.localeCompare(b.task) || a.seed - b.seed);
  for (const r of all) appendRecord(outFile, r);
  writeOutputs(out, all, summarize(all, infos), { ...meta, shard: undefined, mergedFrom: inputs });
  return { records: all.length, duplicates };
}
