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
  // 64 px input: 2x the throughput of 96 px (~32 vs ~16 img/s); 8 TokenLearner
  // tokens keep the GPT cheap, so its 4 layers stay. 2000 steps x 32 = 2.7 epochs.
  'efficientnet-film': {
    policy: { imageSize: 64 },
    train: { epochs: 3, maxSteps: 2000, lr: 1e-3 },
    batchSize: 32,
    augment: AUGMENT_DEFAULTS,
  },
  // 16 px patches at 96 px: 36 patch tokens instead of 144 (8 px patches), so
  // the GPT prefix is 36 + 16 language + 1 proprio tokens; the prefix length
  // dominates the cost, hence 2 GPT layers (~22 img/s vs ~13 with 4 layers or
  // with 8 px patches at 64 px). 1400 steps x 32 = 1.9 epochs.
  'vit-siglip': {
    policy: { imageSize: 96, backboneOverrides: { patchSize: 16 }, gptLayers: 2 },
    train: { epochs: 2, maxSteps: 1400, lr: 1e-3 },
    batchSize: 32,
    augment: AUGMENT_DEFAULTS,
  },
};

export function trainPreset(policy: string): TrainPreset {
  return structuredClone(TRAIN_PRESETS[policy] ?? { policy: {}, train: {}, batchSize: 32, augment: AUGMENT_DEFAULTS });
}
