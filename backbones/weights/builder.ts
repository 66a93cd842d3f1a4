// Building a checkpoint name map: which of our stable keys (namedWeights())
// is which tensor of a public checkpoint, with which layout conversion
// (layout.ts). Weights that have no counterpart in the reference
// architecture (FiLM, TokenLearner, token projection, ...) are "extras" and
// keep their native key in every layout.
import type * as tf from '@tensorflow/tfjs';
import { type Kind, theirShapeFor } from './layout.ts';

export interface MapEntry {
  ours: string[];
  theirs: string[];
  kind: Kind;
  /** Expected checkpoint shapes (filled from our variable shapes). */
  theirShapes: number[][];
  /** Not part of the reference architecture (FiLM, TokenLearner, ...). */
  extra: boolean;
  /**
   * A ViT's position embeddings: `prefix` leading rows (class token) and a
   * grid x grid patch grid, so a checkpoint pretrained on another grid can be
   * resized on import (posEmbed.ts).
   */
  posEmbed?: { prefix: number; grid: number };
}

export class MappingBuilder {
  readonly entries: MapEntry[] = [];
  private readonly used = new Set<string>();
  constructor(private readonly weights: Record<string, tf.Variable>) {}

  shapeOf(key: string): number[] {
    const v = this.weights[key];
    if (!v) throw new Error(`mapping: model has no weight '${key}'`);
    return v.shape.slice();
  }

  has(key: string): boolean {
    return key in this.weights;
  }

  add(
    ours: string | string[],
    theirs: string | string[],
    kind: Kind,
    opts: { theirShapes?: number[][]; extra?: boolean; posEmbed?: MapEntry['posEmbed'] } = {},
  ): void {
    const o = Array.isArray(ours) ? ours : [ours];
    const t = Array.isArray(theirs) ? theirs : [theirs];
    const ourShapes = o.map((k) => this.shapeOf(k));
    const theirShapes = opts.theirShapes ?? theirShapeFor(kind, ourShapes);
    for (const k of o) this.used.add(k);
    this.entries.push({ ours: o, theirs: t, kind, theirShapes, extra: opts.extra ?? false, ...(opts.posEmbed ? { posEmbed: opts.posEmbed } : {}) });
  }

  /** BatchNorm: gamma/beta/running stats -> weight/bias/running_mean/running_var. */
  bn(ours: string, theirs: string): void {
    this.add(`${ours}.gamma`, `${theirs}.weight`, { k: 'same' });
    this.add(`${ours}.beta`, `${theirs}.bias`, { k: 'same' });
    this.add(`${ours}.running_mean`, `${theirs}.running_mean`, { k: 'same' });
    this.add(`${ours}.running_var`, `${theirs}.running_var`, { k: 'same' });
  }

  /** LayerNorm g/b -> weight/bias. */
  ln(ours: string, theirs: string): void {
    this.add(`${ours}.g`, `${theirs}.weight`, { k: 'same' });
    this.add(`${ours}.b`, `${theirs}.bias`, { k: 'same' });
  }

  /** Linear w/b -> weight/bias. */
  lin(ours: string, theirs: string): void {
    this.add(`${ours}.w`, `${theirs}.weight`, { k: 'linear' });
    this.add(`${ours}.b`, `${theirs}.bias`, { k: 'same' });
  }

  /** Every weight not mapped yet becomes an extra under its native key. */
  finishWithExtras(): MapEntry[] {
    for (const key of Object.keys(this.weights)) {
      if (!this.used.has(key)) this.add(key, key, { k: 'same' }, { extra: true });
    }
    return this.entries;
  }
}
