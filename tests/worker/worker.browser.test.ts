// The inference worker in headless Chromium: backend choice without WebGPU
// flags, a real env observation through the worker (frames transferred, not
// copied), timing parts, and runPolicyEpisode records including failures.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DIM, ACTION_HIGH, ACTION_LOW, DEFAULT_RESOLUTION } from '../../sim/config.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import type { VlaPolicy } from '../../policies/policy.ts';
import { createPolicy } from '../../policies/registry.ts';
import { PLAIN_POLICY } from '../policies/plain.ts';
import { b64ToBytes } from '../../src/runtime/b64.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { saveCheckpoint } from '../../src/train/checkpoint.ts';

const suite = resolveSuite('tabletop');
const episode = { suite, task: 'pick_place', split: 'train', seed: 0 };
// Small and untrained: this checks plumbing, not skill.
const small = { ...PLAIN_POLICY, gptLayers: 1, textDepth: 0 };
// terminate's bins all below 0.5, so a random policy never ends the episode early.
const noTerminate = { ...small, actionHigh: [...Array.from(ACTION_HIGH).slice(0, 5), 0.5] };


const ckptDir = mkdtempSync(join(tmpdir(), 'vlalab-worker-ckpt-'));
let session: HeadlessSession;
/** The policy saved to ckptDir, kept in Node to compare with what the worker loads. */
let saved: VlaPolicy;
beforeAll(async () => {
  await initBackend('wasm'); // same kernels as the worker's wasm backend
  saved = createPolicy('efficientnet-film', { ...small, seed: 7, actionLow: Array.from(ACTION_LOW), actionHigh: Array.from(ACTION_HIGH) });
  await saveCheckpoint(ckptDir, saved, { policyName: 'efficientnet-film' });
  session = await HeadlessSession.open({ mounts: { '/ckpt-worker': ckptDir } }); // no WebGPU flags
});
afterAll(async () => {
  await session?.call('closePolicyWorkers').catch(() => undefined);
  await session?.close();
  saved?.dispose();
  rmSync(ckptDir, { recursive: true, force: true });
});

const finiteNonNegative = (t: object) => {
  for (const [k, v] of Object.entries(t)) expect(Number.isFinite(v) && v >= 0, `${k} = ${v}`).toBe(true);
};

describe('inference worker (headless Chromium)', () => {
  it("'auto' without WebGPU: webgl or wasm, says why webgpu was skipped; acts on a real observation", async () => {
    const r = await session.call('checkPolicyInference', { ...episode, policy: { name: 'efficientnet-film', overrides: small }, backend: 'auto' });
    expect(['webgl', 'wasm']).toContain(r.backendInfo.backend);
    expect(r.backendInfo.requested).toBe('auto');
    expect(r.backendInfo.fallbackReason).toMatch(/^webgpu: /);
    expect(r.backendInfo.tfjsVersion).toBe('4.22.0');
    expect(r.policyInfo).toMatchObject({ name: 'efficientnet-film', backbone: 'efficientnet_film_s_96', cameras: ['scene'], blind: false });
    expect(r.policyInfo.params).toBeGreaterThan(0);

    expect(r.action).toHaveLength(ACTION_DIM);
    r.action.forEach((v, i) => {
      expect(Number.isFinite(v), `action[${i}]`).toBe(true);
      expect(v).toBeGreaterThanOrEqual(ACTION_LOW[i]);
      expect(v).toBeLessThanOrEqual(ACTION_HIGH[i]);
    });

    for (const t of [r.timing, r.secondTiming]) {
      expect(Object.keys(t).sort()).toEqual(['backboneMs', 'captureMs', 'decoderMs', 'totalMs', 'transferMs', 'workerMs']);
      finiteNonNegative(t);
      expect(t.backboneMs).toBeGreaterThan(0);
      expect(t.decoderMs).toBeGreaterThan(0);
      expect(t.workerMs).toBeGreaterThanOrEqual(t.backboneMs + t.decoderMs - 0.01);
      expect(t.totalMs).toBeGreaterThanOrEqual(t.workerMs);
    }
    expect(r.timing.captureMs).toBeGreaterThan(0); // the first frame's render + readback
    // Transferred, not copied: the page's frame buffer is detached after act().
    expect(r.byteLengthBefore).toEqual([DEFAULT_RESOLUTION * DEFAULT_RESOLUTION * 3]);
    expect(r.byteLengthAfter).toEqual([0]);
    // No tensors leak per inference.
    expect(r.tensorsAfterSecond).toBe(r.tensorsAfterFirst);
    expect(r.warmup).toHaveLength(1);
    finiteNonNegative(r.warmup[0]);
  });

  it('a forced backend that cannot run is an error naming it and the reason', async () => {
    await expect(
      session.call('checkPolicyInference', { ...episode, policy: { name: 'efficientnet-film', overrides: small }, backend: 'webgpu' }),
    ).rejects.toThrow(/tfjs backend 'webgpu' is not available: .*(navigator\.gpu|adapter)/);
  });

  it("'auto' with avoidSoftwareGpu picks wasm over SwiftShader WebGL and says why", async () => {
    const w = await session.call('runPolicyEpisode', {
      ...episode, policy: { name: 'efficientnet-film', overrides: noTerminate }, backend: 'auto', avoidSoftwareGpu: true, maxSteps: 1,
    });
    expect(w.failure).toBeUndefined();
    expect(w.backend).toBe('wasm'); // this machine and CI have no GPU
    expect(w.backendInfo!.fallbackReason).toMatch(/^webgpu: .*; webgl: software renderer \(.*swiftshader.*\), slower than wasm on a CPU$/i);
    expect(w.steps).toBe(1);
  });

  it('runPolicyEpisode: a short episode record; the worker is reused by the next episode', async () => {
    const args = { ...episode, policy: { name: 'efficientnet-film', overrides: noTerminate }, backend: 'wasm' as const, maxSteps: 4, warmupSteps: 1, recordActions: true };
    const w = await session.call('runPolicyEpisode', args);
    expect(w.failure).toBeUndefined();
    expect(w.backend).toBe('wasm');
    expect(w.backendInfo).toMatchObject({ backend: 'wasm', requested: 'wasm' });
    expect(w.backendInfo!.fallbackReason).toBeUndefined();
    expect(w.episode).toMatchObject({ task: 'pick_place', seed: 0 });
    expect(w.episode.instruction).toBe(sampleEpisode(suite, 'pick_place', 'train', 0).instruction);
    expect(w).toMatchObject({ steps: 4, terminated: false, truncated: false, success: false });
    expect(w.warmup).toHaveLength(1);
    expect(w.latency).toHaveLength(3);
    for (const l of [...w.warmup, ...w.latency]) {
      expect(Object.keys(l).sort()).toEqual(['backboneMs', 'captureMs', 'decoderMs', 'totalMs', 'transferMs']);
      finiteNonNegative(l);
      // totalMs spans act() + env.step(); captureMs is the earlier capture of the frame acted on.
      expect(l.totalMs).toBeGreaterThanOrEqual(l.transferMs + l.backboneMs + l.decoderMs - 0.01); // rounded to 1 µs
    }
    expect(w.loadWarmup).toHaveLength(2);
    expect(w.actions).toHaveLength(4);
    for (const a of w.actions!) a.forEach((v, i) => expect(v >= ACTION_LOW[i] && v <= ACTION_HIGH[i], `a[${i}] = ${v}`).toBe(true));
    expect(w.policyInfo?.flopsPerFrame).toBeGreaterThan(0);

    const again = await session.call('runPolicyEpisode', { ...args, seed: 1 });
    expect(again.failure).toBeUndefined();
    expect(again.loadWarmup).toBeUndefined(); // cached: no second load
    expect(again.episode.seed).toBe(1);
    expect(again.steps).toBe(4);
  });

  it('loads a checkpoint by URL in the worker: the same action as the saved policy in Node', async () => {
    const r = await session.call('checkPolicyInference', { ...episode, policy: { checkpointUrl: '/ckpt-worker/' }, backend: 'wasm', returnObservation: true });
    expect(r.policyInfo).toMatchObject({ name: 'efficientnet-film', backbone: 'efficientnet_film_s_96', params: saved.paramCount().total });
    const o = r.observation!;
    const images = Object.fromEntries(Object.entries(o.images).map(([k, f]) => [k, { width: f.width, height: f.height, data: b64ToBytes(f.data) }]));
    saved.reset();
    const expected = saved.selectAction({ images, proprio: Float32Array.from(o.proprio), instruction: o.instruction });
    r.action.forEach((v, i) => expect(v, `action[${i}]`).toBeCloseTo(expected[i], 6));

    // The blind baseline of a checkpoint: same files, images zeroed.
    const w = await session.call('runPolicyEpisode', { ...episode, policy: { checkpointUrl: '/ckpt-worker/' }, blind: true, backend: 'wasm', maxSteps: 2 });
    expect(w.failure).toBeUndefined();
    expect(w.policyInfo).toMatchObject({ name: 'efficientnet-film', blind: true });
    expect(w.steps).toBeGreaterThanOrEqual(1);
  });

  it('failures come back as records: non-finite action, unknown policy, missing checkpoint, unavailable backend (the last three as setup failures)', async () => {
    const inf = { ...small, actionHigh: [Infinity, ...Array.from(ACTION_HIGH).slice(1)] };
    const nan = await session.call('runPolicyEpisode', { ...episode, policy: { name: 'efficientnet-film', overrides: inf }, backend: 'wasm', maxSteps: 3 });
    expect(nan.failure).toEqual({ kind: 'nan_action', message: 'action[0] (dx) is Infinity at step 0' });
    expect(nan).toMatchObject({ steps: 0, success: false, backend: 'wasm' });

    const unknown = await session.call('runPolicyEpisode', { ...episode, policy: { name: 'no-such-policy' }, backend: 'wasm' });
    expect(unknown.failure?.kind).toBe('setup'); // the policy never started: not an episode result (the eval runner stops on it)
    expect(unknown.failure?.message).toMatch(/unknown policy 'no-such-policy'/);
    expect(unknown.episode.seed).toBe(0);

    const noCam = await session.call('runPolicyEpisode', { ...episode, policy: { name: 'efficientnet-film', overrides: { ...small, cameras: ['top'] } }, backend: 'wasm' });
    expect(noCam.failure).toEqual({ kind: 'exception', message: "InferenceClient.act: camera 'top' missing (have: scene, wrist)" });

    const missing = await session.call('runPolicyEpisode', { ...episode, policy: { checkpointUrl: '/ckpt-worker/nope/' }, backend: 'wasm' });
    expect(missing.failure?.kind).toBe('setup');
    expect(missing.failure?.message).toMatch(/cannot fetch .*\/ckpt-worker\/nope\/config\.json: HTTP 404/);
    // preparePolicy (what eval calls before its first episode) throws the same reason
    await expect(session.call('preparePolicy', { policy: { checkpointUrl: '/ckpt-worker/nope/' }, backend: 'wasm' })).rejects.toThrow(/cannot fetch .*\/ckpt-worker\/nope\/config\.json: HTTP 404/);

    const gpu = await session.call('runPolicyEpisode', { ...episode, policy: { name: 'efficientnet-film' }, backend: 'webgpu' });
    expect(gpu.failure?.kind).toBe('setup');
    expect(gpu.failure?.message).toMatch(/tfjs backend 'webgpu' is not available/);
  });

  it('with the SwiftShader WebGPU flags, a forced webgpu runs in the worker and reports its adapter', async () => {
    // Slow (SwiftShader WebGPU is ~100x slower than wasm): one tiny inference proves the path,
    // including the decoder's synchronous readback, which needs OffscreenCanvas in the worker.
    const gpuSession = await HeadlessSession.open({ webgpu: true });
    try {
      const r = await gpuSession.call('checkPolicyInference', { ...episode, policy: { name: 'efficientnet-film', overrides: small }, backend: 'webgpu' });
      expect(r.backendInfo).toMatchObject({ backend: 'webgpu', requested: 'webgpu' });
      expect(r.backendInfo.fallbackReason).toBeUndefined();
      expect(r.backendInfo.adapterInfo).toMatchObject({ architecture: 'swiftshader', isFallbackAdapter: true });
      expect(r.action).toHaveLength(ACTION_DIM);
      r.action.forEach((v, i) => expect(v >= ACTION_LOW[i] && v <= ACTION_HIGH[i], `action[${i}] = ${v}`).toBe(true));
      expect(r.byteLengthAfter).toEqual([0]);
      expect(r.tensorsAfterSecond).toBe(r.tensorsAfterFirst);
    } finally {
      await gpuSession.close();
    }
  }, 300_000);
});
