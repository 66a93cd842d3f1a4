// vlalab command line. Each command lives in its own module; this file only
// parses arguments and prints results. Errors print one clear line, exit 1.
import { parseChunkExecution } from '../../policies/chunkExecution.ts';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { collect } from '../collect/runner.ts';
import { InterruptedError, setIdleSignalHandler } from '../runtime/interrupt.ts';
import { glueNegativeValues } from './args.ts';
import { POINT_ESTIMATES, isPointEstimate, type PointEstimate } from '../../policies/gpt.ts';

type Handler = (args: string[]) => Promise<void>;

const HELP = `vlalab — robot VLA policy simulator with pluggable vision backbones

usage: vlalab <command> [options]      (npm run vlalab -- <command> ...)

commands:
  collect   record scripted-expert demonstrations for a suite split (headless Chromium)
  video     dump a recorded episode as PNG frames (+ MP4 when ffmpeg exists)
  train     behavior-cloning training of a policy on recorded demos (resumable checkpoints)
  eval      evaluate policies on a suite split (success with 95% CI, latency), resumable, shardable
  merge     combine sharded eval runs into one report
  compare   paired comparison of two policies' eval episodes (exact McNemar, verdict per task; exit 1 on a regression)
  export    rewrite a checkpoint for shipping (F16 weights, no optimizer state)
  export-dataset  write a demo dataset in another format (LeRobotDataset v3: Parquet + MP4)
  analyze   backbone analysis experiments (cost vs resolution, ...), JSON + HTML reports
  envs      list registered environment ids and suites
  recipes   list the policy recipes; with a name, its config and the commands that made its checkpoint
  bench     benchmarks, JSON on stdout

run "vlalab <command> --help" for its options.`;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, help: string) {
  const { values, positionals } = parseArgs({ args: glueNegativeValues(args, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if ((values as { help?: boolean }).help) {
    console.log(help);
    process.exit(0);
  }
  return { values: values as Record<string, string | boolean | undefined>, positionals };
}

function int(v: string | boolean | undefined, name: string, dflt?: number): number {
  if (v === undefined) {
    if (dflt === undefined) throw new Error(`--${name} is required`);
    return dflt;
  }
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** A count that must be at least 1 (episodes, workers). */
function positive(v: string | boolean | undefined, name: string, dflt?: number): number {
  if (v === undefined && dflt !== undefined) return dflt;
  const n = int(v === undefined ? undefined : String(v).trim() === '' ? 'x' : v, name);
  if (n < 1) throw new Error(`--${name} must be at least 1, got "${v}"`);
  return n;
}

/** --decode: greedy decoding's point estimate (policies/gpt.ts), or undefined to keep each checkpoint's. */
function decodePoint(v: string | boolean | undefined): PointEstimate | undefined {
  if (v === undefined) return undefined;
  if (!isPointEstimate(v)) throw new Error(`--decode must be ${POINT_ESTIMATES.join(' or ')}, got "${v}"`);
  return v;
}

/** An optional number in [0, 1] (default 0). */
function fraction(v: string | boolean | undefined, name: string): number {
  if (v === undefined) return 0;
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) throw new Error(`--${name} must be a number in [0, 1], got "${v}"`);
  return x;
}

const commands: Record<string, Handler> = {
  async collect(args) {
    const help = `vlalab collect --suite <name|file.json> --split <split> --episodes N [options]
  --out DIR            dataset directory (default data/<suite>-<split>)
  --tasks a,b          only these tasks (default: all tasks of the suite, interleaved)
  --resolution PX      camera resolution (default 96)
  --noise S            DART noise injection: execute the expert's dx/dy plus Gaussian noise of S x the
                       action bound (0.1 = 2.5 mm per step), record its clean actions (default 0)
  --randomize-appearance
                       render each episode under its own lights, table top and camera jitter, drawn
                       from its seed (domain randomization; ranges in sim/render/randomization.ts)
  --offset N           skip the first N episodes of the split's order (a disjoint set of seeds)
  --policy DIR         DAgger: this checkpoint drives the episodes and the expert labels every state
                       it reaches (trained on whatever the outcome; docs/learning.md#dagger)
  --beta B             DAgger: probability per step that the expert's action is executed instead (default 0)
  --workers K          parallel headless pages (default 1)
  --video DIR          also dump the first --video-episodes episodes as PNG frames
  --video-episodes N   how many episodes to dump (default 3)
  --chromium PATH      Chromium executable (default $VLALAB_CHROMIUM or /usr/bin/chromium)
Reruns resume: completed episodes in DIR are kept and skipped.`;
    const { values: v } = parse(args, {
      suite: { type: 'string', default: 'tabletop' }, split: { type: 'string', default: 'train' }, episodes: { type: 'string' },
      out: { type: 'string' }, tasks: { type: 'string' }, resolution: { type: 'string' }, workers: { type: 'string' },
      video: { type: 'string' }, 'video-episodes': { type: 'string' }, chromium: { type: 'string' }, noise: { type: 'string' },
      'randomize-appearance': { type: 'boolean' }, offset: { type: 'string' }, policy: { type: 'string' }, beta: { type: 'string' },
    }, help);
    const suite = String(v.suite), split = String(v.split);
    const summary = await collect({
      suite, split, episodes: positive(v.episodes, 'episodes'),
      out: (v.out as string) ?? `data/${suite.replace(/\.json$/, '').replace(/.*\//, '')}-${split}`,
      tasks: v.tasks ? String(v.tasks).split(',') : undefined,
      resolution: int(v.resolution, 'resolution', 96), noise: fraction(v.noise, 'noise'), workers: positive(v.workers, 'workers', 1),
      video: v.video as string | undefined, videoEpisodes: int(v['video-episodes'], 'video-episodes', 3), chromium: v.chromium as string | undefined,
      randomizeAppearance: v['randomize-appearance'] === true, offset: int(v.offset, 'offset', 0),
      policy: v.policy as string | undefined, beta: v.beta === undefined ? undefined : fraction(v.beta, 'beta'),
    });
    console.log(JSON.stringify(summary, null, 2));
  },

  async video(args) {
    const help = `vlalab video --data DIR --episode <task>-<seed> [--out DIR]
Dumps a recorded episode as PNG frames (cameras side by side), plus MP4 when ffmpeg is on PATH.`;
    const { values: v } = parse(args, { data: { type: 'string' }, episode: { type: 'string' }, out: { type: 'string' } }, help);
    if (!v.data || !v.episode) throw new Error('--data and --episode are required (see vlalab video --help)');
    const { readDatasetInfo, readIndex, readEpisode } = await import('../data/demoStore.ts');
    const { writeEpisodeVideo } = await import('../data/episodeVideo.ts');
    const info = readDatasetInfo(String(v.data));
    const entry = readIndex(String(v.data)).find((e) => `${e.task}-${e.seed}` === v.episode);
    if (!entry) throw new Error(`no episode "${v.episode}" in ${v.data}`);
    const ep = readEpisode(String(v.data), entry, info);
    console.log(writeEpisodeVideo(String(v.out ?? 'videos'), ep, null, info.resolution));
  },

  async train(args) {
    const help = `vlalab train --policy NAME [--data DIR] [--out DIR] [options]
  --policy NAME       a policy recipe: efficientnet-film, vit-siglip (the shipped checkpoints' recipes) or a variant
                      ("vlalab recipes" lists them); its config, batch, augmentation and first run's schedule are the defaults
  --data DIR          demo dataset from "vlalab collect" (default data/tabletop-train)
  --out DIR           checkpoint directory (default checkpoints/<policy>)
  --epochs N          passes over the training steps (default: the recipe's)
  --steps N           stop after N optimizer steps (caps --epochs; the LR schedule spans the run)
  --batch B           batch size (default 32)
  --lr X              peak learning rate (AdamW, linear warmup then cosine decay)
  --warmup N          warmup steps (default 5% of the run, at most 500)
  --val-fraction F    episodes held out for validation (default: the recipe's, 0.05)
  --max-episodes N    use only the first N successful demos (sample-efficiency runs; default all)
  --init-from DIR     start from a checkpoint's config and weights (a longer or second schedule) instead of a fresh init
  --warm-start PART=DIR  fresh policy, but copy PART (backbone|decoder) from checkpoint DIR where names and shapes
                      match (the rest is listed and kept fresh); repeatable
  --val-samples N     validation steps evaluated per epoch (default 1024)
  --save-every N      also checkpoint every N steps (default 200; 0 = epoch ends only)
  --val-every N       also validate every N steps (a metrics.jsonl record with a fractional epoch; default 0 = epoch ends only)
  --seed S            data split, order, augmentation and init seed (default 0)
  --threads N         training threads, one tfjs-wasm replica each (default: all cores, at most one per micro-batch);
                      does not change the result
  --micro-batches S   shards per step: the step averages the gradients of S equal parts of the batch (batch norm sees
                      batch/S samples); threads compute them in parallel (default 2 for new runs; must divide --batch)
  --backend B         wasm|cpu (default wasm)
  --image-size PX     policy input resolution (default: the recipe's)
  --cameras a,b       cameras fed to the policy (default: the recipe's, scene,wrist)
  --blind             zero the images (vision ablation)
  --set key=value     any other policy config field (value as JSON), repeatable
  --no-augment        no random shift / color jitter
  --f16               store the final weights as F16 (half size)
  --keep-optimizer    keep optimizer.safetensors in the final checkpoint
  --resume            continue the run in --out from its last checkpoint (exactly)
Progress goes to stderr; the final metrics are printed as JSON. Ctrl-C saves a checkpoint.`;
    const { values: v } = parse(args, {
      policy: { type: 'string' }, data: { type: 'string' }, out: { type: 'string' }, epochs: { type: 'string' }, steps: { type: 'string' },
      batch: { type: 'string' }, lr: { type: 'string' }, warmup: { type: 'string' }, 'val-fraction': { type: 'string' }, 'val-samples': { type: 'string' }, 'max-episodes': { type: 'string' }, 'init-from': { type: 'string' },
      'warm-start': { type: 'string', multiple: true },
      'save-every': { type: 'string' }, 'val-every': { type: 'string' }, seed: { type: 'string' }, backend: { type: 'string' }, 'image-size': { type: 'string' }, cameras: { type: 'string' },
      blind: { type: 'boolean' }, set: { type: 'string', multiple: true }, 'no-augment': { type: 'boolean' }, f16: { type: 'boolean' },
      'keep-optimizer': { type: 'boolean' }, resume: { type: 'boolean' },
      threads: { type: 'string' }, 'micro-batches': { type: 'string' },
    }, help);
    if (!v.policy) throw new Error('--policy is required (see vlalab train --help)');
    const opt = (name: string) => (v[name] === undefined ? undefined : int(v[name], name));
    const num = (name: string) => {
      if (v[name] === undefined) return undefined;
      const x = Number(v[name]);
      if (!Number.isFinite(x) || x < 0) throw new Error(`--${name} must be a non-negative number, got "${v[name]}"`);
      return x;
    };
    const backend = (v.backend as string | undefined) ?? undefined;
    if (backend !== undefined && backend !== 'wasm' && backend !== 'cpu') throw new Error(`--backend must be wasm or cpu, got "${backend}"`);
    const overrides: Record<string, unknown> = {};
    for (const kv of (v.set as unknown as string[] | undefined) ?? []) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new Error(`--set expects key=value, got "${kv}"`);
      const raw = kv.slice(i + 1);
      try { overrides[kv.slice(0, i)] = JSON.parse(raw); } catch { overrides[kv.slice(0, i)] = raw; }
    }
    if (v['image-size'] !== undefined) overrides.imageSize = int(v['image-size'], 'image-size');
    if (v.cameras !== undefined) overrides.cameras = String(v.cameras).split(',');
    if (v.blind) overrides.blind = true;
    const train: Record<string, number> = {};
    for (const [flag, key] of [['epochs', 'epochs'], ['steps', 'maxSteps'], ['warmup', 'warmupSteps'], ['val-samples', 'valMaxSamples'], ['save-every', 'saveEverySteps'], ['val-every', 'valEverySteps'], ['micro-batches', 'microBatches']] as const) {
      const x = opt(flag);
      if (x !== undefined) train[key] = x;
    }
    if (num('lr') !== undefined) train.lr = num('lr')!;
    const { runTrain } = await import('../train/node.ts');
    const { WARM_START_PARTS } = await import('../train/checkpoint.ts');
    const warmStart = ((v['warm-start'] as unknown as string[] | undefined) ?? []).map((ps) => {
      const i = ps.indexOf('=');
      const part = WARM_START_PARTS.find((p) => p === ps.slice(0, i));
      if (i <= 0 || !part) throw new Error(`--warm-start expects ${WARM_START_PARTS.map((p) => `${p}=DIR`).join(' or ')}, got "${ps}"`);
      return { part, from: ps.slice(i + 1) };
    });
    const policy = String(v.policy);
    const summary = await runTrain({
      policy, data: (v.data as string) ?? 'data/tabletop-train', out: (v.out as string) ?? `checkpoints/${policy}`, resume: Boolean(v.resume),
      batchSize: opt('batch'), seed: opt('seed'), valFraction: num('val-fraction'), maxEpisodes: opt('max-episodes'), initFrom: v['init-from'] as string | undefined, warmStart, backend: backend as 'wasm' | 'cpu' | undefined,
      f16: v.f16 ? true : undefined, keepOptimizer: Boolean(v['keep-optimizer']), train, threads: opt('threads'),
      augment: v['no-augment'] ? { shift: 0, brightness: 0, contrast: 0, saturation: 0 } : undefined,
      policyOverrides: Object.keys(overrides).length ? overrides : undefined,
    });
    console.log(JSON.stringify(summary, null, 2));
  },

  async eval(args) {
    const help = `vlalab eval --policy <checkpoint-dir|name|expert|remote:HOST:PORT|blind:X> [--policy ...] --suite <name|file.json> --split <split> [options]
  remote:HOST:PORT  a policy server in another process or language (docs/remote-policy.md; examples/remote_policy_server.py)
  --episodes N      the first N episodes of the split's fixed list (tasks interleaved; default: all)
  --workers K       parallel headless pages (default 1)
  --backend B       tfjs backend in the inference worker: auto|webgpu|webgl|wasm|cpu (default auto)
  --out DIR         run directory (default runs/<suite>-<split>); rerunning resumes from DIR/episodes.jsonl
  --shard i/n       run only every n-th episode starting at i (0-based): one job of a job array
  --no-baselines    skip the scripted-expert and blind (image zeroed) baselines
  --terminate-on-success   end episodes when the task succeeds (default: the policy must terminate)
  --ignore-terminate       LIBERO protocol: ignore the policies' terminate action; episodes end on success
                           or at the step limit (implies --terminate-on-success)
  --resolution PX   camera resolution (default 96)
  --decode P        greedy decoding of every learned policy: argmax, median or mean (expected value) bin per action token
                    (default: each checkpoint's own; the label gets @P)
  --chunk-exec E    how chunked policies execute their K-step chunks: open_loop (all K, then re-plan),
                    receding:m (re-plan every m <= K steps), ensemble[:decay] (predict every step, ACT's
                    temporal ensembling, decay default 0.01); default: each checkpoint's own; the label gets @E
  --video DIR       also write what each learned policy saw (PNG per step, cameras side by side) and the
                    actions it took, for its first --video-episodes episodes: DIR/<policy>/<task>-<seed>/
  --video-episodes N  (default 3)
  --probe P         replace every instruction by a counterfactual language probe: swap, other_object,
                    other_destination, garbled, empty (tasks/probes.ts; episodes without one are skipped)
  --remote-timeout MS  a remote policy's reply later than this fails the episode (default 5000)
  --chromium PATH   Chromium executable
Writes DIR/episodes.jsonl, summary.json, results.csv, report.html and prints the comparison table.`;
    const { values: v } = parse(args, {
      policy: { type: 'string', multiple: true }, suite: { type: 'string', default: 'tabletop' }, split: { type: 'string', default: 'heldout_layout' },
      episodes: { type: 'string' }, workers: { type: 'string' }, backend: { type: 'string' }, out: { type: 'string' }, shard: { type: 'string' },
      'no-baselines': { type: 'boolean' }, 'terminate-on-success': { type: 'boolean' }, resolution: { type: 'string' }, chromium: { type: 'string' },
      'ignore-terminate': { type: 'boolean' }, video: { type: 'string' }, 'video-episodes': { type: 'string' }, decode: { type: 'string' },
      'chunk-exec': { type: 'string' }, probe: { type: 'string' }, 'remote-timeout': { type: 'string' },
    }, help);
    const policies = (v.policy as unknown as string[] | undefined) ?? [];
    if (!policies.length) throw new Error('give at least one --policy (a checkpoint directory, a registry name, or "expert")');
    const { runEval } = await import('../eval/runner.ts');
    const { parseShard } = await import('../eval/records.ts');
    const suite = String(v.suite), split = String(v.split);
    const r = await runEval({
      policies, suite, split, episodes: v.episodes === undefined ? undefined : positive(v.episodes, 'episodes'), workers: positive(v.workers, 'workers', 1),
      backend: v.backend as string | undefined, shard: v.shard ? parseShard(String(v.shard)) : undefined, baselines: !v['no-baselines'],
      terminateOnSuccess: Boolean(v['terminate-on-success'] || v['ignore-terminate']), ignoreTerminate: Boolean(v['ignore-terminate']), resolution: int(v.resolution, 'resolution', 96), chromium: v.chromium as string | undefined,
      video: v.video as string | undefined, videoEpisodes: int(v['video-episodes'], 'video-episodes', 3), decodePoint: decodePoint(v.decode),
      chunkExecution: v['chunk-exec'] === undefined ? undefined : parseChunkExecution(String(v['chunk-exec'])),
      probe: v.probe as never,
      remoteTimeoutMs: v['remote-timeout'] === undefined ? undefined : positive(v['remote-timeout'], 'remote-timeout'),
      out: (v.out as string) ?? `runs/${suite.replace(/\.json$/, '').replace(/.*\//, '')}-${split}${v.shard ? '-shard' + String(v.shard).replace('/', 'of') : ''}`,
    });
    console.log(r.table);
    console.log(`\nreport: ${r.dir}/report.html`);
  },

  async merge(args) {
    const help = `vlalab merge --out DIR RUN_DIR [RUN_DIR ...] [--partial]
Combines sharded eval runs (vlalab eval --shard i/n) into one run directory and report.
Refuses inputs of different models or protocols under one label, and an incomplete set of shards
(naming the missing ones) unless --partial, which marks the merged report as partial.`;
    const { values: v, positionals } = parse(args, { out: { type: 'string' }, partial: { type: 'boolean' } }, help);
    if (!v.out || positionals.length === 0) throw new Error('usage: vlalab merge --out DIR RUN_DIR [RUN_DIR ...]');
    const { mergeRuns } = await import('../eval/merge.ts');
    const { readRecords } = await import('../eval/records.ts');
    const { summarize, formatTable } = await import('../eval/summary.ts');
    const r = mergeRuns(positionals, String(v.out), { partial: Boolean(v.partial) });
    if (r.missingShards.length) console.error(`warning: partial merge: shards ${r.missingShards.join(', ')} of ${r.shardCount} are missing`);
    console.log(formatTable(summarize(readRecords(`${v.out}/episodes.jsonl`))));
    console.log(`\nmerged ${r.records} episodes (${r.duplicates} duplicates dropped) into ${v.out}/report.html`);
  },

  async compare(args) {
    const { runCompare } = await import('./compare.ts');
    const code = await runCompare(args);
    if (code !== 0) process.exit(code);
  },

  async export(args) {
    const help = `vlalab export --checkpoint DIR --out DIR [--f16] [--decode argmax|median|mean] [--chunk-exec open_loop|receding:m|ensemble[:decay]]
Rewrites a checkpoint for shipping: weights as F16 with --f16 (half the size), no optimizer state; config, dataset/training records and metrics are kept.
--decode sets the greedy point estimate the shipped config decodes with, --chunk-exec how a chunked policy executes its
chunks by default (inference settings: no weight changes).`;
    const { values: v } = parse(args, { checkpoint: { type: 'string' }, out: { type: 'string' }, f16: { type: 'boolean' }, decode: { type: 'string' }, 'chunk-exec': { type: 'string' } }, help);
    if (!v.checkpoint || !v.out) throw new Error('--checkpoint and --out are required (see vlalab export --help)');
    const { exportCheckpoint } = await import('./export.ts');
    console.log(JSON.stringify(await exportCheckpoint({ checkpoint: String(v.checkpoint), out: String(v.out), f16: Boolean(v.f16), decodePoint: decodePoint(v.decode), chunkExecution: v['chunk-exec'] === undefined ? undefined : parseChunkExecution(String(v['chunk-exec'])) }), null, 2));
  },

  async 'export-dataset'(args) {
    const help = `vlalab export-dataset --format lerobot DATA OUT [options]
Writes the demo dataset DATA (from "vlalab collect") as a LeRobotDataset v3.0 in the new directory OUT:
meta/ (info, stats, tasks, episodes), data/ Parquet frames, videos/ MP4 per camera (needs ffmpeg).
Load it in LeRobot with LeRobotDataset("<any repo id>", root=OUT).
  --include-failed  also export failed episodes (default: successful ones, as training uses)
  --ffmpeg PATH     ffmpeg executable (default: ffmpeg on PATH)
  --crf N           H.264 quality, lower is better and bigger (default 18)`;
    const { values: v, positionals } = parse(args, { format: { type: 'string' }, 'include-failed': { type: 'boolean' }, ffmpeg: { type: 'string' }, crf: { type: 'string' } }, help);
    if (v.format !== 'lerobot') throw new Error(`--format must be lerobot (the only export format), got ${v.format === undefined ? 'none' : `"${v.format}"`}`);
    if (positionals.length !== 2) throw new Error('usage: vlalab export-dataset --format lerobot DATA OUT (see --help)');
    const { exportLeRobot } = await import('../data/lerobotExport.ts');
    const { DEFAULT_VIDEO } = await import('../data/ffmpegVideo.ts');
    console.log(JSON.stringify(await exportLeRobot({
      data: positionals[0], out: positionals[1], includeFailed: Boolean(v['include-failed']), ffmpeg: v.ffmpeg as string | undefined,
      video: { ...DEFAULT_VIDEO, crf: int(v.crf, 'crf', DEFAULT_VIDEO.crf) },
    }), null, 2));
  },

  async analyze(args) {
    const { runAnalyze } = await import('./analyze.ts');
    await runAnalyze(args);
  },

  async recipes(args) {
    const help = `vlalab recipes [NAME] [--json]
Without NAME: every registered policy recipe (a shipped checkpoint's name or a variant) with a one-line description.
With NAME: its policy config, what "vlalab train --policy NAME" runs, and the commands that made its checkpoint
(policies/recipes/; docs/checkpoints.md). --json prints the recipe as data.`;
    const { values: v, positionals } = parse(args, { json: { type: 'boolean' } }, help);
    if (positionals.length > 1) throw new Error('usage: vlalab recipes [NAME] [--json] (see --help)');
    const { recipeJson, recipeList, recipeText } = await import('./recipes.ts');
    const { listRecipes } = await import('../../policies/registry.ts');
    const name = positionals[0];
    if (name === undefined) console.log(v.json ? JSON.stringify(listRecipes().map(recipeJson), null, 2) : recipeList().join('\n'));
    else console.log(v.json ? JSON.stringify(recipeJson(name), null, 2) : recipeText(name));
  },

  async envs() {
    const { listEnvs } = await import('../../tasks/envRegistry.ts');
    const { builtinSuiteNames } = await import('../../tasks/builtin.ts');
    console.log(JSON.stringify({ envs: listEnvs(), suites: builtinSuiteNames() }, null, 2));
  },

  async bench(args) {
    const { runBench } = await import('./bench.ts');
    await runBench(args);
  },
};

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return;
  }
  const handler = commands[cmd];
  if (!handler) throw new Error(`unknown command "${cmd}" (commands: ${Object.keys(commands).join(', ')})`);
  await handler(rest);
}

// Ctrl-C outside a run loop (or a second one): close the browsers (their dist/ copies and profiles go with them), exit 130.
setIdleSignalHandler((signal) => {
  process.stderr.write(`\nvlalab: ${signal}: exiting\n`);
  void Promise.race([import('../runtime/session.ts').then((m) => m.closeAllSessions()), new Promise((r) => setTimeout(r, 3000))]).finally(() => process.exit(130));
});

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    const err = e as Error;
    if (err instanceof InterruptedError) {
      console.error(`vlalab: ${err.message}`);
      process.exit(err.exitCode);
    }
    console.error(`vlalab: ${err.name && err.name !== 'Error' ? err.name + ': ' : ''}${err.message}`);
    if (process.env.VLALAB_DEBUG) console.error(err.stack);
    process.exit(1);
  },
);
