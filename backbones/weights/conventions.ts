// What a checkpoint's library assumes beyond the weights: input
// normalization, the GELU flavour, LayerNorm epsilon and how position
// embeddings are resized for another input size. Weights imported into a
// preset that assumes otherwise load without error and compute something
// else, so `conventionsFor(preset, layout)` gives the config overrides that
// make the preset follow the checkpoint's library:
//   create('vit_tiny_patch8_96', { ...conventionsFor('vit_tiny_patch8_96', 'torchvision'), depth: 2 })
// Sources: torchvision's weight transforms (ImageNet mean/std, both models)
// and vision_transformer.py (nn.GELU, LayerNorm 1e-6, interpolate_embeddings:
// bicubic, align_corners=True); timm's ViT / SigLIP configs (mean = std = 0.5,
// nn.GELU exact, resample_abs_pos_embed: bicubic + antialias) and EfficientNet
// (ImageNet mean/std); HF SiglipVisionConfig (gelu_pytorch_tanh, eps 1e-6,
// processor mean = std = 0.5, interpolate_pos_encoding: bicubic, align_corners=False).
import type { ResizeMethod } from '../posEmbed.ts';
import { getEntry, getPreset } from '../registry.ts';
import { type Architecture, type WeightLayout } from './names.ts';

const IMAGENET_MEAN = [0.485, 0.456, 0.406];
const IMAGENET_STD = [0.229, 0.224, 0.225];
const HALF = [0.5, 0.5, 0.5];

export interface LibraryConventions {
  mean: number[];
  std: number[];
  /** ViT only. */
  gelu?: 'erf' | 'tanh';
  lnEps?: number;
  posEmbedResize?: ResizeMethod;
}

const BICUBIC_AA: ResizeMethod = { mode: 'bicubic', antialias: true, alignCorners: false };
const BICUBIC: ResizeMethod = { mode: 'bicubic', antialias: false, alignCorners: false };
const BICUBIC_CORNERS: ResizeMethod = { mode: 'bicubic', antialias: false, alignCorners: true };

const TABLE: Record<Exclude<WeightLayout, 'native'>, Partial<Record<Architecture, LibraryConventions>>> = {
  torchvision: {
    efficientnet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
    vit: { mean: IMAGENET_MEAN, std: IMAGENET_STD, gelu: 'erf', lnEps: 1e-6, posEmbedResize: BICUBIC_CORNERS },
  },
  timm: {
    efficientnet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
    vit: { mean: HALF, std: HALF, gelu: 'erf', lnEps: 1e-6, posEmbedResize: BICUBIC_AA },
  },
  hf_siglip: {
    vit: { mean: HALF, std: HALF, gelu: 'tanh', lnEps: 1e-6, posEmbedResize: BICUBIC },
  },
};

/** The library's conventions for an architecture under a layout (null for 'native': the preset's own). */
export function libraryConventions(layout: WeightLayout, arch: Architecture): LibraryConventions | null {
  if (layout === 'native') return null;
  const c = TABLE[layout]?.[arch];
  if (!c) throw new Error(`layout '${layout}' has no ${arch === 'vit' ? 'ViT' : 'EfficientNet'} checkpoints`);
  return { ...c, mean: c.mean.slice(), std: c.std.slice() };
}

/** How a checkpoint's library resizes ViT position embeddings (imports default to it). */
export function libraryPosEmbedResize(layout: WeightLayout): ResizeMethod | null {
  return layout === 'native' ? null : (TABLE[layout].vit?.posEmbedResize ?? null);
}

/**
 * Config overrides that make a registered preset follow a layout's library
 * (only the fields the preset has; {} for 'native').
 */
export function conventionsFor(preset: string, layout: WeightLayout): Record<string, unknown> {
  const cfg = getPreset(preset);
  const arch: Architecture | null = 'patchSize' in cfg ? 'vit' : 'blocks' in cfg && 'widthMult' in cfg ? 'efficientnet' : null;
  if (!arch) throw new Error(`conventionsFor: backbone '${preset}' (${getEntry(preset).description ?? ''}) is neither a ViT nor an EfficientNet`);
  const c = libraryConventions(layout, arch);
  if (!c) return {};
  return Object.fromEntries(Object.entries(c).filter(([k, v]) => v !== undefined && k in cfg));
}
