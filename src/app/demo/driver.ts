// What acts in the demo: the scripted expert, or a policy in the inference
// worker (the same InferenceClient the evaluation harness uses). Latency parts
// per step: capture (env step: physics + render + readback of the next frame),
// transfer, backbone, decoder, total.
import type { Observation } from '../../../sim/env.ts';
import type { SimWorld } from '../../../sim/world.ts';
import type { EpisodeSpec } from '../../../tasks/episode.ts';
import { createExpert, type Expert } from '../../../tasks/expert.ts';
import { InferenceClient, type InitResult, type PolicyInfo } from '../../worker/client.ts';
import type { SaliencyResult } from '../../worker/protocol.ts';

export interface StepTiming {
  captureMs: number;
  transferMs: number;
  backboneMs: number;
  decoderMs: number;
  totalMs: number;
}

export interface Driver {
  readonly label: string;
  readonly info: string;
  reset(ep: EpisodeSpec): void;
  act(obs: Observation, sim: SimWorld, captureMs: number): Promise<{ action: Float32Array; timing: StepTiming | null }>;
  /** Where the vision backbone looks (policies only). */
  saliency?(obs: Observation): Promise<SaliencyResult>;
  close(): Promise<void>;
}

export class ExpertDriver implements Driver {
  readonly label = 'scripted expert';
  readonly info = 'privileged state, no vision';
  private expert: Expert | null = null;
  reset(ep: EpisodeSpec): void {
    this.expert = createExpert(ep);
  }
  async act(_obs: Observation, sim: SimWorld): Promise<{ action: Float32Array; timing: null }> {
    if (!this.expert) throw new Error('ExpertDriver: reset() first');
    return { action: this.expert.act(sim), timing: null };
  }
  async close(): Promise<void> {}
}

export class PolicyDriver implements Driver {
  private constructor(readonly label: string, private readonly client: InferenceClient, readonly backend: InitResult, readonly policy: PolicyInfo) {}

  get info(): string {
    const b = this.backend;
    return `${this.policy.backbone}, ${(this.policy.params / 1e6).toFixed(2)}M params, text ${this.policy.textEncoder}, tfjs ${b.backend}${b.fallbackReason ? ` (fell back: ${b.fallbackReason})` : ''}`;
  }

  static async open(label: string, spec: { checkpointUrl: string } | { name: string }, backend: string): Promise<PolicyDriver> {
    const client = new InferenceClient();
    try {
      const b = await client.start({ backend: backend as never, avoidSoftwareGpu: backend === 'auto' });
      const p = await client.loadPolicy(spec);
      await client.warmup(2); // shader compilation / first inference, kept out of the HUD figures
      return new PolicyDriver(label, client, b, p);
    } catch (e) {
      await client.close();
      throw e;
    }
  }

  reset(): void {
    void this.client.reset();
  }

  async act(obs: Observation, _sim: SimWorld, captureMs: number): Promise<{ action: Float32Array; timing: StepTiming }> {
    const r = await this.client.act(obs, { captureMs });
    for (let i = 0; i < r.action.length; i++) if (!Number.isFinite(r.action[i])) throw new Error(`policy produced a non-finite action (action[${i}] = ${r.action[i]})`);
    const t = r.timing;
    return { action: r.action, timing: { captureMs: t.captureMs, transferMs: t.transferMs, backboneMs: t.backboneMs, decoderMs: t.decoderMs, totalMs: t.totalMs } };
  }

  saliency(obs: Observation): Promise<SaliencyResult> {
    return this.client.saliency(obs);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
