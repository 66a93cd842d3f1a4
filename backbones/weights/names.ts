// Checkpoint name maps by layout. A layout names the library a checkpoint
// comes from; the architecture is the model's:
//   layout        EfficientNet                       ViT
//   'torchvision' torchvision.models.efficientnet_*  torchvision.models.vit_*
//   'timm'        timm efficientnet_*                timm vit_* (incl. SigLIP's MAP head)
//   'hf_siglip'   -                                  HF SiglipVisionModel
//   'native'      our stable keys, identity layout   our stable keys
// The maps themselves are in efficientnetNames.ts and vitNames.ts; docs/weights.md has the table.
import type * as tf from '@tensorflow/tfjs';
import { EfficientNet } from '../efficientnet.ts';
import type { VisionBackbone } from '../registry.ts';
import { ViT } from '../vit.ts';
import { type MapEntry, MappingBuilder } from './builder.ts';
import { timmEfficientNetMapping, torchvisionEfficientNetMapping } from './efficientnetNames.ts';
import { hfSiglipMapping, timmViTMapping, torchvisionViTMapping } from './vitNames.ts';

export type { MapEntry } from './builder.ts';

export type WeightLayout = 'torchvision' | 'timm' | 'hf_siglip' | 'native';

export const WEIGHT_LAYOUTS: readonly WeightLayout[] = ['torchvision', 'timm', 'hf_siglip', 'native'];

export type Architecture = 'efficientnet' | 'vit';

export function architectureOf(model: VisionBackbone): Architecture | null {
  if (model instanceof EfficientNet) return 'efficientnet';
  if (model instanceof ViT) return 'vit';
  return null;
}

function nativeMapping(model: { namedWeights(): Record<string, tf.Variable> }): MapEntry[] {
  const b = new MappingBuilder(model.namedWeights());
  for (const k of Object.keys(model.namedWeights())) b.add(k, k, { k: 'same' });
  return b.entries;
}

/** The name map of a model under a layout (throws when the layout does not fit the model). */
export function mappingFor(model: VisionBackbone, layout: WeightLayout): MapEntry[] {
  if (!WEIGHT_LAYOUTS.includes(layout)) throw new Error(`unknown weight layout '${layout}' (one of ${WEIGHT_LAYOUTS.join(', ')})`);
  if (layout === 'native') return nativeMapping(model);
  if (model instanceof EfficientNet) {
    if (layout === 'torchvision') return torchvisionEfficientNetMapping(model);
    if (layout === 'timm') return timmEfficientNetMapping(model);
    throw new Error(`layout '${layout}' needs a ViT, got the EfficientNet ${model.name}`);
  }
  if (model instanceof ViT) {
    if (layout === 'torchvision') return torchvisionViTMapping(model);
    if (layout === 'timm') return timmViTMapping(model);
    return hfSiglipMapping(model);
  }
  throw new Error(`layout '${layout}': no name map for backbone ${model.name} (only 'native')`);
}
