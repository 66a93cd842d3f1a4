// Policy recipes: one name, one model.
//
// A recipe is everything that makes a named policy, as plain data kept beside
// the policy code (LeRobot keeps configuration_<policy>.py beside
// modeling_<policy>.py): the policy config (architecture, training signals,
// decoding), the demos it learns from, the training settings, and the chain
// of runs that produced its checkpoint. Each recipe file registers its
// variants next to each other, timm-style:
//   register('efficientnet-film', { defaults: {...}, create: (cfg) => new VlaPolicy(cfg), ... });
// and policies/registry.ts is the one entry point (createPolicy(name, overrides)).
//
// A shipped recipe's `defaults` are the full config of checkpoints/<name>/
// (tests/policies/recipes.test.ts fails when the two drift apart), so
// `createPolicy(name)`, `vlalab train --policy name` and `bench --only models`
// all mean the model that ships. What the config leaves out is what a run
// fits to its data (DATA_FIELDS below).
//
// This module imports no recipe file (that would be an import cycle):
// import policies/registry.ts to get every recipe registered.
import { POLICY_DEFAULTS, type VlaPolicyConfig } from '../config.ts';
import type { PointEstimate } from '../gpt.ts';
import type { VlaPolicy } from '../policy.ts';

/**
 * Config fields a training run fits to its demos instead of taking them from
 * the recipe: the word vocabulary (TextTokenizer.fromCorpus over the training
 * instructions), the action tokenizer's per-dimension bounds (the dataset's
 * recorded action bounds; the bin count, `bins`, stays in the recipe) and
 * the proprio normalization (mean/std fitted on the training demos).
 * src/train/node.ts sets them; the recipe leaves them at their defaults.
 */
export const DATA_FIELDS = ['vocab', 'actionLow', 'actionHigh', 'proprioMean', 'proprioStd'] as const;
export type DataField = (typeof DATA_FIELDS)[number];

/** Every policy config field a recipe decides: a shipped recipe spells all of them out. */
export type ModelConfig = Omit<VlaPolicyConfig, DataField>;

/** The demos: `vlalab collect` with these settings. */
export interface RecipeData {
  suite: string;
  split: string;
  episodes: number;
  /** DART noise (collect --noise): the expert's executed dx/dy get Gaussian noise of this x the action bound. */
  noise: number;
  /** Dataset directory. */
  out: string;
}

/** Random shift (px) and colour jitter of the training frames (src/train/augment.ts AugmentConfig). */
export interface RecipeAugment {
  shift: number;
  brightness: number;
  contrast: number;
  saturation: number;
}

/** Settings every training run of a recipe shares. */
export interface RecipeTrain {
  batchSize: number;
  /** Share of the demo episodes held out for validation. */
  valFraction: number;
  augment: RecipeAugment;
  /** Passes over the training steps; each stage's `steps` caps the run first. */
  epochs: number;
  /** Validation steps per validation. */
  valMaxSamples: number;
}

export type WarmStartPart = 'backbone' | 'decoder';

/** One `vlalab train` run. */
export interface TrainStage {
  kind: 'train';
  /** Checkpoint directory of the run. */
  out: string;
  /** Registry name the run trains (default: the recipe's). `--init-from` only continues a checkpoint of the same name. */
  policy?: string;
  /** Continue this checkpoint (its config and weights, plus `set`), with a new schedule. */
  initFrom?: string;
  /** Fresh policy from the recipe, these parts copied from other checkpoints. */
  warmStart?: { part: WarmStartPart; from: string }[];
  steps: number;
  /** Peak learning rate (AdamW; linear warmup, cosine decay). */
  lr: number;
  /** Validate every N steps. */
  valEvery: number;
  /** `--image-size`: input resolution of this run. */
  imageSize?: number;
  /** `--set` overrides of policy config fields for this run. */
  set?: Partial<ModelConfig>;
  /**
   * Where the run lived when the shipped checkpoint was made, as the
   * checkpoint's config.json and metrics.init.jsonl name it (the tests check
   * the chain against those records).
   */
  recordedAs?: string;
  /** What the run is and why (its name in results/, what it changed). */
  note?: string;
}

/** One `vlalab export` (F16 weights, the decoding point estimate). */
export interface ExportStage {
  kind: 'export';
  checkpoint: string;
  out: string;
  f16: boolean;
  /** `--decode`: the point estimate the exported config decodes with (default: the checkpoint's). */
  decode?: PointEstimate;
  recordedAs?: string;
  note?: string;
}

export type Stage = TrainStage | ExportStage;

export interface Recipe {
  /** One line: what the model is. */
  description: string;
  /** checkpoints/<name>/ holds this recipe's weights (the drift tests compare the two). */
  shipped: boolean;
  /** The policy config, every field but DATA_FIELDS. */
  defaults: ModelConfig;
  /** Build the model from a fully resolved config. */
  create: (config: VlaPolicyConfig) => VlaPolicy;
  data: RecipeData;
  train: RecipeTrain;
  /** Recipes whose outputs this chain starts from (warm starts, continued checkpoints): made first. */
  needs?: string[];
  /**
   * How the named checkpoint was made, in order. The first train stage of
   * the recipe's own name without initFrom is what `vlalab train --policy
   * <name>` runs by default (src/train/presets.ts).
   */
  stages: Stage[];
}

const recipes = new Map<string, Recipe>();

/** Recipes are shared constants (one variant spreads another's): nothing may change them after registration. */
function deepFreeze<T>(x: T): T {
  if (x && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

export function register(name: string, recipe: Recipe): void {
  if (recipes.has(name)) throw new Error(`policy recipe '${name}' is already registered`);
  for (const k of Object.keys(recipe.defaults)) {
    if (!(k in POLICY_DEFAULTS)) throw new Error(`policy recipe '${name}': unknown config field '${k}'`);
    if ((DATA_FIELDS as readonly string[]).includes(k)) throw new Error(`policy recipe '${name}': '${k}' is fitted to the data, not set by a recipe`);
  }
  recipes.set(name, deepFreeze(recipe));
}

export function getRecipe(name: string): Recipe {
  const r = recipes.get(name);
  if (!r) throw new Error(`unknown policy '${name}'. Registered: ${listRecipes().join(', ') || '(none: import policies/registry.ts)'}`);
  return r;
}

export function listRecipes(filter?: { shipped?: boolean }): string[] {
  return [...recipes].filter(([, r]) => filter?.shipped === undefined || r.shipped === filter.shipped).map(([n]) => n).sort();
}

/** The train stage `vlalab train --policy <name>` takes its schedule from: the recipe's first fresh run of its own name. */
export function firstRun(name: string): TrainStage {
  const s = getRecipe(name).stages.find((x): x is TrainStage => x.kind === 'train' && (x.policy ?? name) === name && !x.initFrom);
  if (!s) throw new Error(`policy recipe '${name}' has no fresh training run of its own name`);
  return s;
}

const CLI = 'npm run vlalab --';

/** A --set value as the shell passes it: numbers and booleans bare, anything else as quoted JSON. */
function shellJson(v: unknown): string {
  const j = JSON.stringify(v);
  return typeof v === 'number' || typeof v === 'boolean' ? j : `'${j}'`;
}

/** The `vlalab` command line of one stage of recipe `name`. */
export function stageCommand(name: string, stage: Stage): string {
  const data = getRecipe(name).data;
  if (stage.kind === 'export') return `${CLI} export --checkpoint ${stage.checkpoint} --out ${stage.out}${stage.f16 ? ' --f16' : ''}${stage.decode ? ` --decode ${stage.decode}` : ''}`;
  const a = [`${CLI} train --policy ${stage.policy ?? name} --data ${data.out}`];
  if (stage.initFrom) a.push(`--init-from ${stage.initFrom}`);
  a.push(`--out ${stage.out} --steps ${stage.steps} --lr ${stage.lr} --val-every ${stage.valEvery}`);
  if (stage.imageSize !== undefined) a.push(`--image-size ${stage.imageSize}`);
  for (const [k, v] of Object.entries(stage.set ?? {})) a.push(`--set ${k}=${shellJson(v)}`);
  for (const w of stage.warmStart ?? []) a.push(`--warm-start ${w.part}=${w.from}`);
  return a.join(' ');
}

/** The `vlalab collect` command of a recipe's demos. */
export function collectCommand(data: RecipeData): string {
  return `${CLI} collect --suite ${data.suite} --split ${data.split} --episodes ${data.episodes} --noise ${data.noise} --out ${data.out}`;
}

/**
 * Every command that makes the named recipes' checkpoints, in an order that
 * works: the demos first, then each recipe after the ones it needs (each
 * recipe once).
 */
export function recipeCommands(...names: string[]): string[] {
  const done = new Set<string>();
  const out: string[] = [];
  const add = (name: string, path: string[]) => {
    if (done.has(name)) return;
    if (path.includes(name)) throw new Error(`policy recipes need each other: ${[...path, name].join(' -> ')}`);
    const r = getRecipe(name);
    for (const n of r.needs ?? []) add(n, [...path, name]);
    const collect = collectCommand(r.data);
    if (!out.includes(collect)) out.unshift(collect);
    for (const s of r.stages) out.push(stageCommand(name, s));
    done.add(name);
  };
  for (const n of names) add(n, []);
  return out;
}
