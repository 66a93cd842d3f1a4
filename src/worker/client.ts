// Page-side handle on the inference worker. Adds the latency parts only the
// caller can see: the transfer (postMessage round trip minus the worker's own
// time) and the total per control step (capture, given by the caller, plus
// the round trip). Image buffers are transferred, not copied: after act() the
// caller's frames are detached (byteLength 0) and must not be reused.
import * as Comlink from 'comlink';
import { DEFAULT_SENTENCE_ENCODER_URL, type ActRequest, type ClientTiming, type Frame, type InferenceWorkerApi, type InitOptions, type InitResult, type InstructionEncoding, type PolicyInfo, type PolicySpec, type SaliencyResult, type WorkerMemory, type WorkerTiming } from './protocol.ts';

export type { ClientTiming, InitOptions, InitResult, InstructionEncoding, PolicyInfo, PolicySpec } from './protocol.ts';

export interface Observation {
  images: Record<string, Frame>;
  proprio: Float32Array;
  instruction: string;
}

export interface ClientActResult {
  action: Float32Array;
  /** False when the worker replayed a queued chunk action (no model call). */
  inferred: boolean;
  /** Set when the worker had to embed the instruction in this call (it was not prepared). */
  encodedMs?: number;
  timing: ClientTiming;
}

export class InferenceClient {
  backendInfo: InitResult | null = null;
  policyInfo: PolicyInfo | null = null;
  private worker: Worker | null = null;
  private remote: Comlink.Remote<InferenceWorkerApi> | null = null;
  /** Set when the worker died: Comlink calls would otherwise wait forever. */
  private fatal: Error | null = null;
  private rejectPending = new Set<(e: Error) => void>();

  /** False once the worker crashed or was closed (callers then start a new client). */
  get alive(): boolean {
    return this.remote != null && this.fatal == null;
  }

  /** Spawn the worker and choose its tfjs backend. */
  async start(opts: InitOptions): Promise<InitResult> {
    if (this.worker) throw new Error('InferenceClient: already started');
    // This exact `new Worker(new URL(...))` shape is what Vite recognizes and bundles.
    this.worker = new Worker(new URL('./inference.worker.ts', import.meta.url), { type: 'module', name: 'vlalab-inference' });
    const die = (why: string) => {
      if (this.fatal) return;
      this.fatal = new Error(`inference worker died: ${why}`);
      for (const reject of this.rejectPending) reject(this.fatal);
      this.rejectPending.clear();
    };
    this.worker.addEventListener('error', (ev) => die(ev.message || 'error event (module failed to load?)'));
    this.worker.addEventListener('messageerror', () => die('a message could not be deserialized'));
    this.remote = Comlink.wrap<InferenceWorkerApi>(this.worker);
    this.backendInfo = await this.guard(this.remote.init(opts));
    return this.backendInfo;
  }

  async loadPolicy(spec: PolicySpec): Promise<PolicyInfo> {
    // The worker resolves relative URLs against its own script URL; the caller means the page's.
    const abs = (u: string) => new URL(u, location.href).href;
    const s = { ...spec, sentenceEncoderUrl: abs(spec.sentenceEncoderUrl ?? DEFAULT_SENTENCE_ENCODER_URL) };
    if ('checkpointUrl' in s) s.checkpointUrl = abs(s.checkpointUrl);
    this.policyInfo = await this.guard(this.api().loadPolicy(s));
    return this.policyInfo;
  }

  /** Encode the episode's instruction before its first act() (once per distinct string; cached after). */
  prepareInstruction(instruction: string): Promise<InstructionEncoding> {
    return this.guard(this.api().prepareInstruction(instruction));
  }

  /** Clear the policy's queued action chunk (new episode). */
  reset(): Promise<void> {
    return this.guard(this.api().reset());
  }

  /** n dummy inferences; worker-side times (first-call and shader-compilation cost). */
  warmup(n: number): Promise<WorkerTiming[]> {
    return this.guard(this.api().warmup(n));
  }

  memory(): Promise<WorkerMemory> {
    return this.guard(this.api().memory());
  }

  /**
   * One action. Only the cameras the policy reads are sent; their buffers are
   * transferred. `captureMs` (render + readback of this frame) is the caller's
   * to measure and is folded into totalMs.
   */
  async act(obs: Observation, opts: { captureMs?: number } = {}): Promise<ClientActResult> {
    const api = this.api();
    const cams = this.policyInfo?.cameras ?? Object.keys(obs.images);
    const images: Record<string, Frame> = {};
    const transfer: ArrayBuffer[] = [];
    for (const cam of cams) {
      const f = obs.images[cam];
      if (!f) throw new Error(`InferenceClient.act: camera '${cam}' missing (have: ${Object.keys(obs.images).join(', ') || 'none'})`);
      if (f.data.byteLength === 0 && f.width * f.height > 0) throw new Error(`InferenceClient.act: frame '${cam}' is detached (already sent to the worker; frames are transferred, not copied)`);
      images[cam] = { width: f.width, height: f.height, data: transferable(f.data) };
      transfer.push(images[cam].data.buffer as ArrayBuffer);
    }
    const req: ActRequest = { images, proprio: Float32Array.from(obs.proprio), instruction: obs.instruction };
    const t0 = performance.now();
    const r = await this.guard(api.act(Comlink.transfer(req, transfer)));
    const roundTrip = performance.now() - t0;
    const captureMs = opts.captureMs ?? 0;
    return {
      action: r.action,
      inferred: r.inferred,
      ...(r.encodedMs !== undefined ? { encodedMs: r.encodedMs } : {}),
      timing: {
        captureMs,
        // Serialization, postMessage both ways and event-loop waits; clamped because the clocks differ slightly.
        transferMs: Math.max(0, roundTrip - r.timing.totalMs),
        backboneMs: r.timing.backboneMs,
        decoderMs: r.timing.decoderMs,
        workerMs: r.timing.totalMs,
        totalMs: captureMs + roundTrip,
      },
    };
  }

  /** Saliency of the policy's first camera on `obs` (frames are copied, not transferred: obs stays usable). */
  async saliency(obs: Observation): Promise<SaliencyResult> {
    const cams = this.policyInfo?.cameras ?? Object.keys(obs.images);
    const images: Record<string, Frame> = {};
    for (const cam of cams) {
      const f = obs.images[cam];
      if (!f) throw new Error(`InferenceClient.saliency: camera '${cam}' missing (have: ${Object.keys(obs.images).join(', ') || 'none'})`);
      images[cam] = { width: f.width, height: f.height, data: Uint8Array.from(f.data) };
    }
    return this.guard(this.api().saliency({ images, proprio: Float32Array.from(obs.proprio), instruction: obs.instruction }));
  }

  /** Dispose the policy and terminate the worker. Idempotent; never throws. */
  async close(): Promise<void> {
    const remote = this.remote;
    this.remote = null;
    if (remote && !this.fatal) {
      // Bounded: a wedged worker must not keep close() waiting.
      await Promise.race([remote.dispose().catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      remote[Comlink.releaseProxy]();
    }
    this.worker?.terminate();
    this.worker = null;
    this.fatal ??= new Error('inference worker closed');
  }

  private api(): Comlink.Remote<InferenceWorkerApi> {
    if (this.fatal) throw this.fatal;
    if (!this.remote) throw new Error('InferenceClient: call start() first');
    return this.remote;
  }

  /** A call that rejects if the worker dies while it is pending. */
  private guard<T>(p: Promise<T>): Promise<T> {
    if (this.fatal) return Promise.reject(this.fatal);
    let reject!: (e: Error) => void;
    const died = new Promise<never>((_, rej) => (reject = rej));
    this.rejectPending.add(reject);
    return Promise.race([p, died]).finally(() => this.rejectPending.delete(reject));
  }
}

/**
 * A Uint8Array that owns its whole, non-shared buffer can be transferred as
 * is; a view into a larger or shared buffer is copied first (transferring its
 * buffer would detach bytes that are not ours, or is impossible).
 */
function transferable(data: Uint8Array): Uint8Array {
  const whole = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
  const shared = typeof SharedArrayBuffer !== 'undefined' && data.buffer instanceof SharedArrayBuffer;
  return whole && !shared ? data : data.slice();
}
