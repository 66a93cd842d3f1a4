// What an import under the wrong layout, prefix or file says, layout
// guessing for every (layout, architecture), and the library conventions.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  WeightImportError,
  conventionsFor,
  create,
  exportWeights,
  guessLayout,
  importSafetensors,
  importWeights,
  libraryConventions,
} from '../../backbones/index.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { useCpu } from '../tf/tensors.ts';

beforeAll(useCpu);

const VIT_FILE = 'tests/fixtures/interop/torchvision_vit.safetensors';
const EFF_FILE = 'tests/fixtures/interop/timm_efficientnet.safetensors';
const TV_VIT = { imgSize: 32, patchSize: 8, depth: 2, heads: 2, dim: 24, mlpRatio: 2, numClasses: 5 };

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('an import under the wrong layout says which layout the names look like', () => {
  it('torchvision ViT names imported as timm', () => {
    const m = create('vit_tiny_patch8_96', TV_VIT);
    const e = errorOf(() => importSafetensors(m, new Uint8Array(readFileSync(VIT_FILE)), 'timm', { file: VIT_FILE })) as WeightImportError;
    expect(e).toBeInstanceOf(WeightImportError);
    expect(e.missing.length).toBeGreaterThan(20); // every name is wrong ...
    expect(e.unexpected.length).toBe(e.missing.length);
    expect(e.message).toContain(`(${VIT_FILE}, layout 'timm')`); // ... the file is named ...
    expect(e.message).toContain("these names look like torchvision's ViT layout (100% of them); pass layout 'torchvision'"); // ... and the fix
    expect(e.message).toMatch(/missing \(\d+\): (\S+, ){20}\.\.\. and \d+ more/); // long lists are cut in the message
    expect(e.context.guess).toMatchObject({ layout: 'torchvision', arch: 'vit', prefix: '' });
    // following the hint works
    importSafetensors(m, new Uint8Array(readFileSync(VIT_FILE)), 'torchvision');
    m.dispose();
  });

  it('EfficientNet names into a ViT: says the architecture is wrong', () => {
    const m = create('vit_tiny_patch8_96', TV_VIT);
    const e = errorOf(() => importSafetensors(m, new Uint8Array(readFileSync(EFF_FILE)), 'timm', { file: EFF_FILE }));
    expect(e.message).toContain("these names look like timm's EfficientNet layout");
    expect(e.message).toContain('vit_tiny_patch8_96 is not an EfficientNet');
    m.dispose();
  });

  it('names under a prefix: says which prefix to pass', () => {
    const m = create('siglip_tiny_patch8_96', { depth: 1 });
    const nested: Checkpoint = new Map([...exportWeights(m, 'hf_siglip')].map(([n, t]) => [`model.vision_tower.${n}`, t]));
    const e = errorOf(() => importWeights(m, nested, 'hf_siglip'));
    expect(e.message).toContain("look like Hugging Face's SigLIP vision-tower layout (100% of them); pass layout 'hf_siglip' with prefix 'model.vision_tower.'");
    importWeights(m, nested, 'hf_siglip', { prefix: 'model.vision_tower.' });
    m.dispose();
  });

  it('no hint when the layout is right and only some names are off', () => {
    const m = create('vit_tiny_patch8_96', { depth: 1 });
    const ck = exportWeights(m, 'timm');
    ck.delete('norm.weight');
    const e = errorOf(() => importWeights(m, ck, 'timm')) as WeightImportError;
    expect(e.message).toBe("weight import failed (layout 'timm'): missing (1): norm.weight");
    m.dispose();
  });

  it('names of no known layout say so', () => {
    const m = create('vit_tiny_patch8_96', { depth: 1 });
    const ck: Checkpoint = new Map([['foo.bar', { dtype: 'F32', shape: [1], data: new Float32Array(1) }]]);
    expect(errorOf(() => importWeights(m, ck, 'timm')).message).toContain('these names match none of the known layouts');
    m.dispose();
  });
});

describe('broken files name the file', () => {
  const bytes = new Uint8Array(readFileSync(VIT_FILE));
  it('a truncated file says "truncated"', () => {
    const m = create('vit_tiny_patch8_96', TV_VIT);
    const e = errorOf(() => importSafetensors(m, bytes.subarray(0, bytes.length - 100), 'torchvision', { file: 'vit.safetensors' }));
    expect(e.message).toMatch(/^safetensors: vit\.safetensors: tensor ".*": data_offsets .* out of range .*: the file is truncated \(\d+ bytes; its header describes \d+\)/);
    expect(errorOf(() => parseSafetensors(bytes.subarray(0, 16))).message).toMatch(/truncated/); // cut inside the header
    m.dispose();
  });
});

describe('guessLayout', () => {
  const cases: [string, Record<string, unknown>, ('torchvision' | 'timm' | 'hf_siglip' | 'native')[]][] = [
    ['vit_tiny_patch8_96', { depth: 2, numClasses: 3 }, ['torchvision', 'timm', 'native']],
    ['siglip_tiny_patch8_96', { depth: 2 }, ['timm', 'hf_siglip', 'native']],
    ['efficientnet_film_xs_64', {}, ['torchvision', 'timm', 'native']],
    ['efficientnet_b0', { widthMult: 0.25, depthMult: 0.25, numClasses: 3 }, ['torchvision', 'timm', 'native']],
  ];
  it.each(cases)("an export of %s under each layout is recognized as that layout", (name, over, layouts) => {
    const m = create(name, over);
    for (const layout of layouts) {
      const g = guessLayout(exportWeights(m, layout).keys());
      expect(g?.layout, `${name} ${layout}`).toBe(layout);
      expect(g?.arch).toBe(name.startsWith('efficientnet') ? 'efficientnet' : 'vit');
      expect(g?.share).toBeGreaterThanOrEqual(layout === 'native' ? 1 : 0.5); // FiLM / TokenLearner extras keep native keys
    }
    m.dispose();
  });
});

describe('library conventions', () => {
  it('torchvision ViT weights expect ImageNet mean/std; timm SigLIP exact GELU, HF tanh', () => {
    expect(conventionsFor('vit_tiny_patch8_96', 'torchvision')).toMatchObject({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], gelu: 'erf' });
    expect(conventionsFor('siglip_tiny_patch8_96', 'timm')).toMatchObject({ gelu: 'erf', mean: [0.5, 0.5, 0.5] });
    expect(conventionsFor('siglip_tiny_patch8_96', 'hf_siglip')).toMatchObject({ gelu: 'tanh' });
    expect(conventionsFor('siglip_tiny_patch8_96', 'native')).toEqual({});
    const eff = conventionsFor('efficientnet_b0', 'timm');
    expect(Object.keys(eff).sort()).toEqual(['mean', 'std']); // no GELU / resize fields on an EfficientNet
    expect(() => libraryConventions('hf_siglip', 'efficientnet')).toThrow(/no EfficientNet checkpoints/);
  });

  it('position-embedding resizing defaults to each library, and a model built with them uses it', () => {
    expect(conventionsFor('vit_tiny_patch8_96', 'timm').posEmbedResize).toEqual({ mode: 'bicubic', antialias: true, alignCorners: false });
    expect(conventionsFor('siglip_tiny_patch8_96', 'hf_siglip').posEmbedResize).toEqual({ mode: 'bicubic', antialias: false, alignCorners: false });
    const m = create('siglip_tiny_patch8_96', { depth: 1, ...conventionsFor('siglip_tiny_patch8_96', 'hf_siglip') });
    expect((m.config as { gelu: string }).gelu).toBe('tanh');
    m.dispose();
  });

  it("an import resizes a checkpoint's position embeddings with the layout's method unless told otherwise", () => {
    const src = create('vit_tiny_patch8_96', { depth: 1, imgSize: 64 }); // 8 x 8 grid
    const ck = exportWeights(src, 'timm');
    const dst = create('vit_tiny_patch8_96', { depth: 1, imgSize: 48 }); // 6 x 6
    expect(importWeights(dst, ck, 'timm').resized[0]).toMatchObject({ name: 'pos_embed', from: [8, 8], to: [6, 6], method: { mode: 'bicubic', antialias: true } });
    const bil = importWeights(dst, ck, 'timm', { posEmbedResize: { mode: 'bilinear', antialias: false, alignCorners: false } });
    expect(bil.resized[0].method.mode).toBe('bilinear');
    const e = errorOf(() => importWeights(dst, ck, 'timm', { posEmbedResize: 'off' }));
    expect(e.message).toMatch(/shape mismatch \(1\): pos_embed expected \[1,37,128\] got \[1,65,128\]/);
    [src, dst].forEach((b) => b.dispose());
  });
});
