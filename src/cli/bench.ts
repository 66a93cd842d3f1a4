// `vlalab bench`: performance figures as JSON on stdout (progress on stderr).
// Goals live here, not in timed unit tests. Sections:
//   sim      physics steps/s (bare Rapier step of an episode scene) and env control steps/s without rendering (Node)
//   render   env control steps/s with Babylon rendering + readback at the default resolution, in headless Chromium
//   collect  expert demonstrations recorded per minute, end to end (Chromium -> safetensors on disk)
//   models   per recipe (policies/recipes/, the shipped names and the variants): params, FLOPs/frame, inference latency p50/p95 on wasm and cpu, training images/s (Node)
//   train    per shipped recipe: images/s of the training step at 1 and 2 threads (data-parallel micro-batches)
//   eval     per policy and backend (worker in Chromium): control steps/s, latency parts p50/p95; eval episodes/min at 1 and 2 workers
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CAMERAS, DEFAULT_RESOLUTION, SUBSTEPS } from '../../sim/config.ts';
import { makeEnv } from '../../tasks/envRegistry.ts';
import { initPhysics, SimWorld } from '../../sim/world.ts';
import { resolveSuite, DEFAULT_SUITE } from '../../tasks/builtin.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { createExpert } from '../../tasks/expert.ts';
import { HeadlessSession } from '../runtime/session.ts';
import { collect } from '../collect/runner.ts';
import { machineInfo } from '../runtime/machine.ts';

const SECTIONS = ['sim', 'render', 'collect', 'models', 'eval', 'train'] as const;

export async function benchSim(episodes = 20) {
  await initPhysics();
  const suite = resolveSuite(DEFAULT_SUITE);
  const ep = sampleEpisode(suite, 'pick_place', 'train', 0);
  const world = new SimWorld(ep.layout);
  const n = 6000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) world.world.step();
  const bareMs = performance.now() - t0;
  world.free();

  const env = makeEnv(`${suite.name}/pick_place-v1`);
  let steps = 0;
  const t1 = performance.now();
  for (let seed = 0; seed < episodes; seed++) {
    await env.reset({ seed });
    const expert = createExpert(env.episode);
    let r;
    do { r = await env.step(expert.act(env.sim)); steps++; } while (!r.terminated && !r.truncated);
  }
  const envMs = performance.now() - t1;
  env.close();
  return {
    physicsStepsPerSecond: Math.round(n / (bareMs / 1000)),
    controlStepsPerSecondNoRender: Math.round(steps / (envMs / 1000)),
    physicsStepsPerControlStep: SUBSTEPS,
    episodesPerSecondNoRender: +(episodes / (envMs / 1000)).toFixed(2),
  };
}

export async function benchRenderLoop(episodes = 6, resolution = DEFAULT_RESOLUTION) {
  const suite = resolveSuite(DEFAULT_SUITE);
  const session = await HeadlessSession.open({});
  try {
    await session.call('runExpertEpisode', { suite, task: 'pick_place', split: 'train', seed: 999, resolution }); // warm-up: shaders
    let steps = 0, envMs = 0;
    for (let seed = 0; seed < episodes; seed++) {
      const w = await session.call('runExpertEpisode', { suite, task: seed % 2 ? 'stack' : 'pick_place', split: 'train', seed, resolution });
      steps += w.steps;
      envMs += w.timing.envMs;
    }
    return { resolution, cameras: DEFAULT_CAMERAS.map((c) => c.name), controlStepsPerSecondWithRender: Math.round(steps / (envMs / 1000)), episodes };
  } finally {
    await session.close();
  }
}

export async function benchCollect(episodes = 10) {
  const dir = mkdtempSync(join(tmpdir(), 'vlalab-bench-'));
  try {
    const s = await collect({ suite: DEFAULT_SUITE, split: 'train', episodes, out: dir, quiet: true });
    return { episodes: s.written, seconds: +s.seconds.toFixed(2), demosPerMinute: +s.episodesPerMinute.toFixed(1), successRate: s.succeeded / Math.max(1, s.written) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runBench(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { only: { type: 'string' }, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(`vlalab bench [--only ${SECTIONS.join(',')}] [--quick]\nPrints one JSON object: machine info and one entry per section.`);
    return;
  }
  const only = values.only ? values.only.split(',') : [...SECTIONS];
  for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown bench section "${s}" (sections: ${SECTIONS.join(', ')})`);
  const q = values.quick ? 0.3 : 1;
  const out: Record<string, unknown> = { machine: machineInfo() };
  for (const s of only) {
    process.stderr.write(`bench: ${s}...\n`);
    if (s === 'sim') out.sim = await benchSim(Math.max(4, Math.round(20 * q)));
    if (s === 'render') out.render = await benchRenderLoop(Math.max(2, Math.round(6 * q)));
    if (s === 'collect') out.collect = await benchCollect(Math.max(4, Math.round(12 * q)));
    if (s === 'eval') {
      const be = await import('./benchEval.ts');
      out.eval = {
        latency: await be.benchEvalLatency(values.quick ? ['wasm'] : ['wasm', 'cpu'], values.quick ? 1 : 3, values.quick ? 8 : 20),
        throughput: await be.benchEvalThroughput(values.quick ? 4 : 10),
      };
    }
    if (s === 'train') out.train = await (await import('./benchTrain.ts')).benchTrainThreads(Boolean(values.quick));
    if (s === 'models') out.models = await (await import('./benchModels.ts')).benchModels(Boolean(values.quick));
  }
  console.log(JSON.stringify(out, null, 2));
}
