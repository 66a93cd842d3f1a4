// Policy inference in a dedicated module Web Worker (Comlink-exposed), so the
// page's physics + rendering loop and tfjs never block each other. Used by the
// page API runPolicyEpisode (evaluation) and the demo through client.ts.
//
// Backend: probed in order webgpu -> webgl (OffscreenCanvas) -> wasm -> cpu
// (fallback.ts decides; each probe checks what the worker actually has, then
// starts the backend through initBackend and reads back tf.getBackend(),
// because tfjs silently keeps another backend when one fails to start).
//
// A policy with textEncoderKind 'use-lite' gets the frozen sentence encoder
// (policies/sentenceEncoder.ts) fetched from its spec's sentenceEncoderUrl,
// loaded once per worker and URL; a missing or corrupt file fails loadPolicy
// with a SentenceEncoderError naming the file's URL. The instruction is
// embedded once per distinct string (prepareInstruction at the start of an
// episode; act() embeds one that was not prepared and says so): afterwards a
// control step costs a Map lookup plus the trainable projection.
import { chunkExecutionLabel } from '../../policies/chunkExecution.ts';
import * as Comlink from 'comlink';
import * as tf from '@tensorflow/tfjs';
// Served as assets: the worker is bundled, so tfjs cannot find its .wasm files
// next to itself. Threads stay off (see src/tf/backend.ts), so the threaded
// binary is never fetched, but setWasmPaths insists on a URL for all three.
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import type { VlaPolicy } from '../../policies/policy.ts';
import { createPolicy } from '../../policies/registry.ts';
import { fetchModelFiles, SentenceEncoder } from '../../policies/sentenceEncoder.ts';
import { initBackend } from '../tf/backend.ts';
import { selectBackend, type BackendName, type Probe } from './fallback.ts';
import type { ActRequest, ActResult, AdapterInfo, InferenceWorkerApi, InitOptions, InitResult, InstructionEncoding, PolicyInfo, PolicySpec, SaliencyResult, WorkerMemory, WorkerTiming } from './protocol.ts';
import { loadCheckpointPolicy } from './checkpoint.ts';

const DEFAULT_WASM_PATHS = {
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
};

type GpuAdapterLike = {
  info?: Partial<AdapterInfo>;
  isFallbackAdapter?: boolean;
  requestAdapterInfo?: () => Promise<Partial<AdapterInfo>>;
};
type GpuLike = { requestAdapter(): Promise<GpuAdapterLike | null> };

let backendInfo: InitResult | null = null;
let policy: VlaPolicy | null = null;
let policyInfo: PolicyInfo | null = null;
let adapterInfo: AdapterInfo | undefined;
/** Sentence encoders by URL: loaded once per worker (a failed load is not kept, so a retry reads the files again). */
const sentenceEncoders = new Map<string, Promise<SentenceEncoder>>();

function sentenceEncoderAt(url: string): Promise<SentenceEncoder> {
  let p = sentenceEncoders.get(url);
  if (!p) {
    p = SentenceEncoder.load(fetchModelFiles(url));
    sentenceEncoders.set(url, p);
    p.catch(() => sentenceEncoders.delete(url));
  }
  return p;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software/i;

/** WebGPU usable here? Keeps the adapter's description for the report. */
async function probeWebgpu(): Promise<Probe> {
  const gpu = (self.navigator as unknown as { gpu?: GpuLike }).gpu;
  if (gpu == null) return { ok: false, reason: 'navigator.gpu is missing in the worker (WebGPU not enabled in this browser)' };
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { ok: false, reason: `navigator.gpu.requestAdapter() threw: ${(e as Error).message}` };
  }
  if (adapter == null) return { ok: false, reason: 'navigator.gpu.requestAdapter() gave no adapter (no usable GPU or software adapter)' };
  // `info` is the current API; requestAdapterInfo() is what older Chromium had.
  const info = adapter.info ?? (await adapter.requestAdapterInfo?.()) ?? {};
  adapterInfo = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
  };
  const a = adapterInfo;
  const software = a.isFallbackAdapter || SOFTWARE.test(`${a.vendor} ${a.architecture} ${a.description}`);
  return software ? { ok: true, software: [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') || 'fallback adapter' } : { ok: true };
}

function probeWebgl(): Probe {
  if (typeof OffscreenCanvas === 'undefined') return { ok: false, reason: 'OffscreenCanvas is missing in the worker' };
  const canvas = new OffscreenCanvas(1, 1);
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (gl == null) return { ok: false, reason: 'OffscreenCanvas.getContext("webgl2"/"webgl") gave no context (WebGL disabled or unavailable)' };
  const g = gl as WebGL2RenderingContext;
  const dbg = g.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(dbg ? g.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : g.getParameter(g.RENDERER));
  // The probe context is not tfjs's; release it now rather than at GC.
  g.getExtension('WEBGL_lose_context')?.loseContext();
  return SOFTWARE.test(renderer) ? { ok: true, software: renderer } : { ok: true };
}

/** Check what the worker has, then start the backend and confirm tfjs really runs it. */
async function probe(name: BackendName, opts: InitOptions): Promise<Probe> {
  let found: Probe = { ok: true };
  if (name === 'webgpu') found = await probeWebgpu();
  else if (name === 'webgl') found = probeWebgl();
  else if (name === 'wasm' && typeof WebAssembly === 'undefined') found = { ok: false, reason: 'WebAssembly is missing' };
  if (!found.ok) return found;
  const info = await initBackend(name, { wasmPaths: opts.wasmPaths ?? DEFAULT_WASM_PATHS });
  if (info.backend === name) return found;
  // initBackend fell further down the chain: keep only its reason for `name`.
  const own = info.fallbackReason?.split('; ').find((r) => r.startsWith(`${name}: `));
  return { ok: false, reason: own ? own.slice(name.length + 2) : `tf.getBackend() is '${info.backend}'` };
}

function requirePolicy(): VlaPolicy {
  if (policy == null) throw new Error('inference worker: call loadPolicy() first');
  return policy;
}

function describe(p: VlaPolicy, name: string): PolicyInfo {
  const c = p.config;
  return {
    name,
    backbone: c.backbone,
    params: p.paramCount().total,
    flopsPerFrame: p.backbone.flopsPerFrame(p.imageSize, p.imageSize),
    cameras: [...c.cameras],
    imageSize: p.imageSize,
    chunkLength: c.chunkLength,
    blind: c.blind,
    decodePoint: c.decodePoint,
    decoding: c.decoding,
    head: c.head,
    chunkExecution: chunkExecutionLabel(p.chunkExecution),
    textEncoder: c.textEncoderKind === 'use-lite' ? `use-lite:${c.textEncoderInput}` : 'scratch',
  };
}

/** Embed `instruction` if the policy's frozen encoder has not yet (milliseconds it took), else undefined. */
async function ensureInstruction(p: VlaPolicy, instruction: string): Promise<number | undefined> {
  if (!p.pretrainedText || p.pretrainedText.has(instruction)) return undefined;
  const t0 = performance.now();
  await p.prepareInstructions([instruction]);
  return performance.now() - t0;
}

/** A valid observation of zeros at the policy's own input size (warm-up). */
function dummyObservation(p: VlaPolicy): ActRequest {
  const S = p.imageSize;
  const images = Object.fromEntries(p.config.cameras.map((cam) => [cam, { width: S, height: S, data: new Uint8Array(S * S * 3) }]));
  return { images, proprio: new Float32Array(Math.max(p.config.proprioDim, 1)), instruction: 'put the red cube in the blue bowl' };
}

async function timedAct(p: VlaPolicy, req: ActRequest): Promise<ActResult> {
  const t0 = performance.now();
  const encodedMs = await ensureInstruction(p, req.instruction);
  const r = await p.selectActionTimed(req);
  const out: ActResult = { action: r.action, inferred: r.inferred, timing: { backboneMs: r.backboneMs, decoderMs: r.decoderMs, totalMs: performance.now() - t0 } };
  if (encodedMs !== undefined) out.encodedMs = encodedMs;
  return out;
}

const api: InferenceWorkerApi = {
  async init(opts: InitOptions): Promise<InitResult> {
    adapterInfo = undefined;
    const choice = await selectBackend(opts.backend, (name) => probe(name, opts), opts);
    // A software GPU kept as a last resort was started before the ones tried after it.
    if (tf.getBackend() !== choice.backend) await initBackend(choice.backend, { wasmPaths: opts.wasmPaths ?? DEFAULT_WASM_PATHS });
    backendInfo = { ...choice, tfjsVersion: tf.version.tfjs };
    if (choice.backend === 'webgpu' && adapterInfo) backendInfo.adapterInfo = adapterInfo;
    return backendInfo;
  },

  async loadPolicy(spec: PolicySpec): Promise<PolicyInfo> {
    if (backendInfo == null) throw new Error('inference worker: call init() before loadPolicy()');
    policy?.dispose();
    policy = policyInfo = null;
    let name: string;
    if ('checkpointUrl' in spec) {
      ({ policy, name } = await loadCheckpointPolicy(spec.checkpointUrl, { blind: spec.blind, decodePoint: spec.decodePoint, chunkExecution: spec.chunkExecution }));
    } else {
      // Untrained presets decode into the simulator's action bounds, not the generic ±1.
      policy = createPolicy(spec.name, {
        actionLow: [...ACTION_LOW],
        actionHigh: [...ACTION_HIGH],
        ...spec.overrides,
        ...(spec.seed !== undefined ? { seed: spec.seed } : {}),
        ...(spec.blind ? { blind: true } : {}),
      });
      name = spec.name;
    }
    if (policy.config.textEncoderKind === 'use-lite') {
      try {
        if (!spec.sentenceEncoderUrl) throw new Error("inference worker: a 'use-lite' policy needs spec.sentenceEncoderUrl (InferenceClient sets the default)");
        policy.attachSentenceEncoder(await sentenceEncoderAt(spec.sentenceEncoderUrl));
      } catch (e) {
        policy.dispose();
        policy = null;
        throw e;
      }
    }
    policyInfo = describe(policy, name);
    return policyInfo;
  },

  async prepareInstruction(instruction: string): Promise<InstructionEncoding> {
    const t0 = performance.now();
    const encodedMs = await ensureInstruction(requirePolicy(), instruction);
    return { ms: encodedMs === undefined ? 0 : performance.now() - t0, cached: encodedMs === undefined };
  },

  async reset(): Promise<void> {
    requirePolicy().reset();
  },

  async act(req: ActRequest): Promise<ActResult> {
    return timedAct(requirePolicy(), req);
  },

  async saliency(req: ActRequest): Promise<SaliencyResult> {
    const p = requirePolicy();
    await ensureInstruction(p, req.instruction);
    return p.saliency(req);
  },

  async warmup(n: number): Promise<WorkerTiming[]> {
    const p = requirePolicy();
    const times: WorkerTiming[] = [];
    for (let i = 0; i < n; i++) {
      p.reset(); // a queued chunk would skip the model call
      times.push((await timedAct(p, dummyObservation(p))).timing);
    }
    p.reset();
    return times;
  },

  async memory(): Promise<WorkerMemory> {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  },

  async dispose(): Promise<void> {
    policy?.dispose();
    policy = policyInfo = null;
  },
};

Comlink.expose(api);
