// Which weights an evaluation record came from. A run directory resumes by
// policy label, so without this a checkpoint retrained or re-exported in place
// (same directory name) would have its new episodes silently merged with the
// old weights' ones. Each record carries the checkpoint's SHA-256 (config.json +
// weights.safetensors) and a resume refuses records from other weights.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeRecord } from './records.ts';

/** SHA-256 (hex) over a checkpoint directory's config.json and weights.safetensors. */
export function checkpointSha256(dir: string): string {
  const h = createHash('sha256');
  for (const f of ['config.json', 'weights.safetensors']) {
    const bytes = readFileSync(join(dir, f));
    h.update(`${f}\u0000${bytes.length}\u0000`);
    h.update(bytes);
  }
  return h.digest('hex');
}

/**
 * Throws when `records` (an existing episodes.jsonl) hold episodes of one of
 * `specs`' labels run with other weights than the spec's checkpoint now has.
 * Records written before fingerprints existed cannot be checked; they are
 * counted in the returned list so the caller can say so.
 */
export function checkResumedRecords(records: EpisodeRecord[], specs: { label: string; sha256?: string; checkpoint?: string }[], file: string): { label: string; unverified: number }[] {
  const unverified: { label: string; unverified: number }[] = [];
  for (const s of specs) {
    if (!s.sha256) continue;
    const mine = records.filter((r) => r.policy === s.label);
    const other = mine.filter((r) => r.checkpointSha256 !== undefined && r.checkpointSha256 !== s.sha256);
    if (other.length > 0) {
      throw new Error(`${file} holds ${other.length} episodes of "${s.label}" run with other weights (checkpoint sha256 ${other[0].checkpointSha256!.slice(0, 12)}…, ` +
        `${s.checkpoint ?? s.label} now has ${s.sha256.slice(0, 12)}…): resuming would mix two models' results; use another --out, or remove that policy's records to rerun them`);
    }
    const n = mine.filter((r) => r.checkpointSha256 === undefined).length;
    if (n > 0) unverified.push({ label: s.label, unverified: n });
  }
  return unverified;
}

/** Throws when records of one label (e.g. shards being merged) come from different weights: they are not one run. */
export function checkOneCheckpointPerLabel(records: EpisodeRecord[]): void {
  const shaOf = new Map<string, string>();
  for (const r of records) {
    if (r.checkpointSha256 === undefined) continue;
    const prev = shaOf.get(r.policy);
    if (prev !== undefined && prev !== r.checkpointSha256) {
      throw new Error(`the inputs hold episodes of "${r.policy}" run with different weights (checkpoint sha256 ${prev.slice(0, 12)}… and ${r.checkpointSha256.slice(0, 12)}…): not merged`);
    }
    shaOf.set(r.policy, r.checkpointSha256);
  }
}
