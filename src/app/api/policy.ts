// Page API: a learned policy drives a whole episode in the page. Physics and
// rendering run here (the pooled renderer, as for expert episodes); inference
// runs in the worker (src/worker), or in a remote policy server
// (docs/remote-policy.md); both clients are cached (policyClients.ts). Nothing
// an episode does wrong escapes the call: exceptions, NaN actions, physics
// blow-ups and a remote server's failures come back as `failure` with the reason.
import { type Appearance, shiftedCameras } from '../../../sim/render/appearance.ts';
import type { SensorPerturbation } from '../../../sim/render/sensor.ts';
import { type EpisodePerturbation, episodeTransform } from '../../../tasks/perturbation.ts';
import { ACTION_NAMES, DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../../sim/config.ts';
import type { StepResult } from '../../../sim/env.ts';
import { SuiteEnv } from '../../../tasks/env.ts';
import type { BabylonRenderer } from '../../../sim/render/babylonRenderer.ts';
import type { CameraSpec } from '../../../sim/types.ts';
import { sampleEpisode, type EpisodeSpec } from '../../../tasks/episode.ts';
import { privilegedState } from '../../../tasks/privileged.ts';
import { type EpisodeOutcome, OutcomeTracker } from '../../../tasks/outcome.ts';
import type { LanguageProbe } from '../../../tasks/probes.ts';
import type { SuiteSpec } from '../../../tasks/suite.ts';
import type { StepLatency } from '../../eval/records.ts';
import type { BackendRequest } from '../../worker/fallback.ts';
import { InferenceClient } from '../../worker/client.ts';
import type { InitResult, InstructionEncoding, PolicyInfo, PolicySpec, WorkerMemory, WorkerTiming } from '../../worker/protocol.ts';
import type { RemotePolicyInfo } from '../../worker/remoteClient.ts';
import { RemoteError } from '../../worker/remoteSpec.ts';
import { bytesToB64 } from '../../runtime/b64.ts';
import { rendererFor } from '../rendererPool.ts';
import type { EpisodeArgs } from './episode.ts';
import { backendOf, cacheKey, cachedMemory, clientFor, closeAll, evict, isRemote, type ClientArgs, type EpisodePolicy } from './policyClients.ts';

export interface PolicyEpisodeArgs extends EpisodeArgs {
  policy: EpisodePolicy;
  backend?: BackendRequest;
  allowFallback?: boolean;
  /** See InitOptions.avoidSoftwareGpu ('auto' picks wasm over SwiftShader webgl). */
  avoidSoftwareGpu?: boolean;
  /** Zero the images (vision ablation); cached apart from the seeing policy. */
  blind?: boolean;
  terminateOnSuccess?: boolean;
  /** Stop after this many steps even if the task allows more (smoke runs, tests). */
  maxSteps?: number;
  /** The first steps of each episode, reported apart from `latency` (default 1). */
  warmupSteps?: number;
  /** Return the actions taken (debugging, tests). */
  recordActions?: boolean;
  /** Return every frame the policy saw plus the final one (eval --video). */
  recordFrames?: boolean;
  /** Rendering-only probe (lights, table texture, camera shift); default: the training appearance. */
  appearance?: Appearance;
  /** Post-render corruption of the frames the policy sees (sim/render/sensor.ts). */
  sensor?: SensorPerturbation;
  /** Physical change of the episode: robot start pose, extra distractors (tasks/perturbation.ts). */
  perturbation?: EpisodePerturbation;
  /**
   * Zero the policy's terminate action (LIBERO's protocol: the episode ends on
   * success or at the step limit; use with terminateOnSuccess).
   */
  ignoreTerminate?: boolean;
  /** A counterfactual language probe of this episode (tasks/probes.ts): its text goes to the policy as is, its goal is the goal. */
  probe?: LanguageProbe;
}

/**
 * 'setup': the worker, backend, policy or remote server could not start; not
 * the episode's fault (the eval runner stops on it). 'remote': the policy
 * server failed during the episode (gone, timeout, malformed reply, ...).
 */
export type FailureKind = 'exception' | 'nan_action' | 'physics' | 'remote' | 'setup';

export interface PolicyEpisodeWire {
  episode: EpisodeSpec;
  success: boolean;
  steps: number;
  terminated: boolean;
  truncated: boolean;
  failure?: { kind: FailureKind; message: string };
  /** Outcome taxonomy of the final state (tasks/outcome.ts); absent when the episode broke off with an error. */
  outcome?: EpisodeOutcome;
  /**
   * Per control step after the warm-up steps. captureMs: render + readback of
   * the frame the policy saw; transferMs, backboneMs, decoderMs: see
   * InferenceClient; totalMs: the whole step (inference round trip + physics
   * + capture of the next frame), whose median sets the control rate.
   */
  latency: StepLatency[];
  warmup: StepLatency[];
  backend: string;
  backendInfo?: InitResult;
  policyInfo?: PolicyInfo | RemotePolicyInfo;
  /** Dummy-inference times when this call started the worker (first-call/shader cost); absent when cached. */
  loadWarmup?: WorkerTiming[];
  /**
   * The instruction's encoding before the first step (the frozen sentence
   * encoder's once-per-episode cost; 0 ms and cached for a string seen
   * before), and `inAct`: how many control steps had to embed it instead (0
   * unless the worker lost it). Absent for a remote policy.
   */
  instructionEncoding?: InstructionEncoding & { inAct: number };
  actions?: number[][];
  /** The worker's tf.memory() after the episode: leak accounting per episode (eval meta.workerTensors). */
  workerMemory?: WorkerMemory;
  /** With recordFrames: per camera, base64 of uint8 [steps + 1, H, W, 3] (the frames seen, then the final frame). */
  frames?: Record<string, string>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

function captureOf(r: BabylonRenderer): number {
  const t = r.lastTimings;
  return t.drawMs + t.readMs + t.convertMs;
}

/** Microseconds are noise here (the clock is coarsened to 0.1 ms) and bloat every JSONL record. */
function rounded(l: StepLatency): StepLatency {
  const r = (v: number) => Math.round(v * 1000) / 1000;
  return { captureMs: r(l.captureMs), transferMs: r(l.transferMs), backboneMs: r(l.backboneMs), decoderMs: r(l.decoderMs), ...(l.policyMs !== undefined ? { policyMs: r(l.policyMs) } : {}), totalMs: r(l.totalMs) };
}

/** Names the first non-finite entry, or null. */
function nonFinite(action: Float32Array): string | null {
  for (let i = 0; i < action.length; i++) {
    if (!Number.isFinite(action[i])) return `action[${i}] (${ACTION_NAMES[i] ?? '?'}) is ${action[i]}`;
  }
  return null;
}

const TERMINATE = ACTION_NAMES.indexOf('terminate');

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const policyApi = {
  async runPolicyEpisode(args: PolicyEpisodeArgs): Promise<PolicyEpisodeWire> {
    // Computed up front so even a failure before reset() reports which episode it was.
    let episode = sampleEpisode(args.suite, args.task, args.split, args.seed);
    const res = args.resolution ?? DEFAULT_RESOLUTION;
    const cameras = shiftedCameras(args.cameras ?? DEFAULT_CAMERAS, args.appearance?.cameraShift);
    const steps: StepLatency[] = [];
    const actions: number[][] = [];
    const seen: Record<string, Uint8Array[]> = Object.fromEntries(cameras.map((c) => [c.name, []]));
    const keep = (o: { images: Record<string, { data: Uint8Array }> }) => {
      if (args.recordFrames) for (const c of cameras) seen[c.name].push(o.images[c.name].data.slice());
    };
    const out: PolicyEpisodeWire = { episode, success: false, steps: 0, terminated: false, truncated: false, latency: [], warmup: [], backend: 'none' };
    let env: SuiteEnv | null = null;
    let last: StepResult<EpisodeSpec> | null = null;
    let started: Awaited<ReturnType<typeof clientFor>>;
    try {
      started = await clientFor(args);
    } catch (e) {
      out.failure = { kind: 'setup', message: message(e).slice(0, 1000) };
      return out;
    }
    try {
      const { client, loadWarmup } = started;
      out.backendInfo = client.backendInfo ?? undefined;
      out.policyInfo = client.policyInfo ?? undefined;
      out.backend = backendOf(client);
      if (loadWarmup) out.loadWarmup = loadWarmup;
      const renderer = rendererFor({ width: res, height: res, cameras }, {}, args.appearance ?? {});
      env = new SuiteEnv({
        suite: args.suite, task: args.task, split: args.split, renderer, cameras, resolution: res, terminateOnSuccess: args.terminateOnSuccess ?? false,
        sensor: args.sensor, perturbEpisode: episodeTransform(args.suite, args.perturbation),
      });
      let [obs] = await env.reset({ seed: args.seed, ...(args.probe ? { probe: args.probe } : {}) });
      out.episode = episode = env.episode;
      const tracker = new OutcomeTracker(episode, env.sim);
      await client.reset({ id: `${args.task}-${args.seed}`, instruction: episode.instruction });
      const privileged = () => privilegedState(env!.sim, episode); // sent only to a remote policy that asked for it
      // the frozen sentence encoder's embedding, once per episode; a remote policy encodes for itself, so it has none to report
      const encoding = client instanceof InferenceClient ? { ...(await client.prepareInstruction(obs.instruction)), inAct: 0 } : null;
      if (encoding) out.instructionEncoding = encoding;
      let captureMs = captureOf(renderer);
      const budget = Math.min(args.maxSteps ?? Infinity, episode.maxSteps);
      while (out.steps < budget) {
        const t0 = performance.now();
        keep(obs); // before act(): the worker takes the frame buffers
        const r = await client.act(obs, { captureMs, privileged }); // transfers obs's frames (worker)
        if (args.recordActions) actions.push(Array.from(r.action));
        if (encoding && r.encodedMs !== undefined) encoding.inAct++;
        const bad = nonFinite(r.action);
        if (bad) {
          out.failure = { kind: 'nan_action', message: `${bad} at step ${out.steps}` };
          break;
        }
        if (args.ignoreTerminate) r.action[TERMINATE] = 0;
        last = await env.step(r.action);
        tracker.observe(env.sim);
        out.steps++;
        const { transferMs, backboneMs, decoderMs, policyMs } = r.timing;
        steps.push(rounded({ captureMs, transferMs, backboneMs, decoderMs, ...(policyMs !== undefined ? { policyMs } : {}), totalMs: performance.now() - t0 }));
        obs = last.obs;
        captureMs = captureOf(renderer);
        if (last.terminated || last.truncated) break;
      }
      keep(obs);
      if (!out.failure) out.outcome = tracker.classify(env.sim);
      out.workerMemory = await client.memory().catch(() => undefined); // accounting only: never fails the episode
    } catch (e) {
      const msg = message(e);
      const physics = /physics blew up/.test(msg);
      out.failure = { kind: e instanceof RemoteError ? 'remote' : physics ? 'physics' : 'exception', message: msg.slice(0, 1000) };
      if (!physics) evict(cacheKey(args)); // a remote one shakes hands again next episode
    } finally {
      env?.close();
    }
    out.success = last?.info.success ?? false;
    out.terminated = last?.terminated ?? false;
    out.truncated = last?.truncated ?? false;
    const W = Math.max(0, args.warmupSteps ?? 1);
    out.warmup = steps.slice(0, W);
    out.latency = steps.slice(W);
    if (args.recordActions) out.actions = actions;
    if (args.recordFrames) out.frames = Object.fromEntries(Object.entries(seen).map(([c, fs]) => [c, bytesToB64(concatBytes(fs))]));
    return out;
  },

  /**
   * One inference on a real observation through a fresh, uncached worker:
   * backend choice, policy info, action, timing, and whether the frames were
   * really transferred (their byteLength on this side drops to 0), plus live
   * tensor counts after two calls (leak check). `returnObservation` adds a
   * copy of what the policy was given (frames base64), to rerun it elsewhere.
   */
  async checkPolicyInference(args: Omit<PolicyEpisodeArgs, 'maxSteps' | 'warmupSteps' | 'recordActions'> & { returnObservation?: boolean }) {
    if (isRemote(args.policy)) throw new Error('checkPolicyInference: a worker check; a remote policy has no worker');
    const policy = args.policy;
    const client = new InferenceClient();
    const res = args.resolution ?? DEFAULT_RESOLUTION;
    const cameras = args.cameras ?? DEFAULT_CAMERAS;
    const renderer = rendererFor({ width: res, height: res, cameras });
    const env = new SuiteEnv({ suite: args.suite, task: args.task, split: args.split, renderer, cameras, resolution: res });
    try {
      const backendInfo = await client.start({ backend: args.backend ?? 'auto', allowFallback: args.allowFallback, avoidSoftwareGpu: args.avoidSoftwareGpu });
      const policyInfo = await client.loadPolicy(args.blind ? { ...policy, blind: true } : policy);
      const [obs] = await env.reset({ seed: args.seed });
      const sent = policyInfo.cameras.map((c) => obs.images[c]);
      const observation = args.returnObservation
        ? { images: Object.fromEntries(policyInfo.cameras.map((c) => [c, { width: obs.images[c].width, height: obs.images[c].height, data: bytesToB64(obs.images[c].data) }])), proprio: Array.from(obs.proprio), instruction: obs.instruction }
        : undefined;
      const byteLengthBefore = sent.map((f) => f.data.byteLength);
      const first = await client.act(obs, { captureMs: captureOf(renderer) });
      const byteLengthAfter = sent.map((f) => f.data.byteLength);
      const tensorsAfterFirst = (await client.memory()).numTensors;
      const next = await env.step(first.action);
      await client.reset(); // force a model call even for chunked policies
      const second = await client.act(next.obs);
      const tensorsAfterSecond = (await client.memory()).numTensors;
      const warmup = await client.warmup(1);
      return {
        backendInfo, policyInfo, byteLengthBefore, byteLengthAfter, tensorsAfterFirst, tensorsAfterSecond, warmup,
        action: Array.from(first.action), timing: first.timing, secondTiming: second.timing, observation,
      };
    } finally {
      env.close();
      await client.close();
    }
  },

  /**
   * Start the worker for these args exactly as runPolicyEpisode will (same
   * cache entry: backend choice, policy load, warm-up inferences) and report
   * what loaded, or throw why it cannot: the eval runner calls this before its
   * first episode, so a checkpoint that cannot load is an error, not 0%.
   */
  async preparePolicy(args: ClientArgs): Promise<{ policyInfo?: PolicyInfo | RemotePolicyInfo; backendInfo?: InitResult; workerMemory: WorkerMemory }> {
    const { client } = await clientFor(args);
    return { policyInfo: client.policyInfo ?? undefined, backendInfo: client.backendInfo ?? undefined, workerMemory: await client.memory() };
  },

  /** The cached worker's memory for these args (null when none is running): leak tests. */
  async policyWorkerMemory(args: ClientArgs): Promise<WorkerMemory | null> {
    return cachedMemory(args);
  },

  /** Terminates every cached inference worker and remote client (tests, page teardown). */
  async closePolicyWorkers(): Promise<number> {
    return closeAll();
  },
};
