// `vlalab merge`: combine the outputs of sharded runs (--shard i/n, e.g. a
// Slurm array or a Kubernetes indexed Job) into one run directory and report.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { appendRecord, readRecords, recordKey, type EpisodeRecord } from './records.ts';
import { checkOneCheckpointPerLabel } from './fingerprint.ts';
import { readSummary, writeOutputs } from './report.ts';
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
    if (existsSync(join(dir, 'summary.json'))) {
      const s = readSummary(dir);
      if (meta.suite && (s.meta.suite !== meta.suite || s.meta.split !== meta.split)) throw new Error(`${dir} is a run of ${s.meta.suite}/${s.meta.split}, not ${meta.suite}/${meta.split}`);
      meta = { ...s.meta, ...meta };
      for (const p of s.policies) if (!infos.some((i) => i.policy === p.policy)) infos.push(p);
    }
    for (const r of readRecords(f)) {
      const k = recordKey(r);
      if (seen.has(k)) { duplicates++; continue; }
      seen.add(k);
      all.push(r);
    }
  }
  checkOneCheckpointPerLabel(all);
  // Stable order regardless of which shard finished first.
  all.sort((a, b) => a.policy.localeCompare(b.policy) || a.task.localeCompare(b.task) || a.seed - b.seed);
  for (const r of all) appendRecord(outFile, r);
  writeOutputs(out, all, summarize(all, infos), { ...meta, shard: undefined, mergedFrom: inputs });
  return { records: all.length, duplicates };
}
