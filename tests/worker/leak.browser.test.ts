// Issue 19: long runs do not leak. A policy drives 3 episodes of 100 steps
// (300 inferences) in the inference worker, as an eval runs it; after each
// episode the worker's live tfjs tensors are the same number and its JS heap
// (read over the Chrome DevTools Protocol from the worker's own isolate, after
// a forced GC) stays within a small margin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_HIGH } from '../../sim/config.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { PLAIN_POLICY } from '../policies/plain.ts';
import type { WorkerMemory } from '../../src/worker/protocol.ts';

const suite = resolveSuite('tabletop');
// Small and untrained; terminate's bins all below 0.5, so no episode ends early.
const policy = { name: 'efficientnet-film', overrides: { ...PLAIN_POLICY, gptLayers: 1, textDepth: 0, actionHigh: [...Array.from(ACTION_HIGH).slice(0, 5), 0.5] } };
const args = { policy, backend: 'wasm' as const };

let session: HeadlessSession;
beforeAll(async () => {
  session = await HeadlessSession.open();
});

/**
 * The inference worker's JS heap after a full GC: CDP's Runtime.getHeapUsage in
 * the worker target (performance.memory does not exist in workers), reached by
 * auto-attaching to the page's workers (non-flat sessions, so one Playwright
 * CDP session carries the messages).
 */
async function workerHeapBytes(): Promise<number> {
  const cdp = await session.page.context().newCDPSession(session.page);
  try {
    const workers: { sessionId: string; title: string; url: string }[] = [];
    cdp.on('Target.attachedToTarget', (e: { sessionId: string; targetInfo: { type: string; title: string; url: string } }) => {
      if (e.targetInfo.type === 'worker') workers.push({ sessionId: e.sessionId, title: e.targetInfo.title, url: e.targetInfo.url });
    });
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    const w = workers.find((x) => /vlalab-inference|inference\.worker/.test(`${x.title} ${x.url}`));
    if (!w) throw new Error(`no inference worker target (workers: ${workers.map((x) => x.title || x.url).join(', ') || 'none'})`);
    let id = 0;
    const call = (method: string) => new Promise<Record<string, number>>((resolve) => {
      const myId = ++id;
      const on = (e: { sessionId: string; message: string }) => {
        const m = JSON.parse(e.message) as { id?: number; result?: Record<string, number> };
        if (e.sessionId === w.sessionId && m.id === myId) { cdp.off('Target.receivedMessageFromTarget', on); resolve(m.result ?? {}); }
      };
      cdp.on('Target.receivedMessageFromTarget', on);
      void cdp.send('Target.sendMessageToTarget', { sessionId: w.sessionId, message: JSON.stringify({ id: myId, method }) });
    });
    await call('HeapProfiler.collectGarbage');
    return (await call('Runtime.getHeapUsage')).usedSize;
  } finally {
    await cdp.detach();
  }
}
afterAll(async () => {
  await session?.call('closePolicyWorkers').catch(() => undefined);
  await session?.close();
});

describe('inference worker memory over a long run (headless Chromium)', () => {
  it('3 episodes x 100 steps: tensor count flat, JS heap flat', async () => {
    const after: WorkerMemory[] = [];
    const heap: number[] = [];
    for (let e = 0; e < 3; e++) {
      const w = await session.call('runPolicyEpisode', { ...args, suite, task: 'pick_place', split: 'train', seed: e, maxSteps: 100 });
      expect(w.failure).toBeUndefined();
      expect(w.steps).toBe(100);
      expect(w.workerMemory!.numTensors).toBeGreaterThan(0); // reported with every episode (the eval runner's meta)
      after.push((await session.call('policyWorkerMemory', args))!);
      heap.push(await workerHeapBytes());
    }
    expect(after.map((m) => m.numTensors)).toEqual([after[0].numTensors, after[0].numTensors, after[0].numTensors]);
    expect(after.map((m) => m.numBytes)).toEqual([after[0].numBytes, after[0].numBytes, after[0].numBytes]);
    expect(heap.every((h) => h > 1e5), `worker heap ${heap}`).toBe(true);
    // 200 steps between the first and last reading: a per-step leak of even 5 KB would show as 1 MB.
    expect(heap[2] - heap[0], `worker heap after each episode: ${heap.map((h) => (h / 1e6).toFixed(2)).join(', ')} MB`).toBeLessThan(1e6);
  });
});
