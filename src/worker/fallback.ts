// Which tfjs backend inference runs on, decided from probe results. Pure (no
// tfjs, no DOM) so the order and the reason strings are tested in Node, and the
// worker only supplies environment-specific probes.
//
// Order: webgpu -> webgl -> wasm -> cpu, the same chain src/tf/backend.ts
// walks. 'auto' walks all of it. A forced backend ('webgpu', ...) either runs
// or is an error naming it and why: a benchmark that asked for webgpu must not
// quietly measure wasm. `allowFallback` turns a forced request into "this one
// or the next ones down the chain", as initBackend does.
// `avoidSoftwareGpu` ('auto' only): a GPU backend that runs on a software
// rasterizer (SwiftShader, llvmpipe) is kept only as a last resort, because
// on a GPU-less machine tfjs-wasm is ~15x faster than webgl on SwiftShader
// (measured here) and webgpu on SwiftShader is slower still.
export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];
export type BackendRequest = BackendName | 'auto';

/** Result of checking (and starting) one backend; `software` names a software GPU renderer. */
export type Probe = { ok: true; software?: string } | { ok: false; reason: string };

export interface ChooseOptions {
  allowFallback?: boolean;
  avoidSoftwareGpu?: boolean;
}

export interface BackendChoice {
  backend: BackendName;
  requested: BackendRequest;
  /** Why earlier candidates were skipped: "webgpu: <why>; webgl: <why>". Absent when the first candidate ran. */
  fallbackReason?: string;
}

/** A forced backend could not run and fallback was not allowed. */
export class BackendUnavailableError extends Error {
  override name = 'BackendUnavailableError';
  constructor(
    readonly backend: BackendName,
    readonly reason: string,
  ) {
    super(`tfjs backend '${backend}' is not available: ${reason}`);
  }
}

export function isBackendRequest(v: unknown): v is BackendRequest {
  return v === 'auto' || (BACKEND_ORDER as readonly unknown[]).includes(v);
}

/** Candidates for a request, in the order they are tried. */
export function candidateChain(request: BackendRequest, allowFallback = false): BackendName[] {
  if (!isBackendRequest(request)) {
    throw new Error(`unknown tfjs backend '${String(request)}' (expected auto, ${BACKEND_ORDER.join(', ')})`);
  }
  if (request === 'auto') return [...BACKEND_ORDER];
  return allowFallback ? BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(request)) : [request];
}

/** "webgpu: why; webgl: why" — the format initBackend uses too, so logs read alike. */
export function formatReasons(failures: { backend: BackendName; reason: string }[]): string {
  return failures.map((f) => `${f.backend}: ${f.reason}`).join('; ');
}

/**
 * The decision, from probe results of the chain so far (probing stops at the
 * first success, so later entries may be absent). Throws
 * BackendUnavailableError for a forced backend without fallback, or a plain
 * Error listing every reason when nothing in the chain runs.
 */
export function chooseBackend(
  request: BackendRequest,
  probes: Partial<Record<BackendName, Probe>>,
  opts: ChooseOptions = {},
): BackendChoice {
  const chain = candidateChain(request, opts.allowFallback);
  const failures: { backend: BackendName; reason: string }[] = [];
  let lastResort: { backend: BackendName; failuresBefore: number } | null = null;
  const pick = (backend: BackendName, nFailures: number): BackendChoice => {
    const choice: BackendChoice = { backend, requested: request };
    if (nFailures > 0) choice.fallbackReason = formatReasons(failures.slice(0, nFailures));
    return choice;
  };
  for (const backend of chain) {
    const p = probes[backend];
    if (p == null) throw new Error(`chooseBackend: '${backend}' was not probed (probe the chain in order)`);
    if (p.ok && p.software && skipsSoftware(request, opts)) {
      lastResort ??= { backend, failuresBefore: failures.length };
      failures.push({ backend, reason: `software renderer (${p.software}), slower than wasm on a CPU` });
      continue;
    }
    if (p.ok) return pick(backend, failures.length);
    failures.push({ backend, reason: p.reason });
  }
  if (lastResort) return pick(lastResort.backend, lastResort.failuresBefore);
  if (request !== 'auto' && chain.length === 1) throw new BackendUnavailableError(request, failures[0].reason);
  throw new Error(`no tfjs backend could start (requested '${request}'): ${formatReasons(failures)}`);
}

const skipsSoftware = (request: BackendRequest, opts: ChooseOptions) => request === 'auto' && opts.avoidSoftwareGpu === true;

/**
 * Probe lazily in chain order and decide. `probe` may start the backend as a
 * side effect (the worker's does): the chosen one is then the one running.
 * A probe that throws counts as a failure with the error's message. With
 * avoidSoftwareGpu the chosen backend may not be the last one started: the
 * caller starts it again then.
 */
export async function selectBackend(
  request: BackendRequest,
  probe: (name: BackendName) => Promise<Probe>,
  opts: ChooseOptions = {},
): Promise<BackendChoice> {
  const probes: Partial<Record<BackendName, Probe>> = {};
  for (const name of candidateChain(request, opts.allowFallback)) {
    let p: Probe;
    try {
      p = await probe(name);
    } catch (e) {
      p = { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    probes[name] = p;
    if (p.ok && !(p.software && skipsSoftware(request, opts))) break;
  }
  return chooseBackend(request, probes, opts);
}
