// Mean attention distance (Dosovitskiy et al., ViT, arXiv:2010.11929, Fig. 7):
// for each query patch, the attention-weighted average image-space distance to
// the key patches it attends to, averaged over queries. Small = local
// (conv-like) heads, large = global heads.

export interface AttentionGrid {
  /** Patch grid size. */
  gridH: number;
  gridW: number;
  /** Pixels per patch side (distance unit). */
  patchSize: number;
  /** Leading tokens that are not patches (e.g. 1 for a class token): excluded from queries and keys. */
  prefixTokens?: number;
}

/**
 * attn: one head's attention [T, T] (row = query, rows sum to 1), row-major,
 * with T = prefixTokens + gridH * gridW. Returns the mean distance in pixels.
 * Patch-to-patch weights are renormalised per query after dropping prefix keys.
 */
export function meanAttentionDistance(attn: ArrayLike<number>, g: AttentionGrid): number {
  const P = g.gridH * g.gridW;
  const pre = g.prefixTokens ?? 0;
  const T = pre + P;
  if (attn.length !== T * T) throw new Error(`meanAttentionDistance: ${attn.length} values for ${T} tokens (${g.gridH}x${g.gridW} patches + ${pre} prefix)`);
  let total = 0;
  for (let q = 0; q < P; q++) {
    const qy = Math.floor(q / g.gridW), qx = q % g.gridW;
    let wsum = 0, dsum = 0;
    for (let k = 0; k < P; k++) {
      const w = attn[(pre + q) * T + pre + k];
      const ky = Math.floor(k / g.gridW), kx = k % g.gridW;
      wsum += w;
      dsum += w * Math.hypot(qy - ky, qx - kx) * g.patchSize;
    }
    total += wsum > 0 ? dsum / wsum : 0;
  }
  return total / P;
}

/** Per-head mean distances for attention [heads, T, T] (flattened). */
export function headDistances(attn: ArrayLike<number>, heads: number, g: AttentionGrid): number[] {
  const T = (g.prefixTokens ?? 0) + g.gridH * g.gridW;
  const per = T * T;
  if (attn.length !== heads * per) throw new Error(`headDistances: ${attn.length} values for ${heads} heads of ${T}x${T}`);
  return Array.from({ length: heads }, (_, h) => meanAttentionDistance(Array.prototype.slice.call(attn, h * per, (h + 1) * per), g));
}
