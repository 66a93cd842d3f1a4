// Page API: whole episodes run inside the page (physics + Babylon rendering +
// readback), so one page.evaluate carries one episode instead of one per step.
// The same VlaEnv and experts run in Node tests; here a renderer is attached.
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../../sim/config.ts';
import { SuiteEnv } from '../../../tasks/env.ts';
import type { CameraSpec } from '../../../sim/types.ts';
import type { EpisodeSpec } from '../../../tasks/episode.ts';
import { createExpert } from '../../../tasks/expert.ts';
import { ActionNoise } from '../../../tasks/noise.ts';
import { type EpisodeOutcome, OutcomeTracker } from '../../../tasks/outcome.ts';
import type { LanguageProbe } from '../../../tasks/probes.ts';
import type { SuiteSpec } from '../../../tasks/suite.ts';
import { bytesToB64 } from '../../runtime/b64.ts';
import { type Appearance, shiftedCameras } from '../../../sim/render/appearance.ts';
import type { SensorPerturbation } from '../../../sim/render/sensor.ts';
import { type EpisodePerturbation, episodeTransform } from '../../../tasks/perturbation.ts';
import { rendererFor } from '../rendererPool.ts';
import { EpisodeRecorder } from './recorder.ts';

/** Which episode, rendered how: what every page episode call starts from. */
export interface EpisodeArgs {
  suite: SuiteSpec;
  task: string;
  split: string;
  seed: number;
  resolution?: number;
  cameras?: CameraSpec[];
}

export interface ExpertEpisodeArgs extends EpisodeArgs {
  /** Record frames/proprio/actions (collection). False: outcome only (evaluation baselines). Default true. */
  record?: boolean;
  /** DART noise scale (tasks/noise.ts): executed actions are perturbed, recorded ones are the expert's. Default 0. */
  noise?: number;
  /** Rendering-only appearance of this episode (domain randomization, sim/render/randomization.ts); default nominal. */
  appearance?: Appearance;
  /** Post-render corruption of the frames (sim/render/sensor.ts); default none. */
  sensor?: SensorPerturbation;
  /** Physical change of the episode (tasks/perturbation.ts): the expert solves the perturbed episode. */
  perturbation?: EpisodePerturbation;
  /** A counterfactual language probe (tasks/probes.ts): the expert follows what it names. */
  probe?: LanguageProbe;
}

/** One recorded episode. Step t pairs observation t (before acting) with action t. */
export interface EpisodeWire {
  episode: EpisodeSpec;
  steps: number;
  success: boolean;
  terminated: boolean;
  /** Outcome taxonomy of the final state (tasks/outcome.ts). */
  outcome: EpisodeOutcome;
  resolution: number;
  cameras: string[];
  /** Per camera: base64 of uint8 [steps, H, W, 3] (rows top-down). */
  frames: Record<string, string>;
  /** base64 of float32 [steps, PROPRIO_DIM]. */
  proprio: string;
  /** base64 of float32 [steps, ACTION_DIM]. */
  actions: string;
  /** Final frames (after the last action) per camera, base64 uint8 [H, W, 3]: for videos. */
  finalFrames: Record<string, string>;
  /** envMs: time inside env.reset/step (physics + render + readback); totalMs: the whole call. */
  timing: { envMs: number; totalMs: number };
  /** The appearance the episode was rendered with ({} = nominal). */
  appearance: Appearance;
}

export const episodeApi = {
  async runExpertEpisode(args: ExpertEpisodeArgs): Promise<EpisodeWire> {
    const t0 = performance.now();
    const res = args.resolution ?? DEFAULT_RESOLUTION;
    const appearance = args.appearance ?? {};
    const cameras = shiftedCameras(args.cameras ?? DEFAULT_CAMERAS, appearance.cameraShift);
    const renderer = rendererFor({ width: res, height: res, cameras }, {}, appearance);
    const env = new SuiteEnv({ suite: args.suite, task: args.task, split: args.split, renderer, cameras, resolution: res, sensor: args.sensor, perturbEpisode: episodeTransform(args.suite, args.perturbation) });
    let envMs = 0;
    const timed = async <T>(f: () => Promise<T>): Promise<T> => {
      const s = performance.now();
      const out = await f();
      envMs += performance.now() - s;
      return out;
    };
    try {
      let [obs] = await timed(() => env.reset({ seed: args.seed, ...(args.probe ? { probe: args.probe } : {}) }));
      const expert = createExpert(env.episode);
      const tracker = new OutcomeTracker(env.episode, env.sim);
      const noise = new ActionNoise(args.noise ?? 0, args.seed);
      const rec = new EpisodeRecorder(cameras, res, env.episode.maxSteps, args.record ?? true);
      let last;
      do {
        rec.observe(obs);
        const a = expert.act(env.sim);
        rec.act(a);
        last = await timed(() => env.step(noise.perturb(a)));
        tracker.observe(env.sim);
        obs = last.obs;
      } while (!last.terminated && !last.truncated);
      const totalMs = performance.now() - t0;
      return {
        episode: env.episode,
        success: last.info.success,
        terminated: last.terminated,
        outcome: tracker.classify(env.sim),
        resolution: res,
        cameras: cameras.map((c) => c.name),
        ...rec.wire(obs),
        timing: { envMs, totalMs },
        appearance,
      };
    } finally {
      env.close();
    }
  },

  /**
   * The first observation of an episode under a condition (appearance,
   * sensor, perturbation), as the policy would see it: the example frames of
   * the robustness-levels report. Per camera, base64 of uint8 [H, W, 3].
   */
  async conditionFrames(args: Omit<ExpertEpisodeArgs, 'record' | 'noise'>): Promise<{ episode: EpisodeSpec; resolution: number; frames: Record<string, string> }> {
    const res = args.resolution ?? DEFAULT_RESOLUTION;
    const appearance = args.appearance ?? {};
    const cameras = shiftedCameras(args.cameras ?? DEFAULT_CAMERAS, appearance.cameraShift);
    const renderer = rendererFor({ width: res, height: res, cameras }, {}, appearance);
    const env = new SuiteEnv({ suite: args.suite, task: args.task, split: args.split, renderer, cameras, resolution: res, sensor: args.sensor, perturbEpisode: episodeTransform(args.suite, args.perturbation) });
    try {
      const [obs] = await env.reset({ seed: args.seed });
      return { episode: env.episode, resolution: res, frames: Object.fromEntries(cameras.map((c) => [c.name, bytesToB64(obs.images[c.name].data)])) };
    } finally {
      env.close();
    }
  },
};
