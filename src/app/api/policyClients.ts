// The page's policy clients, cached across episodes: an inference worker with
// its loaded checkpoint or preset (src/worker/client.ts), or a remote policy
// server after its handshake (src/worker/remoteClient.ts). Both have the same
// surface, so runPolicyEpisode drives either. Cached by (policy spec, backend),
// so a 100-episode evaluation loads the weights (or shakes hands) once.
import pkg from '../../../package.json';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION } from '../../../sim/config.ts';
import type { ClientActResult, Observation } from '../../worker/client.ts';
import { InferenceClient } from '../../worker/client.ts';
import type { BackendRequest } from '../../worker/fallback.ts';
import type { InitResult, PolicyInfo, PolicySpec, RemotePolicySpec, WorkerMemory, WorkerTiming } from '../../worker/protocol.ts';
import { RemoteClient, type EpisodeStart, type RemotePolicyInfo } from '../../worker/remoteClient.ts';

export type EpisodePolicy = PolicySpec | RemotePolicySpec;

export const isRemote = (p: EpisodePolicy): p is RemotePolicySpec => 'remoteUrl' in p;

/** What InferenceClient and RemoteClient both offer the episode loop. */
export interface PolicyClient {
  readonly alive: boolean;
  readonly backendInfo: InitResult | null;
  readonly policyInfo: PolicyInfo | RemotePolicyInfo | null;
  reset(ep?: EpisodeStart): Promise<void>;
  act(obs: Observation, opts?: { captureMs?: number; privileged?: () => unknown }): Promise<ClientActResult>;
  memory(): Promise<WorkerMemory>;
  close(): Promise<void>;
}

export interface ClientArgs {
  policy: EpisodePolicy;
  backend?: BackendRequest;
  allowFallback?: boolean;
  avoidSoftwareGpu?: boolean;
  blind?: boolean;
}

interface Started {
  client: PolicyClient;
  /** Dummy-inference times when this call started the worker (first-call/shader cost); absent when cached or remote. */
  loadWarmup?: WorkerTiming[];
}

interface CachedClient {
  key: string;
  ready: Promise<Started>;
}

/** Two live clients at most: an eval runs policies one after another, each with its blind twin. */
const MAX_CLIENTS = 2;
const LOAD_WARMUP = 2;
const cache: CachedClient[] = [];

export function cacheKey(a: ClientArgs): string {
  const { policy, blind = false, backend = 'auto', allowFallback = false, avoidSoftwareGpu = false } = a;
  return JSON.stringify({ policy, blind, backend, allowFallback, avoidSoftwareGpu });
}

/** The name of what runs the policy: the tfjs backend, or "remote". */
export function backendOf(c: PolicyClient): string {
  return c instanceof RemoteClient ? 'remote' : c.backendInfo?.backend ?? 'unknown';
}

async function startClient(a: ClientArgs): Promise<Started> {
  const p = a.policy;
  if (isRemote(p)) {
    const client = new RemoteClient({
      url: p.remoteUrl, display: p.server, cameras: DEFAULT_CAMERAS.map((c) => c.name), resolution: p.resolution ?? DEFAULT_RESOLUTION, version: pkg.version,
      timeoutMs: p.timeoutMs, reconnectMs: p.reconnectMs, blind: a.blind || p.blind, chunkExecution: p.chunkExecution, expectModel: p.expectModel,
    });
    await client.start();
    return { client };
  }
  const client = new InferenceClient();
  try {
    await client.start({ backend: a.backend ?? 'auto', allowFallback: a.allowFallback, avoidSoftwareGpu: a.avoidSoftwareGpu });
    await client.loadPolicy(a.blind ? { ...p, blind: true } : p);
    return { client, loadWarmup: await client.warmup(LOAD_WARMUP) };
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** The cached client for these args, or a fresh one (evicting the least recently used). */
export async function clientFor(a: ClientArgs): Promise<Started> {
  const key = cacheKey(a);
  const i = cache.findIndex((c) => c.key === key);
  if (i >= 0) {
    const [entry] = cache.splice(i, 1);
    const got = await entry.ready.catch(() => null);
    if (got?.client.alive) {
      cache.push(entry); // most recently used last
      return { client: got.client };
    }
    void got?.client.close();
  }
  while (cache.length >= MAX_CLIENTS) void cache.shift()!.ready.then((c) => c.client.close(), () => undefined);
  const entry: CachedClient = { key, ready: startClient(a) };
  cache.push(entry);
  try {
    return await entry.ready;
  } catch (e) {
    cache.splice(cache.indexOf(entry), 1); // a failed start is not cached: the next call retries
    throw e;
  }
}

/** Drop a client after an exception: a wasm abort, a lost GPU context or a failed server would poison later episodes. */
export function evict(key: string): void {
  const i = cache.findIndex((c) => c.key === key);
  if (i >= 0) void cache.splice(i, 1)[0].ready.then((c) => c.client.close(), () => undefined);
}

/** The cached client's memory for these args (null when none is running): leak tests. */
export async function cachedMemory(a: ClientArgs): Promise<WorkerMemory | null> {
  const entry = cache.find((c) => c.key === cacheKey(a));
  const got = await entry?.ready.catch(() => null);
  return got?.client.alive ? got.client.memory() : null;
}

/** Closes every cached client; how many there were. */
export async function closeAll(): Promise<number> {
  const entries = cache.splice(0);
  await Promise.all(entries.map((e) => e.ready.then((c) => c.client.close(), () => undefined)));
  return entries.length;
}
