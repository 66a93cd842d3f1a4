// The collection pipeline (`vlalab collect`, beside src/eval's evaluation):
// record scripted-expert demonstrations for a suite split in headless Chromium
// (the same Babylon renderer as the demo page) and write them in the demo
// format of src/data/demoStore.ts. Resumable: episodes already in the index
// are skipped; each episode is written atomically. With --policy DIR it is a
// DAgger collection instead (src/app/api/dagger.ts): the checkpoint drives,
// the expert labels.
import { readFileSync } from 'node:fs';
import { withRunLock } from '../eval/lock.ts';
import { InterruptedError, interruptScope, unlessAborted } from '../runtime/interrupt.ts';
import { openSessions, runPool } from '../runtime/pool.ts';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { episodeOrder, type EpisodeRef, type SuiteSpec } from '../../tasks/suite.ts';
import type { EpisodeWire } from '../app/api/episode.ts';
import { datasetInfo, DemoWriter } from '../data/demoStore.ts';
import { RANDOMIZATION_RANGES, sampleAppearance } from '../../sim/render/randomization.ts';
import { b64ToBytes, b64ToF32 } from '../runtime/b64.ts';
import { HeadlessSession } from '../runtime/session.ts';
import { writeEpisodeVideo } from '../data/episodeVideo.ts';
import { planWorkers } from '../runtime/machine.ts';
import { parsePolicySpec, sentenceEncoderMount, SetupError } from '../eval/setup.ts';
import type { DaggerEpisodeWire } from '../app/api/dagger.ts';
import { Progress } from '../runtime/progress.ts';

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
  /**
   * DAgger (src/app/api/dagger.ts): this checkpoint directory drives the
   * episodes, the expert labels every state. Default: expert demonstrations.
   */
  policy?: string;
  /** DAgger: probability per step that the expert's action is executed instead (default 0). */
  beta?: number;
  workers?: number;
  video?: string;
  videoEpisodes?: number;
  chromium?: string;
  quiet?: boolean;
  /** Aborting it acts as Ctrl-C (tests); SIGINT/SIGTERM always do. */
  signal?: AbortSignal;
  /** Called after each written episode with the count and the session that ran it (tests: kill a browser). */
  afterEpisode?: (written: number, session: HeadlessSession) => Promise<void> | void;
}

export interface CollectSummary {
  out: string;
  requested: number;
  skipped: number;
  written: number;
  succeeded: number;
  /** DAgger: episodes the policy broke off (worker error, NaN action): not written, a rerun retries them. */
  brokenOff?: number;
  seconds: number;
  episodesPerMinute: number;
}

/** Episodes offset .. offset+n of a split's run order (tasks/suite.ts episodeOrder); asking past its end is an error. */
export function collectionOrder(suite: SuiteSpec, split: string, n: number, tasks?: string[], offset = 0): EpisodeRef[] {
  const all = episodeOrder(suite, split, tasks);
  if (!(Number.isInteger(offset) && offset >= 0)) throw new Error(`--offset must be an integer >= 0, got ${offset}`);
  if (offset + n > all.length) throw new Error(`split "${split}" has ${all.length} episodes for tasks ${(tasks ?? suite.tasks.map((t) => t.name)).join(', ')}; asked for ${n}${offset ? ` after an offset of ${offset}` : ''}`);
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

/**
 * Records every missing episode. One writer per directory (the eval run lock):
 * two collects into one directory would record everything twice. Ctrl-C or
 * SIGTERM stops dispatching and drops the episodes in flight (each is written
 * atomically, so nothing half-written remains), then throws InterruptedError.
 */
export async function collect(o: CollectOptions): Promise<CollectSummary> {
  return withRunLock(o.out, () => collectLocked(o));
}

async function collectLocked(o: CollectOptions): Promise<CollectSummary> {
  if (!(Number.isInteger(o.episodes) && o.episodes >= 1)) throw new Error(`--episodes must be a positive integer, got ${o.episodes}`);
  const say = (line: string) => { if (!o.quiet) process.stderr.write(line + '\n'); };
  const suite = resolveSuite(o.suite, (p) => readFileSync(p, 'utf8'));
  const resolution = o.resolution ?? DEFAULT_RESOLUTION;
  const cameras = DEFAULT_CAMERAS;
  const driver = o.policy !== undefined ? daggerDriver(o.policy, o.beta ?? 0, !!o.randomizeAppearance) : null;
  if (!driver && o.beta !== undefined) throw new Error('--beta applies to a DAgger collection only (with --policy DIR)');
  const writer = new DemoWriter(o.out, datasetInfo({ suite: suite.name, suiteVersion: suite.version, split: o.split, resolution, cameras: cameras.map((c) => c.name), noise: o.noise ?? 0, ...(o.randomizeAppearance ? { appearanceRanges: RANDOMIZATION_RANGES } : {}), ...(driver ? { dagger: driver.info } : {}) }));
  const bad = writer.verify();
  if (bad.length) say(`note: ${bad.length} indexed episodes in ${o.out} are not whole and are recorded again: ${bad.slice(0, 3).map((b) => `${b.entry.file} (${b.problem})`).join('; ')}${bad.length > 3 ? '; ...' : ''}`);
  const order = collectionOrder(suite, o.split, o.episodes, o.tasks, o.offset ?? 0);
  const todo = order.filter((r) => !writer.has(r.task, r.seed));
  const skipped = order.length - todo.length;
  const t0 = Date.now();
  let written = 0, succeeded = 0, videos = 0, brokenOff = 0;
  const progress = new Progress(`collect ${suite.name}/${o.split}`, order.length, skipped);
  if (skipped) say(`resuming: ${skipped} episodes already in ${o.out}`);
  const { workers, note } = planWorkers(o.workers ?? 1, todo.length);
  if (note) say(note);
  const sessions: HeadlessSession[] = [];
  const scope = interruptScope(o.signal);
  try {
    const open = () => HeadlessSession.open({ executablePath: o.chromium, mounts: driver?.mounts });
    sessions.push(...(await openSessions(workers, open, scope.signal)));
    // The policy loads as its episodes will, before the first one: a checkpoint that cannot run is an error, not a dataset.
    if (driver && sessions.length && todo.length) await unlessAborted(driver.prepare(sessions[0]), scope.signal);
    await runPool({
      sessions, open, signal: scope.signal, items: todo,
      run: (s, ref) => {
        const args = { suite, task: ref.task, split: o.split, seed: ref.seed, resolution, cameras, noise: o.noise ?? 0 };
        return driver
          ? s.call('runDaggerEpisode', { ...args, policy: DAGGER_POLICY, backend: 'auto', avoidSoftwareGpu: true, beta: driver.info.beta })
          : s.call('runExpertEpisode', { ...args, ...(o.randomizeAppearance ? { appearance: sampleAppearance(ref.seed, suite.tasks.findIndex((t) => t.name === ref.task)) } : {}) });
      },
      onResult: async (w, ref, slot) => {
        const failure = (w as DaggerEpisodeWire).failure;
        if (failure?.kind === 'setup') throw new SetupError(`--policy ${o.policy} cannot run: ${failure.message}`);
        if (failure) {
          brokenOff++;
          say(`\n${ref.task}/${ref.seed}: the policy broke off (${failure.message.slice(0, 200)}); not written, a rerun retries it`);
          return;
        }
        const ep = { ...wireToEpisode(w), ...(driver ? { relabelled: true } : {}) };
        writer.write(ep);
        written++;
        if (ep.success) succeeded++;
        if (o.video && videos < (o.videoEpisodes ?? 3)) {
          videos++;
          writeEpisodeVideo(o.video, ep, w.finalFrames, resolution);
        }
        if (!o.quiet) progress.update(skipped + written, `success ${succeeded}/${written}`);
        await o.afterEpisode?.(written, sessions[slot]);
      },
    });
  } finally {
    scope.dispose();
    await Promise.all(sessions.map((s) => s.close()));
  }
  if (scope.aborted) throw new InterruptedError(String(scope.signal.reason ?? 'signal'), `${skipped + written} of ${order.length} episodes are in ${o.out}; rerun the same command to resume`);
  const seconds = (Date.now() - t0) / 1000;
  return { out: o.out, requested: order.length, skipped, written, succeeded, seconds, episodesPerMinute: seconds > 0 ? (written / seconds) * 60 : 0, ...(driver ? { brokenOff } : {}) };
}

/** Where the page finds the DAgger policy's checkpoint (served by the session). */
const DAGGER_POLICY = { checkpointUrl: '/ckpt/0/' };

/** A DAgger collection's policy: what the dataset records of it, what the pages serve, its load check. */
function daggerDriver(dir: string, beta: number, randomized: boolean) {
  if (randomized) throw new Error('--randomize-appearance is not supported with --policy (DAgger episodes are rendered nominally)');
  if (!(Number.isFinite(beta) && beta >= 0 && beta <= 1)) throw new Error(`--beta must be in [0, 1], got ${beta}`);
  const spec = parsePolicySpec(dir);
  if (!spec.checkpoint || !spec.sha256) throw new SetupError(`--policy ${dir}: DAgger needs a trained checkpoint directory`);
  const mounts = { '/ckpt/0': spec.checkpoint, ...sentenceEncoderMount([spec]).mounts };
  return {
    info: { policy: dir, checkpointSha256: spec.sha256, beta },
    mounts,
    async prepare(s: HeadlessSession): Promise<void> {
      try {
        await s.call('preparePolicy', { policy: DAGGER_POLICY, backend: 'auto', avoidSoftwareGpu: true });
      } catch (e) {
        throw new SetupError(`--policy ${dir} cannot run: ${(e as Error).message.replace(/^page\.evaluate: (Error: )?/, '').split('\n')[0]}`);
      }
    },
  };
}
