// Which weights an evaluation record came from. A run directory resumes by
// policy label, so without this a checkpoint retrained or re-exported in place
// (same directory name) would have its new episodes silently merged with the
// old weights' ones. Each record carries the checkpoint's SHA-256 (config.json +
// weights.safetensors) and a resume refuses records from other weights. The
// same holds for an untrained registry preset (its records say preset +
// untrained), for a remote policy server (its declared name@version) and for the protocol the episodes ran under (terminate rules,
// decoding, backend request, resolution, appearance, sensor, perturbation, probe): resume and merge refuse
// to put episodes of two models or two protocols in one row.
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
export function checkResumedRecords(records: EpisodeRecord[], specs: { label: string; sha256?: string; checkpoint?: string; name?: string; untrained?: boolean; remoteModel?: string }[], file: string): { label: string; unverified: number }[] {
  const unverified: { label: string; unverified: number }[] = [];
  for (const s of specs) {
    const mine = records.filter((r) => r.policy === s.label);
    const want = modelOf(s);
    const foreign = mine.find((r) => modelOf(r) !== undefined && modelOf(r) !== want && !(s.sha256 && r.checkpointSha256));
    if (foreign) {
      throw new Error(`${file} holds episodes of "${s.label}" from ${modelOf(foreign)}, but "${s.label}" is now ${want ?? 'the scripted expert'}${s.checkpoint ? ` (${s.checkpoint})` : ''}: ` +
        `resuming would mix two models' results; use another --out, or remove that policy's records to rerun them`);
    }
    if (!s.sha256) continue;
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

/** What model a record (or a spec) is: its checkpoint hash, a remote server's model, or an untrained preset; undefined for the expert and old records. */
export function modelOf(r: { checkpointSha256?: string; sha256?: string; remoteModel?: string; preset?: string; name?: string; untrained?: boolean }): string | undefined {
  const sha = r.checkpointSha256 ?? r.sha256;
  if (sha) return `checkpoint sha256 ${sha.slice(0, 12)}…`;
  if (r.remoteModel) return `remote policy ${r.remoteModel}`;
  const preset = r.preset ?? r.name;
  return r.untrained && preset ? `untrained preset ${preset}` : undefined;
}

/** Throws when records of one label (e.g. shards being merged) come from different models: they are not one run. */
export function checkOneCheckpointPerLabel(records: EpisodeRecord[], where: (r: EpisodeRecord) => string = () => 'the inputs'): void {
  const modelOfLabel = new Map<string, { model: string; r: EpisodeRecord }>();
  for (const r of records) {
    const m = modelOf(r);
    if (m === undefined) continue;
    const prev = modelOfLabel.get(r.policy);
    if (prev !== undefined && prev.model !== m) {
      throw new Error(`episodes of "${r.policy}" come from two models: ${prev.model} (${where(prev.r)}) and ${m} (${where(r)}): not merged`);
    }
    modelOfLabel.set(r.policy, { model: m, r });
  }
}

/** Everything besides the model that decides an episode's outcome; stamped on every record. */
export interface EvalProtocol {
  terminateOnSuccess: boolean;
  ignoreTerminate: boolean;
  /** --decode, or 'checkpoint' (each checkpoint's own point estimate). */
  decode: string;
  /** --chunk-exec (policies/chunkExecution.ts label), or 'checkpoint' (each checkpoint's own); absent in records before chunked policies. */
  chunkExecution?: string;
  /** The --backend request ('auto' or a forced one); the backend that ran is the record's `backend`. */
  backend: string;
  resolution: number;
  appearance?: unknown;
  /** Post-render sensor corruption (robustness levels); absent = none. */
  sensor?: unknown;
  /** Physical episode change (robustness levels); absent = none. */
  perturbation?: unknown;
  /** A counterfactual language probe replacing every instruction (tasks/probes.ts); absent: the sampled instructions. */
  probe?: string;
}

const stable = (v: unknown): string => (v === undefined ? 'default' : JSON.stringify(v, (_, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x)));

/** "field: a vs b" for every protocol field that differs. */
export function protocolDiff(a: EvalProtocol, b: EvalProtocol): string[] {
  // records from before chunk execution was a protocol field ran every checkpoint its own way
  [a, b] = [{ chunkExecution: 'checkpoint', ...a }, { chunkExecution: 'checkpoint', ...b }];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort() as (keyof EvalProtocol)[];
  return keys.filter((k) => stable(a[k]) !== stable(b[k])).map((k) => `${k} ${stable(a[k])} vs ${stable(b[k])}`);
}

/** Throws when `records` hold episodes run under another protocol than `now` (records from before protocols are not checked). */
export function checkProtocol(records: EpisodeRecord[], now: EvalProtocol, file: string): void {
  const other = records.filter((r) => r.protocol !== undefined && protocolDiff(r.protocol, now).length > 0);
  if (other.length === 0) return;
  throw new Error(`${file} holds ${other.length} episodes run under another protocol (recorded vs now: ${protocolDiff(other[0].protocol!, now).join('; ')}): ` +
    `resuming would mix two protocols in one result; rerun with the recorded options, or use another --out`);
}

/**
 * Records that are no result: written by older versions when a policy or
 * backend could not start (backbone 'unknown', backend 'none') or when the
 * page call itself failed (browser closed by Ctrl-C, crash). A resume reruns them.
 */
export function isNotAResult(r: EpisodeRecord): boolean {
  return r.backbone === 'unknown' && r.failure !== undefined || r.failure?.kind === 'setup' || r.failure?.kind === 'interrupted';
}
