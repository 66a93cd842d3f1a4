// Backbone entry point: importing this module registers every backbone.
import './efficientnet.ts';
import './vit.ts';

export * from './registry.ts';
export { EfficientNet, type EfficientNetConfig, efficientNetParamCount, efficientNetLayout, makeDivisible, B0_BLOCKS } from './efficientnet.ts';
export { appendCoords } from './nn.ts';
export { ViT, type ViTConfig, vitParamCount, sincosPosEmbed } from './vit.ts';
export { interpolatePosEmbed, bilinearResizeMatrix, linearResizeMatrix, resizeMatrix1d, resizeMatrix2d, resizePosRows, BILINEAR, type ResizeMethod } from './posEmbed.ts';
export { SigLipLoss, type SigLipLossConfig } from './siglip.ts';
export {
  importWeights,
  exportWeights,
  importSafetensors,
  exportSafetensors,
  expectedNames,
  WeightImportError,
  WEIGHT_LAYOUTS,
  guessLayout,
  conventionsFor,
  libraryConventions,
  libraryPosEmbedResize,
  type LayoutGuess,
  type LibraryConventions,
  type ImportReport,
  type WeightLayout,
  type Checkpoint,
  type CheckpointTensor,
  type ImportOptions,
  type ExportOptions,
} from './weights/index.ts';
