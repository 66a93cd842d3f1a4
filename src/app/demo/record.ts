// Every demo episode is recorded as it runs: step t keeps observation t (the
// policy-camera frames, exactly the bytes the policy got, and
// proprioception), the body poses (for the viewer camera), the action taken
// on it, the latency parts and where the backbone looked. The final state
// (after the last action) is one more entry without an action, like
// EpisodeWire's finalFrames (src/app/api/episode.ts). The JSON download is
// this record with binary data in base64 (src/runtime/b64.ts).
import type { Observation } from '../../../sim/env.ts';
import type { Frame } from '../../../sim/types.ts';
import type { EpisodeSpec } from '../../../tasks/episode.ts';
import type { InitResult } from '../../worker/protocol.ts';
import type { SaliencyResult } from '../../worker/protocol.ts';
import { bytesToB64, f32ToB64 } from '../../runtime/b64.ts';
import type { StepTiming } from './driver.ts';
import type { DemoState } from './urlState.ts';

export const RECORD_FORMAT = 'vlalab-demo-episode/1';

export interface StepRecord {
  frames: Record<string, Frame>;
  proprio: Float32Array;
  poses: Float32Array;
  /** Null for the final state (nothing acted on it). */
  action: Float32Array | null;
  timing: StepTiming | null;
  saliency: SaliencyResult | null;
  /** The success predicate on this state (sim/env.ts StepInfo.success). */
  success: boolean;
}

export interface EpisodeMeta {
  state: DemoState;
  /** A link that reproduces the episode. */
  url: string;
  appVersion: string;
  suite: string;
  episode: EpisodeSpec;
  /** Body names in pose order (sim/world.ts describe()). */
  bodies: string[];
  driver: { label: string; info: string; backend: InitResult | null };
}

export interface Outcome {
  steps: number;
  success: boolean;
  terminated: boolean;
  truncated: boolean;
}

export class EpisodeRecord {
  readonly steps: StepRecord[] = [];
  outcome: Outcome | null = null;
  readonly createdAt = new Date().toISOString();

  constructor(readonly meta: EpisodeMeta) {}

  /** Records an observation; its frames are copied (the worker takes the originals' buffers). */
  observe(obs: Observation, poses: Float32Array, success: boolean): StepRecord {
    const frames: Record<string, Frame> = {};
    for (const [cam, f] of Object.entries(obs.images)) frames[cam] = { width: f.width, height: f.height, data: Uint8Array.from(f.data) };
    const step: StepRecord = { frames, proprio: Float32Array.from(obs.proprio), poses: Float32Array.from(poses), action: null, timing: null, saliency: null, success };
    this.steps.push(step);
    return step;
  }

  get last(): StepRecord | undefined {
    return this.steps[this.steps.length - 1];
  }

  /** Actions taken, in order (the final state has none). */
  actions(): number[][] {
    return this.steps.filter((s) => s.action).map((s) => Array.from(s.action!));
  }

  toJSON(): object {
    const cameras = Object.keys(this.steps[0]?.frames ?? {});
    const f0 = this.steps[0]?.frames[cameras[0]];
    return {
      format: RECORD_FORMAT,
      createdAt: this.createdAt,
      ...this.meta,
      cameras,
      resolution: f0 ? [f0.height, f0.width] : null,
      outcome: this.outcome,
      encoding: 'frames: base64 of uint8 RGB rows top-down (H x W x 3); poses: base64 of float32, 7 per body (x, y, z, qx, qy, qz, qw) in episode body order',
      steps: this.steps.map((s, t) => ({
        t,
        action: s.action ? Array.from(s.action) : null,
        proprio: Array.from(s.proprio),
        success: s.success,
        timing: s.timing,
        poses: f32ToB64(s.poses),
        frames: Object.fromEntries(Object.entries(s.frames).map(([cam, f]) => [cam, bytesToB64(f.data)])),
        saliency: s.saliency ? { kind: s.saliency.kind, camera: s.saliency.camera, grid: s.saliency.grid, heat: Array.from(s.saliency.heat) } : null,
      })),
    };
  }
}
