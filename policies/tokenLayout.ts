// Layout of the decoder's output tokens for one observation:
//   for each of the chunkLength steps:  [plan tokens (planDims)] [action tokens (actionDim, in actionOrder)]
//
// Plan tokens follow embodied chain-of-thought (ECoT, Zawalski et al.,
// arXiv:2407.08693): before its action, the policy names, as tokens, where
// the commanded object and its destination are on the table. Teacher-forced
// in training, they make the action tokens a function of an explicit
// estimate (dx = clip(object x - TCP x) is then easy to learn), and the
// estimate itself is a supervised localization problem. At inference the
// policy generates them first and conditions its action on its own estimate,
// re-estimating every step as the wrist camera gets closer. The environment
// never sees them.
//
// Both kinds are discretized with the same uniform binning (ActionTokenizer):
// actions over the action bounds, plan values over the table bounds.
import { ActionTokenizer } from './actionTokenizer.ts';

export interface TokenLayoutConfig {
  actionDim: number;
  /** Decode order of the action dimensions (permutation; empty = identity). */
  actionOrder: number[];
  chunkLength: number;
  bins: number;
  actionLow: number[];
  actionHigh: number[];
  planDims: number;
  planLow: number[];
  planHigh: number[];
}

export class TokenLayout {
  readonly actions: ActionTokenizer;
  readonly plan: ActionTokenizer | null;
  readonly order: number[];
  /** Tokens per step (planDims + actionDim) and in all (chunkLength steps). */
  readonly perStep: number;
  readonly total: number;

  constructor(readonly cfg: TokenLayoutConfig) {
    const D = cfg.actionDim;
    if (cfg.actionOrder.length > 0 && (cfg.actionOrder.length !== D || [...cfg.actionOrder].sort((a, b) => a - b).some((d, i) => d !== i))) {
      throw new Error(`VlaPolicy: actionOrder must be a permutation of 0..${D - 1}, got ${JSON.stringify(cfg.actionOrder)}`);
    }
    if (!(Number.isInteger(cfg.planDims) && cfg.planDims >= 0)) throw new Error(`VlaPolicy: planDims must be an integer >= 0, got ${cfg.planDims}`);
    if (cfg.planDims > 0 && (cfg.planLow.length !== cfg.planDims || cfg.planHigh.length !== cfg.planDims)) {
      throw new Error(`VlaPolicy: planLow/planHigh must have planDims = ${cfg.planDims} entries`);
    }
    this.order = cfg.actionOrder.length ? cfg.actionOrder : Array.from({ length: D }, (_, d) => d);
    this.actions = new ActionTokenizer({ bins: cfg.bins, low: cfg.actionLow, high: cfg.actionHigh });
    this.plan = cfg.planDims > 0 ? new ActionTokenizer({ bins: cfg.bins, low: cfg.planLow, high: cfg.planHigh }) : null;
    this.perStep = cfg.planDims + D;
    this.total = cfg.chunkLength * this.perStep;
  }

  /**
   * What token position i (within the whole sequence) holds: a plan value
   * (dim = plan index) or an action value (dim = environment action index).
   */
  slot(i: number): { kind: 'plan' | 'action'; dim: number } {
    const p = i % this.perStep;
    return p < this.cfg.planDims ? { kind: 'plan', dim: p } : { kind: 'action', dim: this.order[p - this.cfg.planDims] };
  }

  /** Width of the bin of token position i, in the unit of its value. */
  binWidth(i: number): number {
    const s = this.slot(i);
    const t = s.kind === 'plan' ? this.plan! : this.actions;
    return (t.high[s.dim] - t.low[s.dim]) / this.cfg.bins;
  }

  /**
   * One target in token order, each value mapped by f(tokenizer, value, dim):
   * per step the plan values, then the action values in actionOrder.
   * `actions` chunkLength x actionDim values (step-major, environment order),
   * `plan` chunkLength x planDims values (needed when planDims > 0).
   */
  private toTokenOrder(actions: ArrayLike<number>, plan: ArrayLike<number> | null | undefined, f: (t: ActionTokenizer, x: number, d: number) => number): number[] {
    const { actionDim: D, planDims: P, chunkLength: K } = this.cfg;
    if (actions.length !== K * D) throw new Error(`VlaPolicy: action chunk has ${actions.length} values, expected ${K * D}`);
    if (P > 0 && (!plan || plan.length !== K * P)) throw new Error(`VlaPolicy: plan targets have ${plan?.length ?? 0} values, expected ${K * P} (planDims ${P} x chunk ${K})`);
    const out: number[] = [];
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < P; j++) out.push(f(this.plan!, plan![k * P + j], j));
      for (let j = 0; j < D; j++) out.push(f(this.actions, actions[k * D + this.order[j]], this.order[j]));
    }
    return out;
  }

  /** Per-position outputs in token order -> per step the environment action and the plan values, each mapped back by g. */
  private fromTokenOrder(xs: ArrayLike<number>, what: string, g: (t: ActionTokenizer, x: number, d: number) => number): { actions: Float32Array[]; plan: Float32Array[] } {
    const { actionDim: D, planDims: P, chunkLength: K } = this.cfg;
    if (xs.length !== this.total) throw new Error(`VlaPolicy: ${xs.length} ${what}, expected ${this.total}`);
    const actions: Float32Array[] = [];
    const plan: Float32Array[] = [];
    for (let k = 0; k < K; k++) {
      const base = k * this.perStep;
      const a = new Float32Array(D);
      for (let j = 0; j < D; j++) a[this.order[j]] = g(this.actions, xs[base + P + j], this.order[j]);
      actions.push(a);
      plan.push(Float32Array.from({ length: P }, (_, j) => g(this.plan!, xs[base + j], j)));
    }
    return { actions, plan };
  }

  /** Tokens of one target (see toTokenOrder for the layout). */
  encode(actions: ArrayLike<number>, plan?: ArrayLike<number> | null): number[] {
    return this.toTokenOrder(actions, plan, (t, x, d) => t.tokenizeValue(x, d));
  }

  /** Values of one target in token order, each normalized to [-1, 1] by its bounds (the continuous 'l1' head's targets). */
  encodeValues(actions: ArrayLike<number>, plan?: ArrayLike<number> | null): number[] {
    return this.toTokenOrder(actions, plan, (t, x, d) => t.normalizeValue(x, d));
  }

  /** Decoded tokens -> per step the environment action, and the plan values (empty when planDims = 0). */
  decode(tokens: ArrayLike<number>): { actions: Float32Array[]; plan: Float32Array[] } {
    return this.fromTokenOrder(tokens, 'tokens', (t, x, d) => t.detokenizeValue(x, d));
  }

  /** Normalized values in token order (encodeValues' layout, clipped to [-1, 1]) -> actions and plan per step. */
  decodeValues(values: ArrayLike<number>): { actions: Float32Array[]; plan: Float32Array[] } {
    return this.fromTokenOrder(values, 'values', (t, x, d) => t.denormalizeValue(x, d));
  }
}
