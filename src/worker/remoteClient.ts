// A policy that lives in another process (any language), over HTTP + JSON
// (docs/remote-policy.md). The same surface as InferenceClient (start, reset,
// act, memory, close), so the page's episode loop and the demo drive either;
// the eval runner also uses it in Node for the handshake before the first
// episode. Chunks are executed by policies/chunkExecution.ts, as for a
// chunked checkpoint. Latency: the round trip minus the server's own compute
// (which it reports in every reply) is the network part (`transferMs`, as for
// the worker: serialization, HTTP, proxy, both ways); the compute is `policyMs`.
// Every failure is a RemoteError naming the server, the step and the problem.
import { chunkExecutionLabel, ChunkExecutor, OPEN_LOOP, parseChunkExecution, type ChunkExecution } from '../../policies/chunkExecution.ts';
import type { ClientActResult, Observation } from './client.ts';
import { checkActReply, checkServerDeclaration, clientDeclaration, DEFAULT_REMOTE_TIMEOUT_MS, MAX_REPLY_BYTES, parseReplyJson, RemoteError, type ServerSpec } from './remoteSpec.ts';

export interface RemoteOptions {
  /** Base URL of the server, or of vlalab's same-origin proxy to it (eval: /remote/<i>). */
  url: string;
  /** How messages name the server, e.g. "127.0.0.1:8765". */
  display: string;
  cameras: string[];
  resolution: number;
  /** vlalab's version, declared in the handshake. */
  version: string;
  /** Per request: a reply later than this is a timeout error (eval --remote-timeout). */
  timeoutMs?: number;
  /** Retry a handshake that finds nothing listening for this long (a server being restarted); default 0. */
  reconnectMs?: number;
  /** Zero the images sent (the blind baseline). */
  blind?: boolean;
  /** Overrides the server's declared chunk execution (eval --chunk-exec). */
  chunkExecution?: ChunkExecution;
  /** The model a run started with: a server that now declares another is refused. */
  expectModel?: string;
  /**
   * `url` is a vlalab proxy (the demo's /remote/<HOST:PORT>): a reply without
   * its x-vlalab-proxy mark came from a page server that has none, which is
   * named as such instead of as the policy server's answer.
   */
  proxied?: boolean;
}

export interface RemotePolicyInfo {
  name: string;
  backbone: string;
  params?: number;
  /** Unknown for a model behind a wire (kept so code reading either client's info type-checks). */
  flopsPerFrame?: undefined;
  cameras: string[];
  imageSize: number;
  chunkLength: number;
  chunkExecution: string;
  blind: boolean;
  remote: { model: string; server: string; privileged: boolean };
}

/** One reset: the server keys its per-episode state by `episode_id` (pages may run episodes concurrently). */
export interface EpisodeStart {
  id: string;
  instruction: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Base64 of bytes with the global btoa (browsers and Node 20); chunked to stay clear of argument limits. */
function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  return btoa(bin);
}

/** Why a fetch failed before any reply: Node names the socket error in `cause`, a browser says only "Failed to fetch". */
function unreachable(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string } }).cause;
  if (c?.code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
  if (c?.code === 'ECONNRESET' || c?.code === 'UND_ERR_SOCKET') return 'the connection was closed without a reply';
  if (c?.message) return c.message;
  const m = (e as Error).message;
  return /Failed to fetch/.test(m) ? `${m} (connection refused or reset: is the page's own server still running?)` : m;
}

export class RemoteClient {
  spec: ServerSpec | null = null;
  policyInfo: RemotePolicyInfo | null = null;
  readonly backendInfo = null;
  private executor: ChunkExecutor | null = null;
  private episodeId = '';
  private step = 0;
  private closed = false;
  private readonly timeoutMs: number;

  constructor(readonly opts: RemoteOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_REMOTE_TIMEOUT_MS;
  }

  get alive(): boolean {
    return this.spec !== null && !this.closed;
  }

  /** The handshake: declare vlalab's spec, check the server's (RemoteError 'handshake' naming the first field that differs). */
  async start(): Promise<ServerSpec> {
    const mine = clientDeclaration(this.opts);
    const deadline = performance.now() + (this.opts.reconnectMs ?? 0);
    let reply: unknown;
    for (;;) {
      try {
        reply = await this.post('/handshake', mine, 'at the handshake');
        break;
      } catch (e) {
        if (e instanceof RemoteError && e.kind === 'unreachable' && performance.now() < deadline) { await sleep(100); continue; }
        if (e instanceof RemoteError && e.kind === 'http') throw new RemoteError('handshake', `the server refused the handshake: ${e.message.replace(/^http: /, '')}`);
        throw e;
      }
    }
    const spec = checkServerDeclaration(reply, mine);
    if (this.opts.expectModel && spec.model !== this.opts.expectModel) {
      throw new RemoteError('handshake', `${this.opts.display} now declares the model ${spec.model}, but this run started with ${this.opts.expectModel}: one label is one model`);
    }
    let exec = this.opts.chunkExecution ?? OPEN_LOOP;
    try {
      if (!this.opts.chunkExecution && spec.chunkExecution) exec = parseChunkExecution(spec.chunkExecution);
      this.executor = new ChunkExecutor(exec, spec.chunkLength);
    } catch (e) {
      throw new RemoteError('handshake', `action.chunk_execution / chunk_length ${spec.chunkLength}: ${(e as Error).message}`);
    }
    this.spec = spec;
    this.policyInfo = {
      name: spec.name, backbone: `${spec.backbone ?? 'remote'}${spec.privileged ? ' (privileged state)' : ''}`, ...(spec.params !== undefined ? { params: spec.params } : {}),
      cameras: spec.cameras, imageSize: this.opts.resolution, chunkLength: spec.chunkLength, chunkExecution: chunkExecutionLabel(this.executor.exec), blind: this.opts.blind ?? false,
      remote: { model: spec.model, server: this.opts.display, privileged: spec.privileged },
    };
    return spec;
  }

  /** A new episode: clears the chunk queue and tells the server (POST /reset). */
  async reset(ep: EpisodeStart = { id: 'episode', instruction: '' }): Promise<void> {
    this.need();
    this.executor!.reset();
    this.step = 0;
    this.episodeId = `${ep.id}-${Math.random().toString(36).slice(2, 10)}`;
    await this.post('/reset', { episode_id: this.episodeId, instruction: ep.instruction }, 'at the episode reset');
  }

  /** One action: a new chunk from the server when the executor needs one (POST /act), else the next queued action. */
  async act(obs: Observation, opts: { captureMs?: number; privileged?: () => unknown } = {}): Promise<ClientActResult> {
    const spec = this.need();
    const captureMs = opts.captureMs ?? 0;
    const t0 = performance.now();
    let transferMs = 0, policyMs = 0;
    const inferred = this.executor!.needsInference();
    if (inferred) {
      const images: Record<string, { shape: number[]; data: string }> = {};
      for (const cam of spec.cameras) {
        const f = obs.images[cam];
        if (!f) throw new Error(`RemoteClient.act: camera '${cam}' missing (have: ${Object.keys(obs.images).join(', ') || 'none'})`);
        images[cam] = { shape: [f.height, f.width, 3], data: toBase64(this.opts.blind ? new Uint8Array(f.data.length) : f.data) };
      }
      const observation = {
        ...(spec.cameras.length ? { images } : {}), ...(spec.proprio ? { proprio: Array.from(obs.proprio) } : {}),
        ...(spec.instruction ? { instruction: obs.instruction } : {}), ...(spec.privileged && opts.privileged ? { privileged: opts.privileged() } : {}),
      };
      const reply = await this.post('/act', { episode_id: this.episodeId, step: this.step, observation }, `at step ${this.step}`);
      const { actions, computeMs } = checkActReply(reply, spec.chunkLength);
      this.executor!.push(actions);
      const roundTrip = performance.now() - t0;
      transferMs = Math.max(0, roundTrip - computeMs); // clamped: the two clocks differ slightly
      policyMs = computeMs;
    }
    const action = this.executor!.next();
    this.step++;
    const totalMs = captureMs + (performance.now() - t0);
    return { action, inferred, timing: { captureMs, transferMs, backboneMs: 0, decoderMs: 0, workerMs: policyMs, policyMs, totalMs } };
  }

  /** A remote policy holds no tensors here (the leak accounting of the worker sees zeros). */
  async memory(): Promise<{ numTensors: number; numBytes: number }> {
    return { numTensors: 0, numBytes: 0 };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private need(): ServerSpec {
    if (this.closed) throw new Error('RemoteClient: closed');
    if (!this.spec || !this.executor) throw new Error('RemoteClient: call start() first');
    return this.spec;
  }

  /** POST JSON, read at most MAX_REPLY_BYTES within the timeout, parse strictly. */
  private async post(path: string, body: unknown, where: string): Promise<unknown> {
    const who = this.opts.display;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    try {
      let res: Response;
      try {
        res = await fetch(this.opts.url.replace(/\/$/, '') + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: ctl.signal });
      } catch (e) {
        if (ctl.signal.aborted) throw new RemoteError('timeout', `no reply from ${who} within ${this.timeoutMs} ms (--remote-timeout) ${where}`);
        throw new RemoteError('unreachable', `cannot reach ${who} ${where}: ${unreachable(e)}`);
      }
      let text: string;
      try {
        text = await readCapped(res, MAX_REPLY_BYTES);
      } catch (e) {
        if (e instanceof RemoteError) throw new RemoteError(e.kind, `${who} ${where}: ${e.message.replace(/^\w+: /, '')}`);
        if (ctl.signal.aborted) throw new RemoteError('timeout', `no whole reply from ${who} within ${this.timeoutMs} ms (--remote-timeout) ${where}`);
        throw new RemoteError('unreachable', `${who} broke off its reply ${where}: ${unreachable(e)}`);
      }
      if (this.opts.proxied && !res.headers.get('x-vlalab-proxy')) {
        throw new RemoteError('unreachable', `cannot reach ${who} ${where}: this page's own server does not forward to policy servers (it answered HTTP ${res.status} without vlalab's proxy): open the page with npm start or vite preview (docs/remote-policy.md#the-demo-page)`);
      }
      if (res.headers.get('x-vlalab-proxy-error')) {
        let why = text.slice(0, 300);
        try { why = String((JSON.parse(text) as { proxy_error?: unknown }).proxy_error ?? why); } catch { /* the text itself */ }
        throw new RemoteError('unreachable', `cannot reach ${who} ${where}: ${why}`);
      }
      if (!res.ok) {
        let msg = text.slice(0, 300);
        try { msg = String((JSON.parse(text) as { error?: unknown }).error ?? msg); } catch { /* not JSON: the text itself */ }
        throw new RemoteError('http', `${who} answered HTTP ${res.status} ${where}: ${msg}`);
      }
      try {
        return parseReplyJson(text, `reply of ${who} ${where}`);
      } catch (e) {
        throw e instanceof RemoteError ? e : new RemoteError('malformed', String(e));
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The body as text, refusing more than `max` bytes (by Content-Length, or while reading). */
async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new RemoteError('oversized', `the reply is oversized: ${declared} bytes (at most ${max})`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > max) {
      await reader.cancel().catch(() => undefined);
      throw new RemoteError('oversized', `the reply is oversized: more than ${max} bytes`);
    }
    parts.push(value);
  }
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return new TextDecoder().decode(all);
}
