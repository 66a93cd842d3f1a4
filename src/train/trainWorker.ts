// One training thread (started by src/train/threads.ts through trainWorker.mjs):
// a replica of the policy on its own tfjs backend instance. Per step it loads
// the coordinator's weights from shared memory, computes the gradients and
// batch-norm statistics of its shards into the shared per-shard buffers
// (src/train/shards.ts computeShard) and answers with the shard losses.
import { parentPort, workerData } from 'node:worker_threads';
import { VlaPolicy } from '../../policies/policy.ts';
import { initBackend } from '../tf/backend.ts';
import { layoutMismatch, runShardsHere, weightLayout, writeWeights } from './shards.ts';
import type { FromWorker, ToWorker, WorkerInit } from './threads.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker) => port.postMessage(m);
const message = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

let policy: VlaPolicy | null = null;
try {
  const be = await initBackend(init.backend);
  if (be.backend !== init.backend) throw new Error(`backend ${init.backend} did not start (${be.fallbackReason ?? 'unknown reason'})`);
  policy = VlaPolicy.fromJSON({ config: init.config });
  const bad = layoutMismatch(weightLayout(policy.namedWeights()), init.layout);
  if (bad) throw new Error(`the replica's weights differ from the coordinator's: ${bad}`);
  send({ type: 'ready' });
} catch (e) {
  send({ type: 'failed', step: -1, message: message(e) });
  policy?.dispose();
  policy = null;
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'close' || !policy) {
    policy?.dispose();
    port.close();
    return;
  }
  const f = init.fault;
  if (f && f.thread === init.thread && f.step === m.step && f.kind === 'exit') process.exit(3);
  try {
    if (f && f.thread === init.thread && f.step === m.step) throw new Error(`injected fault (test) in step ${m.step + 1}`);
    writeWeights(policy.namedWeights(), init.layout, init.buffers.weights, 'all');
    const losses = runShardsHere(policy, init.layout, init.buffers, m.work);
    send({ type: 'done', step: m.step, losses });
  } catch (e) {
    send({ type: 'failed', step: m.step, message: message(e) });
  }
});
