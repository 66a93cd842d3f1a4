// Backend choice for the inference worker: order, forced vs auto, reason strings.
import { describe, expect, it } from 'vitest';
import {
  BackendUnavailableError, candidateChain, chooseBackend, selectBackend, type BackendName, type Probe,
} from '../../src/worker/fallback.ts';

const fail = (reason: string): Probe => ({ ok: false, reason });
const ok: Probe = { ok: true };
const noGpu = fail('navigator.gpu is missing in the worker (WebGPU not enabled in this browser)');
const noGl = fail('OffscreenCanvas is missing in the worker');

describe('candidateChain', () => {
  it("'auto' tries webgpu, webgl, wasm, cpu in that order", () => {
    expect(candidateChain('auto')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
  });
  it('a forced backend is alone unless fallback is allowed, then the rest of the chain follows', () => {
    expect(candidateChain('webgl')).toEqual(['webgl']);
    expect(candidateChain('webgl', true)).toEqual(['webgl', 'wasm', 'cpu']);
    expect(candidateChain('cpu', true)).toEqual(['cpu']);
  });
  it('rejects an unknown name, listing the valid ones', () => {
    expect(() => candidateChain('tpu' as never)).toThrow("unknown tfjs backend 'tpu' (expected auto, webgpu, webgl, wasm, cpu)");
  });
});

describe('chooseBackend', () => {
  it('takes webgpu when it has an adapter, with no fallback reason', () => {
    expect(chooseBackend('auto', { webgpu: ok })).toEqual({ backend: 'webgpu', requested: 'auto' });
  });

  it('falls back to webgl, then wasm, then cpu, saying why each earlier one was skipped', () => {
    expect(chooseBackend('auto', { webgpu: noGpu, webgl: ok })).toEqual({
      backend: 'webgl', requested: 'auto',
      fallbackReason: 'webgpu: navigator.gpu is missing in the worker (WebGPU not enabled in this browser)',
    });
    expect(chooseBackend('auto', { webgpu: noGpu, webgl: noGl, wasm: ok }).fallbackReason).toBe(
      'webgpu: navigator.gpu is missing in the worker (WebGPU not enabled in this browser); webgl: OffscreenCanvas is missing in the worker',
    );
    const cpu = chooseBackend('auto', { webgpu: noGpu, webgl: noGl, wasm: fail('WebAssembly is missing'), cpu: ok });
    expect(cpu.backend).toBe('cpu');
    expect(cpu.fallbackReason).toMatch(/^webgpu: .*; webgl: .*; wasm: WebAssembly is missing$/);
  });

  it('a forced backend that fails is an error naming the backend and the reason', () => {
    const run = () => chooseBackend('webgpu', { webgpu: fail('navigator.gpu.requestAdapter() gave no adapter') });
    expect(run).toThrow(BackendUnavailableError);
    expect(run).toThrow("tfjs backend 'webgpu' is not available: navigator.gpu.requestAdapter() gave no adapter");
    try {
      run();
    } catch (e) {
      expect(e).toMatchObject({ backend: 'webgpu', reason: 'navigator.gpu.requestAdapter() gave no adapter' });
    }
  });

  it('a forced backend that runs reports no fallback', () => {
    expect(chooseBackend('wasm', { wasm: ok })).toEqual({ backend: 'wasm', requested: 'wasm' });
  });

  it('allowFallback on a forced backend continues down the chain only', () => {
    const c = chooseBackend('webgl', { webgl: noGl, wasm: ok }, { allowFallback: true });
    expect(c).toEqual({ backend: 'wasm', requested: 'webgl', fallbackReason: 'webgl: OffscreenCanvas is missing in the worker' });
  });

  it('nothing runs: one error listing every reason', () => {
    const probes = { webgpu: noGpu, webgl: noGl, wasm: fail('x'), cpu: fail('y') };
    expect(() => chooseBackend('auto', probes)).toThrow(/^no tfjs backend could start \(requested 'auto'\): webgpu: .*; webgl: .*; wasm: x; cpu: y$/);
  });

  it('refuses a gap in the probe results (the chain must be probed in order)', () => {
    expect(() => chooseBackend('auto', { webgpu: noGpu, wasm: ok })).toThrow(/'webgl' was not probed/);
  });
});

describe('avoidSoftwareGpu', () => {
  const swiftWebgl: Probe = { ok: true, software: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)' };

  it("'auto' passes over a software-rasterized GPU backend to wasm, saying why", () => {
    const c = chooseBackend('auto', { webgpu: noGpu, webgl: swiftWebgl, wasm: ok }, { avoidSoftwareGpu: true });
    expect(c.backend).toBe('wasm');
    expect(c.fallbackReason).toBe(
      'webgpu: navigator.gpu is missing in the worker (WebGPU not enabled in this browser); ' +
        'webgl: software renderer (ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)), slower than wasm on a CPU',
    );
  });

  it('keeps the software backend as a last resort, with only the reasons before it', () => {
    const c = chooseBackend('auto', { webgpu: noGpu, webgl: swiftWebgl, wasm: fail('x'), cpu: fail('y') }, { avoidSoftwareGpu: true });
    expect(c).toEqual({ backend: 'webgl', requested: 'auto', fallbackReason: 'webgpu: navigator.gpu is missing in the worker (WebGPU not enabled in this browser)' });
  });

  it('is off by default, and never overrides a forced backend', () => {
    expect(chooseBackend('auto', { webgpu: noGpu, webgl: swiftWebgl }).backend).toBe('webgl');
    expect(chooseBackend('webgl', { webgl: swiftWebgl }, { avoidSoftwareGpu: true })).toEqual({ backend: 'webgl', requested: 'webgl' });
  });

  it('selectBackend keeps probing past the software backend', async () => {
    const probed: BackendName[] = [];
    const results: Record<BackendName, Probe> = { webgpu: { ok: true, software: 'swiftshader' }, webgl: swiftWebgl, wasm: ok, cpu: ok };
    const c = await selectBackend('auto', async (n) => (probed.push(n), results[n]), { avoidSoftwareGpu: true });
    expect(probed).toEqual(['webgpu', 'webgl', 'wasm']);
    expect(c.backend).toBe('wasm');
    expect(c.fallbackReason).toMatch(/^webgpu: software renderer \(swiftshader\), .*; webgl: software renderer/);
  });
});

describe('selectBackend', () => {
  it('probes lazily in order and stops at the first backend that runs', async () => {
    const probed: BackendName[] = [];
    const results: Record<BackendName, Probe> = { webgpu: noGpu, webgl: ok, wasm: ok, cpu: ok };
    const c = await selectBackend('auto', async (n) => {
      probed.push(n);
      return results[n];
    });
    expect(probed).toEqual(['webgpu', 'webgl']);
    expect(c.backend).toBe('webgl');
  });

  it('a probe that throws counts as that backend failing, with its message', async () => {
    const c = await selectBackend('auto', async (n) => {
      if (n === 'webgpu') throw new Error('requestDevice() rejected: out of memory');
      return n === 'webgl' ? noGl : ok;
    });
    expect(c).toEqual({
      backend: 'wasm', requested: 'auto',
      fallbackReason: 'webgpu: requestDevice() rejected: out of memory; webgl: OffscreenCanvas is missing in the worker',
    });
  });

  it('only probes the forced backend', async () => {
    const probed: BackendName[] = [];
    await expect(selectBackend('webgl', async (n) => (probed.push(n), noGl))).rejects.toThrow("tfjs backend 'webgl' is not available: OffscreenCanvas is missing");
    expect(probed).toEqual(['webgl']);
  });
});
