// `vlalab recipes [NAME] [--json]`: the registered policy recipes
// (policies/recipes/), and for one of them its config and the commands that
// make its checkpoint.
import { POLICY_DEFAULTS } from '../../policies/config.ts';
import { getRecipe, listRecipes, policyConfig, recipeCommands } from '../../policies/registry.ts';
import { trainPreset } from '../train/presets.ts';

/** One line per recipe: name, shipped checkpoint or variant, description. */
export function recipeList(): string[] {
  const names = listRecipes();
  const w = Math.max(...names.map((n) => n.length));
  return names.map((n) => {
    const r = getRecipe(n);
    return `${n.padEnd(w)}  ${(r.shipped ? `checkpoints/${n}` : 'variant').padEnd(w + 12)}  ${r.description}`;
  });
}

/** Everything about one recipe as plain data: its resolved config, training settings, data, stages and their commands. */
export function recipeJson(name: string) {
  const { create: _create, ...r } = getRecipe(name);
  return { name, ...r, config: policyConfig(name), trainPreset: trainPreset(name), commands: recipeCommands(name) };
}

/** A reader's view of one recipe: what it is, the config fields it sets apart from the defaults, how `train --policy` runs it, the chain. */
export function recipeText(name: string): string {
  const r = getRecipe(name);
  const p = trainPreset(name);
  const differs = Object.entries(r.defaults).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(POLICY_DEFAULTS[k as keyof typeof POLICY_DEFAULTS]));
  return [
    `${name}: ${r.description}`,
    r.shipped ? `shipped as checkpoints/${name}` : 'a variant (no shipped checkpoint)',
    '',
    'policy config (fields apart from POLICY_DEFAULTS; `--json` prints all):',
    ...differs.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`),
    '',
    `train --policy ${name}: batch ${p.batchSize}, validation ${p.valFraction}, ${p.train.maxSteps} steps, lr ${p.train.lr}, epochs ${p.train.epochs}, validate every ${p.train.valEverySteps}, augment ${JSON.stringify(p.augment)}`,
    '',
    `how ${r.shipped ? `checkpoints/${name}` : 'it'} was made${r.needs?.length ? ` (after ${r.needs.join(', ')})` : ''}:`,
    ...recipeCommands(name),
  ].join('\n');
}
