// Policy data contracts and configuration: observations, training batches
// and VlaPolicyConfig with its defaults. Kept apart from the model class
// (policies/policy.ts) so that file stays a readable forward pass.
import type * as tf from '@tensorflow/tfjs';
import type { GptDecoding, GptHead, PointEstimate } from './gpt.ts';
import type { ChunkExecution } from './chunkExecution.ts';
import { DEFAULT_VOCAB } from './textTokenizer.ts';
import type { SpatialAuxKind } from './spatialAux.ts';
import type { PretrainedTextInput, TextEncoderKind } from './pretrainedText.ts';

/** RGB frame, uint8, row-major, rows top-down, length width*height*3 (sim/types.ts Frame). */
export interface RgbFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface PolicyObservation {
  images: Record<string, RgbFrame>;
  proprio: Float32Array;
  instruction: string;
}

/** A training batch. Tensors are owned by the caller. */
export interface PolicyBatch {
  /** Per camera: [B,H,W,3] float32 in [0,1]. */
  images: Record<string, tf.Tensor4D>;
  /** [B, proprioDim] (required when proprioDim > 0). */
  proprio?: tf.Tensor2D | null;
  instructions: string[];
  /** B target chunks, each chunkLength * actionDim continuous values (step-major). */
  actions: ArrayLike<number>[];
  /** B plan target chunks, each chunkLength * planDims values (required when config.planDims > 0). */
  plan?: ArrayLike<number>[] | null;
  /** Auxiliary targets [B, auxDim] and their mask (used when config.auxDim > 0). */
  aux?: { target: tf.Tensor2D; mask: tf.Tensor2D } | null;
  /**
   * Spatial targets (used when config.spatialAux is not 'off'): host-side
   * (u, v, visible) per sample, camera (policy order) and target
   * [B * cameras * SPATIAL_TARGETS * SPATIAL_VALUES] (policies/spatialAux.ts).
   */
  spatial?: Float32Array | null;
  /**
   * Per sample the role words [object colour, object shape, destination
   * colour, destination shape] (policies/roleAux.ts; used when roleAuxWeight > 0).
   */
  roles?: string[][] | null;
}

export type VlaPolicyConfig = {
  /** Backbone registry name (backbones/index.ts). */
  backbone: string;
  /** Overrides of the backbone preset (textDim is set from `textDim` for FiLM backbones). */
  backboneOverrides: Record<string, unknown>;
  /** Cameras used, in this order (each must be in obs.images). */
  cameras: string[];
  /** Square input resolution for the backbone (0 = the preset's nominal size). */
  imageSize: number;
  /** Replace every image by zeros (vision ablation baseline). */
  blind: boolean;
  /** Word vocabulary for the instruction tokenizer. */
  vocab: string[];
  /** Instruction length in tokens, including [BOS]/[EOS]. */
  maxTextLen: number;
  /** Instruction encoder width D (also the FiLM conditioning size). */
  textDim: number;
  /** Instruction encoder transformer blocks (0 = mean-pool MLP). */
  textDepth: number;
  textHeads: number;
  /**
   * Sentence pooling of the instruction encoder (policies/textEncoder.ts):
   * 'mean' over tokens, or 'slots' (two learned-query attention pools, one
   * per role, concatenated) so the FiLM input keeps object and destination apart.
   */
  textPool: 'mean' | 'slots';
  /**
   * Weight of the role auxiliary loss (policies/roleAux.ts; 0 = off): heads
   * on the instruction embedding name the object's and destination's colour
   * and shape. Training-only, labels from the episode goal (batch.roles).
   */
  roleAuxWeight: number;
  /**
   * Instruction encoder: 'scratch' (InstructionEncoder above, trained with the
   * policy) or 'use-lite' (frozen Universal Sentence Encoder lite, RT-1's
   * choice, through a trainable linear map to textDim; policies/pretrainedText.ts).
   * 'use-lite' needs policy.attachSentenceEncoder / prepareInstructions before use.
   */
  textEncoderKind: TextEncoderKind;
  /** What 'use-lite' embeds: the object and destination phrases apart ('roles'), the 'sentence', or both. */
  textEncoderInput: PretrainedTextInput;
  /** Feed the language tokens into the GPT prefix (OpenVLA) in addition to FiLM. */
  useTextTokens: boolean;
  gptLayers: number;
  gptHeads: number;
  gptDim: number;
  gptMlpRatio: number;
  /** Dropout in the GPT during training. */
  dropout: number;
  /** Initialization of the decoder's token embeddings (policies/gpt.ts GptConfig.valueEmbedInit). */
  valueEmbedInit: 'normal' | 'sincos';
  /**
   * Auxiliary target width (0 = plain behavior cloning). With 4, training adds
   * a regression of the commanded object's and the destination's table (x, y)
   * from the GPT's last prefix state (src/train/auxTargets.ts): privileged
   * simulator state used only as a training signal, as Levine et al.
   * (arXiv:1504.00702) pretrain their visuomotor net on object positions. The
   * policy still acts from images, instruction and proprio alone.
   */
  auxDim: number;
  /** Weight of the auxiliary loss relative to the action cross-entropy. */
  auxWeight: number;
  /**
   * Spatial auxiliary loss (policies/spatialAux.ts): 'tokens' supervises
   * TokenLearner maps 0 and 1 of every camera with where the commanded object
   * and its destination are; 'pointer' adds a decoder pointer head over each
   * camera's patch tokens for the same targets; 'off' = none. Training-only
   * privileged supervision, like auxDim.
   */
  spatialAux: SpatialAuxKind;
  /** Weight of the spatial loss relative to the action cross-entropy. */
  spatialAuxWeight: number;
  /** Proprioceptive state size (0 = not used). */
  proprioDim: number;
  /**
   * Per-dimension proprio normalization (x - mean) / std before the GPT's
   * proprio projection, fitted on the training demos (LeRobot normalizes
   * observation.state the same way). Raw proprio spans centimetres and 0/1
   * flags: without it the projection must first grow its weights ~100x.
   * Empty = no normalization.
   */
  proprioMean: number[];
  proprioStd: number[];
  /** Action dimensions (sim default 6: dx, dy, dz, dyaw, gripper, terminate; no semantics assumed). */
  actionDim: number;
  /** Bins per action dimension. */
  bins: number;
  /** Per-dimension tokenizer bounds. */
  actionLow: number[];
  actionHigh: number[];
  /**
   * Order in which the decoder emits the action dimensions (a permutation of
   * 0..actionDim-1; empty = as the environment lists them). RT-1 decodes its
   * mode token (terminate) first: predicted after the motion tokens,
   * "terminate" is conditioned on the policy's own guess of the motion, and a
   * policy that guesses "no motion" where the demos only stop at the very end
   * then terminates on the spot.
   */
  actionOrder: number[];
  /**
   * Plan tokens decoded before each step's action tokens (policies/tokenLayout.ts,
   * ECoT-style): 0 = none; 4 = the commanded object's and its destination's
   * table (x, y), supervised from simulator state in training.
   */
  planDims: number;
  /** Bounds of the plan values (metres), one per plan dimension. */
  planLow: number[];
  planHigh: number[];
  /** Actions predicted per decoder call (K); `chunkExecution` says how selectAction spends them. */
  chunkLength: number;
  /**
   * How the decoder produces its chunkLength * (planDims + actionDim) tokens
   * (policies/gpt.ts): 'autoregressive' (token by token, KV-cached),
   * 'parallel' (one forward pass over learned query positions, OpenVLA-OFT)
   * or 'dimwise' (the K steps in parallel, each step's dimensions one after
   * another: actionDim passes).
   */
  decoding: GptDecoding;
  /** Output head: 'tokens' (256-bin cross-entropy) or 'l1' (continuous values, L1 loss; needs 'parallel'). */
  head: GptHead;
  /**
   * Execution of a predicted chunk (policies/chunkExecution.ts): open loop
   * for K steps, receding horizon (re-plan every m steps) or temporal
   * ensembling (ACT). An evaluation may override it (eval --chunk-exec).
   */
  chunkExecution: ChunkExecution;
  /** Decoding temperature (0 = greedy). */
  temperature: number;
  /** Greedy decoding's point estimate per token: the 'argmax', 'median' or 'mean' bin (policies/gpt.ts DecodeOptions.point). */
  decodePoint: PointEstimate;
  seed: number;
};

export const POLICY_DEFAULTS: VlaPolicyConfig = {
  backbone: 'efficientnet_film_s_96',
  backboneOverrides: {},
  cameras: ['scene'],
  imageSize: 0,
  blind: false,
  vocab: DEFAULT_VOCAB,
  maxTextLen: 16,
  textDim: 64,
  textDepth: 1,
  textHeads: 4,
  textPool: 'mean',
  roleAuxWeight: 0,
  textEncoderKind: 'scratch',
  textEncoderInput: 'roles',
  useTextTokens: false,
  gptLayers: 4,
  gptHeads: 4,
  gptDim: 128,
  gptMlpRatio: 4,
  dropout: 0,
  valueEmbedInit: 'normal',
  auxDim: 0,
  auxWeight: 1,
  spatialAux: 'off',
  spatialAuxWeight: 1,
  proprioDim: 6,
  proprioMean: [],
  proprioStd: [],
  actionDim: 6,
  bins: 256,
  actionLow: [-1, -1, -1, -1, -1, -1],
  actionHigh: [1, 1, 1, 1, 1, 1],
  actionOrder: [],
  planDims: 0,
  planLow: [],
  planHigh: [],
  chunkLength: 1,
  decoding: 'autoregressive',
  head: 'tokens',
  chunkExecution: { mode: 'open_loop' },
  temperature: 0,
  decodePoint: 'argmax',
  seed: 0,
};
