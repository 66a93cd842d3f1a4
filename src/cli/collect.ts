// `vlalab collect`: record scripted-expert demonstrations for a suite split in
// headless Chromium (the same Babylon renderer as the demo page) and write them
// in the demo format of src/data/demoStore.ts. Resumable: episodes already in
// the index are skipped; each episode is written atomically.
import { readFileSync } from 'node:fs';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { splitSeeds, getSplit, type SuiteSpec } from '../../tasks/suite.ts';
import type { EpisodeWire } from '../app/api/episode.ts';
import { datasetInfo, DemoWriter } from '../data/demoStore.ts';
import { RANDOMIZATION_RANGES, sampleAppearance } from '../../sim/render/randomization.ts';
import { b64ToBytes, b64ToF32 } from '../runtime/b64.ts';
import { HeadlessSession } from '../runtime/session.ts';
import { writeEpisodeVideo } from './video.ts';
import { Progress } from './progress.ts';

export interface CollectOptions {
  suite: string;
  split: string;
  episodes: number;
  out: string;
  tasks?: string[];
  resolution?: number;
  /** DART noise scale (tasks/noise.ts); default 0. */
  noise?: number;
  /** Render every episode under its own appearance (sim/render/randomization.ts); default nominal. */
  randomizeAppearance?: boolean;
  /** Skip the first `offset` episodes of the split's order (collect a disjoint set of seeds). */
  offset?: number;
  workers?: number;
  video?: string;
  videoEpisodes?: number;
  chromium?: string;
  quiet?: boolean;
}

export interface CollectSummary {
  out: string;
  requested: number;
  skipped: number;
  written: number;
  succeeded: number;
  seconds: number;
  episodesPerMinute: number;
}

/** The first n episode refs of a split, interleaving tasks seed by seed so any prefix is balanced. */
export function collectionOrder(suite: SuiteSpec, split: string, n: number, tasks?: string[], offset = 0): { task: string; seed: number }[] {
  const names = tasks ?? suite.tasks.map((t) => t.name);
  for (const t of names) if (!suite.tasks.some((x) => x.name === t)) throw new Error(`suite "${suite.name}" has no task "${t}" (tasks: ${suite.tasks.map((x) => x.name).join(', ')})`);
  const seeds = splitSeeds(getSplit(suite, split));
  const all = seeds.flatMap((seed) => names.map((task) => ({ task, seed })));
  if (!(Number.isInteger(offset) && offset >= 0)) throw new Error(`--offset must be an integer >= 0, got ${offset}`);
  if (offset + n > all.length) throw new Error(`split "${split}" has ${all.length} episodes for tasks ${names.join(', ')}; asked for ${n}${offset ? ` after an offset of ${offset}` : ''}`);
  return all.slice(offset, offset + n);
}

export function wireToEpisode(w: EpisodeWire) {
  return {
    episode: w.episode,
    steps: w.steps,
    success: w.success,
    images: Object.fromEntries(w.cameras.map((c) => [c, b64ToBytes(w.frames[c])])),
    proprio: b64ToF32(w.proprio),
    actions: b64ToF32(w.actions),
    appearance: w.appearance,
  };
}

export async function collect(o: CollectOptions): Promise<CollectSummary> {
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const resolution = o.resolution ?? DEFAULT_RESOLUTION;
  const cameras = DEFAULT_CAMERAS;
  const writer = new DemoWriter(o.out, datasetInfo({ suite: suite.name, suiteVersion: suite.version, split: o.split, resolution, cameras: cameras.map((c) => c.name), noise: o.noise ?? 0, ...(o.randomizeAppearance ? { appearanceRanges: RANDOMIZATION_RANGES } : {}) }));
  const order = collectionOrder(suite, o.split, o.episodes, o.tasks, o.offset ?? 0);
  const todo = order.filter((r) => !writer.has(r.task, r.seed));
  const skipped = order.length - todo.length;
  const t0 = Date.now();
  let written = 0, succeeded = 0, videos = 0;
  const progress = new Progress(`collect ${suite.name}/${o.split}`, order.length, skipped);
  if (!o.quiet && skipped) process.stderr.write(`resuming: ${skipped} episodes already in ${o.out}\n`);
  const workers = Math.max(1, Math.min(o.workers ?? 1, todo.length || 1));
  const sessions: HeadlessSession[] = [];
  let stopping = false;
  const onSigint = () => { stopping = true; process.stderr.write('\ninterrupted: finishing the episodes in flight; completed ones are saved\n'); };
  process.once('SIGINT', onSigint);
  try {
    for (let i = 0; i < workers; i++) sessions.push(await HeadlessSession.open({ executablePath: o.chromium }));
    let next = 0;
    await Promise.all(sessions.map(async (s) => {
      while (!stopping && next < todo.length) {
        const ref = todo[next++];
        const w = await s.call<EpisodeWire>('runExpertEpisode', { suite, task: ref.task, split: o.split, seed: ref.seed, resolution, cameras, noise: o.noise ?? 0, ...(o.randomizeAppearance ? { appearance: sampleAppearance(ref.seed, suite.tasks.findIndex((t) => t.name === ref.task)) } : {}) });
        const ep = wireToEpisode(w);
        writer.write(ep);
        written++;
        if (ep.success) succeeded++;
        if (o.video && videos < (o.videoEpisodes ?? 3)) {
          videos++;
          writeEpisodeVideo(o.video, ep, w.finalFrames, resolution);
        }
        if (!o.quiet) progress.update(skipped + written, `success ${succeeded}/${written}`);
      }
    }));
  } finally {
    process.off('SIGINT', onSigint);
    await Promise.all(sessions.map((s) => s.close()));
  }
  const seconds = (Date.now() - t0) / 1000;
  return { out: o.out, requested: order.length, skipped, written, succeeded, seconds, episodesPerMinute: seconds > 0 ? (written / seconds) * 60 : 0 };
}
