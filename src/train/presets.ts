// Training presets: per-policy overrides of the registry presets and trainer
// defaults, chosen so a full run over the ~600-demo tabletop train set fits
// in about 35 minutes per policy on ONE core of the 2-core reference machine
// (tfjs-backend-wasm is single-threaded in Node, so two runs go side by side).
// Measured throughput behind these choices is in README.md ("Training").
import type { VlaPolicyConfig } from '../../policies/policy.ts';
import { AUGMENT_DEFAULTS, type AugmentConfig } from './augment.ts';
import type { TrainConfig } from './trainer.ts';

export interface TrainPreset {
  /** Policy config overrides on top of the registry preset. */
  policy: Partial<VlaPolicyConfig>;
  train: Partial<TrainConfig>;
  batchSize: number;
  augment: AugmentConfig;
}

export const TRAIN_PRESETS: Record<string, TrainPreset> = {
  // Output stride 16 + coordinate channels (a 4x4 token map at 64 px, each
  // TokenLearner token carrying its attention centroid) and the auxiliary
  // object/destination position loss: the first run without them (output
  // stride 32, a 2x2 map, plain BC) reached 0.73 val token accuracy on dx/dy
  // but ignored where the objects were. 64 px input: ~38 img/s on one core.
  // 2500 steps x 32 = 3.4 epochs.
  'efficientnet-film': {
    policy: { backbone: 'efficientnet_film_s_os16_96', imageSize: 64, auxDim: 4, auxWeight: 1 },
    train: { epochs: 4, maxSteps: 2500, lr: 1e-3 },
    batchSize: 32,
    augment: AUGMENT_DEFAULTS,
  },
  // 16 px patches at 96 px: 36 patch tokens instead of 144 (8 px patches), so
  // the GPT prefix is 36 + 16 language + 1 proprio tokens; the prefix length
  // dominates the cost, hence 2 GPT layers (~28 img/s on one core vs ~13
  // with 4 layers or with 8 px patches at 64 px). Sin-cos initialized
  // position embeddings and the auxiliary position loss as above.
  // 1850 steps x 32 = 2.5 epochs.
  'vit-siglip': {
    policy: { imageSize: 96, backboneOverrides: { patchSize: 16, posEmbedInit: 'sincos' }, gptLayers: 2, auxDim: 4, auxWeight: 1 },
    train: { epochs: 3, maxSteps: 1850, lr: 1e-3 },
    batchSize: 32,
    augment: AUGMENT_DEFAULTS,
  },
};

export function trainPreset(policy: string): TrainPreset {
  return structuredClone(TRAIN_PRESETS[policy] ?? { policy: {}, train: {}, batchSize: 32, augment: AUGMENT_DEFAULTS });
}
