// Action tokenizer: uniform per-dimension discretization of continuous actions
// into N bins (RT-1, arXiv:2212.06817 Sec. 4: 256 bins per dimension; OpenVLA,
// arXiv:2406.09246 Sec. 3.2: bounds from the 1st / 99th percentile of the
// training actions instead of min / max, so outliers do not waste bins).
//
// Convention used here (bins with centers):
//   w = (high - low) / N                       bin width
//   bin i covers [low + i*w, low + (i+1)*w)    for i = 0..N-1
//   token(x) = min(N-1, floor((clip(x, low, high) - low) / w))
//     - values below low clip to bin 0, above high to bin N-1,
//     - x == high goes to the last bin N-1,
//     - a value within 1e-6 bin widths below a boundary counts as ON the
//       boundary (decimal inputs like -0.8 are not exact in binary).
//   detokenize(i) = low + (i + 0.5) * w        the bin center
// Round-trip error is therefore at most w/2 inside the bounds.
//
// Note: RT-1's reference code uses a different grid, token = int((x - low) /
// (high - low) * (N - 1)) (truncation) and detokenize = low + i*(high-low)/(N-1),
// which e.g. maps [0.1, 0.5, -0.8] in [-1,1] with N=10 to [4, 6, 0]; with the
// bin convention above the same action gives [5, 7, 1].

export interface ActionTokenizerState {
  bins: number;
  low: number[];
  high: number[];
}

export interface ActionTokenizerOptions {
  /** Action dimensions (used when low/high are scalars). */
  dim?: number;
  /** Bins per dimension (RT-1 / OpenVLA: 256). */
  bins?: number;
  /** Lower bound per dimension (or one scalar for all). Default -1. */
  low?: number[] | number;
  /** Upper bound per dimension (or one scalar for all). Default +1. */
  high?: number[] | number;
}

const BOUNDARY_EPS = 1e-6;

export class ActionTokenizer {
  readonly bins: number;
  readonly low: number[];
  readonly high: number[];

  constructor(opts: ActionTokenizerOptions = {}) {
    const dim = opts.dim ?? (Array.isArray(opts.low) ? opts.low.length : Array.isArray(opts.high) ? opts.high.length : 6);
    const expand = (v: number[] | number | undefined, d: number) => (Array.isArray(v) ? v.slice() : new Array<number>(dim).fill(v ?? d));
    this.bins = opts.bins ?? 256;
    this.low = expand(opts.low, -1);
    this.high = expand(opts.high, 1);
    if (!Number.isInteger(this.bins) || this.bins < 1) throw new Error(`ActionTokenizer: bins must be a positive integer, got ${this.bins}`);
    if (this.low.length !== this.high.length) throw new Error('ActionTokenizer: low/high length mismatch');
    this.low.forEach((l, d) => {
      if (!(this.high[d] > l)) throw new Error(`ActionTokenizer: dim ${d}: high (${this.high[d]}) must exceed low (${l})`);
    });
  }

  get dim(): number {
    return this.low.length;
  }

  binWidth(d: number): number {
    return (this.high[d] - this.low[d]) / this.bins;
  }

  /** One value of dimension d -> bin index. */
  tokenizeValue(x: number, d: number): number {
    const lo = this.low[d];
    const hi = this.high[d];
    if (Number.isNaN(x)) throw new Error(`ActionTokenizer: NaN in dimension ${d}`);
    const c = Math.min(hi, Math.max(lo, x));
    const u = ((c - lo) / (hi - lo)) * this.bins;
    return Math.min(this.bins - 1, Math.floor(u + BOUNDARY_EPS));
  }

  /** Bin index of dimension d -> bin center. */
  detokenizeValue(token: number, d: number): number {
    if (!Number.isInteger(token) || token < 0 || token >= this.bins) throw new Error(`ActionTokenizer: token ${token} out of range [0, ${this.bins})`);
    return this.low[d] + (token + 0.5) * this.binWidth(d);
  }

  /** One value of dimension d -> [-1, 1] by the bounds (clipped): the continuous head's unit. */
  normalizeValue(x: number, d: number): number {
    return Math.max(-1, Math.min(1, (2 * (x - this.low[d])) / (this.high[d] - this.low[d]) - 1));
  }

  /** A value in [-1, 1] (clipped) of dimension d -> the bounds' unit; inverse of normalizeValue. */
  denormalizeValue(v: number, d: number): number {
    return this.low[d] + ((Math.max(-1, Math.min(1, v)) + 1) / 2) * (this.high[d] - this.low[d]);
  }

  /** action [dim] (or a flattened chunk [k*dim]) -> tokens. */
  tokenize(action: ArrayLike<number>): number[] {
    if (action.length % this.dim !== 0) throw new Error(`ActionTokenizer: length ${action.length} is not a multiple of dim ${this.dim}`);
    return Array.from({ length: action.length }, (_, i) => this.tokenizeValue(action[i], i % this.dim));
  }

  /** tokens [dim] (or a flattened chunk [k*dim]) -> bin centers. */
  detokenize(tokens: ArrayLike<number>): number[] {
    if (tokens.length % this.dim !== 0) throw new Error(`ActionTokenizer: length ${tokens.length} is not a multiple of dim ${this.dim}`);
    return Array.from({ length: tokens.length }, (_, i) => this.detokenizeValue(tokens[i], i % this.dim));
  }

  toJSON(): ActionTokenizerState {
    return { bins: this.bins, low: this.low.slice(), high: this.high.slice() };
  }

  static fromJSON(s: ActionTokenizerState): ActionTokenizer {
    return new ActionTokenizer({ bins: s.bins, low: s.low, high: s.high });
  }
}

/** Quantile with linear interpolation between order statistics (numpy's default): position q*(n-1). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile of an empty list');
  const pos = q * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * Per-dimension bounds from data (OpenVLA): low = q-quantile, high =
 * (1-q)-quantile of each dimension over all actions. A dimension with no
 * spread (high == low) is widened to low - 1e-3 .. high + 1e-3 (e.g. a
 * never-used terminate flag), so the tokenizer stays valid.
 */
export function fitQuantileBounds(actions: ArrayLike<number>[], q = 0.01): { low: number[]; high: number[] } {
  if (actions.length === 0) throw new Error('fitQuantileBounds: no actions');
  if (!(q >= 0 && q < 0.5)) throw new Error(`fitQuantileBounds: q must be in [0, 0.5), got ${q}`);
  const dim = actions[0].length;
  const low: number[] = [];
  const high: number[] = [];
  for (let d = 0; d < dim; d++) {
    const col = Float64Array.from(actions, (a) => a[d]).sort();
    let lo = quantile(col, q);
    let hi = quantile(col, 1 - q);
    if (!(hi > lo)) {
      lo -= 1e-3;
      hi += 1e-3;
    }
    low.push(lo);
    high.push(hi);
  }
  return { low, high };
}
