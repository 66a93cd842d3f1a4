import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  EfficientNet,
  WeightImportError,
  create,
  expectedNames,
  exportSafetensors,
  exportWeights,
  importSafetensors,
  importWeights,
} from '../../backbones/index.ts';
import { parseSafetensors, serializeSafetensors, type SafeEntry } from '../../src/io/safetensors.ts';
import { disposeAll, maxAbsDiff, randomImages, randomizeWeights, useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

function sameOutputs(a: ReturnType<typeof create>, b: ReturnType<typeof create>, H: number, text: boolean): void {
  const x = randomImages(2, H, H, 4);
  const t = text && a.textDim ? (tf.randomNormal([2, a.textDim], 0, 1, 'float32', 8) as tf.Tensor2D) : null;
  const oa = a.forward(x, t, false);
  const ob = b.forward(x, t, false);
  const scale = tf.tidy(() => oa.tokens.abs().max().dataSync()[0]);
  expect(scale).toBeGreaterThan(1e-3); // a meaningful comparison
  expect(maxAbsDiff(oa.tokens, ob.tokens)).toBe(0);
  expect(maxAbsDiff(oa.pooled, ob.pooled)).toBe(0);
  disposeAll([x, t, oa.tokens, oa.pooled, ob.tokens, ob.pooled]);
}

describe('torchvision EfficientNet names', () => {
  it('exports the torchvision names / layouts and round-trips (FiLM + TokenLearner as extras)', () => {
    const a = create('efficientnet_film_xs_64') as EfficientNet;
    randomizeWeights(a.namedWeights());
    const ckpt = exportWeights(a, 'torchvision');
    const L = a.layout;
    expect(ckpt.get('features.0.0.weight')?.shape).toEqual([L.stemCh, 3, 3, 3]); // OIHW
    expect(ckpt.get('features.0.1.running_var')?.shape).toEqual([L.stemCh]);
    // stage 1 (expand ratio 1): block.0 = depthwise, block.1 = SE, block.2 = project
    const s1 = L.blocks[0];
    expect(ckpt.get('features.1.0.block.0.0.weight')?.shape).toEqual([s1.expCh, 1, 3, 3]);
    expect(ckpt.get('features.1.0.block.1.fc1.weight')?.shape).toEqual([s1.seCh, s1.expCh, 1, 1]);
    expect(ckpt.get('features.1.0.block.2.0.weight')?.shape).toEqual([s1.outCh, s1.expCh, 1, 1]);
    // stage 2: block.0 = expand, block.1 = depthwise, block.2 = SE, block.3 = project
    const s2 = L.blocks[1];
    expect(ckpt.get('features.2.0.block.0.0.weight')?.shape).toEqual([s2.expCh, s2.inCh, 1, 1]);
    expect(ckpt.get('features.2.0.block.3.1.bias')?.shape).toEqual([s2.outCh]);
    expect(ckpt.get('features.8.0.weight')?.shape).toEqual([L.headCh, L.lastCh, 1, 1]);
    expect(ckpt.has('blocks.0.film.w')).toBe(true); // extra under its native key
    expect(ckpt.has('tokenlearner.fc1.w')).toBe(true);

    const b = create('efficientnet_film_xs_64', { seed: 5 });
    const rep = importWeights(b, ckpt, 'torchvision');
    expect(rep.loaded.length).toBe(Object.keys(b.namedWeights()).length);
    sameOutputs(a, b, 32, true);
    a.dispose();
    b.dispose();
  });

  it('converts layouts element-wise: OIHW -> HWIO, [C,1,k,k] -> [k,k,C,1], [O,I,1,1] -> [I,O]', () => {
    const m = create('efficientnet_film_xs_64');
    const ckpt = exportWeights(m, 'torchvision', { excludeExtras: true });
    const stem = ckpt.get('features.0.0.weight')!; // [O=stem, I=3, 3, 3]
    const [O, I, K] = stem.shape;
    // set element [o=2, i=1, kh=0, kw=2] of the torch tensor
    stem.data[((2 * I + 1) * K + 0) * K + 2] = 42;
    const dw = ckpt.get('features.1.0.block.0.0.weight')!; // [C,1,3,3]
    dw.data[(5 * 1 + 0) * 9 + 1 * 3 + 2] = 7; // [c=5, 0, kh=1, kw=2]
    const pw = ckpt.get('features.1.0.block.2.0.weight')!; // [out, in, 1, 1]
    const pin = pw.shape[1];
    pw.data[3 * pin + 4] = -3; // [o=3, i=4]
    importWeights(m, ckpt, 'torchvision', { ignoreMissingExtras: true });
    const w = m.namedWeights();
    const at = (v: tf.Variable, idx: number[]) => (v.bufferSync().get(...idx) as number);
    expect(at(w['stem.conv'], [0, 2, 1, 2])).toBe(42); // HWIO [kh, kw, i, o]
    expect(at(w['blocks.0.dw.conv'], [1, 2, 5, 0])).toBe(7); // [kh, kw, c, 1]
    expect(at(w['blocks.0.project.conv'], [4, 3])).toBe(-3); // [in, out]
    expect(O).toBe(w['stem.conv'].shape[3]);
    m.dispose();
  });

  it('one error lists every missing, unexpected and shape-mismatched name', () => {
    const m = create('efficientnet_film_xs_64');
    const ckpt: Checkpoint = exportWeights(m, 'torchvision', { excludeExtras: true });
    ckpt.delete('features.0.1.weight');
    ckpt.delete('features.3.0.block.1.0.weight');
    ckpt.set('features.99.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    ckpt.set('features.0.1.num_batches_tracked', { dtype: 'I64', shape: [], data: new Float32Array(1) }); // ignored
    const bad = ckpt.get('classifier.1.weight') ?? ckpt.get('features.8.1.bias')!;
    bad.shape = [bad.shape[0] + 1];
    bad.data = new Float32Array(bad.shape[0]);
    const before = m.namedWeights()['stem.bn.beta'].dataSync().slice();
    let err: unknown;
    try {
      importWeights(m, ckpt, 'torchvision');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WeightImportError);
    const e = err as WeightImportError;
    expect(e.missing).toContain('features.0.1.weight');
    expect(e.missing).toContain('features.3.0.block.1.0.weight');
    expect(e.missing).toContain('blocks.0.film.w'); // extras are required unless ignoreMissingExtras
    expect(e.unexpected).toEqual(['features.99.weight']);
    expect(e.mismatched.map((x) => x.name)).toEqual(['features.8.1.bias']);
    expect(e.message).toMatch(/missing \(\d+\): .*features\.0\.1\.weight/);
    expect(e.message).toMatch(/unexpected \(1\): features\.99\.weight/);
    expect(e.message).toMatch(/shape mismatch \(1\): features\.8\.1\.bias expected \[\d+\] got \[\d+\]/);
    // nothing was assigned
    expect(Array.from(m.namedWeights()['stem.bn.beta'].dataSync())).toEqual(Array.from(before));
    m.dispose();
  });

  it('B0 expected names equal torchvision efficientnet_b0 state_dict keys (spot checks + count)', () => {
    const b0 = create('efficientnet_b0');
    const all = expectedNames(b0, 'torchvision');
    b0.dispose();
    const keys = new Set(all.map((n) => n.name));
    // torchvision efficientnet_b0 state_dict has 360 entries with num_batches_tracked (49 BNs); 311 without.
    expect(all.length).toBe(311);
    expect(all.every((n) => !n.extra)).toBe(true);
    for (const k of [
      'features.0.0.weight',
      'features.1.0.block.0.0.weight',
      'features.1.0.block.1.fc1.weight',
      'features.6.3.block.3.1.running_var',
      'features.7.0.block.2.fc2.bias',
      'features.8.0.weight',
      'classifier.1.weight',
    ])
      expect(keys.has(k)).toBe(true);
  });
});

describe('timm / HF SigLIP ViT names', () => {
  it('timm: round trip and names', () => {
    const a = create('vit_tiny_patch8_96', { depth: 2 });
    randomizeWeights(a.namedWeights());
    const ckpt = exportWeights(a, 'timm');
    expect(ckpt.get('patch_embed.proj.weight')?.shape).toEqual([128, 3, 8, 8]);
    expect(ckpt.get('cls_token')?.shape).toEqual([1, 1, 128]);
    expect(ckpt.get('pos_embed')?.shape).toEqual([1, 145, 128]);
    expect(ckpt.get('blocks.1.attn.qkv.weight')?.shape).toEqual([384, 128]);
    expect(ckpt.get('blocks.0.mlp.fc2.weight')?.shape).toEqual([128, 512]);
    expect(ckpt.has('norm.weight')).toBe(true);
    const b = create('vit_tiny_patch8_96', { depth: 2, seed: 3 });
    importWeights(b, ckpt, 'timm');
    sameOutputs(a, b, 32, false);
    a.dispose();
    b.dispose();
  });

  it('timm patch-embed conv [C,3,p,p] maps to our [p*p*3, C] rows (ph, pw, rgb)', () => {
    const m = create('vit_tiny_patch8_96', { depth: 1 });
    const ckpt = exportWeights(m, 'timm');
    const pe = ckpt.get('patch_embed.proj.weight')!; // [C, 3, 8, 8]
    pe.data[((10 * 3 + 2) * 8 + 1) * 8 + 6] = 5; // [c=10, rgb=2, ph=1, pw=6]
    importWeights(m, ckpt, 'timm');
    expect(m.namedWeights()['patch_embed.w'].bufferSync().get((1 * 8 + 6) * 3 + 2, 10)).toBe(5);
    m.dispose();
  });

  it('HF SigLIP: q/k/v and MHA in_proj are split / fused, round trip', () => {
    const a = create('siglip_tiny_patch8_96', { depth: 2 });
    randomizeWeights(a.namedWeights());
    const ckpt = exportWeights(a, 'hf_siglip');
    const C = 128;
    expect(ckpt.get('vision_model.embeddings.patch_embedding.weight')?.shape).toEqual([C, 3, 8, 8]);
    expect(ckpt.get('vision_model.embeddings.position_embedding.weight')?.shape).toEqual([144, C]);
    expect(ckpt.get('vision_model.encoder.layers.0.self_attn.q_proj.weight')?.shape).toEqual([C, C]);
    expect(ckpt.get('vision_model.encoder.layers.1.self_attn.v_proj.bias')?.shape).toEqual([C]);
    expect(ckpt.get('vision_model.head.attention.in_proj_weight')?.shape).toEqual([3 * C, C]);
    expect(ckpt.get('vision_model.head.probe')?.shape).toEqual([1, 1, C]);
    expect(ckpt.has('vision_model.post_layernorm.weight')).toBe(true);
    // k_proj.weight[r, c] is our fused qkv.w[c, C + r]
    const k = ckpt.get('vision_model.encoder.layers.0.self_attn.k_proj.weight')!;
    const qkv = a.namedWeights()['blocks.0.attn.qkv.w'].bufferSync();
    expect(k.data[7 * C + 3]).toBe(qkv.get(3, C + 7));
    const b = create('siglip_tiny_patch8_96', { depth: 2, seed: 9 });
    importWeights(b, ckpt, 'hf_siglip');
    sameOutputs(a, b, 32, false);
    // prefix option (e.g. a full SiglipModel checkpoint nested under another module)
    const nested: Checkpoint = new Map([...ckpt].map(([n, t]) => [`tower.${n}`, t]));
    importWeights(b, nested, 'hf_siglip', { prefix: 'tower.' });
    a.dispose();
    b.dispose();
  });

  it('rejects a layout that does not fit the model', () => {
    const m = create('vit_tiny_patch8_96', { depth: 1 });
    expect(() => exportWeights(m, 'hf_siglip')).toThrow(/no class token/);
    const s = create('siglip_tiny_patch8_96', { depth: 1 });
    expect(() => exportWeights(s, 'torchvision')).toThrow(/torchvision's VisionTransformer has a class token/);
    const e = create('efficientnet_film_xs_64');
    expect(() => exportWeights(e, 'hf_siglip')).toThrow(/needs a ViT/);
    expect(() => exportWeights(e, 'keras' as 'timm')).toThrow(/unknown weight layout 'keras'/);
    [m, s, e].forEach((b) => b.dispose());
  });
});

describe('.safetensors files', () => {
  it('torchvision-named file (with I64 num_batches_tracked) round-trips through bytes', () => {
    const a = create('efficientnet_film_xs_64');
    randomizeWeights(a.namedWeights());
    const bytes = exportSafetensors(a, 'torchvision', { metadata: { format: 'pt' } });
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect(parsed.tensors.get('features.0.1.num_batches_tracked')?.dtype).toBe('I64');
    const b = create('efficientnet_film_xs_64', { seed: 4 });
    const rep = importSafetensors(b, bytes, 'torchvision');
    expect(rep.ignored).toContain('features.0.1.num_batches_tracked');
    sameOutputs(a, b, 32, true);
    a.dispose();
    b.dispose();
  });

  it('a hand-built F16 timm checkpoint loads (values rounded to half precision)', () => {
    const a = create('vit_tiny_patch16_64_tl8', { depth: 1 });
    const entries: Record<string, SafeEntry> = {};
    for (const [n, t] of exportWeights(a, 'timm')) entries[n] = { dtype: 'F16', shape: t.shape, data: t.data };
    const bytes = serializeSafetensors(entries);
    const b = create('vit_tiny_patch16_64_tl8', { depth: 1, seed: 2 });
    importSafetensors(b, bytes, 'timm');
    const wa = a.namedWeights()['blocks.0.attn.qkv.w'];
    const wb = b.namedWeights()['blocks.0.attn.qkv.w'];
    const d = maxAbsDiff(wa, wb);
    expect(d).toBeGreaterThan(0);
    expect(d).toBeLessThan(1e-3); // |w| < 0.1 -> half-precision spacing <= 2^-14
    a.dispose();
    b.dispose();
  });

  it('a file with wrong names reports every problem at once', () => {
    const m = create('vit_tiny_patch8_96', { depth: 1 });
    const entries: Record<string, SafeEntry> = {};
    for (const [n, t] of exportWeights(m, 'timm')) entries[n] = t;
    entries['blocks.0.attn.qkvv.weight'] = entries['blocks.0.attn.qkv.weight'];
    delete entries['blocks.0.attn.qkv.weight'];
    entries['pos_embed'] = { dtype: 'F32', shape: [1, 6, 128], data: new Float32Array(6 * 128) }; // 1 + 5 rows: no square grid to resize
    expect(() => importSafetensors(m, serializeSafetensors(entries), 'timm')).toThrow(
      /missing \(1\): blocks\.0\.attn\.qkv\.weight; unexpected \(1\): blocks\.0\.attn\.qkvv\.weight; shape mismatch \(1\): pos_embed expected \[1,145,128\] got \[1,6,128\]/,
    );
    m.dispose();
  });
});
