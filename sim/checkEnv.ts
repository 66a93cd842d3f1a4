// checkEnv: validates an environment against the vlalab contract, in the
// spirit of Gymnasium's check_env. Collects every problem, then throws one
// error listing them all.
import { ACTION_DIM, ACTION_HIGH, ACTION_LOW, PROPRIO_DIM } from './config.ts';
import { ActionError, type Observation, type VlaEnv } from './env.ts';
import { Rng } from './rng.ts';

export class EnvCheckError extends Error {
  override name = 'EnvCheckError';
  constructor(readonly problems: string[]) {
    super(`env check failed:\n  - ${problems.join('\n  - ')}`);
  }
}

function randomAction(rng: Rng): Float32Array {
  const a = new Float32Array(ACTION_DIM);
  for (let i = 0; i < ACTION_DIM; i++) a[i] = rng.uniform(ACTION_LOW[i], ACTION_HIGH[i]);
  a[ACTION_DIM - 1] = 0; // never terminate early during the check
  return a;
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

export async function checkEnv(env: VlaEnv, opts: { seed?: number; steps?: number } = {}): Promise<void> {
  const seed = opts.seed ?? 0;
  const steps = opts.steps ?? 8;
  const problems: string[] = [];
  const expect = (ok: boolean, msg: string) => { if (!ok) problems.push(msg); };

  const checkObs = (obs: Observation, where: string) => {
    expect(obs.proprio instanceof Float32Array && obs.proprio.length === PROPRIO_DIM, `${where}: proprio must be a Float32Array of ${PROPRIO_DIM}`);
    expect(obs.proprio.every(Number.isFinite), `${where}: proprio has non-finite values`);
    expect(typeof obs.instruction === 'string' && obs.instruction.length > 0, `${where}: instruction must be a non-empty string`);
    if (env.opts.renderer) {
      for (const cam of env.opts.cameras) {
        const f = obs.images[cam.name];
        const n = env.opts.resolution;
        expect(!!f && f.width === n && f.height === n && f.data.length === n * n * 3, `${where}: image "${cam.name}" must be ${n}x${n}x3`);
      }
    }
  };

  const rollout = async (s: number) => {
    const [obs, info] = await env.reset({ seed: s });
    checkObs(obs, `reset(seed=${s})`);
    const rng = new Rng(1234);
    const trace: Float32Array[] = [obs.proprio];
    for (let t = 0; t < steps; t++) {
      const r = await env.step(randomAction(rng));
      checkObs(r.obs, `step ${t + 1}`);
      expect(typeof r.reward === 'number' && Number.isFinite(r.reward), `step ${t + 1}: reward must be a finite number`);
      expect(typeof r.terminated === 'boolean' && typeof r.truncated === 'boolean', `step ${t + 1}: terminated/truncated must be booleans`);
      expect(typeof r.info.success === 'boolean', `step ${t + 1}: info.success must be a boolean`);
      trace.push(r.obs.proprio);
      if (r.terminated || r.truncated) break;
    }
    return { info, trace, instruction: obs.instruction };
  };

  const a = await rollout(seed);
  const b = await rollout(seed);
  expect(a.instruction === b.instruction, 'same seed gave different instructions');
  expect(JSON.stringify(a.info.episode.layout) === JSON.stringify(b.info.episode.layout), 'same seed gave different layouts');
  expect(a.trace.length === b.trace.length && a.trace.every((p, i) => same(p, b.trace[i])), 'same seed and actions gave different proprioception (non-deterministic physics)');
  const c = await rollout(seed + 1);
  expect(JSON.stringify(a.info.episode.layout) !== JSON.stringify(c.info.episode.layout), 'different seeds gave the same layout');

  // Bounds: out-of-range actions are clipped and flagged; NaN is rejected with a clear error.
  await env.reset({ seed });
  const big = Float32Array.from(ACTION_HIGH, (v) => v * 10);
  big[ACTION_DIM - 1] = 0;
  const r = await env.step(big);
  expect(r.info.clipped, 'an out-of-bounds action was not reported as clipped');
  const nan = new Float32Array(ACTION_DIM).fill(Number.NaN);
  try {
    await env.step(nan);
    problems.push('a NaN action was accepted');
  } catch (e) {
    expect(e instanceof ActionError, `a NaN action threw ${(e as Error).name}, expected ActionError`);
  }
  if (problems.length) throw new EnvCheckError(problems);
}
