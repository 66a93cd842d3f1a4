// How a policy that predicts K-step action chunks turns them into one action
// per control step (VlaPolicy.selectAction):
//   open_loop   execute the whole chunk, then predict the next (one inference per K steps)
//   receding    execute the first m <= K actions of each chunk, then re-plan
//               (receding horizon: closes the loop every m steps)
//   ensemble    predict a chunk at every step and execute the weighted mean of
//               all predictions made for the current step (temporal
//               ensembling, ACT, Zhao et al. 2023, arXiv:2304.13705: weights
//               exp(-decay * i), i = 0 the oldest prediction; ACT uses 0.01)
// A chunk of length 1 behaves the same in every mode (one inference a step).
// Browser-safe, no tensors: actions are plain Float32Arrays.

export const CHUNK_EXECUTION_MODES = ['open_loop', 'receding', 'ensemble'] as const;
export type ChunkExecutionMode = (typeof CHUNK_EXECUTION_MODES)[number];

export interface ChunkExecution {
  mode: ChunkExecutionMode;
  /** receding: actions executed per chunk before re-planning (1..K). */
  every?: number;
  /** ensemble: exponential weight decay per prediction age (ACT's m). */
  decay?: number;
}

export const OPEN_LOOP: ChunkExecution = { mode: 'open_loop' };

/** Validated copy; `chunk` is the policy's chunk length K. Errors name the field. */
export function checkChunkExecution(e: ChunkExecution, chunk: number): ChunkExecution {
  if (!e || !CHUNK_EXECUTION_MODES.includes(e.mode)) throw new Error(`chunk execution mode must be ${CHUNK_EXECUTION_MODES.join(', ')}, got ${JSON.stringify(e?.mode)}`);
  if (e.mode === 'receding') {
    const m = e.every ?? 1;
    if (!(Number.isInteger(m) && m >= 1 && m <= chunk)) throw new Error(`receding-horizon execution: every must be an integer in [1, ${chunk}] (the policy's chunk length), got ${JSON.stringify(e.every)}`);
    return { mode: 'receding', every: m };
  }
  if (e.mode === 'ensemble') {
    const d = e.decay ?? 0.01;
    if (!(Number.isFinite(d) && d >= 0)) throw new Error(`ensemble execution: decay must be a number >= 0, got ${JSON.stringify(e.decay)}`);
    return { mode: 'ensemble', decay: d };
  }
  return { mode: 'open_loop' };
}

/** Parse the CLI form: open_loop | receding[:m] | ensemble[:decay]. */
export function parseChunkExecution(s: string): ChunkExecution {
  const [mode, arg] = s.split(':');
  if (!(CHUNK_EXECUTION_MODES as readonly string[]).includes(mode)) throw new Error(`--chunk-exec must be open_loop, receding[:m] or ensemble[:decay], got "${s}"`);
  if (arg === undefined) return { mode: mode as ChunkExecutionMode };
  const x = Number(arg);
  if (mode === 'open_loop' || !Number.isFinite(x)) throw new Error(`--chunk-exec: "${s}" has a bad argument (receding:m with an integer m, ensemble:decay with a number)`);
  return mode === 'receding' ? { mode, every: x } : { mode: 'ensemble', decay: x };
}

/** Short label of an execution (run labels, metadata): open_loop, receding2, ensemble0.01. */
export function chunkExecutionLabel(e: ChunkExecution): string {
  return e.mode === 'receding' ? `receding${e.every ?? 1}` : e.mode === 'ensemble' ? `ensemble${e.decay ?? 0.01}` : 'open_loop';
}

export class ChunkExecutor {
  readonly exec: ChunkExecution;
  private t = 0; // control steps taken since reset
  private queue: Float32Array[] = []; // open_loop / receding: the rest of the current plan
  private sincePlanSteps = 0;
  private plans: { start: number; actions: Float32Array[] }[] = []; // ensemble: live predictions

  constructor(exec: ChunkExecution, readonly chunk: number) {
    this.exec = checkChunkExecution(exec, chunk);
  }

  reset(): void {
    this.t = 0;
    this.queue = [];
    this.sincePlanSteps = 0;
    this.plans = [];
  }

  /** Whether the policy must predict a new chunk before the next action. */
  needsInference(): boolean {
    if (this.exec.mode === 'ensemble') return true;
    if (this.queue.length === 0) return true;
    return this.exec.mode === 'receding' && this.sincePlanSteps >= (this.exec.every ?? 1);
  }

  /** A chunk predicted at the current step. */
  push(actions: Float32Array[]): void {
    if (actions.length === 0) throw new Error('ChunkExecutor: empty chunk');
    if (this.exec.mode === 'ensemble') {
      this.plans.push({ start: this.t, actions }); // next() drops the ones that no longer cover the step
    } else {
      this.queue = actions.slice();
      this.sincePlanSteps = 0;
    }
  }

  /** The action for the current step; advances to the next. */
  next(): Float32Array {
    if (this.exec.mode !== 'ensemble') {
      const a = this.queue.shift();
      if (!a) throw new Error('ChunkExecutor: no action queued (push a chunk first)');
      this.sincePlanSteps++;
      this.t++;
      return a;
    }
    const live = (this.plans = this.plans.filter((p) => this.t - p.start < p.actions.length)); // oldest first
    if (live.length === 0) throw new Error('ChunkExecutor: no prediction covers this step (push a chunk first)');
    const D = live[0].actions[0].length;
    const out = new Float32Array(D);
    let z = 0;
    live.forEach((p, i) => {
      const w = Math.exp(-(this.exec.decay ?? 0.01) * i);
      const a = p.actions[this.t - p.start];
      for (let d = 0; d < D; d++) out[d] += w * a[d];
      z += w;
    });
    for (let d = 0; d < D; d++) out[d] /= z;
    this.t++;
    return out;
  }
}
