// What every recipe here shares: the demos, the training settings and RT-1's
// action order. Numbers behind these choices: docs/training.md and
// results/training-history/.
import type { RecipeAugment, RecipeData, RecipeTrain } from './recipe.ts';

/**
 * 2,000 expert demos of the tabletop train split with DART noise 0.1
 * (Laskey et al. 2017, arXiv:1703.09327): the expert's executed dx/dy get
 * Gaussian noise of 0.1 x the action bound (2.5 mm a step) while its clean
 * actions are recorded, so the demos show how to recover from the small
 * errors a cloned policy makes. 1,980 of them succeed; failures are not
 * trained on.
 */
export const TABLETOP_TRAIN: RecipeData = { suite: 'tabletop', split: 'train', episodes: 2000, noise: 0.1, out: 'data/tabletop-train' };

/**
 * Random shift of at most 2 px of the 96 px frame (edge-padded) and
 * brightness/contrast/saturation jitter of 15%. The scene camera is fixed,
 * so a larger shift blurs exactly what the policy must read off it: where
 * the part is on the table (4 px is ~3 cm there).
 */
export const AUGMENT: RecipeAugment = { shift: 2, brightness: 0.15, contrast: 0.15, saturation: 0.15 };

/**
 * Batch 32 on one core of the 2-core reference machine; 5% of the episodes
 * held out for validation (split by episode, seeded), of which 512 steps are
 * scored at each validation.
 */
export function training(epochs: number): RecipeTrain {
  return { batchSize: 32, valFraction: 0.05, augment: AUGMENT, epochs, valMaxSamples: 512 };
}

/**
 * RT-1's action order (arXiv:2212.06817): the terminate (mode) token first,
 * then dx, dy, dz, dyaw, gripper. Decoded last, "terminate" is conditioned on
 * the policy's own guess of the motion; the demos stop moving only at the
 * very end, so a policy that guessed "no motion" terminated on the spot (the
 * first shipped ViT ended every episode after ~5 steps).
 */
export const RT1_ACTION_ORDER = [5, 0, 1, 2, 3, 4];
