// Issue 19: long runs do not leak. A policy drives 3 episodes of 100 steps
// (300 inferences) in the inference worker, as an eval runs it; after each
// episode the worker's live tfjs tensors are the same number and its JS heap
// (after a forced GC: Chromium with --expose-gc) stays within a small margin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_HIGH } from '../../sim/config.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import type { PolicyEpisodeWire } from '../../src/app/api/policy.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';
import type { WorkerMemory } from '../../src/worker/protocol.ts';

const suite = resolveSuite('tabletop');
// Small and untrained; terminate's bins all below 0.5, so no episode ends early.
const policy = { name: 'efficientnet-film', overrides: { gptLayers: 1, textDepth: 0, actionHigh: [...Array.from(ACTION_HIGH).slice(0, 5), 0.5] } };
const args = { policy, backend: 'wasm' as const };

let session: HeadlessSession;
beforeAll(async () => {
  session = await HeadlessSession.open({ extraArgs: ['--js-flags=--expose-gc', '--enable-precise-memory-info'] });
});
afterAll(async () => {
  await session?.call('closePolicyWorkers').catch(() => undefined);
  await session?.close();
});

describe('inference worker memory over a long run (headless Chromium)', () => {
  it('3 episodes x 100 steps: tensor count flat, JS heap flat', async () => {
    const after: WorkerMemory[] = [];
    for (let e = 0; e < 3; e++) {
      const w = await session.call<PolicyEpisodeWire>('runPolicyEpisode', { ...args, suite, task: 'pick_place', split: 'train', seed: e, maxSteps: 100 });
      expect(w.failure).toBeUndefined();
      expect(w.steps).toBe(100);
      expect(w.workerMemory!.numTensors).toBeGreaterThan(0); // reported with every episode (the eval runner's meta)
      after.push((await session.call<WorkerMemory | null>('policyWorkerMemory', args, { gc: true }))!);
    }
    expect(after.map((m) => m.numTensors)).toEqual([after[0].numTensors, after[0].numTensors, after[0].numTensors]);
    expect(after.map((m) => m.numBytes)).toEqual([after[0].numBytes, after[0].numBytes, after[0].numBytes]);
    const heap = after.map((m) => m.jsHeapBytes);
    expect(heap.every((h) => typeof h === 'number' && h > 0), `worker heap ${heap}`).toBe(true);
    // 200 steps between the first and last reading: a per-step leak of even 5 KB would show as 1 MB.
    expect(heap[2]! - heap[0]!, `worker heap after each episode: ${heap.map((h) => (h! / 1e6).toFixed(2)).join(', ')} MB`).toBeLessThan(1e6);
  });
});
