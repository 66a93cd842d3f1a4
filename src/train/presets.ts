// Training presets: what `vlalab train --policy NAME` runs when no flag says
// otherwise — the recipe NAME (policies/recipes/): the policy config is the
// recipe's (policies/registry.ts builds it), and batch, validation share,
// augmentation, epochs and the schedule (steps, peak learning rate,
// validation interval) are those of the recipe's first fresh run. For a
// shipped recipe that run starts the chain that made checkpoints/NAME; the
// whole chain (continuations, warm starts, --set, export) is `vlalab recipes
// NAME` and docs/checkpoints.md. Throughput behind the budgets:
// docs/training.md ("Presets").
import { firstRun, getRecipe, listRecipes, type RecipeData } from '../../policies/registry.ts';
import { TextTokenizer } from '../../policies/textTokenizer.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { episodeOrder } from '../../tasks/suite.ts';
import { AUGMENT_DEFAULTS, type AugmentConfig } from './augment.ts';
import type { TrainConfig } from './trainer.ts';

export interface TrainPreset {
  train: Partial<TrainConfig>;
  batchSize: number;
  /** Share of the demo episodes held out for validation. */
  valFraction: number;
  augment: AugmentConfig;
}

function presetOf(name: string): TrainPreset {
  const r = getRecipe(name);
  const s = firstRun(name);
  const augment: AugmentConfig = { ...r.train.augment };
  return {
    train: { epochs: r.train.epochs, maxSteps: s.steps, lr: s.lr, valEverySteps: s.valEvery, valMaxSamples: r.train.valMaxSamples },
    batchSize: r.train.batchSize,
    valFraction: r.train.valFraction,
    augment,
  };
}

export const TRAIN_PRESETS: Record<string, TrainPreset> = Object.fromEntries(listRecipes().map((n) => [n, presetOf(n)]));

export function trainPreset(policy: string): TrainPreset {
  return structuredClone(TRAIN_PRESETS[policy] ?? { train: {}, batchSize: 32, valFraction: 0.1, augment: AUGMENT_DEFAULTS });
}

const vocabularies = new Map<string, string[]>();

/**
 * The word vocabulary a recipe's demos give its policy: that of the
 * instructions of the episodes `vlalab collect` records for it (the split's
 * run order, first `episodes`). Training fits it to the successful training
 * episodes' instructions; on the tabletop train split both are the same
 * words (tests/policies/recipes.test.ts checks the shipped ones). Lets
 * `bench --only models` build exactly the shipped shapes without the data.
 */
export function recipeVocabulary(name: string): string[] {
  const data: RecipeData = getRecipe(name).data;
  const key = JSON.stringify([data.suite, data.split, data.episodes]);
  let v = vocabularies.get(key);
  if (!v) {
    const suite = resolveSuite(data.suite);
    const refs = episodeOrder(suite, data.split).slice(0, data.episodes);
    v = TextTokenizer.fromCorpus(refs.map((r) => sampleEpisode(suite, r.task, data.split, r.seed).instruction)).vocab;
    vocabularies.set(key, v);
  }
  return [...v];
}
