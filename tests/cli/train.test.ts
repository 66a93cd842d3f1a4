// `vlalab train` end to end through the real CLI entry: JSON summary on stdout,
import { readFileSync } from 'node:fs';
// checkpoint directory that loadPolicy reads back, clear errors on bad flags.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { synthDataset, tempDir } from '../train/helpers.ts';

const vlalab = (args: string[]) => spawnSync(process.execPath, ['bin/vlalab.mjs', ...args], { encoding: 'utf8', timeout: 60_000 });

beforeAll(async () => {
  await initBackend('wasm');
});

describe('vlalab train', () => {
  it('trains, prints the final metrics as JSON and writes a loadable checkpoint', async () => {
    const data = synthDataset({ episodes: 4, steps: 6 });
    const out = join(tempDir(), 'ckpt');
    const r = vlalab([
      'train', '--policy', 'efficientnet-film-64', '--data', data, '--out', out, '--steps', '3', '--batch', '4', '--threads', '1', '--image-size', '32',
      '--set', 'backbone="efficientnet_film_xs_64"', '--set', 'gptLayers=1', '--set', 'gptDim=32', '--set', 'textDim=16', '--set', 'textHeads=2', '--f16',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ policy: 'efficientnet-film-64', backend: 'wasm', steps: 3, totalSteps: 3, interrupted: false });
    expect(summary.final.valLoss).toBeGreaterThan(0);
    expect(summary.final.valAccuracyPerDim).toHaveLength(6);
    expect(r.stderr).toMatch(/training efficientnet-film-64 .* 3 steps of batch 4/);
    const { policy, config } = await loadCheckpoint(out);
    expect(config.weights.dtype).toBe('F16');
    expect(config.policy.config.imageSize).toBe(32);
    expect(config.policy.config.actionHigh[3]).toBeCloseTo(0.25);
    expect((config.training as { state: { step: number } }).state.step).toBe(3);
    expect((config.dataset as { valEpisodes: number }).valEpisodes).toBe(1);
    policy.dispose();
  }, 60_000);

  it('export rewrites a checkpoint as F16 that loads and acts like the original', async () => {
    const src = join(tempDir(), 'src');
    const data = synthDataset({ episodes: 4, steps: 6 });
    const t = vlalab(['train', '--policy', 'efficientnet-film-64', '--data', data, '--out', src, '--steps', '2', '--batch', '4', '--threads', '1', '--image-size', '32',
      '--set', 'backbone="efficientnet_film_xs_64"', '--set', 'gptLayers=1', '--set', 'gptDim=32', '--set', 'textDim=16', '--set', 'textHeads=2']);
    expect(t.status, t.stderr).toBe(0);
    const dst = join(tempDir(), 'f16');
    const r = vlalab(['export', '--checkpoint', src, '--out', dst, '--f16']);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.dtype).toBe('F16');
    expect(out.bytes / out.before).toBeLessThan(0.55);
    const a = await loadCheckpoint(src), b = await loadCheckpoint(dst);
    expect(b.config.weights.dtype).toBe('F16');
    expect(b.config.training).toEqual(a.config.training);
    a.policy.dispose();
    b.policy.dispose();
    expect(vlalab(['export', '--checkpoint', src, '--out', dst, '--f16']).stderr).toMatch(/already holds a checkpoint/);
    // --decode sets how the shipped config decodes (weights untouched); a bad value is refused
    expect(out.decodePoint).toBe('median'); // the training preset's
    const arg = join(tempDir(), 'argmax');
    const d = vlalab(['export', '--checkpoint', src, '--out', arg, '--decode', 'argmax']);
    expect(d.status, d.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(arg, 'config.json'), 'utf8')).policy.config.decodePoint).toBe('argmax');
    const [c0, c1] = [await loadCheckpoint(src), await loadCheckpoint(arg)];
    const w0 = c0.policy.namedWeights(), w1 = c1.policy.namedWeights();
    for (const k of Object.keys(w0)) expect(w1[k].dataSync()).toEqual(w0[k].dataSync());
    c0.policy.dispose();
    c1.policy.dispose();
    expect(vlalab(['export', '--checkpoint', src, '--out', join(tempDir(), 'x'), '--decode', 'mode']).stderr).toMatch(/--decode must be argmax or median or mean, got "mode"/);
    // --chunk-exec sets the default execution of a chunked policy; one the chunk length cannot support is refused by name
    expect(vlalab(['export', '--checkpoint', src, '--out', join(tempDir(), 'y'), '--chunk-exec', 'receding:2']).stderr).toMatch(/--chunk-exec for .* \(chunk length 1\): receding-horizon execution: every must be an integer in \[1, 1\]/);
    const ens = join(tempDir(), 'ens');
    expect(vlalab(['export', '--checkpoint', src, '--out', ens, '--chunk-exec', 'ensemble:0.1']).status).toBe(0);
    expect(JSON.parse(readFileSync(join(ens, 'config.json'), 'utf8')).policy.config.chunkExecution).toEqual({ mode: 'ensemble', decay: 0.1 });
  }, 90_000);

  it('Ctrl-C (SIGINT) during training saves a checkpoint that --resume continues', async () => {
    // (That the signal is answered at the next step, not at the next file write, is tests/train/stop.test.ts.)
    const data = synthDataset({ episodes: 4, steps: 6 });
    const out = join(tempDir(), 'sigint');
    const args = ['train', '--policy', 'vit-siglip-openvla', '--data', data, '--out', out, '--steps', '100000', '--epochs', '100000', '--save-every', '100000', '--batch', '2', '--image-size', '32', '--set', 'backboneOverrides={"depth":1,"dim":32,"heads":2,"mlpRatio":2}', '--set', 'gptLayers=1', '--set', 'gptDim=32', '--set', 'textDim=16', '--set', 'textHeads=2'];
    // Run until stderr satisfies `ready`, then send SIGINT as a terminal's Ctrl-C would.
    const interrupt = async (argv: string[], ready: (stderr: string) => boolean) => {
      const child = spawn(process.execPath, ['bin/vlalab.mjs', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      await new Promise<void>((resolve) => {
        child.stderr.on('data', (d) => {
          stderr += d;
          if (ready(stderr)) resolve();
        });
        child.on('exit', () => resolve()); // an early failure shows as its exit code and stderr, not as a test timeout
      });
      child.kill('SIGINT');
      return { code: await exited, stderr, stdout };
    };
    const stepsShown = (text: string) => [...text.matchAll(/step (\d+)\/100000/g)].map((m) => Number(m[1]));
    const first = await interrupt(args, (e) => stepsShown(e).length > 0); // training steps are running
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/interrupted: saving a checkpoint \(rerun with --resume to continue\)/);
    const r = JSON.parse(first.stdout);
    expect([r.interrupted, r.steps >= 1, r.steps < 100000]).toEqual([true, true, true]);
    const saved = (await loadCheckpoint(out)).config.training as { state: { step: number } };
    expect(saved.state.step).toBe(r.steps);
    const second = await interrupt([...args, '--resume'], (e) => e.includes(`resuming ${out} at step ${r.steps}/100000`) && stepsShown(e).some((n) => n > r.steps));
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).steps).toBeGreaterThan(r.steps);
  }, 60_000);

  it('--init-from starts from a checkpoint (config and weights), --set adds modules to it; another policy family is refused', async () => {
    const data = synthDataset({ episodes: 4, steps: 6 });
    const tiny = ['--batch', '4', '--threads', '1', '--image-size', '32', '--set', 'backbone="efficientnet_film_xs_64"', '--set', 'gptLayers=1', '--set', 'gptDim=32', '--set', 'textDim=16', '--set', 'textHeads=2'];
    const first = join(tempDir(), 'first');
    expect(vlalab(['train', '--policy', 'efficientnet-film-64', '--data', data, '--out', first, '--steps', '2', ...tiny]).status).toBe(0);
    const second = join(tempDir(), 'second');
    const r = vlalab(['train', '--policy', 'efficientnet-film-64', '--data', data, '--out', second, '--steps', '1', '--lr', '0', '--init-from', first, ...tiny]);
    expect(r.status, r.stderr).toBe(0);
    const a = await loadCheckpoint(first), b = await loadCheckpoint(second);
    expect((b.config.training as { args: { initFrom: string } }).args.initFrom).toBe(first);
    expect(b.config.policy.config.proprioMean).toEqual(a.config.policy.config.proprioMean);
    // The curve stays whole: the first run's lines, tagged with its directory, then this run's own.
    const jsonl = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(jsonl(join(second, 'metrics.init.jsonl'))).toEqual(jsonl(join(first, 'metrics.jsonl')).map((r) => ({ run: first, ...r })));
    expect(jsonl(join(second, 'metrics.jsonl')).every((r) => r.run === undefined)).toBe(true);
    const wa = a.policy.namedWeights(), wb = b.policy.namedWeights();
    for (const k of Object.keys(wa).filter((k) => !k.includes('running_'))) expect(Array.from(wb[k].dataSync()), k).toEqual(Array.from(wa[k].dataSync())); // lr 0: unchanged
    // --set on top of the checkpoint adds modules: the role head starts fresh, every trained weight is carried over.
    const third = join(tempDir(), 'third');
    const r3 = vlalab(['train', '--policy', 'efficientnet-film-64', '--data', data, '--out', third, '--steps', '1', '--lr', '0', '--init-from', first, '--batch', '4', '--set', 'roleAuxWeight=1']);
    expect(r3.status, r3.stderr + r3.stdout).toBe(0);
    expect(r3.stderr).toMatch(/with roleAuxWeight changed: new weights text\.role_head\.w, text\.role_head\.b/);
    const c = await loadCheckpoint(third);
    expect(c.config.policy.config.roleAuxWeight).toBe(1);
    const wc = c.policy.namedWeights();
    expect(Object.keys(wc).sort()).toEqual([...Object.keys(wa), 'text.role_head.b', 'text.role_head.w'].sort());
    for (const k of Object.keys(wa).filter((k) => !k.includes('running_'))) expect(Array.from(wc[k].dataSync()), k).toEqual(Array.from(wa[k].dataSync()));
    expect(JSON.parse(r3.stdout).final.valRoleAccuracy).toHaveLength(4);
    c.policy.dispose();
    const narrow = vlalab(['train', '--policy', 'efficientnet-film-64', '--data', data, '--out', join(tempDir(), 'narrow'), '--steps', '1', '--init-from', first, '--batch', '4', '--set', 'textDim=8']);
    expect(narrow.status).not.toBe(0);
    expect(narrow.stderr).toMatch(/--init-from .*: the new config does not extend the checkpoint's policy: shape mismatch 26 \(checkpoint vs new policy\): backbone\.blocks\.0\.film\.w \[16,16\] vs \[8,16\]/);
    a.policy.dispose();
    b.policy.dispose();
    const bad = vlalab(['train', '--policy', 'vit-siglip-openvla', '--data', data, '--out', join(tempDir(), 'bad'), '--steps', '1', '--init-from', first]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--init-from .* holds a efficientnet-film-64 policy \(backbone efficientnet_film_xs_64\), not vit-siglip-openvla/);
  }, 90_000);

  it('--warm-start builds a fresh policy and copies the named part from another checkpoint (here: a ViT policy taking a CNN policy\'s decoder)', async () => {
    const data = synthDataset({ episodes: 4, steps: 6 });
    const small = ['--batch', '4', '--threads', '1', '--image-size', '32', '--set', 'gptLayers=1', '--set', 'gptDim=32', '--set', 'textDim=16', '--set', 'textHeads=2', '--set', 'useTextTokens=false'];
    const cnn = join(tempDir(), 'cnn');
    expect(vlalab(['train', '--policy', 'efficientnet-film-64', '--data', data, '--out', cnn, '--steps', '1', '--set', 'backbone="efficientnet_film_xs_64"', ...small]).status).toBe(0);
    const vit = ['--set', 'backbone="siglip_film_tl8_patch16_96"', '--set', 'backboneOverrides={"depth":1,"dim":32,"heads":2}', '--set', 'spatialAux="tokens"', '--set', 'planDims=0', '--set', 'planLow=[]', '--set', 'planHigh=[]', '--set', 'auxDim=4', ...small];
    const out = join(tempDir(), 'vit');
    const r = vlalab(['train', '--policy', 'vit-siglip-openvla', '--data', data, '--out', out, '--steps', '1', '--lr', '0', '--warm-start', `decoder=${cnn}`, ...vit]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--warm-start decoder=.*cnn: copied \d+ tensors; not copied \(fresh init or no place\) 1: gpt\.vision_proj\.w \[\d+,32\] vs \[34,32\]/);
    const a = await loadCheckpoint(cnn), b = await loadCheckpoint(out);
    expect((b.config.training as { args: { warmStart: unknown } }).args.warmStart).toEqual([{ part: 'decoder', from: cnn }]);
    const wa = a.policy.namedWeights(), wb = b.policy.namedWeights();
    const shared = Object.keys(wb).filter((k) => !k.startsWith('backbone.') && k !== 'gpt.vision_proj.w');
    expect(shared.length).toBeGreaterThan(10);
    for (const k of shared) expect(Array.from(wb[k].dataSync()), k).toEqual(Array.from(wa[k].dataSync())); // lr 0: as copied
    a.policy.dispose();
    b.policy.dispose();
    const resumed = vlalab(['train', '--policy', 'vit-siglip-openvla', '--data', data, '--out', out, '--resume', '--warm-start', `backbone=${cnn}`]);
    expect(resumed.stderr).toMatch(/--resume continues the saved run; these options differ from it: warm-start: \[\{"part":"backbone",.*\(saved run: \[\{"part":"decoder",/);
    const both = vlalab(['train', '--policy', 'vit-siglip-openvla', '--data', data, '--out', join(tempDir(), 'both'), '--steps', '1', '--init-from', cnn, '--warm-start', `decoder=${cnn}`]);
    expect(both.stderr.trim()).toBe('vlalab: --warm-start and --init-from exclude each other: --init-from already starts from a whole checkpoint');
    const part = vlalab(['train', '--policy', 'vit-siglip-openvla', '--data', data, '--out', join(tempDir(), 'part'), '--warm-start', `gpt=${cnn}`]);
    expect(part.stderr.trim()).toBe(`vlalab: --warm-start expects backbone=DIR or decoder=DIR, got "gpt=${cnn}"`);
  }, 90_000);

  it('rejects bad options with one clear line', () => {
    const r = vlalab(['train', '--policy', 'rt-2', '--data', 'nowhere']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(/^vlalab: unknown policy 'rt-2'. Registered: efficientnet-film, efficientnet-film-64, vit-siglip, vit-siglip-openvla$/);
    // An explicit fresh --out: the default (checkpoints/<policy>) may hold a shipped checkpoint.
    const d = vlalab(['train', '--policy', 'vit-siglip-openvla', '--data', 'nowhere', '--out', join(tempDir(), 'ckpt')]);
    expect(d.stderr.trim()).toBe('vlalab: nowhere is not a vlalab dataset (no dataset.json)');
    const b = vlalab(['train', '--policy', 'vit-siglip-openvla', '--backend', 'webgpu']);
    expect(b.stderr.trim()).toBe('vlalab: --backend must be wasm or cpu, got "webgpu"');
  }, 60_000);
});
