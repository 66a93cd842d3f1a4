// Data-parallel training threads (Node worker_threads) for sharded steps
// (src/train/shards.ts). tfjs-backend-wasm runs single-threaded in Node, so
// one training process uses one core; this pool runs one replica of the
// policy per extra thread, each with its own wasm instance (~1 s to start,
// kept for the whole run).
//
// Per step: the coordinator (the main thread, which is also thread 0)
// writes the step's weights into a SharedArrayBuffer, posts each thread its
// shards (shard k goes to thread k mod N), computes its own shards, and waits.
// Each thread loads the weights, computes its shards' gradients and
// statistics into per-shard SharedArrayBuffers, and answers with the losses.
// The coordinator then averages and applies AdamW once (trainer.ts); the
// next step's weight broadcast keeps every replica identical. (Broadcasting
// ~4 bytes/parameter per step costs far less than N copies of AdamW and
// keeps the optimizer state in one place, as checkpoints need.)
//
// A thread that throws, exits or cannot start fails the step with a
// ShardThreadError naming the thread and the cause; the step is not applied.
import { Worker } from 'node:worker_threads';
import type { VlaPolicy, VlaPolicyConfig } from '../../policies/policy.ts';
import type { RawBatch } from './dataset.ts';
import { type ShardBuffers, type ShardRunner, ShardThreadError, type WeightLayout, allocBuffers, runShardsHere } from './shards.ts';

/** Test hook: make one thread fail at a step (0-based completed-step count). */
export interface ThreadFault {
  thread: number;
  step: number;
  /** throw: an exception in the step; exit: the thread exits without a word. */
  kind: 'throw' | 'exit';
}

export interface WorkerInit {
  thread: number;
  backend: 'wasm' | 'cpu';
  config: VlaPolicyConfig;
  layout: WeightLayout;
  buffers: ShardBuffers;
  fault: ThreadFault | null;
}

export type ToWorker = { type: 'step'; step: number; work: { k: number; raw: RawBatch; seed: number }[] } | { type: 'close' };
export type FromWorker = { type: 'ready' } | { type: 'done'; step: number; losses: number[] } | { type: 'failed'; step: number; message: string };

interface Pending {
  step: number;
  resolve: (losses: number[]) => void;
  reject: (e: Error) => void;
}

const WORKER_URL = new URL('./trainWorker.mjs', import.meta.url);

export class ThreadPool implements ShardRunner {
  readonly buffers: ShardBuffers;
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private broken: Error | null = null;
  private closing = false;

  private constructor(readonly threads: number, readonly policy: VlaPolicy, readonly layout: WeightLayout, readonly shards: number) {
    this.buffers = allocBuffers(layout, shards, true);
  }

  /** Start threads 1..threads-1 (the caller is thread 0) and wait until every replica is built. */
  static async start(policy: VlaPolicy, layout: WeightLayout, o: { threads: number; shards: number; backend: 'wasm' | 'cpu'; fault?: ThreadFault | null }): Promise<ThreadPool> {
    if (!(Number.isInteger(o.threads) && o.threads >= 2)) throw new Error(`a thread pool needs at least 2 threads, got ${o.threads}`);
    if (o.threads > o.shards) throw new Error(`${o.threads} threads for ${o.shards} micro-batches: at most one thread per micro-batch`);
    const pool = new ThreadPool(o.threads, policy, layout, o.shards);
    const ready: Promise<void>[] = [];
    for (let j = 1; j < o.threads; j++) {
      const init: WorkerInit = { thread: j, backend: o.backend, config: policy.toJSON().config, layout, buffers: pool.buffers, fault: o.fault ?? null };
      const w = new Worker(WORKER_URL, { workerData: init, name: `vlalab-train-${j}` });
      pool.workers.push(w);
      ready.push(new Promise<void>((resolve, reject) => {
        const fail = (cause: string) => reject(new Error(`training thread ${j} did not start: ${cause}`));
        w.once('message', (m: FromWorker) => (m.type === 'ready' ? resolve() : fail(m.type === 'failed' ? m.message : `unexpected message ${m.type}`)));
        w.once('error', (e) => fail(e.message));
        w.once('exit', (code) => fail(`exited with code ${code}`));
      }));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.close();
      throw e;
    }
    pool.workers.forEach((w, i) => pool.listen(w, i + 1));
    return pool;
  }

  private listen(w: Worker, j: number): void {
    for (const ev of ['message', 'error', 'exit']) w.removeAllListeners(ev); // only ours: Worker keeps internal listeners
    const fail = (cause: string) => {
      if (this.closing) return;
      const p = this.pending.get(j);
      this.broken ??= new ShardThreadError(j, p?.step ?? -1, cause);
      if (p) {
        this.pending.delete(j);
        p.reject(new ShardThreadError(j, p.step, cause));
      }
    };
    w.on('message', (m: FromWorker) => {
      const p = this.pending.get(j);
      if (!p) return;
      this.pending.delete(j);
      if (m.type === 'done' && m.step === p.step) p.resolve(m.losses);
      else if (m.type === 'failed') {
        this.broken ??= new ShardThreadError(j, p.step, m.message);
        p.reject(new ShardThreadError(j, p.step, m.message));
      } else p.reject(new ShardThreadError(j, p.step, `unexpected answer ${JSON.stringify(m).slice(0, 80)}`));
    });
    w.on('error', (e) => fail(e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
    w.on('exit', (code) => fail(`the thread exited (code ${code})`));
  }

  async run(step: number, shards: RawBatch[], seeds: number[]): Promise<number[]> {
    if (this.broken) throw new ShardThreadError((this.broken as ShardThreadError).thread ?? -1, step, `the thread pool is down (${this.broken.message})`);
    const N = this.threads;
    const mine = (j: number) => shards.map((raw, k) => ({ k, raw, seed: seeds[k] })).filter(({ k }) => k % N === j);
    const answers = this.workers.map((w, i) => {
      const j = i + 1;
      const work = mine(j);
      return new Promise<number[]>((resolve, reject) => {
        this.pending.set(j, { step, resolve, reject });
        const msg: ToWorker = { type: 'step', step, work };
        w.postMessage(msg, work.flatMap(({ raw }) => transferables(raw)));
      }).then((losses) => work.map(({ k }, i) => [k, losses[i]] as const));
    });
    // This thread's shards run while the others compute theirs.
    const own = mine(0);
    let ownLosses: (readonly [number, number])[] = [];
    let ownError: unknown = null;
    try {
      ownLosses = runShardsHere(this.policy, this.layout, this.buffers, own).map((l, i) => [own[i].k, l] as const);
    } catch (e) {
      ownError = e;
    }
    const settled = await Promise.allSettled(answers); // also when this thread failed: no answer is left unawaited
    if (ownError) throw ownError;
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const losses = new Array<number>(shards.length);
    for (const [k, l] of [...ownLosses, ...settled.flatMap((r) => (r as PromiseFulfilledResult<(readonly [number, number])[]>).value)]) losses[k] = l;
    return losses;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
  }
}

/** The typed-array buffers of a host batch (moved, not copied, to the thread). */
function transferables(raw: RawBatch): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const walk = (v: unknown) => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) out.add(v.buffer);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(raw);
  return [...out];
}
