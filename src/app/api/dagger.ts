// Page API: one DAgger episode (Ross, Gordon & Bagnell 2011, "A Reduction of
// Imitation Learning and Structured Prediction to No-Regret Online Learning").
// A learned policy and the scripted expert both see every state; the state
// is recorded with the *expert's* action as its label, and the action
// executed is the policy's with probability 1 - beta per step (the expert's
// otherwise, with the collection's DART noise). Behaviour cloning alone only
// sees the expert's own states and so never learns to recover from the
// policy's drift; relabelled policy states are what teaches it.
//
// The expert re-derives its phase from the world after each policy step
// (Expert.sync), so its label is what it would do from that state.
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../../sim/config.ts';
import { Rng } from '../../../sim/rng.ts';
import { SuiteEnv } from '../../../tasks/env.ts';
import { createExpert } from '../../../tasks/expert.ts';
import { ActionNoise } from '../../../tasks/noise.ts';
import { OutcomeTracker } from '../../../tasks/outcome.ts';
import type { BackendRequest } from '../../worker/fallback.ts';
import { rendererFor } from '../rendererPool.ts';
import type { EpisodeArgs, EpisodeWire } from './episode.ts';
import { EpisodeRecorder } from './recorder.ts';
import { clientFor, type EpisodePolicy } from './policyClients.ts';

export interface DaggerEpisodeArgs extends EpisodeArgs {
  policy: EpisodePolicy;
  backend?: BackendRequest;
  avoidSoftwareGpu?: boolean;
  /** Probability per step that the expert's action is executed instead of the policy's (0 = the policy drives). */
  beta: number;
  /** DART noise on the expert's executed actions (tasks/noise.ts); labels stay clean. Default 0. */
  noise?: number;
}

export interface DaggerEpisodeWire extends EpisodeWire {
  /** Control steps on which the policy's action was executed. */
  policySteps: number;
  /** The policy or its worker failed: 'setup' before the first step (no episode), else mid-episode (the steps so far are kept). */
  failure?: { kind: 'setup' | 'episode'; message: string };
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export const daggerApi = {
  async runDaggerEpisode(args: DaggerEpisodeArgs): Promise<DaggerEpisodeWire> {
    if (!(args.beta >= 0 && args.beta <= 1)) throw new Error(`beta must be in [0, 1], got ${args.beta}`);
    const t0 = performance.now();
    const res = args.resolution ?? DEFAULT_RESOLUTION;
    const cameras = args.cameras ?? DEFAULT_CAMERAS;
    let failure: DaggerEpisodeWire['failure'];
    let client;
    try {
      client = (await clientFor({ policy: args.policy, backend: args.backend, avoidSoftwareGpu: args.avoidSoftwareGpu })).client;
    } catch (e) {
      failure = { kind: 'setup', message: message(e).slice(0, 1000) };
    }
    const renderer = rendererFor({ width: res, height: res, cameras });
    const env = new SuiteEnv({ suite: args.suite, task: args.task, split: args.split, renderer, cameras, resolution: res });
    let envMs = 0;
    try {
      let [obs] = await env.reset({ seed: args.seed });
      const expert = createExpert(env.episode);
      const tracker = new OutcomeTracker(env.episode, env.sim);
      const noise = new ActionNoise(args.noise ?? 0, args.seed);
      const coin = new Rng((args.seed ^ 0xda66e5) >>> 0); // which steps the expert drives: fixed per episode seed
      const rec = new EpisodeRecorder(cameras, res, env.episode.maxSteps);
      let policySteps = 0, policyActed = false;
      let last = null;
      if (client) {
        await client.reset({ id: `${args.task}-${args.seed}`, instruction: env.episode.instruction });
        while (rec.steps < env.episode.maxSteps) {
          rec.observe(obs);
          if (policyActed) expert.sync(env.sim);
          const label = expert.act(env.sim);
          const expertDrives = coin.next() < args.beta;
          // The policy sees every state (a chunked policy keeps its queue in step); act() takes the frame buffers.
          let r;
          try {
            r = await client.act(obs);
          } catch (e) {
            failure = { kind: 'episode', message: message(e).slice(0, 1000) };
            break;
          }
          const bad = r.action.findIndex((v) => !Number.isFinite(v));
          if (bad >= 0 && !expertDrives) {
            failure = { kind: 'episode', message: `the policy's action[${bad}] is ${r.action[bad]} at step ${rec.steps}` };
            break;
          }
          rec.act(label); // a broken-off step is not recorded
          const s = performance.now();
          last = await env.step(expertDrives ? noise.perturb(label) : r.action);
          envMs += performance.now() - s;
          tracker.observe(env.sim);
          policyActed = !expertDrives;
          if (policyActed) policySteps++;
          obs = last.obs;
          if (last.terminated || last.truncated) break;
        }
      }
      return {
        episode: env.episode,
        success: last?.info.success ?? false,
        terminated: last?.terminated ?? false,
        outcome: tracker.classify(env.sim),
        resolution: res,
        cameras: cameras.map((c) => c.name),
        // After a step the observation's frames are fresh; a broken-off step may have handed them to the worker.
        ...rec.wire(obs),
        timing: { envMs, totalMs: performance.now() - t0 },
        appearance: {},
        policySteps,
        ...(failure ? { failure } : {}),
      };
    } finally {
      env.close();
    }
  },
};
