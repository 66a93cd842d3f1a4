// What acts in the demo: the scripted expert, a policy in the inference
// worker (the same InferenceClient the evaluation harness uses), or a policy
// server in another process (docs/remote-policy.md: the same RemoteClient as
// eval --policy remote:HOST:PORT, through the page server's proxy). Latency
// parts per step: capture (env step: physics + render + readback of the next
// frame), then transfer, backbone, decoder (worker) or network and the
// server's own compute (remote), and total.
import pkg from '../../../package.json';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../../sim/config.ts';
import type { Observation } from '../../../sim/env.ts';
import type { SimWorld } from '../../../sim/world.ts';
import type { EpisodeSpec } from '../../../tasks/episode.ts';
import { createExpert, type Expert } from '../../../tasks/expert.ts';
import { privilegedState } from '../../../tasks/privileged.ts';
import { InferenceClient, type InitResult, type PolicyInfo } from '../../worker/client.ts';
import type { SaliencyResult } from '../../worker/protocol.ts';
import { RemoteClient, type RemotePolicyInfo } from '../../worker/remoteClient.ts';
import { parseRemoteAddress } from '../../worker/remoteSpec.ts';

export interface StepTiming {
  captureMs: number;
  transferMs: number;
  backboneMs: number;
  decoderMs: number;
  /** A remote policy's own compute, as its server reports it (transferMs is then the network). */
  policyMs?: number;
  totalMs: number;
  /** False on a step replayed from a chunk (nothing was asked): the HUD's medians leave it out. */
  inferred?: boolean;
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
    return { action: r.action, timing: { captureMs: t.captureMs, transferMs: t.transferMs, backboneMs: t.backboneMs, decoderMs: t.decoderMs, totalMs: t.totalMs, inferred: r.inferred } };
  }

  saliency(obs: Observation): Promise<SaliencyResult> {
    return this.client.saliency(obs);
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * A policy server at HOST:PORT, reached through the page server's proxy
 * (/remote/<HOST:PORT>/, src/runtime/proxy.ts), so the server needs no CORS.
 * It gets the command as typed: it encodes language for itself. After a
 * failed episode the next one shakes hands again, and must meet the same
 * name@version, so the identity on screen stays true.
 */
export class RemoteDriver implements Driver {
  private episode: EpisodeSpec | null = null;
  private started: Promise<void> = Promise.resolve();
  private broken = false;

  private constructor(readonly label: string, readonly server: string, private client: RemoteClient, readonly policy: RemotePolicyInfo) {}

  get info(): string {
    const p = this.policy;
    return `${p.remote.model} at ${p.remote.server}: ${p.backbone}, chunk ${p.chunkLength} (${p.chunkExecution}), reads the command as typed; latency: network | the server's own compute`;
  }

  /** The backend line of the status bar: nothing of tfjs runs here. */
  get where(): string {
    return `no tfjs here: the policy runs in the server at ${this.server} (through this page's proxy)`;
  }

  private static client(server: string, expectModel?: string): RemoteClient {
    return new RemoteClient({
      url: `remote/${encodeURIComponent(server)}`, proxied: true, display: server, cameras: DEFAULT_CAMERAS.map((c) => c.name), resolution: DEFAULT_RESOLUTION,
      version: pkg.version as string, ...(expectModel ? { expectModel } : {}),
    });
  }

  /** The handshake with `address` (HOST:PORT); throws naming the address, or the field the handshake refused. */
  static async open(address: string): Promise<RemoteDriver> {
    const a = parseRemoteAddress(address.trim());
    if (!a) throw new Error(`the remote policy address must be HOST:PORT with a port in 1..65535 (e.g. 127.0.0.1:8765), got "${address}"`);
    const client = RemoteDriver.client(a.server);
    await client.start();
    return new RemoteDriver(`remote:${a.server}`, a.server, client, client.policyInfo!);
  }

  reset(ep: EpisodeSpec): void {
    this.episode = ep;
    const again = this.broken;
    this.broken = false;
    this.started = (async () => {
      if (again) {
        const c = RemoteDriver.client(this.server, this.policy.remote.model);
        await c.start();
        this.client = c;
      }
      await this.client.reset({ id: `${ep.task}-${ep.seed}`, instruction: ep.instruction });
    })();
    this.started.catch(() => undefined); // act() awaits it and reports the error
  }

  async act(obs: Observation, sim: SimWorld, captureMs: number): Promise<{ action: Float32Array; timing: StepTiming }> {
    const ep = this.episode;
    if (!ep) throw new Error('RemoteDriver: reset() first');
    try {
      await this.started;
      const r = await this.client.act(obs, { captureMs, privileged: () => privilegedState(sim, ep) });
      const t = r.timing;
      return { action: r.action, timing: { captureMs: t.captureMs, transferMs: t.transferMs, backboneMs: 0, decoderMs: 0, policyMs: t.policyMs ?? 0, totalMs: t.totalMs, inferred: r.inferred } };
    } catch (e) {
      this.broken = true; // the next episode shakes hands again (a restarted server)
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
