// The recording half of a page episode (expert demonstrations and DAgger
// episodes, src/app/api/episode.ts and dagger.ts): step t pairs observation t
// (before acting) with action t, in buffers sized for the episode's step
// limit, handed back as the EpisodeWire's base64 fields.
import { ACTION_DIM, PROPRIO_DIM } from '../../../sim/config.ts';
import type { Observation } from '../../../sim/env.ts';
import type { CameraSpec } from '../../../sim/types.ts';
import { bytesToB64, f32ToB64 } from '../../runtime/b64.ts';
import type { EpisodeWire } from './episode.ts';

export class EpisodeRecorder {
  private readonly frameSize: number;
  private readonly frames: Record<string, Uint8Array>;
  private readonly proprio: Float32Array;
  private readonly actions: Float32Array;
  /** Steps recorded so far. */
  steps = 0;

  /** record false: proprio and actions only, no frames (evaluation baselines). */
  constructor(private readonly cameras: readonly CameraSpec[], resolution: number, maxSteps: number, private readonly record = true) {
    this.frameSize = resolution * resolution * 3;
    this.frames = Object.fromEntries(cameras.map((c) => [c.name, new Uint8Array(record ? maxSteps * this.frameSize : 0)]));
    this.proprio = new Float32Array(maxSteps * PROPRIO_DIM);
    this.actions = new Float32Array(maxSteps * ACTION_DIM);
  }

  /** Observation t, before anything (a policy worker) takes its frame buffers. */
  observe(obs: Observation): void {
    if (this.record) for (const c of this.cameras) this.frames[c.name].set(obs.images[c.name].data, this.steps * this.frameSize);
    this.proprio.set(obs.proprio, this.steps * PROPRIO_DIM);
  }

  /** Action t (the label), closing step t. */
  act(action: Float32Array): void {
    this.actions.set(action, this.steps * ACTION_DIM);
    this.steps++;
  }

  /** The recorded steps and the frames of `last` (after the last action; cameras whose buffers were handed away are left out). */
  wire(last: Observation): Pick<EpisodeWire, 'steps' | 'frames' | 'proprio' | 'actions' | 'finalFrames'> {
    const t = this.steps;
    return {
      steps: t,
      frames: this.record ? Object.fromEntries(this.cameras.map((c) => [c.name, bytesToB64(this.frames[c.name].subarray(0, t * this.frameSize))])) : {},
      proprio: f32ToB64(this.proprio.subarray(0, t * PROPRIO_DIM)),
      actions: f32ToB64(this.actions.subarray(0, t * ACTION_DIM)),
      finalFrames: this.record ? Object.fromEntries(this.cameras.filter((c) => last.images[c.name].data.byteLength > 0).map((c) => [c.name, bytesToB64(last.images[c.name].data)])) : {},
    };
  }
}
