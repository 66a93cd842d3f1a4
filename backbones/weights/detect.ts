// Which layout a checkpoint's names look like, so that an import under the
// wrong layout says what to pass instead of listing every name as missing and
// unexpected. Each (layout, architecture) has patterns that its names match;
// the guess is the one matching the largest share of the names (at least
// half), after an optional common prefix (e.g. 'model.', 'vision_tower.').
import type { Architecture, WeightLayout } from './names.ts';

interface Signature {
  layout: WeightLayout;
  arch: Architecture;
  label: string;
  pattern: RegExp;
}

const SIGNATURES: Signature[] = [
  {
    layout: 'torchvision',
    arch: 'vit',
    label: "torchvision's ViT layout",
    pattern: /^(conv_proj\.(weight|bias)|class_token|encoder\.pos_embedding|encoder\.ln\.(weight|bias)|encoder\.layers\.encoder_layer_\d+\..+|heads\..+)$/,
  },
  {
    layout: 'torchvision',
    arch: 'efficientnet',
    label: "torchvision's EfficientNet layout",
    pattern: /^(features\.\d+\.\d+\.(weight|bias|running_mean|running_var|num_batches_tracked)|features\.\d+\.\d+\.block\..+|classifier\.1\.(weight|bias))$/,
  },
  {
    layout: 'timm',
    arch: 'vit',
    label: "timm's ViT layout",
    pattern: /^(patch_embed\.proj\.(weight|bias)|cls_token|pos_embed|blocks\.\d+\.(norm1|norm2|attn|mlp|ls1|ls2)\..+|(norm|fc_norm|head)\.(weight|bias)|attn_pool\..+)$/,
  },
  {
    layout: 'timm',
    arch: 'efficientnet',
    label: "timm's EfficientNet layout",
    pattern: /^(conv_stem\.weight|bn[12]\.(weight|bias|running_mean|running_var|num_batches_tracked)|blocks\.\d+\.\d+\..+|conv_head\.weight|classifier\.(weight|bias))$/,
  },
  {
    layout: 'hf_siglip',
    arch: 'vit',
    label: "Hugging Face's SigLIP vision-tower layout",
    pattern: /^vision_model\.(embeddings|encoder|post_layernorm|head)\..+$/,
  },
  {
    layout: 'native',
    arch: 'vit',
    label: "vlalab's native ViT keys",
    pattern: /^(patch_embed\.[wb]|pos_embed|cls_token|blocks\.\d+\.(ln1\.[gb]|ln2\.[gb]|attn\.(qkv|proj)\.[wb]|mlp\.fc[12]\.[wb])|norm\.[gb]|map\..+|head\.[wb]|film\.\d+\..+|tokenlearner\..+)$/,
  },
  {
    layout: 'native',
    arch: 'efficientnet',
    label: "vlalab's native EfficientNet keys",
    pattern: /^(stem\..+|blocks\.\d+\.(expand|dw|se|project|film)\..+|head\.(conv|bn\..+)|tokens\..+|tokenlearner\..+|classifier\.[wb])$/,
  },
];

export interface LayoutGuess {
  layout: WeightLayout;
  arch: Architecture;
  /** Human-readable, e.g. "torchvision's ViT layout". */
  label: string;
  /** Common prefix in front of the layout's names ('' when none). */
  prefix: string;
  /** Share of the checkpoint's names the layout's patterns match. */
  share: number;
}

/** Dotted prefixes shared by every name, shortest first ('' included). */
function commonPrefixes(names: string[]): string[] {
  const out = [''];
  if (!names.length) return out;
  const parts = names.map((n) => n.split('.'));
  const minLen = Math.min(...parts.map((p) => p.length)) - 1; // keep at least one segment
  let prefix = '';
  for (let i = 0; i < minLen; i++) {
    const seg = parts[0][i];
    if (!parts.every((p) => p[i] === seg)) break;
    prefix += `${seg}.`;
    out.push(prefix);
  }
  return out;
}

/** The layout a set of checkpoint names looks like, or null when none matches at least half of them. */
export function guessLayout(names: Iterable<string>): LayoutGuess | null {
  const all = [...names];
  if (!all.length) return null;
  let best: LayoutGuess | null = null;
  for (const prefix of commonPrefixes(all)) {
    const stripped = all.map((n) => n.slice(prefix.length));
    for (const s of SIGNATURES) {
      const share = stripped.filter((n) => s.pattern.test(n)).length / all.length;
      if (share > (best?.share ?? 0)) best = { layout: s.layout, arch: s.arch, label: s.label, prefix, share };
    }
  }
  return best && best.share >= 0.5 ? best : null;
}
