// Training presets: per-policy overrides of the registry presets and trainer
// defaults, chosen so a full run over the 2000-demo tabletop train split fits
// in about 60-75 minutes per policy on ONE core of the 2-core reference machine
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
  /** Share of the demo episodes held out for validation. */
  valFraction: number;
  augment: AugmentConfig;
}

export const TRAIN_PRESETS: Record<string, TrainPreset> = {
  // Scene + wrist camera at 64 px. The wrist camera sees the commanded
  // object at 7-10 px instead of 2-3 px and in the gripper's own frame, where
  // the approach direction is a translation-equivariant read-out; with the
  // scene camera alone (output stride 16, coordinate channels, auxiliary
  // position loss, 2500 steps on 600 demos) both policies learned the most
  // common direction and 0% success. Output stride 16 + coordinate channels
  // give each TokenLearner token its attention centroid (spatial soft-argmax).
  // ~32 images/s (16 samples/s, two cameras) on one core: 2200 steps x 32 is
  // about 0.9 of a pass over the 2000-seed train split, ~75 min.
  'efficientnet-film': {
    policy: { backbone: 'efficientnet_film_s_os16_96', imageSize: 64, cameras: ['scene', 'wrist'], auxDim: 4, auxWeight: 1 },
    train: { epochs: 1, maxSteps: 2200, lr: 1e-3, valEverySteps: 400, valMaxSamples: 512 },
    batchSize: 32,
    valFraction: 0.05,
    augment: AUGMENT_DEFAULTS,
  },
  // 16 px patches at 64 px: 16 patch tokens per camera, so the GPT prefix is
  // 2 x 16 patch + 16 language + 1 proprio tokens; the prefix length
  // dominates the cost, hence 2 GPT layers. Sin-cos initialized position
  // embeddings and the auxiliary position loss as above. ~52 images/s
  // (26 samples/s) on one core: 3000 steps x 32, ~62 min.
  'vit-siglip': {
    policy: { imageSize: 64, cameras: ['scene', 'wrist'], backboneOverrides: { patchSize: 16, posEmbedInit: 'sincos' }, gptLayers: 2, auxDim: 4, auxWeight: 1 },
    train: { epochs: 2, maxSteps: 3000, lr: 1e-3, valEverySteps: 400, valMaxSamples: 512 },
    batchSize: 32,
    valFraction: 0.05,
    augment: AUGMENT_DEFAULTS,
  },
};

export function trainPreset(policy: string): TrainPreset {
  return structuredClone(TRAIN_PRESETS[policy] ?? { policy: {}, train: {}, batchSize: 32, valFraction: 0.1, augment: AUGMENT_DEFAULTS });
}
