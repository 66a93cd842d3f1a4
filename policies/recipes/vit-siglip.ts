// The ViT policies: a small SigLIP-style ViT (ViT: Dosovitskiy et al. 2021,
// arXiv:2010.11929; SigLIP's encoder: Zhai et al. 2023, arXiv:2303.15343 —
// no class token, tanh GELU) in two designs.
//
//   vit-siglip          checkpoints/vit-siglip (runs vit-tl, vit-tl2): RT-1's token path on the ViT —
//                       FiLM after every block, TokenLearner, no language tokens in the decoder,
//                       and the CNN's decoder recipe
//   vit-siglip-openvla  the first shipped ViT (runs vit-1, vit-2), OpenVLA style (Kim et al. 2024,
//                       arXiv:2406.09246): patch tokens + language tokens in the causal decoder
//
// Why the design changed: the OpenVLA-style ViT did not complete held-out
// episodes at this scale (results/training-history/, "The ViT"); the
// shipped one against the CNN: results/eval-heldout_layout/.
import type { VlaPolicyConfig } from '../config.ts';
import { VlaPolicy } from '../policy.ts';
import { EFFICIENTNET_FILM } from './efficientnet-film.ts';
import { type ModelConfig, register } from './recipe.ts';
import { TABLETOP_TRAIN, training } from './shared.ts';

/**
 * The shipped ViT's config (checkpoints/vit-siglip/config.json minus
 * DATA_FIELDS): the shipped CNN's in every field but the backbone. Its
 * instruction encoder and GPT were warm-started from the CNN's, so the two
 * policies share their language and action machinery by construction and
 * differ in the vision backbone alone.
 *
 * siglip_film_tl8_patch16_96: 16 px patches (a 6x6 grid at 96 px, like the
 * CNN's output stride 16), sin-cos position init, FiLM after every block so
 * the instruction shapes the patch features, coordinate channels, and
 * TokenLearner (Ryoo et al. 2021, arXiv:2106.11297, first proposed for ViTs)
 * reducing the 36 patch tokens to 8 per camera, as the CNN's do.
 */
export const VIT_SIGLIP: ModelConfig = { ...EFFICIENTNET_FILM, backbone: 'siglip_film_tl8_patch16_96' };

/**
 * The OpenVLA-style ViT as its runs (vit-1, vit-2) trained it: the
 * SigLIP-style ViT's patch tokens and the instruction's tokens both enter
 * the decoder (useTextTokens), so the prefix is 2 x 16 patch + 16 language
 * + 1 proprio tokens at 64 px with 16 px patches; its length dominates the
 * cost, hence 2 GPT layers. In place of the CNN's spatial losses:
 * - a decoder pointer head over each camera's patch tokens, supervised with
 *   where the object and destination are (Transporter-style spatial
 *   supervision: Zeng et al. 2020, arXiv:2010.14406);
 * - plan tokens (embodied chain-of-thought, Zawalski et al. 2024,
 *   arXiv:2407.08693): before each action the decoder names the object's
 *   and destination's table (x, y) in [-0.3, 0.3] m (src/train/auxTargets.ts
 *   PLAN_*), teacher-forced in training. With the pointer alone the action
 *   tokens did not learn to use the localization. Their embeddings start as
 *   sin-cos codes of the bin: with N(0, 0.02) rows the decoder had not
 *   learned to use the plan's value after 800 steps.
 */
export const VIT_SIGLIP_OPENVLA: ModelConfig = {
  ...VIT_SIGLIP,
  backbone: 'siglip_tiny_patch8_96',
  backboneOverrides: { patchSize: 16, posEmbedInit: 'sincos' },
  imageSize: 64,
  useTextTokens: true,
  gptLayers: 2,
  roleAuxWeight: 0,
  auxDim: 0,
  spatialAux: 'pointer',
  spatialAuxWeight: 1,
  valueEmbedInit: 'sincos',
  planDims: 4,
  planLow: [-0.3, -0.3, -0.3, -0.3],
  planHigh: [0.3, 0.3, 0.3, 0.3],
};

const create = (c: VlaPolicyConfig) => new VlaPolicy(c);

register('vit-siglip', {
  description: "RT-1's token path on a SigLIP-style ViT: FiLM per block + TokenLearner, scene + wrist at 96 px, the CNN's decoder recipe",
  shipped: true,
  defaults: VIT_SIGLIP,
  create,
  data: TABLETOP_TRAIN,
  train: training(3),
  // The backbone starts from the first ViT's encoder blocks, the decoder from the shipped CNN's.
  needs: ['efficientnet-film', 'vit-siglip-openvla'],
  stages: [
    {
      kind: 'train', out: 'runs/vit-tl', steps: 2800, lr: 5e-4, valEvery: 400,
      warmStart: [{ part: 'backbone', from: 'runs/vit-2-f16' }, { part: 'decoder', from: 'checkpoints/efficientnet-film' }],
      recordedAs: '.scratch/vitTL-L', note: 'a fresh policy with both parts copied where names and shapes match (the rest is listed on stderr)',
    },
    { kind: 'train', initFrom: 'runs/vit-tl', out: 'runs/vit-tl2', steps: 1600, lr: 3e-4, valEvery: 400, recordedAs: '.scratch/vitTL-L2' },
    { kind: 'export', checkpoint: 'runs/vit-tl2', out: 'checkpoints/vit-siglip', f16: true, decode: 'median' },
  ],
});

register('vit-siglip-openvla', {
  description: 'OpenVLA style: SigLIP-style ViT patch tokens + language tokens in the decoder, plan tokens, pointer head; scene + wrist at 64 px, 2 GPT layers',
  shipped: false,
  defaults: VIT_SIGLIP_OPENVLA,
  create,
  data: TABLETOP_TRAIN,
  train: training(3),
  stages: [
    { kind: 'train', out: 'runs/vit-1', steps: 4400, lr: 1e-3, valEvery: 400, note: 'from scratch' },
    // vit-2 continued the F16 export of vit-1, as its metrics.init.jsonl recorded.
    { kind: 'export', checkpoint: 'runs/vit-1', out: 'runs/vit-1-f16', f16: true },
    { kind: 'train', initFrom: 'runs/vit-1-f16', out: 'runs/vit-2', steps: 2400, lr: 5e-4, valEvery: 400 },
    { kind: 'export', checkpoint: 'runs/vit-2', out: 'runs/vit-2-f16', f16: true, decode: 'median', note: 'shipped as checkpoints/vit-siglip before vit-tl2' },
  ],
});
