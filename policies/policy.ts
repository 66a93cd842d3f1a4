// VlaPolicy: vision backbone (by registry name) + instruction encoder + GPT
// action decoder + action tokenizer, with a LeRobot-style policy contract:
//   reset()                       clear the queued action chunk
//   selectAction(obs)             next action (predicts a chunk when the queue is empty)
//   predictActionChunk(obs)       chunkLength actions
//   computeLoss(batch)            teacher-forced cross-entropy over action tokens
//
// Data flow for one observation (B = batch, K = cameras):
//   instruction -> TextTokenizer -> InstructionEncoder -> {embedding [B,D], tokens [B,L,D]}
//   images[cam] uint8 RGB -> float [0,1] -> resize to imageSize -> (blind: zeros)
//   backbone(images [B*K,S,S,3], FiLM text embedding)  -> tokens [B*K,N,C] -> [B, K*N, C]
//   GPT prefix = vision tokens | (language tokens if useTextTokens) | (proprio token if proprioDim > 0)
//   GPT decodes chunkLength * actionDim tokens -> ActionTokenizer.detokenize -> actions.
// Both shipped policies follow RT-1 (arXiv:2212.06817: language enters only
// through FiLM, the transformer sees image tokens), the CNN and the
// SigLIP-style ViT alike; the 'vit-siglip-openvla' recipe follows OpenVLA
// (arXiv:2406.09246: SigLIP patch tokens + language tokens in a causal
// decoder). The named configs: policies/recipes/.
import * as tf from '@tensorflow/tfjs';
import { create as createBackbone, getPreset, type VisionBackbone } from '../backbones/index.ts';
import { ActionTokenizer, fitQuantileBounds } from './actionTokenizer.ts';
import { TokenLayout } from './tokenLayout.ts';
import { Gpt, POINT_ESTIMATES, isPointEstimate } from './gpt.ts';
import { ChunkExecutor } from './chunkExecution.ts';
import { InstructionEncoder, type TextEncoding } from './textEncoder.ts';
import { TextTokenizer } from './textTokenizer.ts';
import { PretrainedTextEncoder, TEXT_ENCODER_KINDS } from './pretrainedText.ts';
import type { SentenceEncoder } from './sentenceEncoder.ts';
import { type Saliency, policySaliency } from './saliency.ts';
import { ROLE_HEADS, roleLoss, roleTargetIds } from './roleAux.ts';
import { SPATIAL_TARGETS, spatialTensors, tokenMapLoss } from './spatialAux.ts';

import { POLICY_DEFAULTS, type PolicyBatch, type PolicyObservation, type RgbFrame, type VlaPolicyConfig } from './config.ts';

export type { Saliency } from './saliency.ts';
export { POLICY_DEFAULTS } from './config.ts';
export type { PolicyBatch, PolicyObservation, RgbFrame, VlaPolicyConfig } from './config.ts';

/** uint8 RGB frames (same size) -> [B,H,W,3] float32 in [0,1]. */
export function framesToTensor(frames: RgbFrame[]): tf.Tensor4D {
  const { width, height } = frames[0];
  const buf = new Float32Array(frames.length * width * height * 3);
  frames.forEach((f, b) => {
    if (f.width !== width || f.height !== height) throw new Error('framesToTensor: frames differ in size');
    if (f.data.length !== width * height * 3) throw new Error(`framesToTensor: expected ${width * height * 3} bytes, got ${f.data.length}`);
    const off = b * width * height * 3;
    for (let i = 0; i < f.data.length; i++) buf[off + i] = f.data[i] / 255;
  });
  return tf.tensor4d(buf, [frames.length, height, width, 3]);
}

/** GPT prefix inputs for one observation (VlaPolicy.encodeObservation). */
export interface PolicyEncoding {
  vision: tf.Tensor3D;
  text: tf.Tensor3D | null;
  textMask: tf.Tensor2D | null;
  proprio: tf.Tensor2D | null;
}

export function disposeEncoding(enc: PolicyEncoding): void {
  const owned: (tf.Tensor | null)[] = [enc.vision, enc.text, enc.textMask, enc.proprio];
  tf.dispose(owned.filter((t): t is tf.Tensor => t != null));
}

export class VlaPolicy {
  readonly config: VlaPolicyConfig;
  readonly backbone: VisionBackbone;
  readonly textTokenizer: TextTokenizer;
  readonly textEncoder: InstructionEncoder;
  /** The frozen-encoder path when textEncoderKind is 'use-lite' (then textEncoder is unused: not trained, not saved). */
  readonly pretrainedText: PretrainedTextEncoder | null;
  readonly gpt: Gpt;
  /** Decoder output layout: plan tokens, then action tokens in actionOrder, per step. */
  layout: TokenLayout;
  /** Plan values of the last decoded chunk (its first step; empty when planDims = 0). */
  lastPlan: Float32Array = new Float32Array(0);
  /** The action tokenizer (the layout's: one binning per action bounds). */
  get actionTokenizer(): ActionTokenizer {
    return this.layout.actions;
  }
  readonly imageSize: number;
  /** Turns predicted chunks into one action per step (config.chunkExecution). */
  private executor: ChunkExecutor;
  private calls = 0;

  constructor(config: Partial<VlaPolicyConfig> = {}) {
    const c = (this.config = { ...POLICY_DEFAULTS, ...structuredClone(config) });
    if (c.actionLow.length !== c.actionDim || c.actionHigh.length !== c.actionDim) {
      throw new Error(`VlaPolicy: actionLow/actionHigh must have actionDim = ${c.actionDim} entries`);
    }
    if (c.cameras.length === 0) throw new Error('VlaPolicy: at least one camera');
    if (c.proprioMean.length !== c.proprioStd.length || (c.proprioMean.length > 0 && c.proprioMean.length !== c.proprioDim)) {
      throw new Error(`VlaPolicy: proprioMean/proprioStd must both be empty or have proprioDim = ${c.proprioDim} entries`);
    }
    this.layout = new TokenLayout(c);
    this.executor = new ChunkExecutor(c.chunkExecution, c.chunkLength);
    if (!['off', 'tokens', 'pointer'].includes(c.spatialAux)) throw new Error(`VlaPolicy: spatialAux must be off, tokens or pointer, got ${JSON.stringify(c.spatialAux)}`);
    if (!isPointEstimate(c.decodePoint)) throw new Error(`VlaPolicy: decodePoint must be ${POINT_ESTIMATES.join(' or ')}, got ${JSON.stringify(c.decodePoint)}`);
    if (!(c.roleAuxWeight >= 0)) throw new Error(`VlaPolicy: roleAuxWeight must be >= 0, got ${JSON.stringify(c.roleAuxWeight)}`);
    if (c.proprioStd.some((v) => !(v > 0))) throw new Error(`VlaPolicy: proprioStd entries must be > 0, got ${JSON.stringify(c.proprioStd)}`);
    const preset = getPreset(c.backbone);
    const bbOverrides: Record<string, unknown> = { ...c.backboneOverrides };
    if ('textDim' in preset && preset.film !== false && bbOverrides.film !== false) bbOverrides.textDim = c.textDim;
    this.backbone = createBackbone(c.backbone, bbOverrides);
    const nominal = (this.backbone.config.inputSize ?? this.backbone.config.imgSize) as number;
    this.imageSize = c.imageSize > 0 ? c.imageSize : nominal;
    if (c.spatialAux === 'tokens' && this.backbone.learnedTokens < SPATIAL_TARGETS) {
      throw new Error(`VlaPolicy: spatialAux 'tokens' needs a backbone with at least ${SPATIAL_TARGETS} TokenLearner tokens (${c.backbone} has ${this.backbone.learnedTokens}); use 'pointer'`);
    }
    if (c.spatialAux === 'pointer' && this.backbone.learnedTokens > 0) {
      throw new Error(`VlaPolicy: spatialAux 'pointer' needs the backbone's grid positions as tokens (${c.backbone} has a TokenLearner); use 'tokens'`);
    }
    this.textTokenizer = new TextTokenizer(c.vocab);
    this.textEncoder = new InstructionEncoder({
      vocabSize: this.textTokenizer.vocabSize,
      maxLen: c.maxTextLen,
      dim: c.textDim,
      depth: c.textDepth,
      heads: c.textHeads,
      mlpRatio: 2,
      pool: c.textPool,
      roleHeads: c.roleAuxWeight > 0 ? ROLE_HEADS : 0,
      seed: c.seed + 1,
    });
    if (!(TEXT_ENCODER_KINDS as readonly string[]).includes(c.textEncoderKind)) throw new Error(`VlaPolicy: textEncoderKind must be ${TEXT_ENCODER_KINDS.join(' or ')}, got ${JSON.stringify(c.textEncoderKind)}`);
    if (c.textEncoderKind === 'use-lite' && c.roleAuxWeight > 0) throw new Error("VlaPolicy: roleAuxWeight > 0 needs textEncoderKind 'scratch' (the role heads read the scratch encoder's vocabulary)");
    this.pretrainedText = c.textEncoderKind === 'use-lite' ? new PretrainedTextEncoder(c.textEncoderInput, c.textDim, c.seed + 3) : null;
    const visionTokens = c.cameras.length * this.backbone.outputTokens(this.imageSize, this.imageSize);
    this.gpt = new Gpt({
      nLayer: c.gptLayers,
      nHead: c.gptHeads,
      nEmbd: c.gptDim,
      mlpRatio: c.gptMlpRatio,
      bins: c.bins,
      actionDim: this.layout.perStep,
      chunk: c.chunkLength,
      maxPrefix: visionTokens + (c.useTextTokens ? c.maxTextLen : 0) + (c.proprioDim > 0 ? 1 : 0),
      visionDim: this.backbone.outputDim,
      textDim: c.useTextTokens ? c.textDim : 0,
      proprioDim: c.proprioDim,
      dropout: c.dropout,
      auxDim: c.auxDim,
      pointerTargets: c.spatialAux === 'pointer' ? SPATIAL_TARGETS : 0,
      valueEmbedInit: c.valueEmbedInit,
      decoding: c.decoding,
      head: c.head,
      seed: c.seed + 2,
    });
  }

  /** Refit the action bounds from data (OpenVLA 1st/99th percentiles by default). */
  fitActionBounds(actions: ArrayLike<number>[], q = 0.01): void {
    const per = actions.flatMap((a) => {
      const rows: number[][] = [];
      for (let i = 0; i + this.config.actionDim <= a.length; i += this.config.actionDim) rows.push(Array.from({ length: this.config.actionDim }, (_, d) => a[i + d]));
      return rows;
    });
    const { low, high } = fitQuantileBounds(per, q);
    this.config.actionLow = low;
    this.config.actionHigh = high;
    this.layout = new TokenLayout(this.config);
  }

  /** Fit proprio normalization from rows of proprio (training demos); std floored at `minStd`. */
  fitProprioStats(rows: ArrayLike<number>[], minStd = 1e-2): void {
    const P = this.config.proprioDim;
    if (P === 0 || rows.length === 0) return;
    const mean = new Array(P).fill(0);
    const sq = new Array(P).fill(0);
    for (const r of rows) for (let d = 0; d < P; d++) { mean[d] += r[d]; sq[d] += r[d] * r[d]; }
    this.config.proprioMean = mean.map((m) => m / rows.length);
    this.config.proprioStd = sq.map((q, d) => Math.max(minStd, Math.sqrt(Math.max(0, q / rows.length - this.config.proprioMean[d] ** 2))));
  }

  reset(): void {
    this.executor.reset();
  }

  /** Encode the prefix inputs; everything returned is owned by the caller. */
  private encode(images: Record<string, tf.Tensor4D>, proprio: tf.Tensor2D | null, instructions: string[], training: boolean, tokenLogits = false, roles = false) {
    const c = this.config;
    const B = instructions.length;
    return tf.tidy(() => {
      const text = this.encodeInstructions(instructions);
      const S = this.imageSize;
      const imgs = c.cameras.map((cam) => {
        const im = images[cam];
        if (!im) throw new Error(`VlaPolicy: camera '${cam}' missing (have: ${Object.keys(images).join(', ') || 'none'})`);
        if (im.shape[0] !== B) throw new Error(`VlaPolicy: camera '${cam}' batch ${im.shape[0]} != ${B}`);
        let x = im.shape[1] === S && im.shape[2] === S ? im : tf.image.resizeBilinear(im, [S, S], false, true);
        if (c.blind) x = tf.zerosLike(x);
        return x;
      });
      const K = c.cameras.length;
      const allImgs = K === 1 ? imgs[0] : (tf.concat(imgs, 0) as tf.Tensor4D); // K x [B,S,S,3] -> [K*B,S,S,3]
      const film = this.backbone.textDim > 0 ? (K === 1 ? text.embedding : (tf.tile(text.embedding, [K, 1]) as tf.Tensor2D)) : null;
      const out = this.backbone.forward(allImgs, film, training, { returnTokenLogits: tokenLogits });
      const [, N, C] = out.tokens.shape;
      const vision = out.tokens
        .reshape([K, B, N, C]) // [K*B,N,C] -> [K,B,N,C]
        .transpose([1, 0, 2, 3]) // -> [B,K,N,C]
        .reshape([B, K * N, C]) as tf.Tensor3D; // -> [B,K*N,C]
      if (c.proprioDim > 0) {
        if (!proprio) throw new Error('VlaPolicy: proprio required (proprioDim > 0)');
        if (proprio.shape[1] !== c.proprioDim) throw new Error(`VlaPolicy: proprio has ${proprio.shape[1]} dims, expected ${c.proprioDim}`);
      }
      return {
        vision,
        text: c.useTextTokens ? text.tokens : null,
        textMask: c.useTextTokens ? text.mask : null,
        proprio: c.proprioDim > 0 ? (c.proprioMean.length ? proprio!.sub(c.proprioMean).div(c.proprioStd) : proprio!.clone()) : null,
        tokenLogits: out.tokenLogits ?? null, // [K*B,S,N]
        roleLogits: roles ? this.textEncoder.roleLogits(text.embedding) : null, // [B,R,V]
      } as unknown as tf.TensorContainer;
    }) as unknown as { vision: tf.Tensor3D; text: tf.Tensor3D | null; textMask: tf.Tensor2D | null; proprio: tf.Tensor2D | null; tokenLogits: tf.Tensor3D | null; roleLogits: tf.Tensor3D | null };
  }

  /**
   * Target tokens of a batch, row-major [B, layout.total]: per step the plan
   * tokens, then the action tokens in decode order (policies/tokenLayout.ts).
   */
  actionTokens(batch: PolicyBatch): Int32Array {
    return this.targets(batch, new Int32Array(batch.instructions.length * this.layout.total), (a, p) => this.layout.encode(a, p));
  }

  /** Targets of the continuous 'l1' head: per sample the layout's values normalized to [-1, 1], row-major [B, layout.total]. */
  actionValues(batch: PolicyBatch): Float32Array {
    return this.targets(batch, new Float32Array(batch.instructions.length * this.layout.total), (a, p) => this.layout.encodeValues(a, p));
  }

  /** Each sample's target row (encode of its action chunk and plan) written into `out` [B, layout.total]. */
  private targets<T extends Int32Array | Float32Array>(batch: PolicyBatch, out: T, encode: (actions: ArrayLike<number>, plan?: ArrayLike<number>) => number[]): T {
    const B = batch.instructions.length;
    if (batch.actions.length !== B) throw new Error(`VlaPolicy: ${batch.actions.length} action chunks for ${B} instructions`);
    if (this.config.planDims > 0 && batch.plan?.length !== B) throw new Error(`VlaPolicy: planDims = ${this.config.planDims} needs plan targets for each of the ${B} samples`);
    batch.actions.forEach((a, b) => out.set(encode(a, batch.plan?.[b]), b * this.layout.total));
    return out;
  }

  /** Teacher-forced loss (call inside optimizer.minimize / tf.variableGrads). */
  computeLoss(batch: PolicyBatch, training = true): tf.Scalar {
    const B = batch.instructions.length;
    const c = this.config;
    const l1 = c.head === 'l1';
    const tok = l1 ? this.actionValues(batch) : this.actionTokens(batch);
    return tf.tidy(() => {
      const kind = batch.spatial && c.spatialAuxWeight !== 0 ? c.spatialAux : 'off';
      const roles = c.roleAuxWeight > 0 && batch.roles ? roleTargetIds(this.textTokenizer, batch.roles) : null;
      const enc = this.encode(batch.images, batch.proprio ?? null, batch.instructions, training, kind === 'tokens', roles !== null);
      const aux = c.auxDim > 0 && batch.aux ? { ...batch.aux, weight: c.auxWeight } : null;
      const spatial = kind === 'off' ? null : spatialTensors(batch.spatial!, B, c.cameras.length, ...this.backbone.gridSize(this.imageSize, this.imageSize));
      const pointer = kind === 'pointer' ? { ...spatial!, weight: c.spatialAuxWeight } : null;
      let loss = this.gpt.loss(enc, tf.tensor2d(tok, [B, tok.length / B], l1 ? 'float32' : 'int32'), training, aux, pointer);
      if (kind === 'tokens') loss = loss.add(tokenMapLoss(enc.tokenLogits!, spatial!.target, spatial!.mask).mul(c.spatialAuxWeight));
      if (roles) loss = loss.add(roleLoss(enc.roleLogits!, roles).mul(c.roleAuxWeight));
      return loss;
    });
  }

  /**
   * Where the spatially supervised attention points (config.spatialAux), as
   * probabilities [B, K, SPATIAL_TARGETS, gh*gw] over each camera's feature
   * grid (owned by the caller); null when spatialAux is 'off'.
   */
  spatialProbabilities(batch: PolicyBatch): tf.Tensor4D | null {
    const c = this.config;
    if (c.spatialAux === 'off') return null;
    const B = batch.instructions.length;
    const K = c.cameras.length;
    return tf.tidy(() => {
      const enc = this.encode(batch.images, batch.proprio ?? null, batch.instructions, false, c.spatialAux === 'tokens');
      if (c.spatialAux === 'pointer') return tf.softmax(this.gpt.prefixPointerLogits(enc, K), -1) as tf.Tensor4D;
      const N = enc.tokenLogits!.shape[2];
      const logits = enc.tokenLogits!
        .slice([0, 0, 0], [K * B, SPATIAL_TARGETS, N]) // the supervised maps
        .reshape([K, B, SPATIAL_TARGETS, N]) // [K*B,P,N] -> [K,B,P,N]
        .transpose([1, 0, 2, 3]); // -> [B,K,P,N]
      return tf.softmax(logits, -1) as tf.Tensor4D;
    });
  }

  /** Teacher-forced logits [B, A, bins] (owned by the caller): validation loss and token accuracy in one pass. */
  actionLogits(batch: PolicyBatch, training = false): tf.Tensor3D {
    const tok = this.actionTokens(batch);
    const B = batch.instructions.length;
    return tf.tidy(() => {
      const enc = this.encode(batch.images, batch.proprio ?? null, batch.instructions, training);
      return this.gpt.forward(enc, tf.tensor2d(tok, [B, tok.length / B], 'int32'), training);
    });
  }

  /** Head 'l1': predicted values [B, A] in the layout's normalized units (owned by the caller). */
  predictedValues(batch: PolicyBatch, training = false): tf.Tensor2D {
    return tf.tidy(() => this.gpt.forwardValues(this.encode(batch.images, batch.proprio ?? null, batch.instructions, training), training));
  }

  /** Build a batch from raw observations + target chunks (tensors owned by the caller). */
  collate(observations: PolicyObservation[], actions: ArrayLike<number>[]): PolicyBatch {
    const images: Record<string, tf.Tensor4D> = {};
    for (const cam of this.config.cameras) images[cam] = framesToTensor(observations.map((o) => this.frameOf(o, cam)));
    const P = this.config.proprioDim;
    const proprio = P > 0 ? tf.tensor2d(Float32Array.from(observations.flatMap((o) => Array.from(o.proprio.subarray(0, P)))), [observations.length, P]) : null;
    return { images, proprio, instructions: observations.map((o) => o.instruction), actions };
  }

  private frameOf(obs: PolicyObservation, cam: string): RgbFrame {
    const f = obs.images[cam];
    if (!f) throw new Error(`VlaPolicy: camera '${cam}' missing (have: ${Object.keys(obs.images).join(', ') || 'none'})`);
    return f;
  }

  /**
   * Stage 1 of predictActionChunk: observation -> GPT prefix inputs (image
   * upload, vision backbone, instruction encoder). The caller owns the result
   * (disposeEncoding). Split out so inference can be timed per part.
   */
  encodeObservation(obs: PolicyObservation): PolicyEncoding {
    const c = this.config;
    if (c.proprioDim > 0 && obs.proprio.length < c.proprioDim) throw new Error(`VlaPolicy: proprio has ${obs.proprio.length} dims, expected ${c.proprioDim}`);
    const frames = c.cameras.map((cam) => this.frameOf(obs, cam)); // validate before allocating
    const images: Record<string, tf.Tensor4D> = {};
    c.cameras.forEach((cam, i) => (images[cam] = framesToTensor([frames[i]])));
    const proprio = c.proprioDim > 0 ? tf.tensor2d(obs.proprio.subarray(0, c.proprioDim), [1, c.proprioDim]) : null;
    try {
      return this.encode(images, proprio, [obs.instruction], false);
    } finally {
      tf.dispose([...Object.values(images), ...(proprio ? [proprio] : [])]);
    }
  }

  /** One frame as the backbone sees it: [1,S,S,3] in [0,1], resized to imageSize (blind: zeros). Caller owns it. */
  inputImage(frame: RgbFrame): tf.Tensor4D {
    const S = this.imageSize;
    return tf.tidy(() => {
      const x = framesToTensor([frame]);
      const r = x.shape[1] === S && x.shape[2] === S ? x : (tf.image.resizeBilinear(x, [S, S], false, true) as tf.Tensor4D);
      return this.config.blind ? tf.zerosLike(r) : r;
    });
  }

  /** Tokenize and encode instructions (maxTextLen tokens each); the caller owns all three tensors. */
  encodeInstructions(instructions: string[]): TextEncoding {
    if (this.pretrainedText) return this.pretrainedText.forward(instructions);
    const L = this.config.maxTextLen;
    const B = instructions.length;
    const { ids, mask } = this.textTokenizer.encodeBatch(instructions, L);
    const idsT = tf.tensor2d(ids, [B, L], 'int32');
    const maskT = tf.tensor2d(mask, [B, L]);
    try {
      return this.textEncoder.forward(idsT, maskT);
    } finally {
      tf.dispose([idsT, maskT]);
    }
  }

  /** Give a 'use-lite' policy its frozen sentence encoder (policies/sentenceEncoderNode.ts loadSentenceEncoder in Node). */
  attachSentenceEncoder(encoder: SentenceEncoder): void {
    if (!this.pretrainedText) throw new Error(`VlaPolicy: attachSentenceEncoder needs textEncoderKind 'use-lite' (this policy's is '${this.config.textEncoderKind}')`);
    this.pretrainedText.attach(encoder);
  }

  /**
   * Embed instructions with the frozen encoder ahead of the (synchronous)
   * forward pass: once per distinct string, then cached. No-op for 'scratch'.
   */
  async prepareInstructions(instructions: readonly string[]): Promise<void> {
    await this.pretrainedText?.prepare(instructions);
  }

  /** Role-head logits [B, ROLE_HEADS, vocabSize] for instructions (roleAuxWeight > 0). Caller owns it. */
  roleLogits(instructions: string[]): tf.Tensor3D {
    return tf.tidy(() => this.textEncoder.roleLogits(this.encodeInstructions(instructions).embedding));
  }

  /** The instruction embedding the backbone's FiLM layers see, [1,textDim]. Caller owns it. */
  instructionEmbedding(instruction: string): tf.Tensor2D {
    return tf.tidy(() => this.encodeInstructions([instruction]).embedding);
  }

  /** What the backbone attends to on `camera` (default: the first policy camera); policies/saliency.ts. */
  saliency(obs: PolicyObservation, camera = this.config.cameras[0]): Saliency {
    return policySaliency(this, obs, camera);
  }

  /** Stage 2: decode one chunk of actions from an encoding (which stays the caller's). */
  decodeChunk(enc: PolicyEncoding): Float32Array[] {
    const c = this.config;
    const res = this.gpt.decode(enc, { temperature: c.temperature, point: c.decodePoint, seed: c.seed * 100003 + this.calls++ });
    res.logits.dispose();
    const { actions, plan } = res.values ? this.layout.decodeValues(res.values[0]) : this.layout.decode(res.tokens[0]);
    this.lastPlan = plan[0];
    return actions;
  }

  /** Predict chunkLength actions for one observation. */
  predictActionChunk(obs: PolicyObservation): Float32Array[] {
    const enc = this.encodeObservation(obs);
    try {
      return this.decodeChunk(enc);
    } finally {
      disposeEncoding(enc);
    }
  }

  /** Next action; predicts a new chunk when the execution mode asks for one (LeRobot `select_action`). */
  selectAction(obs: PolicyObservation): Float32Array {
    if (this.executor.needsInference()) this.executor.push(this.predictActionChunk(obs));
    return this.executor.next();
  }

  /** How chunks are executed now (config.chunkExecution unless overridden). */
  get chunkExecution() {
    return this.executor.exec;
  }

  /** Change how chunks are executed (an evaluation protocol); clears the current plan. */
  setChunkExecution(e: VlaPolicyConfig['chunkExecution']): void {
    this.executor = new ChunkExecutor(e, this.config.chunkLength);
  }

  /**
   * selectAction with the two parts timed apart (ms; both 0 when the action
   * came from the queue). Awaiting the vision tokens adds one GPU sync point:
   * on async backends (webgl/webgpu) the encoder's work would otherwise be
   * counted in the decoder's first readback.
   */
  async selectActionTimed(obs: PolicyObservation): Promise<{ action: Float32Array; backboneMs: number; decoderMs: number; inferred: boolean }> {
    if (!this.executor.needsInference()) return { action: this.executor.next(), backboneMs: 0, decoderMs: 0, inferred: false };
    const t0 = performance.now();
    const enc = this.encodeObservation(obs);
    let t1 = t0;
    try {
      await enc.vision.data();
      t1 = performance.now();
      this.executor.push(this.decodeChunk(enc));
    } finally {
      disposeEncoding(enc);
    }
    return { action: this.executor.next(), backboneMs: t1 - t0, decoderMs: performance.now() - t1, inferred: true };
  }

  namedWeights(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = {};
    const add = (prefix: string, w: Record<string, tf.Variable>) => {
      for (const [k, v] of Object.entries(w)) out[`${prefix}.${k}`] = v;
    };
    add('backbone', this.backbone.namedWeights());
    add('text', (this.pretrainedText ?? this.textEncoder).namedWeights());
    add('gpt', this.gpt.namedWeights());
    return out;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.backbone.trainableVariables(), ...(this.pretrainedText ?? this.textEncoder).trainableVariables(), ...this.gpt.trainableVariables()];
  }

  paramCount(): { backbone: number; text: number; gpt: number; total: number } {
    const backbone = this.backbone.paramCount();
    const text = (this.pretrainedText ?? this.textEncoder).paramCount();
    const gpt = this.gpt.paramCount();
    return { backbone, text, gpt, total: backbone + text + gpt };
  }

  /** Plain-data state (config incl. vocab and action bounds) to rebuild the policy; weights via namedWeights(). */
  toJSON(): { config: VlaPolicyConfig } {
    return { config: structuredClone(this.config) };
  }

  static fromJSON(state: { config: VlaPolicyConfig }): VlaPolicy {
    return new VlaPolicy(state.config);
  }

  dispose(): void {
    this.backbone.dispose();
    this.textEncoder.dispose();
    this.pretrainedText?.dispose();
    this.gpt.dispose();
  }
}
