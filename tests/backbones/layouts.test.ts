// The torchvision ViT and timm EfficientNet layouts against references
// computed with PyTorch outside the project (tests/fixtures/interop/generate.py;
// torch 1.13.1 / torchvision 0.14.1, random weights). The fixtures are
// committed, so these tests need no torch.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  B0_BLOCKS,
  type BackboneOutput,
  type ViT,
  conventionsFor,
  create,
  expectedNames,
  exportSafetensors,
  importSafetensors,
  interpolatePosEmbed,
  resizePosRows,
} from '../../backbones/index.ts';
import { gelu } from '../../backbones/nn.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const DIR = 'tests/fixtures/interop';
const bytesOf = (f: string) => new Uint8Array(readFileSync(`${DIR}/${f}`));
type Ref = { shape: number[]; data: Float32Array };
/** The F32 tensors of a fixture file. */
function refOf(f: string): Map<string, Ref> {
  const out = new Map<string, Ref>();
  for (const [n, t] of parseSafetensors(bytesOf(f)).tensors) if (t.data instanceof Float32Array) out.set(n, { shape: t.shape, data: t.data });
  return out;
}
/** NHWC images stored in a fixture. */
const imagesOf = (ref: Map<string, Ref>, key: string) => tf.tensor4d(ref.get(key)!.data, ref.get(key)!.shape as [number, number, number, number]);
const disposeOut = (...outs: BackboneOutput[]) => outs.forEach((o) => tf.dispose([o.tokens, o.pooled, ...(o.logits ? [o.logits] : [])]));

/** Float32 rounding: |a - b| <= tol * max(1, max|b|), and the reference is not trivially small. */
function expectClose(ours: tf.Tensor, ref: { shape: number[]; data: ArrayLike<number> }, tol = 1e-5): void {
  expect(ours.shape).toEqual(ref.shape);
  const a = ours.dataSync();
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(ref.data[i]));
    diff = Math.max(diff, Math.abs(a[i] - ref.data[i]));
  }
  expect(scale).toBeGreaterThan(1e-2);
  expect(diff).toBeLessThanOrEqual(tol * Math.max(1, scale));
}

/** Every tensor of a re-export equals the file it was imported from (import -> export -> import). */
function expectSameFile(exported: Uint8Array, original: Uint8Array): void {
  const a = parseSafetensors(exported).tensors;
  const b = parseSafetensors(original).tensors;
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
  for (const [n, t] of b) {
    expect(a.get(n)!.shape, n).toEqual(t.shape);
    expect(Array.from(a.get(n)!.data as ArrayLike<number>), n).toEqual(Array.from(t.data as ArrayLike<number>));
  }
}

// torchvision VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=24, mlp_dim=48, num_classes=5)
const TV_VIT = { imgSize: 32, patchSize: 8, depth: 2, heads: 2, dim: 24, mlpRatio: 2, numClasses: 5, pool: 'token', classToken: true };
const tvVit = (over: Record<string, unknown> = {}) =>
  create('vit_tiny_patch8_96', { ...conventionsFor('vit_tiny_patch8_96', 'torchvision'), ...TV_VIT, ...over }) as ViT;

describe('torchvision ViT layout', () => {
  it('expects exactly the state_dict names of torchvision VisionTransformer', () => {
    const m = tvVit();
    const file = refOf('torchvision_vit.safetensors');
    const ours = expectedNames(m, 'torchvision');
    expect(ours.map((n) => n.name).sort()).toEqual([...file.keys()].sort());
    for (const n of ours) expect(file.get(n.name)!.shape, n.name).toEqual(n.shape);
    m.dispose();
  });

  it('vit_base_patch16_224 under torchvision: vit_b_16 shapes, 8 + 12 per block names (152 for 12 blocks)', () => {
    const m = create('vit_base_patch16_224', { depth: 1 });
    const names = new Map(expectedNames(m, 'torchvision').map((n) => [n.name, n.shape]));
    expect(names.size).toBe(8 + 12);
    expect(names.get('conv_proj.weight')).toEqual([768, 3, 16, 16]);
    expect(names.get('encoder.pos_embedding')).toEqual([1, 197, 768]);
    expect(names.get('encoder.layers.encoder_layer_0.self_attention.in_proj_weight')).toEqual([2304, 768]);
    expect(names.get('encoder.layers.encoder_layer_0.mlp.3.weight')).toEqual([768, 3072]);
    expect(names.get('heads.head.weight')).toEqual([1000, 768]);
    m.dispose();
  });

  it('reproduces torchvision outputs (ImageNet mean/std) and round-trips', () => {
    const ref = refOf('torchvision_vit_ref.safetensors');
    const original = bytesOf('torchvision_vit.safetensors');
    const m = tvVit();
    importSafetensors(m, original, 'torchvision', { file: 'torchvision_vit.safetensors' });
    const x = imagesOf(ref, 'images_32');
    const out = m.forward(x, null, false);
    expectClose(out.logits!, ref.get('logits_32')!);
    expectClose(out.pooled, ref.get('class_token_out_32')!);
    expectClose(out.tokens, ref.get('patch_tokens_32')!);
    // import -> export -> import
    const exported = exportSafetensors(m, 'torchvision');
    expectSameFile(exported, original);
    const m2 = tvVit({ seed: 9 });
    importSafetensors(m2, exported, 'torchvision');
    const out2 = m2.forward(x, null, false);
    expect(Array.from(out2.logits!.dataSync())).toEqual(Array.from(out.logits!.dataSync()));
    // the preset's own normalization (0.5 / 0.5) computes something else
    const half = tvVit({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    importSafetensors(half, original, 'torchvision');
    const outHalf = half.forward(x, null, false);
    expect(tf.tidy(() => outHalf.logits!.sub(out.logits!).abs().max().dataSync()[0])).toBeGreaterThan(1e-2);
    x.dispose();
    disposeOut(out, out2, outHalf);
    [m, m2, half].forEach((b) => b.dispose());
  });

  it('a 48 px model imports the 32 px checkpoint as torchvision resizes it (bicubic, align_corners)', () => {
    const ref = refOf('torchvision_vit_ref.safetensors');
    const m = tvVit({ imgSize: 48 });
    const rep = importSafetensors(m, bytesOf('torchvision_vit.safetensors'), 'torchvision');
    expect(rep.resized).toEqual([{ name: 'encoder.pos_embedding', from: [4, 4], to: [6, 6], method: { mode: 'bicubic', antialias: false, alignCorners: true } }]);
    expectClose(m.namedWeights()['pos_embed'].reshape([1, 37, 24]), ref.get('pos_embedding_48')!);
    const x = imagesOf(ref, 'images_48');
    const out = m.forward(x, null, false);
    expectClose(out.logits!, ref.get('logits_48')!);
    expectClose(out.tokens, ref.get('patch_tokens_48')!);
    x.dispose();
    disposeOut(out);
    m.dispose();
  });

  it('the 32 px model fed 48 px images resizes at forward time with the same method (config.posEmbedResize)', () => {
    const ref = refOf('torchvision_vit_ref.safetensors');
    const m = tvVit();
    importSafetensors(m, bytesOf('torchvision_vit.safetensors'), 'torchvision');
    const x = imagesOf(ref, 'images_48');
    const out = m.forward(x, null, false);
    expectClose(out.logits!, ref.get('logits_48')!);
    const bilinear = tvVit({ posEmbedResize: { mode: 'bilinear', antialias: false, alignCorners: false } });
    importSafetensors(bilinear, bytesOf('torchvision_vit.safetensors'), 'torchvision');
    const outB = bilinear.forward(x, null, false);
    expect(tf.tidy(() => outB.logits!.sub(out.logits!).abs().max().dataSync()[0])).toBeGreaterThan(1e-4); // the method matters (> 10x the tolerance above)
    x.dispose();
    disposeOut(out, outB);
    [m, bilinear].forEach((b) => b.dispose());
  });
});

// TimmStyleEfficientNet in generate.py: B0 rows 1-4, width 0.25, depth 0.5, head 32, 5 classes.
const timmEffnet = (seed = 0) =>
  create('efficientnet_b0', {
    ...conventionsFor('efficientnet_b0', 'timm'),
    widthMult: 0.25,
    depthMult: 0.5,
    blocks: B0_BLOCKS.slice(0, 4),
    headChannels: 32,
    numClasses: 5,
    dropConnect: 0,
    classifierDropout: 0,
    seed,
  });

describe('timm EfficientNet layout', () => {
  it("expects exactly the fixture's timm names (DepthwiseSeparableConv first, then InvertedResidual)", () => {
    const m = timmEffnet();
    const file = parseSafetensors(bytesOf('timm_efficientnet.safetensors')).tensors; // with the I64 BN counters
    const ours = expectedNames(m, 'timm').map((n) => n.name);
    const withCounters = [...ours, ...ours.filter((n) => n.endsWith('.running_mean')).map((n) => n.replace(/running_mean$/, 'num_batches_tracked'))];
    expect(withCounters.sort()).toEqual([...file.keys()].sort());
    expect(ours).toContain('blocks.0.0.conv_pw.weight'); // the DS block's projection
    expect(ours).toContain('blocks.3.1.conv_pwl.weight'); // the residual IR block
    expect(ours).toContain('blocks.1.0.se.conv_reduce.bias');
    m.dispose();
  });

  it('reproduces the reference logits and feature map, and round-trips', () => {
    const ref = refOf('timm_efficientnet_ref.safetensors');
    const original = bytesOf('timm_efficientnet.safetensors');
    const m = timmEffnet();
    const rep = importSafetensors(m, original, 'timm');
    expect(rep.ignored.every((n) => n.endsWith('num_batches_tracked'))).toBe(true);
    const x = imagesOf(ref, 'images');
    const out = m.forward(x, null, false);
    expectClose(out.logits!, ref.get('logits')!);
    const f = ref.get('features_nhwc')!;
    expectClose(out.tokens.reshape(f.shape), f); // no TokenLearner: tokens are the head's map, row-major
    const exported = exportSafetensors(m, 'timm');
    expectSameFile(exported, original);
    const m2 = timmEffnet(7);
    importSafetensors(m2, exported, 'timm');
    const out2 = m2.forward(x, null, false);
    expect(Array.from(out2.logits!.dataSync())).toEqual(Array.from(out.logits!.dataSync()));
    x.dispose();
    disposeOut(out, out2);
    [m, m2].forEach((b) => b.dispose());
  });
});

type ResizeGrid = {
  in: [number, number];
  out: [number, number];
  input: number[];
  methods: { mode: 'bilinear' | 'bicubic'; antialias: boolean; alignCorners: boolean; output: number[] }[];
};
const resizeRef = JSON.parse(readFileSync(`${DIR}/resize_ref.json`, 'utf8')) as { resize: ResizeGrid[]; gelu: { x: number[]; erf: number[]; tanh: number[] } };
const resizeCases = resizeRef.resize.flatMap((g) =>
  g.methods.map((m) => [`${m.mode}${m.antialias ? ' antialias' : ''}${m.alignCorners ? ' align_corners' : ''} ${g.in} -> ${g.out}`, g, m] as const),
);

describe('position-embedding resizing and GELU against torch', () => {
  it('covers every method on up- and downsampling grids', () => {
    expect(resizeCases.length).toBe(30);
    expect(new Set(resizeCases.map(([, , m]) => `${m.mode}/${m.antialias}/${m.alignCorners}`)).size).toBe(6);
  });

  it.each(resizeCases)('F.interpolate %s', (_, g, m) => {
    const got = resizePosRows(Float32Array.from(g.input), 2, g.in, g.out, m);
    expectClose(tf.tensor(got), { shape: [got.length], data: m.output }, 2e-6);
    // the tf path the ViT's forward uses gives the same
    const viaTf = interpolatePosEmbed(tf.tensor2d(g.input, [g.in[0] * g.in[1], 2]), g.in, g.out, m);
    expectClose(viaTf.reshape([got.length]), { shape: [got.length], data: m.output }, 2e-6);
    viaTf.dispose();
  });

  it('GELU: erf matches F.gelu, tanh matches F.gelu(approximate="tanh")', () => {
    const x = tf.tensor(resizeRef.gelu.x);
    expectClose(gelu(x, 'erf'), { shape: [x.size], data: resizeRef.gelu.erf }, 2e-6);
    expectClose(gelu(x, 'tanh'), { shape: [x.size], data: resizeRef.gelu.tanh }, 2e-6);
    expect(tf.tidy(() => gelu(x, 'erf').sub(gelu(x, 'tanh')).abs().max().dataSync()[0])).toBeGreaterThan(1e-4); // they do differ
    x.dispose();
  });
});
