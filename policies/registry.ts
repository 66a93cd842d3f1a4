// Policy registry: one name, one model. Every name is a recipe
// (policies/recipes/: the policy config beside its data, training settings and
// the chain of runs that made its checkpoint), and a shipped name's config is
// exactly checkpoints/<name>/config.json's (tests/policies/recipes.test.ts):
//   'efficientnet-film'     RT-1 style (arXiv:2212.06817): FiLM-EfficientNet + TokenLearner (8 tokens
//                           per camera), language only through FiLM, GPT decoder over action tokens
//   'vit-siglip'            RT-1's token path on a SigLIP-style ViT (FiLM per block + TokenLearner,
//                           no language tokens in the decoder) with the CNN's decoder recipe
//   'efficientnet-film-64'  the CNN before the role loss and the 96 px input (runs cnn-1 ... cnn-4)
//   'vit-siglip-openvla'    OpenVLA style (arXiv:2406.09246): ViT patch tokens + language tokens in
//                           the decoder (the first shipped ViT, vit-2)
// Any name takes overrides, e.g. createPolicy('efficientnet-film', { blind: true }) zeros the images.
// Fields a run fits to its demos (vocabulary, action bounds, proprio statistics:
// DATA_FIELDS) keep their defaults here; training sets them.
import { POLICY_DEFAULTS, type VlaPolicyConfig } from './config.ts';
import type { VlaPolicy } from './policy.ts';
import './recipes/efficientnet-film.ts';
import './recipes/vit-siglip.ts';
import { getRecipe, listRecipes } from './recipes/recipe.ts';

export { DATA_FIELDS, collectCommand, firstRun, getRecipe, listRecipes, recipeCommands, stageCommand, type ModelConfig, type Recipe, type RecipeData, type Stage, type TrainStage } from './recipes/recipe.ts';

export function listPolicies(): string[] {
  return listRecipes();
}

/** Resolved config of a recipe with overrides (unknown fields rejected). */
export function policyConfig(name: string, overrides: Partial<VlaPolicyConfig> = {}): VlaPolicyConfig {
  const recipe = getRecipe(name);
  for (const k of Object.keys(overrides)) {
    if (!(k in POLICY_DEFAULTS)) throw new Error(`policy '${name}': unknown config field '${k}'`);
  }
  return structuredClone({ ...POLICY_DEFAULTS, ...recipe.defaults, ...overrides });
}

export function createPolicy(name: string, overrides: Partial<VlaPolicyConfig> = {}): VlaPolicy {
  return getRecipe(name).create(policyConfig(name, overrides));
}
