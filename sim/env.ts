// Gymnasium-style environment (reset({seed}) -> [obs, info]; step(action) ->
// {obs, reward, terminated, truncated, info}; close()). Async because frames
// come back from the GPU asynchronously; without a renderer (physics-only,
// e.g. in Node tests) observations carry no images.
import {
  ACTION_DIM, ACTION_HIGH, ACTION_LOW, ACTION_NAMES, DEFAULT_CAMERAS, DEFAULT_RESOLUTION, PROPRIO_DIM, TCP_LIMITS,
} from './config.ts';
import type { CameraSpec, Frame, FrameRenderer, PoseBuffer } from './types.ts';
import { applySensor, checkSensor, isIdentitySensor, type SensorPerturbation } from './render/sensor.ts';
import { initPhysics, SimWorld, wrapAngle } from './world.ts';
import { sampleEpisode, type EpisodeSpec } from '../tasks/episode.ts';
import { isSuccess } from '../tasks/success.ts';
import { resolveCommand } from '../tasks/command.ts';
import { applyProbe, type LanguageProbe } from '../tasks/probes.ts';
import { getTask, lexiconOf, type SuiteSpec } from '../tasks/suite.ts';

export interface Observation {
  /** Camera frames by camera name (empty without a renderer). */
  images: Record<string, Frame>;
  /** See PROPRIO_NAMES in config.ts. */
  proprio: Float32Array;
  instruction: string;
}

export interface StepInfo {
  success: boolean;
  step: number;
  /** True when the action had to be clipped into bounds. */
  clipped: boolean;
  episode: EpisodeSpec;
}

export interface StepResult {
  obs: Observation;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export interface EnvOptions {
  suite: SuiteSpec;
  task: string;
  split: string;
  renderer?: FrameRenderer;
  /** End the episode as soon as the success predicate holds (LIBERO-style). Default false: the policy must terminate. */
  terminateOnSuccess?: boolean;
  cameras?: CameraSpec[];
  resolution?: number;
  /**
   * Corrupts every observed frame after rendering (noise, blur, occluder;
   * sim/render/sensor.ts), seeded by the episode and step: what the policy
   * sees changes, physics does not.
   */
  sensor?: SensorPerturbation;
  /**
   * Changes each sampled episode before its world is built (robustness
   * levels: tasks/perturbation.ts); applied on every reset, before a typed
   * instruction is resolved.
   */
  perturbEpisode?: (ep: EpisodeSpec) => EpisodeSpec;
}

export class ActionError extends Error {
  override name = 'ActionError';
}

export class VlaEnv {
  readonly opts: Required<Omit<EnvOptions, 'renderer' | 'sensor' | 'perturbEpisode'>> & Pick<EnvOptions, 'renderer' | 'sensor' | 'perturbEpisode'>;
  private simWorld: SimWorld | null = null;
  private ep: EpisodeSpec | null = null;
  private steps = 0;
  private done = false;
  private poseBuf: PoseBuffer | null = null;

  constructor(opts: EnvOptions) {
    getTask(opts.suite, opts.task); // fail fast on an unknown task
    if (opts.sensor) checkSensor(opts.sensor);
    this.opts = { terminateOnSuccess: false, cameras: DEFAULT_CAMERAS, resolution: DEFAULT_RESOLUTION, ...opts };
  }

  get sim(): SimWorld {
    if (!this.simWorld) throw new Error('call reset() before using the environment');
    return this.simWorld;
  }

  get episode(): EpisodeSpec {
    if (!this.ep) throw new Error('call reset() before using the environment');
    return this.ep;
  }

  /**
   * Start an episode. `instruction` overrides the sampled one (a typed
   * command): it must resolve to one object and one destination of the scene,
   * else InstructionError (tasks/command.ts). What the policy then sees is
   * `policyInstruction`: 'canonical' (default) the suite's train-template
   * rendering of the resolved goal, for policies whose instruction encoder
   * only knows the suite's templates; 'typed' the text as typed, for a
   * pretrained sentence encoder (policy config textEncoderKind 'use-lite').
   * `probe` (a counterfactual language probe, tasks/probes.ts) instead gives
   * the policy its text unparsed, even garbled or empty, and makes what it
   * names the goal.
   */
  async reset(options: { seed: number; instruction?: string; policyInstruction?: PolicyInstruction; probe?: LanguageProbe }): Promise<[Observation, { episode: EpisodeSpec }]> {
    await initPhysics();
    let ep = sampleEpisode(this.opts.suite, this.opts.task, this.opts.split, options.seed);
    if (this.opts.perturbEpisode) ep = this.opts.perturbEpisode(ep);
    if (options.instruction !== undefined && options.probe !== undefined) throw new Error('reset: pass a typed instruction or a probe, not both');
    if (options.instruction !== undefined) ep = withInstruction(ep, options.instruction, this.opts.suite, options.policyInstruction);
    if (options.probe !== undefined) ep = applyProbe(ep, options.probe);
    this.simWorld?.free();
    this.simWorld = new SimWorld(ep.layout);
    this.ep = ep;
    this.steps = 0;
    this.done = false;
    this.poseBuf = null;
    this.opts.renderer?.setScene(this.simWorld.describe());
    return [await this.observe(), { episode: ep }];
  }

  async step(action: ArrayLike<number>): Promise<StepResult> {
    const sim = this.sim;
    if (this.done) throw new Error('episode is over: call reset() before step()');
    const { clipped, a } = clipAction(action);
    const tcp = sim.tcp();
    const target = {
      x: clamp(tcp.x + a[0], TCP_LIMITS.xMin, TCP_LIMITS.xMax),
      y: clamp(tcp.y + a[1], TCP_LIMITS.yMin, TCP_LIMITS.yMax),
      z: clamp(tcp.z + a[2], TCP_LIMITS.zMin, TCP_LIMITS.zMax),
      yaw: wrapAngle(tcp.yaw + a[3]),
    };
    sim.control(target, a[4]);
    this.steps++;
    if (!sim.isFinite()) throw new Error(`physics blew up at step ${this.steps} (non-finite body position)`);
    const success = isSuccess(sim, this.episode);
    const terminated = a[5] > 0.5 || (this.opts.terminateOnSuccess && success);
    const truncated = !terminated && this.steps >= this.episode.maxSteps;
    this.done = terminated || truncated;
    return {
      obs: await this.observe(),
      reward: success ? 1 : 0,
      terminated,
      truncated,
      info: { success, step: this.steps, clipped, episode: this.episode },
    };
  }

  /** Proprioception without rendering (cheap). */
  proprio(): Float32Array {
    const sim = this.sim;
    const t = sim.tcp();
    const p = new Float32Array(PROPRIO_DIM);
    p.set([t.x, t.y, t.z, t.yaw, sim.gap(), sim.gripperCommand]);
    return p;
  }

  private async observe(): Promise<Observation> {
    let images = this.opts.renderer ? await this.opts.renderer.render((this.poseBuf = this.sim.poses(this.poseBuf ?? undefined))) : {};
    const sensor = this.opts.sensor;
    if (!isIdentitySensor(sensor) && Object.keys(images).length > 0) images = applySensor(images, sensor!, { seed: this.episode.seed, task: this.episode.task, step: this.steps });
    return { images, proprio: this.proprio(), instruction: this.episode.instruction };
  }

  close(): void {
    this.simWorld?.free();
    this.simWorld = null;
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Validate and clip an action. NaN/Inf or a wrong length is an error naming the problem. */
export function clipAction(action: ArrayLike<number>): { a: Float32Array; clipped: boolean } {
  if (action.length !== ACTION_DIM) throw new ActionError(`action must have ${ACTION_DIM} values (${ACTION_NAMES.join(', ')}), got ${action.length}`);
  const a = new Float32Array(ACTION_DIM);
  let clipped = false;
  for (let i = 0; i < ACTION_DIM; i++) {
    const v = action[i];
    if (!Number.isFinite(v)) throw new ActionError(`action[${i}] (${ACTION_NAMES[i]}) is ${v}: actions must be finite numbers`);
    a[i] = clamp(v, ACTION_LOW[i], ACTION_HIGH[i]);
    if (a[i] !== Math.fround(v)) clipped = true;
  }
  return { a, clipped };
}

/** Which text of a typed command the policy sees (VlaEnv.reset). */
export type PolicyInstruction = 'canonical' | 'typed';

/**
 * Replace an episode's instruction by a typed command after resolving it in
 * the scene. The episode's `instruction` (what observations carry to the
 * policy) is the canonical rendering or the typed text (`policyInstruction`);
 * `command` keeps how it was read.
 */
export function withInstruction(ep: EpisodeSpec, instruction: string, suite: SuiteSpec, policyInstruction: PolicyInstruction = 'canonical'): EpisodeSpec {
  if (policyInstruction !== 'canonical' && policyInstruction !== 'typed') throw new Error(`policyInstruction must be 'canonical' or 'typed', got ${JSON.stringify(policyInstruction)}`);
  const task = getTask(suite, ep.task);
  const command = resolveCommand(instruction, {
    lexicon: lexiconOf(suite), family: ep.family, templates: task.templates,
    scene: { objects: ep.layout.objects.map((o) => o.name), bowls: ep.layout.bowls.map((b) => b.name) },
  });
  return { ...ep, instruction: policyInstruction === 'typed' ? instruction : command.canonical, template: '(typed)', goal: { object: command.object, target: command.target }, command };
}
