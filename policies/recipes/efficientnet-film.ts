// The RT-1-style CNN policy (Brohan et al. 2022, arXiv:2212.06817): a
// FiLM-conditioned EfficientNet (Tan & Le 2019, arXiv:1905.11946; FiLM:
// Perez et al. 2018, arXiv:1709.07871) whose feature map TokenLearner
// (Ryoo et al. 2021, arXiv:2106.11297) reduces to 8 tokens per camera, and a
// causal GPT decoder over 256-bin action tokens. Language enters only
// through FiLM: the decoder sees image tokens and proprio, no words.
//
//   efficientnet-film     checkpoints/efficientnet-film (run role-g): 96 px, role and spatial losses
//   efficientnet-film-64  the CNN before them (runs cnn-1 ... cnn-4): 64 px, spatial weight 1, no role loss
//
// What each step of the chain measured: results/training-history/ (cnn-1 ...
// cnn-4) and results/role-loss/ (roleA, roleC, roleG = role-a, role-c, role-g
// here); the shipped CNN's evaluation: results/eval-heldout_layout/.
import type { VlaPolicyConfig } from '../config.ts';
import { VlaPolicy } from '../policy.ts';
import { type ModelConfig, register, type Stage, type TrainStage } from './recipe.ts';
import { RT1_ACTION_ORDER, TABLETOP_TRAIN, training } from './shared.ts';

/** The shipped CNN's config, field by field (checkpoints/efficientnet-film/config.json minus DATA_FIELDS). */
export const EFFICIENTNET_FILM: ModelConfig = {
  // Width/depth 0.5 of EfficientNet-B0 with output stride 16 (stage 6 keeps
  // its resolution: a 6x6 map at 96 px instead of 3x3) and coordinate
  // channels (CoordConv, Liu et al. 2018, arXiv:1807.03247), so each
  // TokenLearner token carries the centroid of what it attends to.
  backbone: 'efficientnet_film_s_os16_96',
  backboneOverrides: {},
  // The wrist camera sees the commanded object at 7-10 px instead of 2-3 px,
  // in the gripper's own frame, where the approach direction is a
  // translation-equivariant read-out.
  cameras: ['scene', 'wrist'],
  // 96 px, the camera's own resolution: the finer maps are what made the
  // role loss pay off (results/role-loss/, roleE and roleG).
  imageSize: 96,
  blind: false,
  // The instruction encoder, trained from scratch: one transformer block of
  // width 64 (also FiLM's conditioning size) over at most 16 word tokens,
  // mean-pooled into the sentence embedding FiLM reads.
  maxTextLen: 16,
  textDim: 64,
  textDepth: 1,
  textHeads: 4,
  textPool: 'mean',
  // Role heads on that embedding must name the object's and destination's
  // colour and shape, so the embedding keeps which word plays which role
  // (results/language-roles/ measured that it did not; results/role-loss/).
  roleAuxWeight: 1,
  textEncoderKind: 'scratch',
  textEncoderInput: 'roles',
  useTextTokens: false,
  gptLayers: 4,
  gptHeads: 4,
  gptDim: 128,
  gptMlpRatio: 4,
  dropout: 0,
  valueEmbedInit: 'normal',
  // Privileged training signals (simulator state, never inputs): regress the
  // object's and destination's table (x, y) from the decoder's last prefix
  // state (Levine et al. 2016, arXiv:1504.00702, pretrain on object
  // positions), and point TokenLearner maps 0 and 1 at them (weight 4: role-c).
  auxDim: 4,
  auxWeight: 1,
  spatialAux: 'tokens',
  spatialAuxWeight: 4,
  proprioDim: 6,
  actionDim: 6,
  bins: 256,
  actionOrder: RT1_ACTION_ORDER,
  planDims: 0,
  planLow: [],
  planHigh: [],
  chunkLength: 1,
  decoding: 'autoregressive',
  head: 'tokens',
  chunkExecution: { mode: 'open_loop' },
  temperature: 0,
  // Greedy decoding by the median bin: near the goal the dx/dy distributions
  // are wide with a spike at the clipped bound, which argmax takes and
  // overshoots (docs/training.md "Decoding").
  decodePoint: 'median',
  seed: 0,
};

/** The CNN of runs cnn-1 ... cnn-4 (shipped before role-g): the same network at 64 px, before the role loss and the heavier spatial loss. */
export const EFFICIENTNET_FILM_64: ModelConfig = { ...EFFICIENTNET_FILM, imageSize: 64, roleAuxWeight: 0, spatialAuxWeight: 1 };

/**
 * cnn-1 ... cnn-4 and the F16 export role-a started from. cnn-1 was sized to
 * fit about 100 minutes on one core (docs/training.md, "Recipes and presets"); each
 * continuation restarts warmup and cosine decay at a lower peak rate.
 */
function cnn64Runs(policy: string | undefined, first: Partial<TrainStage>): Stage[] {
  const p = policy === undefined ? {} : { policy };
  return [
    { kind: 'train', ...p, out: 'runs/cnn-1', steps: 2800, lr: 1e-3, valEvery: 400, ...first, recordedAs: '.scratch/r2/efficientnet-film', note: 'from scratch' },
    { kind: 'train', ...p, initFrom: 'runs/cnn-1', out: 'runs/cnn-2', steps: 2000, lr: 5e-4, valEvery: 400, recordedAs: '.scratch/r4/efficientnet-film' },
    { kind: 'train', ...p, initFrom: 'runs/cnn-2', out: 'runs/cnn-3', steps: 1500, lr: 3e-4, valEvery: 500, recordedAs: '.scratch/r5/efficientnet-film' },
    { kind: 'train', ...p, initFrom: 'runs/cnn-3', out: 'runs/cnn-4', steps: 2000, lr: 3e-4, valEvery: 400 },
    { kind: 'export', checkpoint: 'runs/cnn-4', out: 'runs/cnn-4-f16', f16: true, decode: 'median', recordedAs: 'checkpoints/efficientnet-film', note: 'shipped as checkpoints/efficientnet-film before role-g' },
  ];
}

const create = (c: VlaPolicyConfig) => new VlaPolicy(c);

register('efficientnet-film', {
  description: 'RT-1 style: FiLM-EfficientNet (output stride 16) + TokenLearner, scene + wrist at 96 px, 4-layer GPT; role, position and spatial losses',
  shipped: true,
  defaults: EFFICIENTNET_FILM,
  create,
  data: TABLETOP_TRAIN,
  train: training(2),
  stages: [
    // Every run is named efficientnet-film (--init-from continues only a
    // checkpoint of its own name): the first one sets what the recipe added
    // later back to efficientnet-film-64's values.
    ...cnn64Runs(undefined, { imageSize: 64, set: { roleAuxWeight: 0, spatialAuxWeight: 1 } }),
    // Role heads added to the trained policy (start fresh; every trained weight carried over).
    { kind: 'train', initFrom: 'runs/cnn-4-f16', out: 'runs/role-a', steps: 1600, lr: 5e-4, valEvery: 400, set: { roleAuxWeight: 1 }, recordedAs: '.scratch/roleA', note: 'roleA of results/role-loss/' },
    { kind: 'train', initFrom: 'runs/role-a', out: 'runs/role-c', steps: 1200, lr: 3e-4, valEvery: 400, set: { spatialAuxWeight: 4 }, recordedAs: '.scratch/roleC', note: 'roleC of results/role-loss/' },
    // Continued at 96 px: TokenLearner keeps its 8 tokens, now over a 6x6 map.
    { kind: 'train', initFrom: 'runs/role-c', out: 'runs/role-g', steps: 1600, lr: 5e-4, valEvery: 400, imageSize: 96, note: 'roleG of results/role-loss/' },
    { kind: 'export', checkpoint: 'runs/role-g', out: 'checkpoints/efficientnet-film', f16: true, decode: 'median' },
  ],
});

register('efficientnet-film-64', {
  description: 'the CNN before the role loss (runs cnn-1 ... cnn-4): efficientnet-film at 64 px, spatial loss weight 1, no role loss',
  shipped: false,
  defaults: EFFICIENTNET_FILM_64,
  create,
  data: TABLETOP_TRAIN,
  train: training(2),
  // The same runs as efficientnet-film's first five stages (same directories), under this name.
  stages: cnn64Runs('efficientnet-film-64', {}),
});
