// One name, one model (issue 24): a shipped name's recipe is exactly its
// checkpoint. Fails when policies/recipes/ and checkpoints/<name>/ drift
// apart — in the config, the parameter count, the weight shapes, the data,
// the training settings, or the chain of runs the checkpoint records.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DEFAULTS, type VlaPolicyConfig } from '../../policies/config.ts';
import { VlaPolicy } from '../../policies/policy.ts';
import { DATA_FIELDS, type Stage, type TrainStage, createPolicy, getRecipe, listPolicies, listRecipes, policyConfig, recipeCommands } from '../../policies/registry.ts';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { benchModelInfo } from '../../src/cli/benchModels.ts';
import { AUGMENT_DEFAULTS } from '../../src/train/augment.ts';
import { PLAN_DIM, PLAN_HIGH, PLAN_LOW } from '../../src/train/auxTargets.ts';
import { WARM_START_PARTS, loadCheckpoint } from '../../src/train/checkpoint.ts';
import { recipeVocabulary, trainPreset } from '../../src/train/presets.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const vlalab = (args: string[]) => spawnSync(process.execPath, ['bin/vlalab.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const readJson = (f: string): Json => JSON.parse(readFileSync(f, 'utf8'));
/** A recorded config as the loader resolves it (fields added since take their defaults). */
const resolved = (c: Partial<VlaPolicyConfig>): VlaPolicyConfig => ({ ...POLICY_DEFAULTS, ...structuredClone(c) });
/**
 * The fields a run fits to its demos (policies/recipes/recipe.ts DATA_FIELDS:
 * vocabulary, action bounds, proprio statistics) are the only ones a recipe
 * leaves out; they are taken from the checkpoint and checked against the
 * recipe's data separately below.
 */
const dataOf = (c: VlaPolicyConfig) => Object.fromEntries(DATA_FIELDS.map((k) => [k, c[k]])) as Partial<VlaPolicyConfig>;

/** Per stage output, the config the chain gives it: a fresh run is the recipe + --set, a continuation its source's config + --set. */
function chainConfigs(name: string): Map<string, VlaPolicyConfig> {
  const out = new Map<string, VlaPolicyConfig>();
  const walk = (n: string) => {
    const r = getRecipe(n);
    for (const need of r.needs ?? []) walk(need);
    for (const s of r.stages) {
      if (s.kind === 'export') out.set(s.out, { ...out.get(s.checkpoint)!, ...(s.decode ? { decodePoint: s.decode } : {}) });
      else {
        const set = { ...s.set, ...(s.imageSize !== undefined ? { imageSize: s.imageSize } : {}) };
        out.set(s.out, s.initFrom ? { ...out.get(s.initFrom)!, ...set } : policyConfig(s.policy ?? n, set));
      }
    }
  };
  walk(name);
  return out;
}

/** Every stage of a recipe and the recipes it needs, by output directory. */
function stagesByOut(name: string): Map<string, { stage: Stage; recipe: string }> {
  const out = new Map<string, { stage: Stage; recipe: string }>();
  const walk = (n: string) => {
    for (const need of getRecipe(n).needs ?? []) walk(need);
    for (const s of getRecipe(n).stages) out.set(s.out, { stage: s, recipe: n });
  };
  walk(name);
  return out;
}

/** The train stages whose checkpoints `dir` continues, earliest first, each with the directory --init-from named. */
function lineage(name: string, dir: string): { dir: string; stage: TrainStage }[] {
  const by = stagesByOut(name);
  const chain: { dir: string; stage: TrainStage }[] = [];
  let d: string | undefined = dir;
  while (d) {
    let s: Stage = by.get(d)!.stage;
    while (s.kind === 'export') s = by.get(s.checkpoint)!.stage;
    chain.unshift({ dir: d, stage: s });
    d = s.initFrom;
  }
  return chain;
}

const SHIPPED = listRecipes({ shipped: true });

describe('policy recipes', () => {
  it('the shipped checkpoints each have a recipe of their name; the variants keep their own names', () => {
    expect(SHIPPED).toEqual(['efficientnet-film', 'vit-siglip']);
    expect(listPolicies()).toEqual(['efficientnet-film', 'efficientnet-film-64', 'vit-siglip', 'vit-siglip-openvla']);
    expect(policyConfig('vit-siglip').useTextTokens).toBe(false);
    expect(policyConfig('vit-siglip-openvla')).toMatchObject({ backbone: 'siglip_tiny_patch8_96', useTextTokens: true });
    expect(policyConfig('efficientnet-film-64').imageSize).toBe(64);
  });

  for (const name of SHIPPED) {
    it(`${name}: createPolicy('${name}') is checkpoints/${name} (config, parameters, weight shapes, FLOPs)`, async () => {
      const dir = `checkpoints/${name}`;
      const { policy: loaded, config: ckpt } = await loadCheckpoint(dir);
      expect(ckpt.policy.name).toBe(name);
      const recipe = getRecipe(name);
      // Field by field first, so a drift names its field.
      const recorded = resolved(ckpt.policy.config);
      for (const [k, v] of Object.entries(recipe.defaults)) expect(v, `${name}.${k}`).toEqual(recorded[k as keyof VlaPolicyConfig]);
      // Loading rebuilds from the checkpoint's config alone; the recipe with the checkpoint's data fields is the same config.
      const built = createPolicy(name, dataOf(loaded.config));
      try {
        expect(built.config).toEqual(loaded.config);
        expect(built.paramCount()).toEqual(ckpt.policy.params);
        expect(loaded.paramCount()).toEqual(ckpt.policy.params);
        const shapes = (p: VlaPolicy) => Object.fromEntries(Object.entries(p.namedWeights()).map(([k, w]) => [k, w.shape]));
        expect(shapes(built)).toEqual(shapes(loaded));
        // The models bench builds the same shapes from the recipe's data alone.
        const info = benchModelInfo(name);
        expect(info).toEqual({
          backbone: ckpt.policy.backbone, imageSize: loaded.imageSize, cameras: loaded.config.cameras, params: ckpt.policy.params,
          flopsPerFrame: loaded.backbone.flopsPerFrame(loaded.imageSize, loaded.imageSize),
        });
      } finally {
        built.dispose();
        loaded.dispose();
      }
    });

    it(`${name}: the recipe's data and training settings are the checkpoint's records`, () => {
      const ckpt = readJson(`checkpoints/${name}/config.json`);
      const r = getRecipe(name);
      const c = ckpt.policy.config as VlaPolicyConfig;
      // Data fields: what the recipe's demos give.
      expect(recipeVocabulary(name)).toEqual(c.vocab);
      expect([c.actionLow, c.actionHigh]).toEqual([Array.from(ACTION_LOW), Array.from(ACTION_HIGH)]);
      expect(c.proprioMean).toHaveLength(c.proprioDim); // fitted on the demos
      expect(ckpt.dataset).toMatchObject({ location: r.data.out, suite: r.data.suite, split: r.data.split, episodes: r.data.episodes });
      // The last run's settings.
      const args = ckpt.training.args;
      const final = r.stages.at(-1)!;
      expect(final).toMatchObject({ kind: 'export', out: `checkpoints/${name}`, f16: true, decode: r.defaults.decodePoint });
      expect(ckpt.weights.dtype).toBe('F16');
      const last = lineage(name, final.kind === 'export' ? final.checkpoint : '').at(-1)!.stage;
      expect({ batchSize: args.batchSize, valFraction: args.valFraction, augment: args.augment, seed: args.seed })
        .toEqual({ batchSize: r.train.batchSize, valFraction: r.train.valFraction, augment: r.train.augment, seed: r.defaults.seed });
      expect(args.train).toMatchObject({ epochs: r.train.epochs, maxSteps: last.steps, lr: last.lr, valEverySteps: last.valEvery, valMaxSamples: r.train.valMaxSamples });
      expect(args.initFrom).toBe(stagesByOut(name).get(last.initFrom!)!.stage.recordedAs);
    });

    it(`${name}: the stage chain is the one checkpoints/${name}/metrics.init.jsonl recorded`, () => {
      const r = getRecipe(name);
      const final = r.stages.at(-1)!;
      const chain = lineage(name, final.kind === 'export' ? final.checkpoint : '');
      // Each continued run's curve is tagged with the directory --init-from named; its last step is the run's length.
      const lines = readFileSync(`checkpoints/${name}/metrics.init.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { run: string; step: number });
      const runs = [...new Set(lines.map((l) => l.run))].map((run) => ({ run, steps: Math.max(...lines.filter((l) => l.run === run).map((l) => l.step)) }));
      const by = stagesByOut(name);
      expect(chain.slice(0, -1).map((c) => ({ run: by.get(c.dir)!.stage.recordedAs, steps: c.stage.steps }))).toEqual(runs);
      // The final config is what the chain's --set / --image-size steps add up to.
      expect(chainConfigs(name).get(`checkpoints/${name}`)).toEqual(policyConfig(name));
    });
  }

  it('the chain reproduces the recorded intermediate runs: roleA, roleC, roleG (results/role-loss/) and the 64 px CNN', () => {
    const configs = chainConfigs('efficientnet-film');
    const model = (c: VlaPolicyConfig) => Object.fromEntries(Object.entries(c).filter(([k]) => !(DATA_FIELDS as readonly string[]).includes(k)));
    const by = stagesByOut('efficientnet-film');
    for (const [out, run] of [['runs/role-a', 'roleA'], ['runs/role-c', 'roleC'], ['runs/role-g', 'roleG']]) {
      const rec = readJson(`results/role-loss/runs/${run}/config.json`);
      expect(model(configs.get(out)!), out).toEqual(model(resolved(rec.policy.config)));
      const s = by.get(out)!.stage as TrainStage;
      expect(rec.training.args.train, out).toMatchObject({ maxSteps: s.steps, lr: s.lr, valEverySteps: s.valEvery });
      expect(rec.training.args.initFrom, out).toBe(by.get(s.initFrom!)!.stage.recordedAs);
    }
    expect(model(configs.get('runs/cnn-4-f16')!)).toEqual(model(policyConfig('efficientnet-film-64')));
  });

  it('the variants are the models their names trained (results/sample-efficiency/ checkpoints, trained by the presets of these names before issue 24)', () => {
    for (const [name, run] of [['efficientnet-film-64', 'efficientnet-film-400demos'], ['vit-siglip-openvla', 'vit-siglip-400demos']]) {
      const rec = readJson(`results/sample-efficiency/checkpoints/${run}/config.json`);
      const config = resolved(rec.policy.config);
      const p = createPolicy(name, dataOf(config));
      try {
        expect(p.config, name).toEqual(config);
        expect(p.paramCount(), name).toEqual(rec.policy.params);
      } finally {
        p.dispose();
      }
      expect({ batchSize: rec.training.args.batchSize, valFraction: rec.training.args.valFraction, augment: rec.training.args.augment })
        .toEqual({ batchSize: getRecipe(name).train.batchSize, valFraction: getRecipe(name).train.valFraction, augment: getRecipe(name).train.augment });
      expect(benchModelInfo(name).backbone).toBe(config.backbone);
    }
    const v = policyConfig('vit-siglip-openvla');
    expect([v.planDims, v.planLow, v.planHigh]).toEqual([PLAN_DIM, PLAN_LOW, PLAN_HIGH]); // the plan targets' layout
  });

  for (const name of listRecipes()) {
    it(`${name}: well-formed recipe (fields, stages, sources, the default run)`, () => {
      const r = getRecipe(name);
      // Every config field but the data fields is decided (a new config field must be decided here too).
      expect(Object.keys(r.defaults).sort()).toEqual(Object.keys(POLICY_DEFAULTS).filter((k) => !(DATA_FIELDS as readonly string[]).includes(k)).sort());
      expect(Object.keys(r.train.augment).sort()).toEqual(Object.keys(AUGMENT_DEFAULTS).sort());
      for (const k of ['batchSize', 'epochs', 'valMaxSamples'] as const) expect(Number.isInteger(r.train[k]) && r.train[k] > 0, k).toBe(true);
      expect(r.train.valFraction > 0 && r.train.valFraction < 1).toBe(true);
      expect(Number.isInteger(r.data.episodes) && r.data.episodes > 0 && r.data.noise >= 0).toBe(true);
      for (const n of r.needs ?? []) expect(listRecipes()).toContain(n);
      const by = stagesByOut(name);
      const made = new Set<string>();
      const outs = r.stages.map((s) => s.out);
      expect(new Set(outs).size, 'stage outputs are distinct').toBe(outs.length);
      const available = (dir: string) => made.has(dir) || (r.needs ?? []).some((n) => stagesByOut(n).has(dir));
      const TRAIN_KEYS = ['kind', 'out', 'policy', 'initFrom', 'warmStart', 'steps', 'lr', 'valEvery', 'imageSize', 'set', 'recordedAs', 'note'];
      const EXPORT_KEYS = ['kind', 'checkpoint', 'out', 'f16', 'decode', 'recordedAs', 'note'];
      for (const s of r.stages) {
        if (s.kind === 'export') {
          for (const k of Object.keys(s)) expect(EXPORT_KEYS, `${s.out}: ${k}`).toContain(k);
          expect(available(s.checkpoint), `${s.out} exports ${s.checkpoint}, made before it`).toBe(true);
          if (s.decode) expect(['argmax', 'median', 'mean']).toContain(s.decode);
        } else {
          for (const k of Object.keys(s)) expect(TRAIN_KEYS, `${s.out}: ${k}`).toContain(k);
          expect(Number.isInteger(s.steps) && s.steps > 0, `${s.out}: steps`).toBe(true);
          expect(Number.isFinite(s.lr) && s.lr > 0, `${s.out}: lr`).toBe(true);
          expect(Number.isInteger(s.valEvery) && s.valEvery > 0, `${s.out}: valEvery`).toBe(true);
          if (s.imageSize !== undefined) expect(Number.isInteger(s.imageSize) && s.imageSize > 0).toBe(true);
          for (const k of Object.keys(s.set ?? {})) expect(k in POLICY_DEFAULTS && !(DATA_FIELDS as readonly string[]).includes(k), `${s.out}: --set ${k}`).toBe(true);
          const policy = s.policy ?? name;
          expect(listRecipes()).toContain(policy);
          for (const w of s.warmStart ?? []) {
            expect(WARM_START_PARTS).toContain(w.part);
            expect(available(w.from), `${s.out} warm-starts from ${w.from}, made before it`).toBe(true);
          }
          expect(s.initFrom && s.warmStart?.length, `${s.out}: --init-from and --warm-start exclude each other`).toBeFalsy();
          if (s.initFrom) {
            expect(available(s.initFrom), `${s.out} continues ${s.initFrom}, made before it`).toBe(true);
            // --init-from continues only a checkpoint of the same registry name.
            let src: Stage = by.get(s.initFrom)!.stage;
            while (src.kind === 'export') src = by.get(src.checkpoint)!.stage;
            expect(src.policy ?? by.get(src.out)!.recipe, `${s.out} continues ${s.initFrom}`).toBe(policy);
          }
          // The run's config can be built (--set of known values).
          expect(() => new VlaPolicy({ ...chainConfigs(name).get(s.out)! }).dispose()).not.toThrow();
        }
        made.add(s.out);
      }
      // `vlalab train --policy <name>` runs the recipe's first fresh run of its own name.
      const first = r.stages.find((s): s is TrainStage => s.kind === 'train' && (s.policy ?? name) === name && !s.initFrom)!;
      expect(trainPreset(name)).toEqual({
        train: { epochs: r.train.epochs, maxSteps: first.steps, lr: first.lr, valEverySteps: first.valEvery, valMaxSamples: r.train.valMaxSamples },
        batchSize: r.train.batchSize, valFraction: r.train.valFraction, augment: r.train.augment,
      });
    });
  }

  it('`vlalab recipes` lists the recipes; with a name it prints the config, the default run and the chain', () => {
    const list = vlalab(['recipes']);
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2))).toEqual([
      ['efficientnet-film', 'checkpoints/efficientnet-film'], ['efficientnet-film-64', 'variant'], ['vit-siglip', 'checkpoints/vit-siglip'], ['vit-siglip-openvla', 'variant'],
    ]);
    const one = vlalab(['recipes', 'vit-siglip']);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toContain('  backbone: "siglip_film_tl8_patch16_96"\n');
    expect(one.stdout).toContain('train --policy vit-siglip: batch 32, validation 0.05, 2800 steps, lr 0.0005, epochs 3');
    expect(one.stdout.trim().endsWith(recipeCommands('vit-siglip').join('\n'))).toBe(true);
    const json = JSON.parse(vlalab(['recipes', 'efficientnet-film', '--json']).stdout);
    expect(json.config).toEqual(policyConfig('efficientnet-film'));
    expect(json.stages).toEqual(getRecipe('efficientnet-film').stages);
    expect(vlalab(['recipes', 'rt-2']).stderr.trim()).toMatch(/^vlalab: unknown policy 'rt-2'. Registered: efficientnet-film, efficientnet-film-64, vit-siglip, vit-siglip-openvla$/);
  });

  it('docs/checkpoints.md shows the shipped recipes\' command chain as the recipes render it', () => {
    const doc = readFileSync('docs/checkpoints.md', 'utf8');
    expect(doc).toContain('```sh\n' + recipeCommands(...SHIPPED).join('\n') + '\n```');
  });
});
