// What acts in the demo: the scripted expert, a policy in the inference
// worker (the same InferenceClient the evaluation harness uses), or a remote
// policy server (docs/remote-policy.md, the same RemoteClient). Latency parts
// per step: capture (env step: physics + render + readback of the next frame),
// transfer (for a remote policy: the network), backbone, decoder, total.
import pkg from '../../package.json';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import type { Observation } from '../../sim/env.ts';
import type { SimWorld } from '../../sim/world.ts';
import type { EpisodeSpec } from '../../tasks/episode.ts';
import { createExpert, type Expert } from '../../tasks/expert.ts';
import { privilegedState } from '../../tasks/privileged.ts';
import { InferenceClient, type InitResult, type PolicyInfo } from '../worker/client.ts';
import type { SaliencyResult } from '../worker/protocol.ts';
import { RemoteClient } from '../worker/remoteClient.ts';

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
    return `${this.policy.backbone}, ${(this.policy.params / 1e6).toFixed(2)}M params, tfjs ${b.backend}${b.fallbackReason ? ` (fell back: ${b.fallbackReason})` : ''}`;
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

/**
 * A policy server at HOST:PORT, called from this page's origin: the server
 * must allow cross-origin requests (docs/remote-policy.md#the-demo-page).
 */
export class RemoteDriver implements Driver {
  private episode: EpisodeSpec | null = null;
  private started: Promise<void> = Promise.resolve();

  private constructor(readonly label: string, private readonly client: RemoteClient) {}

  get info(): string {
    const p = this.client.policyInfo!;
    return `${p.remote.model} at ${p.remote.server}: ${p.backbone}, chunk ${p.chunkLength} (${p.chunkExecution}); transfer = the network, backbone/decoder = 0 (the server's own time is not split)`;
  }

  static async open(address: string): Promise<RemoteDriver> {
    const a = address.trim();
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(a)) throw new Error(`the remote policy address must be HOST:PORT, got "${address}"`);
    const client = new RemoteClient({ url: `http://${a}`, display: a, cameras: DEFAULT_CAMERAS.map((c) => c.name), resolution: DEFAULT_RESOLUTION, version: pkg.version as string });
    await client.start();
    return new RemoteDriver(`remote:${a}`, client);
  }

  reset(ep: EpisodeSpec): void {
    this.episode = ep;
    this.started = this.client.reset({ id: `${ep.task}-${ep.seed}`, instruction: ep.instruction });
    this.started.catch(() => undefined); // act() awaits it and reports the error
  }

  async act(obs: Observation, sim: SimWorld, captureMs: number): Promise<{ action: Float32Array; timing: StepTiming }> {
    await this.started;
    const ep = this.episode;
    if (!ep) throw new Error('RemoteDriver: reset() first');
    const r = await this.client.act(obs, { captureMs, privileged: () => privilegedState(sim, ep) });
    const t = r.timing;
    return { action: r.action, timing: { captureMs: t.captureMs, transferMs: t.transferMs, backboneMs: t.backboneMs, decoderMs: t.decoderMs, totalMs: t.totalMs } };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
