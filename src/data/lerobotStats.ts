// Normalisation statistics for a LeRobotDataset v3 export (meta/stats.json).
//
// LeRobot (src/lerobot/datasets/compute_stats.py) stores, per feature, min / max / mean / std
// (population, ddof 0) / count and the quantiles q01 q10 q50 q90 q99; policies normalise their
// inputs and outputs with them (mean-std, min-max or quantile modes). Vectors get one value per
// dimension; camera streams get one per RGB channel, shaped [3,1,1] and scaled to [0,1] (pixel/255),
// with count = the number of frames. LeRobot estimates quantiles from a 5000-bin histogram over
// sampled, downscaled frames; here every value is kept (vectors) or counted exactly (uint8 pixels,
// 256 bins), so the quantiles are exact, with numpy.quantile's default linear interpolation.

export const QUANTILES = [0.01, 0.1, 0.5, 0.9, 0.99] as const;
const quantileKey = (q: number) => `q${String(Math.round(q * 100)).padStart(2, '0')}`;

export type FeatureStats = Record<string, number[] | number[][][]>;

/** Running stats of a D-dimensional vector feature; keeps every value for exact quantiles. */
export class VectorStats {
  private readonly cols: number[][];

  constructor(readonly dim: number) {
    this.cols = Array.from({ length: dim }, () => []);
  }

  /** Adds rows of a row-major [rows, dim] array. */
  addRows(data: ArrayLike<number>): void {
    if (data.length % this.dim !== 0) throw new Error(`VectorStats: ${data.length} values are not whole rows of ${this.dim}`);
    for (let i = 0; i < data.length; i++) this.cols[i % this.dim].push(data[i]);
  }

  add(value: number): void {
    if (this.dim !== 1) throw new Error(`VectorStats.add: one value for a ${this.dim}-dimensional feature`);
    this.cols[0].push(value);
  }

  get count(): number {
    return this.cols[0].length;
  }

  result(): FeatureStats {
    const n = this.count;
    if (n === 0) throw new Error('VectorStats: no values');
    const out: FeatureStats = { min: [], max: [], mean: [], std: [], count: [n] };
    for (const k of QUANTILES) out[quantileKey(k)] = [];
    for (const col of this.cols) {
      const s = Float64Array.from(col).sort();
      let sum = 0;
      for (const v of s) sum += v;
      const mean = sum / n;
      let sq = 0;
      for (const v of s) sq += (v - mean) ** 2;
      (out.min as number[]).push(s[0]);
      (out.max as number[]).push(s[n - 1]);
      (out.mean as number[]).push(mean);
      (out.std as number[]).push(Math.sqrt(sq / n));
      for (const q of QUANTILES) (out[quantileKey(q)] as number[]).push(quantileSorted((i) => s[i], n, q));
    }
    return out;
  }
}

/** Per-channel stats of RGB uint8 frames from a 256-bin histogram per channel (exact). */
export class ImageStats {
  private readonly hist = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  private frames = 0;

  /** Adds `frames` frames of interleaved RGB bytes ([frames, H, W, 3]). */
  addFrames(rgb: Uint8Array, frames: number): void {
    if (rgb.length % 3 !== 0) throw new Error(`ImageStats: ${rgb.length} bytes are not RGB triples`);
    const [r, g, b] = this.hist;
    for (let i = 0; i < rgb.length; i += 3) {
      r[rgb[i]]++;
      g[rgb[i + 1]]++;
      b[rgb[i + 2]]++;
    }
    this.frames += frames;
  }

  result(): FeatureStats {
    if (this.frames === 0) throw new Error('ImageStats: no frames');
    const per = this.hist.map((h) => histStats(h));
    // [3] -> [3][1][1], values in [0, 1] (LeRobot's layout for image/video features)
    const chan = (f: (s: ReturnType<typeof histStats>) => number) => per.map((s) => [[f(s) / 255]]);
    const out: FeatureStats = {
      min: chan((s) => s.min), max: chan((s) => s.max), mean: chan((s) => s.mean), std: chan((s) => s.std), count: [this.frames],
    };
    QUANTILES.forEach((q, i) => (out[quantileKey(q)] = chan((s) => s.q[i])));
    return out;
  }
}

function histStats(h: Float64Array): { min: number; max: number; mean: number; std: number; q: number[] } {
  let n = 0, sum = 0, min = 255, max = 0;
  for (let v = 0; v < 256; v++) {
    if (!h[v]) continue;
    n += h[v];
    sum += h[v] * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / n;
  let sq = 0;
  for (let v = 0; v < 256; v++) sq += h[v] * (v - mean) ** 2;
  // value at sorted rank i: the first bin whose cumulative count exceeds i
  const cum = new Float64Array(256);
  for (let v = 0, c = 0; v < 256; v++) cum[v] = c += h[v];
  const at = (i: number) => {
    let lo = 0, hi = 255;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] > i) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  return { min, max, mean, std: Math.sqrt(sq / n), q: QUANTILES.map((q) => quantileSorted(at, n, q)) };
}

/** numpy.quantile (method "linear") of n sorted values read through `at`. */
export function quantileSorted(at: (i: number) => number, n: number, q: number): number {
  const pos = q * (n - 1);
  const lo = Math.floor(pos), hi = Math.min(n - 1, lo + 1);
  return at(lo) + (at(hi) - at(lo)) * (pos - lo);
}
