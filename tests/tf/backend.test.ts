import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend, isNode } from '../../src/tf/backend.ts';

const g = globalThis as { navigator?: unknown };
const hadNavigator = Object.prototype.hasOwnProperty.call(globalThis, 'navigator');
const originalNavigator = g.navigator;

afterEach(() => {
  if (hadNavigator) Object.defineProperty(globalThis, 'navigator', { value: originalNavigator, configurable: true, writable: true });
  else delete g.navigator;
});

describe('initBackend in Node', () => {
  it('starts wasm with the binaries found from the module, not the cwd', async () => {
    expect(isNode()).toBe(true);
    const cwd = process.cwd();
    process.chdir('/');
    try {
      const info = await initBackend('wasm');
      expect(info).toEqual({ backend: 'wasm', requested: 'wasm' });
    } finally {
      process.chdir(cwd);
    }
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT')).toBe(false);
    // The training kernels wasm lacks are now registered.
    for (const k of ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput', 'UnsortedSegmentSum']) {
      expect(tf.getKernel(k, 'wasm'), k).toBeDefined();
    }
    // And the wrapped originals still work (their setupFunc was kept).
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 4]));
    expect(Array.from(y.dataSync())).toEqual(new Array(8).fill(3));
    y.dispose();
  });

  it('cpu works and reports itself', async () => {
    expect(await initBackend('cpu')).toEqual({ backend: 'cpu', requested: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('webgl is browser-only: falls back to wasm with the reason', async () => {
    const info = await initBackend('webgl');
    expect(info.backend).toBe('wasm');
    expect(info.requested).toBe('webgl');
    expect(info.fallbackReason).toMatch(/webgl: WebGL is browser-only/);
  });

  it('webgpu without navigator.gpu falls back and says why', async () => {
    delete g.navigator;
    const info = await initBackend('webgpu');
    expect(info.backend).toBe('wasm');
    expect(info.fallbackReason).toMatch(/webgpu: navigator.gpu is missing/);
  });

  it('webgpu whose adapter request gives null falls back (setBackend would resolve false silently)', async () => {
    const gpu = { requestAdapter: async () => null };
    const info = await initBackend('webgpu', { gpu });
    expect(info.backend).toBe('wasm');
    expect(info.fallbackReason).toMatch(/requestAdapter\(\) gave no adapter/);
  });

  it("'auto' tries webgpu, webgl, then wasm", async () => {
    delete g.navigator;
    const info = await initBackend('auto');
    expect(info).toMatchObject({ backend: 'wasm', requested: 'auto' });
    expect(info.fallbackReason).toMatch(/^webgpu: .*; webgl: WebGL is browser-only$/);
  });
});
