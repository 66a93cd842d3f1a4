// WebGPU in Node: npm `webgpu` (Dawn) on Mesa's CPU drivers, tfjs-backend-webgpu
// on top, and a tiny policy that must compute what the cpu backend computes.
// No skip: CI installs the Mesa packages (bin/setup.sh), so a missing adapter
// is a broken machine and the test says what is missing.
//
// Why forward passes instead of policy.selectAction on webgpu: the decoder
// reads each token's logits with dataSync(), and tfjs-backend-webgpu's
// synchronous readback needs OffscreenCanvas, which Node lacks (the browser
// worker has it). Greedy decoding is therefore redone here with async reads of
// teacher-forced GPT logits, which a causal decoder makes equivalent.
import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { create, globals } from 'webgpu';
import { describe, expect, it } from 'vitest';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { disposeEncoding, type PolicyObservation, VlaPolicy } from '../../policies/policy.ts';
import { initBackend } from '../../src/tf/backend.ts';

type Gpu = { requestAdapter(o?: Record<string, unknown>): Promise<{ info: Record<string, unknown> } | null> };

/** Dawn backends to try, in the order the shared notes found them to work on Debian's stock Mesa. */
const ATTEMPTS = [
  { label: 'Dawn OpenGL ES on Mesa (EGL surfaceless, compatibility mode)', flags: ['backend=opengles'], adapter: { featureLevel: 'compatibility' } },
  { label: 'Dawn Vulkan (lavapipe; Mesa >= 25, VK_ICD_FILENAMES)', flags: [] as string[], adapter: {} },
];
const LIBS = ['libEGL.so.1', 'libGLESv2.so.2', 'libEGL_mesa.so.0', 'libvulkan.so.1'];

function missingLibs(): string[] {
  try {
    const cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' });
    return LIBS.filter((l) => !cache.includes(l));
  } catch {
    return []; // no ldconfig: cannot tell
  }
}

/** A GPU whose adapter requests carry what this Dawn backend needs (tfjs asks with only powerPreference). */
async function obtainGpu(): Promise<{ gpu: Gpu; label: string; info: Record<string, unknown> }> {
  process.env.EGL_PLATFORM ??= 'surfaceless'; // read by libEGL when Dawn loads it: no display server here
  const failures: string[] = [];
  for (const a of ATTEMPTS) {
    try {
      const raw = create(a.flags) as unknown as Gpu;
      const gpu: Gpu = { requestAdapter: (o) => raw.requestAdapter({ ...o, ...a.adapter }) };
      const adapter = await gpu.requestAdapter();
      if (adapter) return { gpu, label: a.label, info: adapter.info };
      failures.push(`${a.label}: requestAdapter() gave null`);
    } catch (e) {
      failures.push(`${a.label}: ${(e as Error).message}`);
    }
  }
  const libs = missingLibs();
  throw new Error(
    `WebGPU in Node: npm 'webgpu' gave no adapter. Tried ${failures.join('; ')}. ` +
      (libs.length ? `Missing shared libraries: ${libs.join(', ')}. ` : '') +
      `(EGL_PLATFORM=${process.env.EGL_PLATFORM}, VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? 'unset'}) ` +
      'Install the Mesa packages with `npm run setup` (libegl1, libgles2, libegl-mesa0, mesa-vulkan-drivers).',
  );
}

// Tiny on purpose: every op compiles a shader on a CPU GL driver.
const TINY = {
  imageSize: 32, gptLayers: 1, gptDim: 32, gptHeads: 2, textDepth: 0, textDim: 16, bins: 32,
  actionLow: Array.from(ACTION_LOW), actionHigh: Array.from(ACTION_HIGH), seed: 3,
};

function observation(): PolicyObservation {
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 24);
  const data = Uint8Array.from({ length: 48 * 48 * 3 }, rnd); // resized to 32 inside the policy
  return { images: { scene: { width: 48, height: 48, data } }, proprio: Float32Array.from([0.05, -0.1, 0.16, 0.3, 0.09, 0]), instruction: 'put the red cube in the blue bowl' };
}

/** Vision tokens and teacher-forced logits for fixed action tokens, read asynchronously. */
async function forward(p: VlaPolicy, tokens: number[]): Promise<{ vision: Float32Array; logits: Float32Array }> {
  const enc = p.encodeObservation(observation());
  try {
    const logits = p.gpt.forward(enc, tf.tensor2d(tokens, [1, tokens.length], 'int32'));
    const out = { vision: (await enc.vision.data()) as Float32Array, logits: (await logits.data()) as Float32Array };
    logits.dispose();
    return out;
  } finally {
    disposeEncoding(enc);
  }
}

/** Greedy decoding with async reads: token j is the argmax of the logits at j given tokens < j. */
async function greedy(p: VlaPolicy): Promise<Float32Array> {
  const A = p.config.actionDim * p.config.chunkLength;
  const bins = p.config.bins;
  const tokens = new Array<number>(A).fill(0);
  for (let j = 0; j < A; j++) {
    const { logits } = await forward(p, tokens);
    const row = logits.subarray(j * bins, (j + 1) * bins);
    tokens[j] = row.indexOf(Math.max(...row));
  }
  return Float32Array.from(p.actionTokenizer.detokenize(tokens));
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('WebGPU in Node (npm webgpu on Mesa)', () => {
  it('tfjs runs on webgpu and a tiny policy matches the cpu backend within 1e-3', async () => {
    const { gpu, label, info } = await obtainGpu();
    expect(info).toBeDefined();

    // Reference on cpu; its weights are then copied so both backends see the same numbers.
    expect((await initBackend('cpu')).backend).toBe('cpu');
    const ref = new VlaPolicy(TINY);
    const tokens = [3, 17, 0, 31, 9, 4];
    const cpu = await forward(ref, tokens);
    const cpuAction = ref.predictActionChunk(observation())[0];
    const weights = Object.fromEntries(Object.entries(ref.namedWeights()).map(([k, v]) => [k, v.dataSync().slice()]));
    ref.dispose();

    // tfjs-backend-webgpu uses the GPUBufferUsage/GPUMapMode/... globals a browser has.
    Object.assign(globalThis, globals);
    const bi = await initBackend('webgpu', { gpu });
    expect(bi, `WebGPU adapter from ${label}`).toEqual({ backend: 'webgpu', requested: 'webgpu' });
    expect(tf.getBackend()).toBe('webgpu');

    const p = new VlaPolicy(TINY);
    for (const [k, v] of Object.entries(p.namedWeights())) {
      const t = tf.tensor(weights[k], v.shape);
      v.assign(t);
      t.dispose();
    }
    const gpuOut = await forward(p, tokens);
    expect(gpuOut.vision.length).toBe(cpu.vision.length);
    expect(maxAbsDiff(gpuOut.vision, cpu.vision)).toBeLessThan(1e-3);
    expect(maxAbsDiff(gpuOut.logits, cpu.logits)).toBeLessThan(1e-3);
    const action = await greedy(p);
    expect(maxAbsDiff(action, cpuAction)).toBeLessThan(1e-3);
    p.dispose();
  }, 600_000);
});
