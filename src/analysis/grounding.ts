// "Does the policy find the commanded object before it moves?" On the first
// frame of held-out episodes, where the spatially supervised attention of a
// policy (policy config spatialAux: TokenLearner maps 0/1 for the CNN, the
// decoder pointer head for the ViT; policies/spatialAux.ts) peaks, named by
// the scene item nearest to the peak: the commanded object, the destination,
// another object or bowl. Crossed with how each episode ended in an eval run
// (its outcome, tasks/outcome.ts), it separates grounding failures (the
// policy looks at the wrong thing from the start) from execution failures
// (it looks at the right thing and still fails to grasp or place it).
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { PROPRIO_DIM } from '../../sim/config.ts';
import { projectPoint } from '../../sim/render/cameraMath.ts';
import type { CameraSpec } from '../../sim/types.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { type RgbFrame, type VlaPolicy, framesToTensor } from '../../policies/policy.ts';
import { SPATIAL_TARGETS } from '../../policies/spatialAux.ts';
import { cameraPoseAt, worldPoint } from '../train/spatialTargets.ts';
import { loadPolicy } from '../train/checkpoint.ts';
import { cameraSpecs } from '../train/node.ts';
import { evalEpisodes, readRecords } from '../eval/records.ts';
import { parseCsv } from '../eval/report.ts';
import { b64ToBytes } from '../runtime/b64.ts';
import { HeadlessSession } from '../runtime/session.ts';
import type { EpisodeWire } from '../app/api/episode.ts';
import { initBackend } from '../tf/backend.ts';
import { htmlPage } from '../report/charts.ts';

/** What a map's peak is nearest to. */
export const LOOK_LABELS = ['object', 'destination', 'other', 'none'] as const;
export type LookLabel = (typeof LOOK_LABELS)[number];
/** The supervised maps, in policies/spatialAux.ts order. */
export const MAP_NAMES = ['object', 'destination'] as const;

export interface ItemUv {
  name: string;
  role: 'object' | 'destination' | 'other';
  /** Image coordinates in [0, 1] (u right, v down); null when outside the image or behind the camera. */
  uv: [number, number] | null;
}

/** Every object and bowl of the episode's initial layout, projected into a camera at the given TCP proprio. */
export function projectLayout(ep: EpisodeSpec, cam: CameraSpec, proprio: ArrayLike<number>): ItemUv[] {
  const pose = cameraPoseAt(cam, proprio);
  const names = [...ep.layout.objects.map((o) => o.name), ...ep.layout.bowls.map((b) => b.name)];
  return names.map((name) => {
    const uv = projectPoint(pose, cam.fovDeg, 1, 1, worldPoint(ep, name));
    const inside = uv && uv[0] >= 0 && uv[0] <= 1 && uv[1] >= 0 && uv[1] <= 1;
    return { name, role: name === ep.goal.object ? 'object' : name === ep.goal.target ? 'destination' : 'other', uv: inside ? [uv[0], uv[1]] : null };
  });
}

/** Centre (u, v) of the most probable cell of a row-major gh x gw map starting at `offset`. */
export function peakCell(probs: ArrayLike<number>, offset: number, gh: number, gw: number): [number, number] {
  let best = 0;
  for (let i = 1; i < gh * gw; i++) if (probs[offset + i] > probs[offset + best]) best = i;
  return [((best % gw) + 0.5) / gw, (Math.floor(best / gw) + 0.5) / gh];
}

/** The role of the visible item nearest to a point ('none' when no item is visible). */
export function pointsAt(peak: [number, number], items: ItemUv[]): LookLabel {
  let label: LookLabel = 'none';
  let best = Infinity;
  for (const it of items) {
    if (!it.uv) continue;
    const d = Math.hypot(peak[0] - it.uv[0], peak[1] - it.uv[1]);
    if (d < best) [best, label] = [d, it.role];
  }
  return label;
}

export interface GroundingEpisode {
  task: string;
  seed: number;
  instruction: string;
  /** Per camera, per map (object, destination): what its peak points at. */
  looks: Record<string, LookLabel[]>;
  /** Outcome of this episode in the eval run, when one was given. */
  outcome?: string;
}

export interface GroundingResult {
  policy: string;
  /** Label the eval run gives this policy (checkpoint directory name). */
  label: string;
  episodes: GroundingEpisode[];
  /** counts[camera][map][look] */
  counts: Record<string, Record<string, Record<LookLabel, number>>>;
  /** Scene camera, object map: outcome counts by what the map pointed at (episodes with an outcome only). */
  byLook: Record<LookLabel, Record<string, number>>;
}

const zeroCounts = (): Record<LookLabel, number> => Object.fromEntries(LOOK_LABELS.map((l) => [l, 0])) as Record<LookLabel, number>;

/** Tally per camera and map, and the object map of the first camera crossed with outcomes. */
export function tally(episodes: GroundingEpisode[], cameras: string[]): Pick<GroundingResult, 'counts' | 'byLook'> {
  const counts = Object.fromEntries(cameras.map((c) => [c, Object.fromEntries(MAP_NAMES.map((m) => [m, zeroCounts()]))]));
  const byLook = Object.fromEntries(LOOK_LABELS.map((l) => [l, {} as Record<string, number>])) as Record<LookLabel, Record<string, number>>;
  for (const e of episodes) {
    for (const c of cameras) e.looks[c].forEach((l, m) => counts[c][MAP_NAMES[m]][l]++);
    if (e.outcome) {
      const l = e.looks[cameras[0]][0];
      byLook[l][e.outcome] = (byLook[l][e.outcome] ?? 0) + 1;
    }
  }
  return { counts, byLook };
}

/** A policy whose attention is not trained to point at the object and destination has nothing to ground: an error naming it. */
export function assertGroundable(policy: VlaPolicy, path: string): void {
  if (policy.config.spatialAux === 'off') throw new Error(`${path}: policy has spatialAux 'off' (no attention trained to point at the object and destination): grounding needs 'tokens' or 'pointer'`);
}

/** The first observation of a rendered episode: one frame per camera and the proprio row. */
interface FirstFrame {
  episode: EpisodeSpec;
  frames: Record<string, RgbFrame>;
  proprio: Float32Array;
}

function firstFrame(w: EpisodeWire): FirstFrame {
  const res = w.resolution;
  const frames = Object.fromEntries(w.cameras.map((c) => [c, { width: res, height: res, data: b64ToBytes(w.frames[c]).slice(0, res * res * 3) }]));
  return { episode: w.episode, frames, proprio: new Float32Array(b64ToBytes(w.proprio).slice(0, PROPRIO_DIM * 4).buffer) };
}

/** Frame-0 looks of one policy. */
async function looksOf(policy: VlaPolicy, f: FirstFrame): Promise<Record<string, LookLabel[]>> {
  const cams = policy.config.cameras;
  const images = Object.fromEntries(cams.map((c) => [c, framesToTensor([f.frames[c]])]));
  const pro = tf.tensor2d(f.proprio.slice(0, policy.config.proprioDim), [1, policy.config.proprioDim]);
  const probs = policy.spatialProbabilities({ images, proprio: pro, instructions: [f.episode.instruction], actions: [] });
  tf.dispose([pro, ...Object.values(images)]);
  if (!probs) throw new Error(`policy ${policy.config.backbone} has no spatially supervised attention`);
  const [, K, P, N] = probs.shape; // [1,K,SPATIAL_TARGETS,gh*gw]
  const p = await probs.data();
  probs.dispose();
  const [gh, gw] = policy.backbone.gridSize(policy.imageSize, policy.imageSize);
  if (gh * gw !== N) throw new Error(`grounding: map of ${N} cells, expected ${gh}x${gw}`);
  const specs = cameraSpecs(cams);
  const out: Record<string, LookLabel[]> = {};
  for (let k = 0; k < K; k++) {
    const items = projectLayout(f.episode, specs[k], f.proprio);
    out[cams[k]] = Array.from({ length: Math.min(P, SPATIAL_TARGETS) }, (_, m) => pointsAt(peakCell(p, (k * P + m) * N, gh, gw), items));
  }
  return out;
}

export interface OutcomeRow {
  split: string;
  task: string;
  seed: number;
  policy: string;
  outcome: string;
}

/**
 * Outcomes of an eval run directory: episodes.jsonl when present, else
 * results.csv (what a committed run keeps; episodes.jsonl is not committed).
 */
export function evalOutcomes(dir: string): OutcomeRow[] {
  const jsonl = join(dir, 'episodes.jsonl');
  if (existsSync(jsonl)) return readRecords(jsonl).flatMap((r) => (r.outcome ? [{ split: r.split, task: r.task, seed: r.seed, policy: r.policy, outcome: r.outcome.kind }] : []));
  const csv = join(dir, 'results.csv');
  if (!existsSync(csv)) throw new Error(`--eval ${dir}: neither episodes.jsonl nor results.csv there (pass an eval run directory)`);
  const [cols, ...lines] = parseCsv(readFileSync(csv, 'utf8'));
  const at = (name: string) => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`${csv}: no "${name}" column (an eval run from before outcomes were recorded?)`);
    return i;
  };
  const [sp, tk, sd, po, oc] = ['split', 'task', 'seed', 'policy', 'outcome'].map(at);
  return lines.filter((f) => f[oc]).map((f) => ({ split: f[sp], task: f[tk], seed: Number(f[sd]), policy: f[po], outcome: f[oc] }));
}

export interface GroundingOptions {
  policies: string[];
  episodes: number;
  split?: string;
  /** An eval run directory (episodes.jsonl) on the same split: its outcomes are crossed with the looks. */
  evalDir?: string;
  out: string;
  chromium?: string;
}

export async function runGrounding(o: GroundingOptions): Promise<GroundingResult[]> {
  await initBackend('wasm');
  const split = o.split ?? 'heldout_layout';
  const suite = resolveSuite('tabletop', (p) => readFileSync(p, 'utf8'));
  const records = o.evalDir ? evalOutcomes(o.evalDir).filter((r) => r.split === split) : [];
  const policies: { path: string; label: string; policy: VlaPolicy }[] = [];
  const session = await HeadlessSession.open({ executablePath: o.chromium });
  try {
    for (const p of o.policies) {
      const policy = await loadPolicy(p);
      policies.push({ path: p, label: basename(resolve(p)), policy });
      assertGroundable(policy, p);
    }
    const results = policies.map(({ path, label }) => ({ policy: path, label, episodes: [] as GroundingEpisode[] }));
    for (const ep of evalEpisodes(suite, split, o.episodes)) {
      const f = firstFrame(await session.call('runExpertEpisode', { suite, task: ep.task, split, seed: ep.seed, resolution: 96 }));
      for (const [i, { label, policy }] of policies.entries()) {
        const outcome = records.find((r) => r.policy === label && r.task === ep.task && r.seed === ep.seed)?.outcome;
        results[i].episodes.push({ task: ep.task, seed: ep.seed, instruction: f.episode.instruction, looks: await looksOf(policy, f), ...(outcome ? { outcome } : {}) });
      }
    }
    const full = results.map((r, i) => ({ ...r, ...tally(r.episodes, policies[i].policy.config.cameras) }));
    writeReport(full, { split, episodes: o.episodes, evalDir: o.evalDir ?? null }, o.out);
    return full;
  } finally {
    await session.close();
    for (const p of policies) p.policy.dispose();
  }
}

function writeReport(results: GroundingResult[], meta: Record<string, unknown>, out: string): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'grounding.json'), JSON.stringify({ meta: { experiment: 'grounding', ...meta }, results }, null, 2) + '\n');
  const cell = (c: Record<LookLabel, number>) => LOOK_LABELS.map((l) => `<td>${c[l]}</td>`).join('');
  const looks = results.flatMap((r) => Object.entries(r.counts).flatMap(([cam, maps]) => Object.entries(maps).map(([m, c]) => `<tr><td style="text-align:left">${r.label}</td><td>${cam}</td><td>${m} map</td>${cell(c)}</tr>`))).join('');
  const outcomes = [...new Set(results.flatMap((r) => Object.values(r.byLook).flatMap((o) => Object.keys(o))))].sort();
  const cross = outcomes.length
    ? `<h2>Outcome by where the object map pointed (first camera)</h2><table><tr><th>policy</th><th>object map points at</th>${outcomes.map((k) => `<th>${k}</th>`).join('')}</tr>${results.flatMap((r) => LOOK_LABELS.map((l) => `<tr><td style="text-align:left">${r.label}</td><td>${l}</td>${outcomes.map((k) => `<td>${r.byLook[l][k] ?? 0}</td>`).join('')}</tr>`)).join('')}</table>`
    : '';
  const body = `<p>Where each policy's spatially supervised attention peaks on the first frame of ${meta.episodes} <code>${meta.split}</code> episodes, named by the nearest scene item.</p>
<table><tr><th>policy</th><th>camera</th><th>map</th>${LOOK_LABELS.map((l) => `<th>${l}</th>`).join('')}</tr>${looks}</table>${cross}<pre>${JSON.stringify(meta, null, 2)}</pre>`;
  writeFileSync(join(out, 'grounding.html'), htmlPage('vlalab: grounding', body));
}
