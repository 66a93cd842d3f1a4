// On-disk demonstration format (Node only). A dataset directory holds:
//
//   dataset.json        what was collected: format, suite + version, split, resolution, cameras,
//                       action/proprio names and bounds. Written once; a rerun must match it.
//   episodes.jsonl      the index: one JSON line per *completed* episode, appended after its
//                       file is safely on disk. Readers stream it; a torn last line is ignored.
//   episodes/<task>-<seed>.safetensors
//                       one episode: images.<camera> uint8 [T,H,W,3] (rows top-down, RGB),
//                       proprio float32 [T,P], actions float32 [T,A]; step t pairs observation t
//                       with action t. __metadata__.episode holds the EpisodeSpec as JSON.
//
// Crash safety: each episode file is written to a temp name, fsynced and renamed, and only then
// indexed; an interrupted run leaves completed episodes intact and a rerun skips them.
import type { Appearance } from '../../sim/render/appearance.ts';
import type { RandomizationRanges } from '../../sim/render/randomization.ts';
import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ACTION_HIGH, ACTION_LOW, ACTION_NAMES, PROPRIO_NAMES } from '../../sim/config.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { parseSafetensors, serializeSafetensors } from '../io/safetensors.ts';
import { appendJsonl, readJsonl } from '../io/jsonl.ts';

export const DEMO_FORMAT = 'vlalab-demos';
export const DEMO_FORMAT_VERSION = 1;

export interface DatasetInfo {
  format: typeof DEMO_FORMAT;
  formatVersion: number;
  suite: string;
  suiteVersion: string;
  split: string;
  resolution: number;
  cameras: string[];
  actionNames: readonly string[];
  actionLow: number[];
  actionHigh: number[];
  proprioNames: readonly string[];
  /**
   * DART noise scale the demos were collected with (tasks/noise.ts): the
   * executed actions had noise added, the recorded actions are the expert's
   * clean labels. 0 or absent = noise-free.
   */
  noise?: number;
  /**
   * How the episodes were rendered: absent or 'nominal' = the default look;
   * 'randomized' = each episode under its own appearance drawn from its seed
   * (sim/render/randomization.ts, ranges recorded in `appearanceRanges`, the
   * episode's own in its file's __metadata__.appearance).
   */
  appearance?: 'nominal' | 'randomized';
  appearanceRanges?: RandomizationRanges;
  /**
   * A DAgger collection (src/app/api/dagger.ts): the states are those a
   * learned policy reached (it drove with probability 1 - beta per step), the
   * actions the expert's labels of them. Absent = expert demonstrations.
   */
  dagger?: DaggerInfo;
}

export interface DaggerInfo {
  /** The policy that drove: its checkpoint directory as given and the sha256 of its weights. */
  policy: string;
  checkpointSha256: string;
  beta: number;
}

export interface IndexEntry {
  file: string;
  task: string;
  seed: number;
  steps: number;
  success: boolean;
  instruction: string;
  /**
   * The actions are expert labels of states another policy reached (DAgger):
   * trained on whatever the episode's outcome, where an expert demonstration
   * counts only when it succeeded.
   */
  relabelled?: true;
}

export interface EpisodeData {
  episode: EpisodeSpec;
  steps: number;
  success: boolean;
  images: Record<string, Uint8Array>;
  proprio: Float32Array;
  actions: Float32Array;
  /** Rendering appearance of the episode ({} or absent = nominal). */
  appearance?: Appearance;
  /** See IndexEntry.relabelled. */
  relabelled?: boolean;
}

export function datasetInfo(p: { suite: string; suiteVersion: string; split: string; resolution: number; cameras: string[]; noise?: number; appearanceRanges?: RandomizationRanges; dagger?: DaggerInfo }): DatasetInfo {
  const { appearanceRanges, dagger, ...rest } = p;
  return {
    format: DEMO_FORMAT, formatVersion: DEMO_FORMAT_VERSION, ...rest, noise: p.noise ?? 0,
    ...(appearanceRanges ? { appearance: 'randomized' as const, appearanceRanges } : { appearance: 'nominal' as const }),
    actionNames: ACTION_NAMES, actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH], proprioNames: PROPRIO_NAMES,
    ...(dagger ? { dagger } : {}),
  };
}

export class DemoWriter {
  private readonly done = new Set<string>();

  constructor(readonly dir: string, readonly info: DatasetInfo) {
    mkdirSync(join(dir, 'episodes'), { recursive: true });
    const infoPath = join(dir, 'dataset.json');
    if (existsSync(infoPath)) {
      const old = JSON.parse(readFileSync(infoPath, 'utf8')) as DatasetInfo;
      old.noise ??= 0;
      old.appearance ??= 'nominal';
      if (JSON.stringify(old.appearanceRanges ?? null) !== JSON.stringify(info.appearanceRanges ?? null)) {
        throw new Error(`${dir} holds a dataset rendered with appearance=${old.appearance}${old.appearanceRanges ? ` (ranges ${JSON.stringify(old.appearanceRanges)})` : ''}, not ${info.appearance}${info.appearanceRanges ? ` (ranges ${JSON.stringify(info.appearanceRanges)})` : ''}: use another --out directory`);
      }
      for (const k of ['suite', 'suiteVersion', 'split', 'resolution', 'noise'] as const) {
        if (old[k] !== info[k]) throw new Error(`${dir} holds a dataset with ${k}=${JSON.stringify(old[k])}, not ${JSON.stringify(info[k])}: use another --out directory`);
      }
      if (JSON.stringify(old.dagger ?? null) !== JSON.stringify(info.dagger ?? null)) {
        throw new Error(`${dir} holds ${old.dagger ? `a DAgger collection (${JSON.stringify(old.dagger)})` : 'expert demonstrations'}, not ${info.dagger ? `a DAgger collection (${JSON.stringify(info.dagger)})` : 'expert demonstrations'}: use another --out directory`);
      }
      if (old.cameras.join() !== info.cameras.join()) throw new Error(`${dir} holds a dataset with cameras ${old.cameras.join(',')}, not ${info.cameras.join(',')}`);
    } else {
      writeFileSync(infoPath, JSON.stringify(info, null, 2) + '\n');
    }
    for (const e of readIndex(dir)) this.done.add(key(e.task, e.seed));
  }

  /**
   * Check that every indexed episode file exists and is whole (its safetensors
   * header parses and the file is as long as the header says); drop the index
   * entries of those that are not, so they are recorded again. Returns them
   * with the reason. Reads only headers: cheap on a large dataset.
   */
  verify(): { entry: IndexEntry; problem: string }[] {
    const entries = readIndex(this.dir);
    const bad = entries.flatMap((entry) => {
      const problem = episodeFileProblem(join(this.dir, entry.file));
      return problem ? [{ entry, problem }] : [];
    });
    if (bad.length === 0) return bad;
    const badKeys = new Set(bad.map((b) => key(b.entry.task, b.entry.seed)));
    const index = join(this.dir, 'episodes.jsonl');
    const kept = entries.filter((e) => !badKeys.has(key(e.task, e.seed)));
    writeFileSync(`${index}.tmp`, kept.map((e) => JSON.stringify(e) + '\n').join(''));
    renameSync(`${index}.tmp`, index);
    for (const k of badKeys) this.done.delete(k);
    return bad;
  }

  has(task: string, seed: number): boolean {
    return this.done.has(key(task, seed));
  }

  get count(): number {
    return this.done.size;
  }

  write(ep: EpisodeData): IndexEntry {
    const { episode, steps } = ep;
    const file = `episodes/${episode.task}-${episode.seed}.safetensors`;
    const res = this.info.resolution;
    const tensors: Parameters<typeof serializeSafetensors>[0] = {
      proprio: { dtype: 'F32', shape: [steps, this.info.proprioNames.length], data: ep.proprio },
      actions: { dtype: 'F32', shape: [steps, this.info.actionNames.length], data: ep.actions },
    };
    for (const cam of this.info.cameras) {
      const data = ep.images[cam];
      if (!data || data.length !== steps * res * res * 3) throw new Error(`episode ${episode.task}/${episode.seed}: camera "${cam}" has ${data?.length ?? 0} bytes, expected ${steps}x${res}x${res}x3`);
      tensors[`images.${cam}`] = { dtype: 'U8', shape: [steps, res, res, 3], data };
    }
    const meta: Record<string, string> = { episode: JSON.stringify(episode), success: String(ep.success), format: DEMO_FORMAT };
    if (ep.appearance && Object.keys(ep.appearance).length > 0) meta.appearance = JSON.stringify(ep.appearance);
    const bytes = serializeSafetensors(tensors, meta);
    const tmp = join(this.dir, `${file}.tmp`);
    writeDurable(tmp, bytes);
    renameSync(tmp, join(this.dir, file));
    const entry: IndexEntry = { file, task: episode.task, seed: episode.seed, steps, success: ep.success, instruction: episode.instruction, ...(ep.relabelled ? { relabelled: true as const } : {}) };
    appendJsonl(join(this.dir, 'episodes.jsonl'), entry);
    this.done.add(key(episode.task, episode.seed));
    return entry;
  }
}

const key = (task: string, seed: number) => `${task}\u0000${seed}`;

function writeDurable(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Why an episode file is not whole (missing, truncated, bad header), or null when it is. */
export function episodeFileProblem(path: string): string | null {
  if (!existsSync(path)) return 'the file is missing';
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size < 8) return `${size} bytes: shorter than a safetensors header`;
    const head = Buffer.alloc(8);
    readSync(fd, head, 0, 8, 0);
    const n = Number(head.readBigUInt64LE(0));
    if (n > size - 8) return `its header claims ${n} bytes, the file has ${size}`;
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    let header: Record<string, { data_offsets?: [number, number] }>;
    try {
      header = JSON.parse(json.toString('utf8'));
    } catch (e) {
      return `its header is not JSON (${(e as Error).message})`;
    }
    const end = Math.max(0, ...Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, t]) => t.data_offsets?.[1] ?? 0));
    if (8 + n + end !== size) return `truncated or padded: header and tensors need ${8 + n + end} bytes, the file has ${size}`;
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Completed episodes of a dataset directory; malformed lines (a torn tail) are skipped. */
export function readIndex(dir: string): IndexEntry[] {
  const seen = new Set<string>();
  const isEntry = (v: unknown): v is IndexEntry => {
    const e = v as IndexEntry;
    return typeof e === 'object' && e !== null && typeof e.file === 'string' && typeof e.task === 'string' && typeof e.seed === 'number';
  };
  return readJsonl(join(dir, 'episodes.jsonl'), isEntry).filter((e) => {
    const k = key(e.task, e.seed);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export function readDatasetInfo(dir: string): DatasetInfo {
  const path = join(dir, 'dataset.json');
  if (!existsSync(path)) throw new Error(`${dir} is not a vlalab dataset (no dataset.json)`);
  const info = JSON.parse(readFileSync(path, 'utf8')) as DatasetInfo;
  if (info.format !== DEMO_FORMAT) throw new Error(`${path}: format is ${JSON.stringify(info.format)}, expected "${DEMO_FORMAT}"`);
  if (info.formatVersion > DEMO_FORMAT_VERSION) throw new Error(`${path}: format version ${info.formatVersion} is newer than this vlalab (${DEMO_FORMAT_VERSION})`);
  return info;
}

/** Load one episode file back into typed arrays. */
export function readEpisode(dir: string, entry: IndexEntry, info: DatasetInfo): EpisodeData {
  const path = join(dir, entry.file);
  const st = parseSafetensors(new Uint8Array(readFileSync(path)));
  const get = (name: string) => {
    const t = st.tensors.get(name);
    if (!t) throw new Error(`${path}: missing tensor "${name}"`);
    return t;
  };
  const images: Record<string, Uint8Array> = {};
  for (const cam of info.cameras) images[cam] = get(`images.${cam}`).data as Uint8Array;
  const metaEp = st.metadata.episode;
  if (!metaEp) throw new Error(`${path}: missing __metadata__.episode`);
  return {
    episode: JSON.parse(metaEp) as EpisodeSpec,
    steps: get('actions').shape[0],
    success: st.metadata.success === 'true',
    images,
    proprio: get('proprio').data as Float32Array,
    actions: get('actions').data as Float32Array,
    ...(st.metadata.appearance ? { appearance: JSON.parse(st.metadata.appearance) as Appearance } : {}),
  };
}
