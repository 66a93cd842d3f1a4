// Checkpoint round trip (Node fs, fetch over HTTP, in-memory files, F16) and
// loader errors: truncated weights, config describing another backbone, shape
// mismatches, missing or malformed config.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyObservation } from '../../policies/policy.ts';
import { ACTION_HIGH, ACTION_LOW } from '../../sim/config.ts';
import { interpolatePosEmbed } from '../../backbones/index.ts';
import { VlaPolicy } from '../../policies/policy.ts';
import { CONFIG_FILE, WEIGHTS_FILE, loadCheckpoint, loadPolicy, saveCheckpoint, transplantWeights, warmStartWeights } from '../../src/train/checkpoint.ts';
import { initBackend } from '../../src/tf/backend.ts';
import { loadCheckpointPolicy } from '../../src/worker/checkpoint.ts';
import { randomizeWeights } from '../tf/tensors.ts';
import { TINY_POLICY, TINY_VIT, tempDir } from './helpers.ts';

let policy: VlaPolicy;
let dir: string;
let server: Server;
let baseUrl: string;

function obs(seed: number): PolicyObservation {
  const frame = (k: number) => ({ width: 40, height: 40, data: Uint8Array.from({ length: 40 * 40 * 3 }, (_, i) => (i * 13 + seed * 71 + k) % 256) });
  return { images: { scene: frame(0), wrist: frame(1) }, proprio: Float32Array.from([0.1, -0.1, 0.2, 0.3, 0.04, seed % 2]), instruction: 'put the red cube in the blue bowl' };
}

function weightsOf(p: VlaPolicy): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(p.namedWeights()).map(([k, v]) => [k, v.dataSync() as Float32Array]));
}

const tmp = tempDir;

beforeAll(async () => {
  await initBackend('wasm');
  policy = new VlaPolicy({ ...TINY_POLICY, cameras: ['scene', 'wrist'], actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH] });
  randomizeWeights(policy.namedWeights(), 5); // incl. BN running stats, so buffers are checked too
  dir = tmp();
  await saveCheckpoint(dir, policy, { policyName: 'efficientnet-film', training: { note: 'test' }, gitCommit: 'abc' });
  server = createServer((req, res) => {
    try {
      res.end(readFileSync(join(dir, decodeURIComponent(req.url!.replace(/^\/ckpt\//, '')))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/ckpt/`;
});

afterAll(() => {
  server?.close();
  policy?.dispose();
});

describe('checkpoints', () => {
  it('round trip: identical weights (incl. buffers) and identical selectAction outputs', async () => {
    const { policy: q, config } = await loadCheckpoint(dir);
    expect(config.format).toBe('vlalab-checkpoint');
    expect(config.policy.name).toBe('efficientnet-film');
    expect(config.tokenizers.action).toEqual(policy.actionTokenizer.toJSON());
    expect(config.tokenizers.text.vocab).toEqual(policy.config.vocab);
    expect(config.vlalab.gitCommit).toBe('abc');
    expect(config.training).toEqual({ note: 'test' });
    expect(weightsOf(q)).toEqual(weightsOf(policy));
    for (let s = 0; s < 3; s++) {
      policy.reset();
      q.reset();
      expect(Array.from(q.selectAction(obs(s)))).toEqual(Array.from(policy.selectAction(obs(s))));
    }
    q.dispose();
  });

  it('loads over fetch (the browser path) and from in-memory files; F16 halves the file', async () => {
    const viaHttp = await loadPolicy(baseUrl);
    expect(weightsOf(viaHttp)).toEqual(weightsOf(policy));
    viaHttp.dispose();
    await expect(loadPolicy(`${baseUrl}nope/`)).rejects.toThrow(/cannot fetch .*nope\/config\.json: HTTP 404/);
    const mem = await loadPolicy({ config: readFileSync(join(dir, CONFIG_FILE), 'utf8'), weights: readFileSync(join(dir, WEIGHTS_FILE)) });
    expect(weightsOf(mem)).toEqual(weightsOf(policy));
    mem.dispose();
    const half = tmp();
    await saveCheckpoint(half, policy, { f16: true });
    const ratio = readFileSync(join(half, WEIGHTS_FILE)).length / readFileSync(join(dir, WEIGHTS_FILE)).length;
    expect(ratio).toBeGreaterThan(0.45);
    expect(ratio).toBeLessThan(0.55);
    const h = await loadPolicy(half);
    const [a, b] = [weightsOf(policy), weightsOf(h)];
    let worst = 0; // relative error, F16 has an 11-bit significand
    for (const k of Object.keys(a)) a[k].forEach((v, i) => (worst = Math.max(worst, Math.abs(b[k][i] - v) / (Math.abs(v) + 1e-3))));
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThan(1e-3);
    h.dispose();
  });

  it('rejects a truncated weights file', async () => {
    const d = tmp();
    copyFileSync(join(dir, CONFIG_FILE), join(d, CONFIG_FILE));
    const bytes = readFileSync(join(dir, WEIGHTS_FILE));
    writeFileSync(join(d, WEIGHTS_FILE), bytes.subarray(0, bytes.length >> 1));
    await expect(loadPolicy(d)).rejects.toThrow(/weights\.safetensors is corrupt or truncated \(safetensors: .*\)/);
    writeFileSync(join(d, WEIGHTS_FILE), bytes.subarray(0, 5));
    await expect(loadPolicy(d)).rejects.toThrow(/corrupt or truncated.*too short/);
  });

  it('rejects weights that do not match the config, naming missing / unexpected / mismatched tensors', async () => {
    const n0 = tf.memory().numTensors;
    const edit = async (f: (c: { policy: { config: Record<string, unknown> } }) => void) => {
      const d = tmp();
      copyFileSync(join(dir, WEIGHTS_FILE), join(d, WEIGHTS_FILE));
      const c = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8'));
      f(c);
      writeFileSync(join(d, CONFIG_FILE), JSON.stringify(c));
      return d;
    };
    const other = await edit((c) => { c.policy.config.backbone = 'siglip_tiny_patch8_96'; });
    await expect(loadPolicy(other)).rejects.toThrow(
      /does not match the policy built from config\.json \(backbone siglip_tiny_patch8_96\): missing \d+: backbone\.patch_embed\.w[^;]+; unexpected \d+: backbone\.blocks\.0\.dw\.bn/,
    );
    const wider = await edit((c) => { c.policy.config.gptDim = 64; });
    await expect(loadPolicy(wider)).rejects.toThrow(/shape mismatch \d+ \(file vs policy\): gpt\.\S+ \[\d+,32\] vs \[\d+,64\]/);
    const badDecode = await edit((c) => { c.policy.config.decodePoint = 'mode'; });
    await expect(loadPolicy(badDecode)).rejects.toThrow(/decodePoint must be argmax or median or mean, got "mode"/);
    const unknown = await edit((c) => { c.policy.config.backbone = 'resnet_9000'; });
    await expect(loadPolicy(unknown)).rejects.toThrow(/cannot build the policy described by config\.json: unknown backbone 'resnet_9000'/);
    expect(tf.memory().numTensors).toBe(n0); // failed loads dispose what they built
  });

  it('the worker loader applies blind / decodePoint overrides without touching the weights', async () => {
    const plain = await loadCheckpointPolicy(dir);
    expect([plain.policy.config.decodePoint, plain.policy.config.blind]).toEqual(['argmax', false]);
    const med = await loadCheckpointPolicy(dir, { decodePoint: 'median' });
    expect([med.policy.config.decodePoint, med.policy.config.blind, med.name]).toEqual(['median', false, 'efficientnet-film']);
    const both = await loadCheckpointPolicy(dir, { decodePoint: 'median', blind: true });
    expect([both.policy.config.decodePoint, both.policy.config.blind]).toEqual(['median', true]);
    const w = weightsOf(plain.policy), wm = weightsOf(med.policy);
    for (const k of Object.keys(w)) expect(wm[k]).toEqual(w[k]);
    for (const p of [plain, med, both]) p.policy.dispose();
  });

  it('rejects a missing, malformed or foreign config.json', async () => {
    const d = tmp();
    await expect(loadPolicy(d)).rejects.toThrow(/config\.json does not exist \(not a vlalab checkpoint directory\)/);
    writeFileSync(join(d, CONFIG_FILE), '{"format": "vlalab-checkpoint", ');
    await expect(loadPolicy(d)).rejects.toThrow(/config\.json is not valid JSON/);
    writeFileSync(join(d, CONFIG_FILE), '{"format": "keras"}');
    await expect(loadPolicy(d)).rejects.toThrow(/format is "keras", expected "vlalab-checkpoint"/);
  });

  it('a ViT continued at a new resolution gets its decoder positions resampled per camera grid (--init-from --image-size)', () => {
    const n0 = tf.memory().numTensors;
    const from = new VlaPolicy({ ...TINY_VIT, cameras: ['scene', 'wrist'], actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH] });
    randomizeWeights(from.namedWeights(), 9);
    const to = new VlaPolicy({ ...from.config, imageSize: 48 }); // 8 px patches: 4 x 4 -> 6 x 6 tokens per camera
    const fresh = transplantWeights(from, to, '--init-from test');
    expect(fresh).toEqual([]);
    const a = from.namedWeights()['gpt.wpe'], b = to.namedWeights()['gpt.wpe'];
    const C = a.shape[1]!;
    const rest = a.shape[0]! - 2 * 16; // language, proprio and action positions
    expect(b.shape).toEqual([2 * 36 + rest, C]);
    const got = b.arraySync() as number[][];
    const src = a.arraySync() as number[][];
    for (let k = 0; k < 2; k++) {
      const want = tf.tidy(() => interpolatePosEmbed(a.slice([k * 16, 0], [16, C]) as tf.Tensor2D, [4, 4], [6, 6]).arraySync());
      for (let i = 0; i < 36; i++) for (let j = 0; j < C; j++) expect(got[k * 36 + i][j]).toBeCloseTo(want[i][j], 6);
    }
    // The corner patch keeps its position exactly (half-pixel bilinear maps corner to corner).
    expect(got[36][0]).toBeCloseTo(src[16][0], 6);
    for (let r = 0; r < rest; r++) expect(got[72 + r]).toEqual(src[32 + r]);
    const action = to.selectAction(obs(3));
    expect(action.every(Number.isFinite)).toBe(true);
    // A layout change other than the grid is still refused, naming the weight.
    const deeper = new VlaPolicy({ ...from.config, imageSize: 48, maxTextLen: 24 });
    expect(() => transplantWeights(from, deeper, '--init-from test')).toThrow(/shape mismatch 2 \(checkpoint vs new policy\): text\.wpe \[16,16\] vs \[24,16\], gpt\.wpe \[55,32\] vs \[103,32\]/);
    for (const p of [from, to, deeper]) p.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('--warm-start copies one part (backbone or decoder) where names and shapes match, lists the rest, refuses when nothing fits', () => {
    const n0 = tf.memory().numTensors;
    const bounds = { actionLow: [...ACTION_LOW], actionHigh: [...ACTION_HIGH] };
    const cnn = new VlaPolicy({ ...TINY_POLICY, ...bounds });
    const vit = new VlaPolicy({ ...TINY_VIT, ...bounds });
    for (const p of [cnn, vit]) randomizeWeights(p.namedWeights(), 21);
    // RT-1's token path on a ViT: same decoder layout as the CNN policy, narrower vision tokens.
    const to = new VlaPolicy({ ...TINY_POLICY, ...bounds, backbone: 'siglip_film_tl8_patch16_96', backboneOverrides: { depth: 1, dim: 32, heads: 2, mlpRatio: 2 }, useTextTokens: false });
    const before = weightsOf(to);
    const dec = warmStartWeights(cnn, to, 'decoder', '--warm-start decoder=cnn');
    expect(dec.skipped).toEqual([`gpt.vision_proj.w [${cnn.backbone.outputDim},32] vs [34,32]`]);
    expect(dec.copied.some((k) => k.startsWith('backbone.'))).toBe(false);
    const bb = warmStartWeights(vit, to, 'backbone', '--warm-start backbone=vit');
    expect(bb.skipped).toEqual(expect.arrayContaining(['backbone.map.latent (not in the new policy)']));
    expect(bb.copied).toContain('backbone.blocks.0.attn.qkv.w');
    const after = weightsOf(to);
    const src = { ...weightsOf(vit), ...weightsOf(cnn) };
    for (const k of Object.keys(after)) {
      const copied = dec.copied.includes(k) || bb.copied.includes(k);
      // from the TINY_VIT backbone (siglip, depth 1) for backbone.*, from the CNN for the rest
      const from = k.startsWith('backbone.') ? weightsOf(vit)[k] : weightsOf(cnn)[k];
      expect(after[k], k).toEqual(copied ? from : before[k]);
      if (copied) expect(src[k]).toBeDefined();
    }
    expect(() => warmStartWeights(vit, cnn, 'backbone', '--warm-start backbone=vit')).toThrow(/--warm-start backbone=vit: no backbone weight of the checkpoint fits the new policy \(\d+ skipped: backbone\.patch_embed\.w \(not in the new policy\)/);
    expect(() => warmStartWeights(cnn, to, 'gpt' as never, 'x')).toThrow(/part must be backbone or decoder/);
    expect(to.selectAction(obs(2)).every(Number.isFinite)).toBe(true);
    for (const p of [cnn, vit, to]) p.dispose();
    expect(tf.memory().numTensors).toBe(n0);
  });
});
