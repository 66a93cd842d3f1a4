// Gymnasium-style environment (reset({seed}) -> [obs, info]; step(action) ->
// {obs, reward, terminated, truncated, info}; close()). Async because frames
// come back from the GPU asynchronously; without a renderer (physics-only,
// e.g. in Node tests) observations carry no images. What an episode is comes
// from the EnvTask it runs (sim/task.ts; suites bind to it in tasks/env.ts).
import {
  ACTION_DIM, ACTION_HIGH, ACTION_LOW, ACTION_NAMES, DEFAULT_CAMERAS, DEFAULT_RESOLUTION, PROPRIO_DIM, TCP_LIMITS,
} from './config.ts';
import type { CameraSpec, Frame, FrameRenderer, PoseBuffer } from './types.ts';
import { applySensor, checkSensor, isIdentitySensor, type SensorPerturbation } from './render/sensor.ts';
import type { EnvTask, ResetOptions, SimEpisode } from './task.ts';
import { initPhysics, SimWorld, wrapAngle } from './world.ts';

export type { EnvTask, ResetOptions, SimEpisode } from './task.ts';

export interface Observation {
  /** Camera frames by camera name (empty without a renderer). */
  images: Record<string, Frame>;
  /** See PROPRIO_NAMES in config.ts. */
  proprio: Float32Array;
  instruction: string;
}

export interface StepInfo<E extends SimEpisode = SimEpisode> {
  success: boolean;
  step: number;
  /** True when the action had to be clipped into bounds. */
  clipped: boolean;
  episode: E;
}

export interface StepResult<E extends SimEpisode = SimEpisode> {
  obs: Observation;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo<E>;
}

export interface EnvOptions {
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
}

export class ActionError extends Error {
  override name = 'ActionError';
}

/**
 * The env running one task. `O` is the options type a subclass adds to and
 * `R` the reset options its task takes (tasks/env.ts SuiteEnv: suite, task and
 * split; typed commands and probes); `opts` holds every option given, with the
 * defaults filled in.
 */
export class VlaEnv<E extends SimEpisode = SimEpisode, O extends EnvOptions = EnvOptions, R extends ResetOptions = ResetOptions> {
  readonly opts: Required<Omit<EnvOptions, 'renderer' | 'sensor'>> & O;
  private simWorld: SimWorld | null = null;
  private ep: E | null = null;
  private steps = 0;
  private done = false;
  private poseBuf: PoseBuffer | null = null;

  constructor(readonly task: EnvTask<E, R>, opts: O) {
    if (opts.sensor) checkSensor(opts.sensor);
    this.opts = { terminateOnSuccess: false, cameras: DEFAULT_CAMERAS, resolution: DEFAULT_RESOLUTION, ...opts };
  }

  get sim(): SimWorld {
    if (!this.simWorld) throw new Error('call reset() before using the environment');
    return this.simWorld;
  }

  get episode(): E {
    if (!this.ep) throw new Error('call reset() before using the environment');
    return this.ep;
  }

  /** Start the episode the task gives for `options` (EnvTask.episode: the seed's, and whatever else the task's options ask). */
  async reset(options: R): Promise<[Observation, { episode: E }]> {
    await initPhysics();
    const ep = this.task.episode(options);
    this.simWorld?.free();
    this.simWorld = new SimWorld(ep.layout);
    this.ep = ep;
    this.steps = 0;
    this.done = false;
    this.poseBuf = null;
    this.opts.renderer?.setScene(this.simWorld.describe());
    return [await this.observe(), { episode: ep }];
  }

  async step(action: ArrayLike<number>): Promise<StepResult<E>> {
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
    const success = this.task.isSuccess(sim, this.episode);
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
