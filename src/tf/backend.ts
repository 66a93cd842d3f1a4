// Choosing and starting a tfjs backend, in Node and in the browser.
//
// Facts this relies on (see shared notes): tf.setBackend('webgpu') with no
// adapter resolves false and tfjs quietly keeps another backend, so we always
// read tf.getBackend() back and report it; threaded tfjs-wasm hangs in
// bundled builds and is slower on 2 cores, so threads are off; the project's
// custom kernels must be registered after the backend module is imported and
// before the backend starts.
import { env, findBackend, getBackend, ready, setBackend } from '@tensorflow/tfjs-core';
import { registerCustomKernels } from './kernels/index.ts';

// tfjs prints "install our node backend" the first time its cpu backend runs
// in Node; @tensorflow/tfjs-node cannot install here (it downloads
// libtensorflow from outside npm), so the advice only misleads. PROD mode is
// what tfjs checks to silence its warnings (it changes no computation).
if (env().getBool('IS_NODE')) env().set('PROD', true);

export type BackendName = 'wasm' | 'cpu' | 'webgpu' | 'webgl';
export type BackendRequest = BackendName | 'auto';

export interface InitBackendOptions {
  /**
   * Where the tfjs-backend-wasm .wasm files are: a URL/path prefix ending in
   * '/' or a map of file name to URL (as tf.wasm.setWasmPaths takes). Needed
   * in the browser (e.g. from Vite `?url` imports); in Node the default is
   * node_modules/@tensorflow/tfjs-backend-wasm/dist/.
   */
  wasmPaths?: string | Partial<Record<WasmFile, string>>;
  /** Register the project's gradient kernels (default true). */
  customKernels?: boolean;
  /**
   * A WebGPU `GPU` object to use when `navigator.gpu` is missing, e.g. from
   * the npm `webgpu` package in Node (`create([...])`). It is installed as
   * `navigator.gpu` before tfjs-backend-webgpu is imported, which is when
   * that module decides whether to register itself.
   */
  gpu?: unknown;
}

export interface BackendInfo {
  /** The backend tfjs actually uses now (tf.getBackend()). */
  backend: string;
  requested: BackendRequest;
  /** Why the requested backend is not the one in use (or, for 'auto', why earlier candidates were skipped). */
  fallbackReason?: string;
}

type WasmFile = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

export function isNode(): boolean {
  return typeof process !== 'undefined' && process.versions != null && process.versions.node != null;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Directory of the wasm binaries in Node, resolved from this module, not the cwd. */
async function nodeWasmDir(): Promise<string> {
  // A variable specifier keeps bundlers from pulling node:module into browser builds.
  const spec = 'node:module';
  const { createRequire } = (await import(/* @vite-ignore */ spec)) as typeof import('node:module');
  const req = createRequire(import.meta.url);
  const pkg = req.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return pkg.replace(/package\.json$/, 'dist/');
}

let wasmPathsSet = false;

async function prepareWasm(opts: InitBackendOptions): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  // Registered by the import above; must be set before the backend starts.
  env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!wasmPathsSet && findBackend('wasm') == null) {
    let paths = opts.wasmPaths;
    if (paths == null && isNode()) paths = await nodeWasmDir();
    if (paths == null) {
      throw new Error('wasm backend in the browser needs options.wasmPaths (URLs of the .wasm files)');
    }
    wasm.setWasmPaths(paths as Parameters<typeof wasm.setWasmPaths>[0]);
    wasmPathsSet = true;
  }
}

type GpuLike = { requestAdapter(opts?: unknown): Promise<unknown | null> };

/** Resolves null if WebGPU is usable, else the reason it is not. */
async function webgpuUnavailable(opts: InitBackendOptions): Promise<string | null> {
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (opts.gpu != null && g.navigator?.gpu == null) {
    if (g.navigator == null) {
      Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    }
    Object.defineProperty(g.navigator!, 'gpu', { value: opts.gpu, configurable: true, writable: true });
  }
  const gpu = g.navigator?.gpu;
  if (gpu == null) return 'navigator.gpu is missing';
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter == null) return 'navigator.gpu.requestAdapter() gave no adapter';
  } catch (e) {
    return `requestAdapter() failed: ${message(e)}`;
  }
  return null;
}

/** Import the backend's module and register our kernels; returns a reason if it cannot run here. */
async function prepare(name: BackendName, opts: InitBackendOptions): Promise<string | null> {
  try {
    if (name === 'cpu') {
      await import('@tensorflow/tfjs-backend-cpu');
    } else if (name === 'wasm') {
      await prepareWasm(opts);
    } else if (name === 'webgl') {
      if (isNode()) return 'WebGL is browser-only';
      await import('@tensorflow/tfjs-backend-webgl');
    } else {
      const why = await webgpuUnavailable(opts);
      if (why) return why;
      // The module registers its backend only if navigator.gpu exists at import.
      await import('@tensorflow/tfjs-backend-webgpu');
    }
  } catch (e) {
    return `loading the ${name} backend failed: ${message(e)}`;
  }
  if (opts.customKernels !== false && (name === 'wasm' || name === 'cpu')) registerCustomKernels([name]);
  return null;
}

/** Try one backend; null on success, else the reason it is not in use. */
async function attempt(name: BackendName, opts: InitBackendOptions): Promise<string | null> {
  const why = await prepare(name, opts);
  if (why) return why;
  let ok = false;
  try {
    ok = await setBackend(name);
    await ready();
  } catch (e) {
    return `setBackend('${name}') threw: ${message(e)}`;
  }
  const actual = getBackend();
  if (!ok) return `setBackend('${name}') resolved false`;
  if (actual !== name) return `tf.getBackend() is '${actual}' after setBackend('${name}')`;
  return null;
}

const AUTO_ORDER: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * Start a tfjs backend and report the one actually in use. An explicit
 * request that fails falls back along webgpu -> webgl -> wasm -> cpu from the
 * requested backend on, with the reasons in `fallbackReason`; 'auto' tries the
 * whole chain. Throws only if nothing (not even cpu) works.
 */
export async function initBackend(name: BackendRequest, opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const chain = name === 'auto' ? AUTO_ORDER : AUTO_ORDER.slice(AUTO_ORDER.indexOf(name));
  const reasons: string[] = [];
  for (const candidate of chain) {
    const why = await attempt(candidate, opts);
    if (why == null) {
      const info: BackendInfo = { backend: getBackend(), requested: name };
      if (reasons.length > 0) info.fallbackReason = reasons.join('; ');
      return info;
    }
    reasons.push(`${candidate}: ${why}`);
  }
  throw new Error(`no tfjs backend could start: ${reasons.join('; ')}`);
}
